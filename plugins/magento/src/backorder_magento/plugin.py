"""The hook implementations for platform ``"magento"`` (entry point ``magento``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from backorder.hookspecs import hookimpl
from backorder.models import CatalogItem, ItemInput, LineRequest, OrderIn, StockLevel
from backorder_magento import PLATFORM
from backorder_magento.connection import client_for, item_options
from backorder_magento.csv_dialect import MagentoProductCsv
from backorder_magento.models import StockItem
from backorder_magento.stock_rules import effective
from backorder_magento.translate import to_item_input, to_stock_item_update
from backorder_magento.webhook import parse_push

STOCK_TYPES = {"simple", "virtual", "downloadable"}
"""Product types that carry their own qty (``StockConfiguration::isQty``)."""


def _mine(store) -> bool:
    return store.platform == PLATFORM


def _whole(qty: float | None) -> int:
    return math.floor(float(qty or 0))


def _stock_products(store):
    with client_for(store) as client:
        for product in client.products():
            raw = (product.get("extension_attributes") or {}).get("stock_item")
            if product.get("type_id", "simple") in STOCK_TYPES and raw:
                yield product, StockItem.model_validate({**raw, "sku": product["sku"]})


@hookimpl
def backorder_platforms() -> Sequence[str]:
    return [PLATFORM]


@hookimpl
def backorder_translate_item(platform: str, fields: Mapping[str, Any]) -> ItemInput | None:
    if platform != PLATFORM:
        return None
    return to_item_input(fields)


@hookimpl
def backorder_fetch_catalog(store) -> Sequence[CatalogItem] | None:
    if not _mine(store):
        return None
    config = item_options(store)
    return [
        CatalogItem(
            sku=product["sku"],
            product_id=str(product["id"]),
            name=product.get("name") or "",
            on_hand=_whole(item.qty),
            tracked=effective(item, config).manage_stock,
        )
        for product, item in _stock_products(store)
    ]


@hookimpl
def backorder_fetch_levels(store, skus: Sequence[str]) -> Sequence[StockLevel] | None:
    if not _mine(store):
        return None
    if not skus:
        items = [item for _, item in _stock_products(store)]
    else:
        with client_for(store) as client:
            items = [client.stock_item(sku).model_copy(update={"sku": sku}) for sku in skus]
    return [
        StockLevel(sku=item.sku, on_hand=_whole(item.qty), source_ref=f"qty:{item.qty:g}")
        for item in items
        if item.qty is not None
    ]


@hookimpl
def backorder_apply_items(store, items, reason: str) -> None:
    if not _mine(store):
        return
    with client_for(store) as client:
        for view in items:
            changes = to_stock_item_update(view, reason)
            if changes:
                current = client.stock_item(view.sku)
                client.update_stock_item(view.sku, current.item_id or 0, changes)


@hookimpl
def backorder_fetch_order(store, order_id: str) -> OrderIn | None:
    if not _mine(store):
        return None
    with client_for(store) as client:
        order = client.order(order_id)
    lines = [
        LineRequest(sku=line["sku"], qty=max(_whole(line["qty_ordered"]), 1), name=line.get("name"))
        for line in order.get("items", [])
        if not line.get("parent_item_id")  # a configurable's child repeats its parent's line
    ]
    return OrderIn(
        order_id=str(order.get("entity_id", order_id)),
        lines=lines,
        customer_email=order.get("customer_email"),
    )


@hookimpl
def backorder_parse_webhook(store, headers: Mapping[str, str], body: bytes):
    if not _mine(store):
        return None
    return parse_push(store, headers, body)


@hookimpl
def backorder_csv_dialects():
    return [MagentoProductCsv()]


@hookimpl
def backorder_register_commands(cli) -> None:
    from backorder_magento.commands import repair_stock_status, sandbox_magento

    sandbox = cli.commands.get("sandbox")
    if sandbox is not None and "magento" not in sandbox.commands:
        sandbox.add_command(sandbox_magento)
    if "magento-repair-stock-status" not in cli.commands:
        cli.add_command(repair_stock_status)
