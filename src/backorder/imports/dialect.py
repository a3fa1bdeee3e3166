"""The core CSV dialect (the template's columns) and the dialects plugins offer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from backorder.dialects import CsvDialect
from backorder.imports.columns import COLUMNS, UNLIMITED, Row, validate_cells
from backorder.models import ItemInput, ItemView

if TYPE_CHECKING:
    from backorder.plugins import PluginManager


class BackorderCsv:
    """The core dialect: the columns of :data:`~backorder.imports.columns.COLUMNS` (what
    the template holds)."""

    name = "backorder"
    columns: Sequence[str] = tuple(COLUMNS)

    def __init__(self, tz: dt.tzinfo = dt.UTC) -> None:
        self.tz = tz

    def read_row(self, row: Mapping[str, str]) -> ItemInput:
        cells = {COLUMNS[k]: (v if v.strip() else None) for k, v in row.items() if k in COLUMNS}
        parsed = validate_cells(cells, self.tz, "<row>", 0)
        if isinstance(parsed, list):
            raise ValueError("; ".join(parsed))
        return row_to_input(parsed)

    def write_rows(self, views: Iterable[ItemView]) -> Iterable[Mapping[str, str]]:
        for view in views:
            yield template_row(view, None, None, self.tz, explicit_threshold=True)


def dialects(pm: PluginManager | None) -> dict[str, CsvDialect]:
    """The core dialect plus every dialect the installed platforms offer."""
    found: dict[str, CsvDialect] = {BackorderCsv.name: BackorderCsv()}
    if pm is not None:
        for platform in pm.platforms():
            for dialect in platform.csv_dialects():
                found.setdefault(dialect.name, dialect)
    return found


def row_to_input(row: BaseModel) -> ItemInput:
    """An import row (a :data:`~backorder.imports.columns.Row`) as the item edit it asks for."""
    data = row.model_dump(exclude_unset=True)
    threshold_given = "threshold" in data
    threshold = data.pop("threshold", None)
    entry = ItemInput(**{k: v for k, v in data.items() if v is not None})
    if threshold_given:
        if threshold is None:
            entry.use_default.append("threshold")
        else:
            entry.threshold = None if threshold == UNLIMITED else threshold
    return entry


def input_to_cells(entry: ItemInput) -> dict[str, Any]:
    """A plugin dialect's :class:`ItemInput` as the cells of a core row."""
    cells = entry.model_dump(include=set(Row.model_fields) & entry.model_fields_set)
    cells.pop("threshold", None)
    if "threshold" in entry.use_default:
        cells["threshold"] = None
    elif "threshold" in entry.model_fields_set:
        cells["threshold"] = UNLIMITED if entry.threshold is None else entry.threshold
    return cells


def template_row(
    view: ItemView,
    category: str | None,
    brand: str | None,
    tz: dt.tzinfo,
    *,
    explicit_threshold: bool,
) -> dict[str, str]:
    """One template row; the threshold is left blank when the item follows the store default."""
    date = view.back_in_stock_date
    threshold = ""
    if explicit_threshold:
        threshold = UNLIMITED if view.threshold is None else str(view.threshold)
    cells = {
        "product_id": view.product_id or "",
        "variant_id": view.variant_id or "",
        "sku": view.sku,
        "name": view.name,
        "on_hand": str(view.on_hand),
        "threshold": threshold,
        "incoming_qty": str(view.incoming_qty),
        "back_in_stock_date": date.astimezone(tz).isoformat(timespec="minutes") if date else "",
        "category": category or "",
        "brand": brand or "",
    }
    return {header: cells[field] for header, field in COLUMNS.items()}
