"""The hook implementations for platform ``bigcommerce`` (entry point ``bigcommerce``)."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from backorder.hookspecs import hookimpl
from backorder.models import CatalogItem, ItemInput, LineRequest, OrderIn, StockLevel
from backorder_bigcommerce import push
from backorder_bigcommerce.connection import NAME, client_for, connection
from backorder_bigcommerce.mapping import catalog_items, translate
from backorder_bigcommerce.webhooks import parse

log = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 60.0
"""A full sync reads the catalog (with every level) once; ``fetch_levels`` right after
reuses that snapshot instead of reading the same figures again."""

_snapshots: dict[int, tuple[float, list[StockLevel]]] = {}


def _mine(store) -> bool:
    return store.platform == NAME


@hookimpl
def backorder_platforms() -> Sequence[str]:
    return [NAME]


@hookimpl
def backorder_translate_item(platform: str, fields: Mapping[str, Any]) -> ItemInput | None:
    return translate(fields) if platform == NAME else None


@hookimpl
def backorder_fetch_catalog(store) -> Sequence[CatalogItem] | None:
    if not _mine(store):
        return None
    client = client_for(store)
    products = client.products()
    push.mirror_for(client).remember_catalog(products)
    items = [item for product in products for item in catalog_items(product)]
    basis = connection(store).level_basis
    levels = [StockLevel(sku=i.sku, on_hand=i.on_hand or 0, basis=basis) for i in items]
    _snapshots[id(client)] = (client.clock.now(), levels)
    return items


@hookimpl
def backorder_fetch_levels(store, skus: Sequence[str]) -> Sequence[StockLevel] | None:
    if not _mine(store):
        return None
    client = client_for(store)
    if not skus:
        taken, levels = _snapshots.pop(id(client), (None, None))
        if taken is not None and client.clock.now() - taken <= SNAPSHOT_SECONDS:
            return levels
        basis = connection(store).level_basis
        return [
            StockLevel(sku=i.sku, on_hand=i.on_hand or 0, basis=basis)
            for p in client.products()
            for i in catalog_items(p)
        ]
    wanted = set(skus)
    return [
        StockLevel(
            sku=row.identity.sku,
            on_hand=sum(loc.total_inventory_onhand for loc in row.locations),
            basis=connection(store).level_basis,
        )
        for row in client.inventory_items(list(wanted))
        if row.identity.sku in wanted
    ]


@hookimpl
def backorder_apply_items(store, items, reason: str) -> None:
    if not _mine(store):
        return
    push.apply(client_for(store), connection(store), items, reason)


@hookimpl
def backorder_fetch_order(store, order_id: str) -> OrderIn | None:
    if not _mine(store):
        return None
    client = client_for(store)
    order = client.order(order_id)
    lines = client.order_products(order_id)
    return OrderIn(
        order_id=str(order.id),
        lines=[LineRequest(sku=line.sku, qty=line.quantity, name=line.name) for line in lines],
        customer_email=order.billing_address.get("email"),
        placed_at=_date(order.date_created),
    )


def _date(value: str) -> dt.datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


@hookimpl
def backorder_parse_webhook(store, headers: Mapping[str, str], body: bytes):
    return parse(store, headers, body) if _mine(store) else None


@hookimpl
def backorder_register_commands(cli) -> None:
    from backorder_bigcommerce.sandbox.cli import sandbox_bigcommerce

    group = cli.commands.get("sandbox")
    if group is not None:
        group.add_command(sandbox_bigcommerce)
