"""CSV dialects: how one platform's product CSV maps onto core items."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from backorder.models import ItemInput, ItemView


@runtime_checkable
class CsvDialect(Protocol):
    """A platform's CSV columns, read and written.

    ``read_row`` raises ``ValueError`` whose message names the column at fault.
    """

    @property
    def name(self) -> str:
        """The name ``--dialect`` takes."""
        ...

    @property
    def columns(self) -> Sequence[str]:
        """The header the dialect writes (and the columns it reads)."""
        ...

    def read_row(self, row: Mapping[str, str]) -> ItemInput: ...

    def write_rows(self, items: Iterable[ItemView]) -> Iterable[Mapping[str, str]]: ...
