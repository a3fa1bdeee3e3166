"""The hook implementations for platform ``lightspeed_ecom``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from backorder.hookspecs import hookimpl
from backorder.models import ItemInput, ItemView, LineRequest, OrderIn, StockLevel
from backorder_lightspeed_ecom import PLATFORM
from backorder_lightspeed_ecom.client import LightspeedClient
from backorder_lightspeed_ecom.csv_dialect import LightspeedCsv
from backorder_lightspeed_ecom.mapping import catalog_items, translate, variant_update
from backorder_lightspeed_ecom.sync import line_sku
from backorder_lightspeed_ecom.webhooks import parse


def _mine(store) -> bool:
    return store.platform == PLATFORM


def _client(store) -> LightspeedClient:
    return LightspeedClient.for_store(store)


@hookimpl
def backorder_platforms() -> Sequence[str]:
    return [PLATFORM]


@hookimpl
def backorder_translate_item(platform: str, fields: Mapping[str, Any]) -> ItemInput | None:
    return translate(fields) if platform == PLATFORM else None


@hookimpl
def backorder_fetch_catalog(store):
    if not _mine(store):
        return None
    with _client(store) as client:
        titles = {p.id: p.title or "" for p in client.products()}
        return catalog_items(client.variants(), titles)


@hookimpl
def backorder_fetch_levels(store, skus: Sequence[str]):
    if not _mine(store):
        return None
    with _client(store) as client:
        titles = {p.id: p.title or "" for p in client.products()}
        catalog = catalog_items(client.variants(), titles)
    wanted = set(skus)
    return [
        StockLevel(sku=item.sku, on_hand=item.on_hand, source_ref=f"v{item.variant_id}")
        for item in catalog
        if item.on_hand is not None and (not wanted or item.sku in wanted)
    ]


@hookimpl
def backorder_apply_items(store, items: Sequence[ItemView], reason: str) -> None:
    if not _mine(store):
        return
    updates = [u for u in (variant_update(view, reason) for view in items) if u]
    if updates:
        with _client(store) as client:
            client.bulk_update_variants(updates)


@hookimpl
def backorder_fetch_order(store, order_id: str):
    if not _mine(store):
        return None
    with _client(store) as client:
        order = client.order(order_id)
        products = [p for p in client.order_products(order_id) if p.quantityOrdered > 0]
    return OrderIn(
        order_id=str(order.id),
        customer_email=order.email,
        lines=[LineRequest(sku=line_sku(p, {}), qty=p.quantityOrdered) for p in products],
    )


@hookimpl
def backorder_parse_webhook(store, headers: Mapping[str, str], body: bytes):
    return parse(store, headers, body) if _mine(store) else None


@hookimpl
def backorder_csv_dialects():
    return [LightspeedCsv()]


@hookimpl
def backorder_register_commands(cli) -> None:
    from backorder_lightspeed_ecom.commands import lightspeed_group, sandbox_command

    sandbox = cli.commands.get("sandbox")
    if sandbox is not None and PLATFORM not in sandbox.commands:
        sandbox.add_command(sandbox_command, PLATFORM)
    if "lightspeed-ecom" not in cli.commands:
        cli.add_command(lightspeed_group, "lightspeed-ecom")
