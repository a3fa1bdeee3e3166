"""The Magento product CSV (System › Data Transfer › Import, "Append Complex Data"), stock columns.

Columns read and written: ``sku, qty, is_in_stock, backorders, use_config_backorders,
min_qty, use_config_min_qty, manage_stock, use_config_manage_stock`` (the seed's import
file). Magento's own export names are accepted too: ``allow_backorders`` (backorders),
``out_of_stock_qty`` (min_qty), ``min_cart_qty``/``max_cart_qty`` (min/max sale qty),
``notify_on_stock_below``. An empty cell means "not given" (config or default applies).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from backorder.models import ItemInput, ItemView
from backorder_magento.models import ItemOptions
from backorder_magento.translate import backorders_and_min_qty, to_item_input

COLUMNS = (
    "sku",
    "qty",
    "is_in_stock",
    "backorders",
    "use_config_backorders",
    "min_qty",
    "use_config_min_qty",
    "manage_stock",
    "use_config_manage_stock",
)
ALIASES = {
    "allow_backorders": "backorders",
    "out_of_stock_qty": "min_qty",
    "min_cart_qty": "min_sale_qty",
    "max_cart_qty": "max_sale_qty",
    "notify_on_stock_below": "notify_stock_qty",
}
FLAGS = {
    "is_in_stock",
    "manage_stock",
    "is_qty_decimal",
    "enable_qty_increments",
    "use_config_backorders",
    "use_config_min_qty",
    "use_config_manage_stock",
    "use_config_min_sale_qty",
    "use_config_max_sale_qty",
    "use_config_notify_stock_qty",
    "use_config_qty_increments",
    "use_config_enable_qty_inc",
}
NUMBERS = {"qty", "min_qty", "min_sale_qty", "max_sale_qty", "notify_stock_qty", "qty_increments"}
INTEGERS = {"backorders"}


def parse_cell(column: str, field: str, text: str) -> Any:
    """One cell as Magento's importer reads it; a bad value names the column."""
    value = text.strip()
    try:
        if field in FLAGS:
            lowered = value.lower()
            if lowered in ("1", "yes", "true"):
                return True
            if lowered in ("0", "no", "false"):
                return False
            raise ValueError
        if field in INTEGERS:
            number = int(value)
            if number not in (0, 1, 2):
                raise ValueError
            return number
        if field in NUMBERS:
            return float(value)
    except ValueError:
        raise ValueError(f"column {column}: {value!r} is not a valid {field} value") from None
    return value


def native_fields(row: Mapping[str, str]) -> dict[str, Any]:
    """A CSV row as Magento stock-item fields (aliases resolved, empty cells dropped)."""
    fields: dict[str, Any] = {}
    for column, text in row.items():
        if column is None or text is None or not str(text).strip():
            continue
        field = ALIASES.get(column, column)
        if field in FLAGS | NUMBERS | INTEGERS or field == "sku":
            fields[field] = parse_cell(column, field, str(text))
    if not fields.get("sku"):
        raise ValueError("column sku: required")
    return fields


class MagentoProductCsv:
    """The :class:`backorder.dialects.CsvDialect` for Magento's product CSV."""

    name = "magento"
    columns = COLUMNS

    def __init__(self, config: ItemOptions | None = None) -> None:
        self.config = config or ItemOptions()

    def read_row(self, row: Mapping[str, str]) -> ItemInput:
        fields = native_fields(row)
        try:
            return to_item_input(fields, self.config)
        except ValueError as exc:
            field = str(exc).split(":", 1)[0]
            column = next((c for c in row if ALIASES.get(c, c) == field), field)
            raise ValueError(f"column {column}: {str(exc).split(':', 1)[-1].strip()}") from None

    def write_rows(self, items: Iterable[ItemView]) -> Iterable[Mapping[str, str]]:
        for view in items:
            backorders, min_qty = backorders_and_min_qty(view)
            yield {
                "sku": view.sku,
                "qty": str(view.on_hand),
                "is_in_stock": "1" if view.purchasable else "0",
                "backorders": str(backorders),
                "use_config_backorders": "0",
                "min_qty": str(min_qty),
                "use_config_min_qty": "0",
                "manage_stock": "1" if view.tracked else "0",
                "use_config_manage_stock": "0",
            }
