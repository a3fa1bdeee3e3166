"""Find and repair items stuck at ``is_in_stock = 0`` while backorders are allowed (seed 004).

An item goes out of stock automatically when it sells out with backorders off. If the
merchant then allows backorders and saves, Magento records the out-of-stock as manual
(``stock_status_changed_auto = 0``) and never flips it back: the product shows "Out of
stock" although it may be backordered. The seed's fix imports a CSV setting
``is_in_stock = 1``; this module finds those items and either writes that CSV, or sets
them in stock through the REST API (``PUT /V1/products/{sku}/stockItems/{itemId}``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from backorder_magento.csv_dialect import COLUMNS
from backorder_magento.models import ItemOptions, StockItem
from backorder_magento.stock_rules import effective, is_stuck_out_of_stock


@dataclass(frozen=True)
class Repair:
    """One stuck item: its state, and whether it was changed (``applied``)."""

    item: StockItem
    config: ItemOptions
    applied: bool = False

    def csv_row(self) -> dict[str, str]:
        """The import row that repairs it: the item's stock columns with ``is_in_stock = 1``."""
        item, eff = self.item, effective(self.item, self.config)

        def flag(value: bool) -> str:
            return "1" if value else "0"

        return {
            "sku": item.sku or "",
            "qty": f"{float(item.qty or 0):g}",
            "is_in_stock": "1",
            "backorders": str(eff.backorders),
            "use_config_backorders": flag(item.use_config_backorders),
            "min_qty": f"{eff.min_qty:g}",
            "use_config_min_qty": flag(item.use_config_min_qty),
            "manage_stock": flag(eff.manage_stock),
            "use_config_manage_stock": flag(item.use_config_manage_stock),
        }


def find_stuck(items: Iterable[StockItem], config: ItemOptions) -> list[StockItem]:
    return [item for item in items if is_stuck_out_of_stock(item, config)]


def repair_via_api(client, config: ItemOptions, *, apply: bool) -> list[Repair]:
    """Scan every product's stock item; with ``apply`` set the stuck ones in stock."""
    repairs = []
    for product in client.products():
        raw = (product.get("extension_attributes") or {}).get("stock_item")
        if not raw:
            continue
        item = StockItem.model_validate({**raw, "sku": product["sku"], "name": product.get("name")})
        if not is_stuck_out_of_stock(item, config):
            continue
        if apply:
            client.update_stock_item(item.sku, item.item_id, {"is_in_stock": True})
        repairs.append(Repair(item, config, applied=apply))
    return repairs


def write_csv(repairs: Iterable[Repair], path: str | Path) -> int:
    """Write the Magento import CSV of the repairs; returns the number of rows."""
    rows = [repair.csv_row() for repair in repairs]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def repair_from_csv(path: str | Path, config: ItemOptions) -> list[Repair]:
    """Stuck items of a Magento product CSV export (offline: the output CSV is the fix)."""
    from pydantic import ValidationError

    from backorder_magento.csv_dialect import native_fields
    from backorder_magento.models import stock_item_from_fields

    repairs = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                item = stock_item_from_fields(native_fields(row))
            except ValidationError as exc:
                first = exc.errors()[0]
                raise ValueError(f"{path}: row {line}: {first['loc'][0]}: {first['msg']}") from None
            except ValueError as exc:
                raise ValueError(f"{path}: row {line}: {exc}") from None
            if is_stuck_out_of_stock(item, config):
                repairs.append(Repair(item, config))
    return repairs
