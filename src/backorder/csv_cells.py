"""Cells a spreadsheet would run as formulas, escaped in every CSV backorder writes.

A product name or a customer e-mail beginning with ``=``, ``+``, ``-`` or ``@`` (or a tab
or carriage return) is a formula to Excel, LibreOffice and Google Sheets; a merchant who
opens an export would run it. As OWASP's "CSV Injection" page recommends, such a cell is
written with a leading single quote (``'=1+1``), which a spreadsheet shows as text. A plain
number (``-3``, ``+4.5``) is not a formula and is written as it is.

The import reads its own exports back: :func:`unescape` drops the quote again, and only
where :func:`escape` would have put it, so ``'hello`` stays ``'hello``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula (OWASP)."""

_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?").fullmatch


def escape(value: Any) -> Any:
    """``value`` as a cell that no spreadsheet runs: a formula-looking text gets a ``'``."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _NUMBER(value):
        return "'" + value
    return value


def unescape(cell: str) -> str:
    """A cell as :func:`escape` was given it (the quote it added dropped)."""
    if cell.startswith("'") and cell[1:].startswith(TRIGGERS) and not _NUMBER(cell[1:]):
        return cell[1:]
    return cell


class SafeWriter:
    """``csv.writer`` whose rows are escaped (``escape_formulas=False``: written as given)."""

    def __init__(self, out: TextIO, *, escape_formulas: bool = True, **options: Any) -> None:
        self._writer = csv.writer(out, **options)
        self.escape_formulas = escape_formulas

    def writerow(self, row: Iterable[Any]) -> Any:
        if self.escape_formulas:
            row = [escape(cell) for cell in row]
        return self._writer.writerow(row)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):
    """``csv.DictWriter`` whose values are escaped (``escape_formulas=False``: as given)."""

    def __init__(self, out: TextIO, fieldnames: list[str], *, escape_formulas: bool = True,
                 **options: Any) -> None:
        super().__init__(out, fieldnames=fieldnames, **options)
        self.escape_formulas = escape_formulas

    def writerow(self, rowdict: Any) -> Any:
        if self.escape_formulas:
            rowdict = {key: escape(value) for key, value in rowdict.items()}
        return super().writerow(rowdict)
