"""The ``bigcommerce`` platform object (entry point ``bigcommerce``)."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import click

from backorder.config import StoreConfig
from backorder.hookspecs import hookimpl
from backorder.models import (
    CatalogItem,
    ItemInput,
    ItemView,
    LineRequest,
    OrderIn,
    StockLevel,
)
from backorder.platform import BasePlatform, Platform
from backorder.webhooks import WebhookEvent
from backorder_bigcommerce import push
from backorder_bigcommerce.client import BigCommerceClient
from backorder_bigcommerce.connection import NAME, client_for, connection
from backorder_bigcommerce.levels import read_levels
from backorder_bigcommerce.mapping import catalog_items, translate
from backorder_bigcommerce.webhooks import authenticate, parse

log = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 60.0
"""A full sync reads the catalog (with every level) once; ``fetch_levels`` right after
reuses that snapshot instead of reading the same figures again."""


class BigCommercePlatform(BasePlatform):
    name = NAME

    def __init__(self) -> None:
        # per client: a reused id() of a dead client must never hand over its snapshot
        self._snapshots: weakref.WeakKeyDictionary[
            BigCommerceClient, tuple[float, list[StockLevel]]
        ] = weakref.WeakKeyDictionary()

    def translate_item(self, fields: Mapping[str, Any]) -> ItemInput:
        return translate(fields)

    def fetch_catalog(self, store: StoreConfig) -> Sequence[CatalogItem]:
        client = client_for(store)
        conn = connection(store)
        products = client.products()
        push.mirror_for(client).remember_catalog(products)
        items = [item for product in products for item in catalog_items(product)]
        if conn.mode == "native":  # BigCommerce's figure becomes our count (levels.py)
            levels = read_levels(client, conn, [i.sku for i in items])
            counts = {level.sku: level.on_hand for level in levels}
            items = [i.model_copy(update={"on_hand": counts.get(i.sku, i.on_hand)}) for i in items]
        else:
            levels = [
                StockLevel(sku=i.sku, on_hand=i.on_hand or 0, basis=conn.level_basis) for i in items
            ]
        self._snapshots[client] = (client.clock.now(), levels)
        return items

    def fetch_levels(self, store: StoreConfig, skus: Sequence[str]) -> Sequence[StockLevel]:
        client = client_for(store)
        conn = connection(store)
        if not skus:
            snapshot = self._snapshots.pop(client, None)
            if snapshot is not None and client.clock.now() - snapshot[0] <= SNAPSHOT_SECONDS:
                return snapshot[1]
            if conn.mode == "native":
                return read_levels(client, conn)
            return [
                StockLevel(sku=i.sku, on_hand=i.on_hand or 0, basis=conn.level_basis)
                for p in client.products()
                for i in catalog_items(p)
            ]
        return read_levels(client, conn, skus)

    def apply_items(self, store: StoreConfig, items: Sequence[ItemView], reason: str) -> None:
        texts = None
        if store.storefront.publish:  # the store's own messages, for themes without the script
            from backorder_bigcommerce.storefront import availability_texts

            texts = availability_texts(store, list(items))
        push.apply(client_for(store), connection(store), items, reason, texts)

    def fetch_order(self, store: StoreConfig, order_id: str) -> OrderIn:
        client = client_for(store)
        order = client.order(order_id)
        lines = client.order_products(order_id)
        return OrderIn(
            order_id=str(order.id),
            lines=[LineRequest(sku=line.sku, qty=line.quantity, name=line.name) for line in lines],
            customer_email=order.billing_address.get("email"),
            placed_at=_date(order.date_created),
        )

    def parse_webhook(
        self, store: StoreConfig, headers: Mapping[str, str], body: bytes
    ) -> Sequence[WebhookEvent]:
        return parse(store, headers, body)

    def authenticate_headers(self, store: StoreConfig, headers: Mapping[str, str]) -> None:
        authenticate(store, headers)  # the secret header is the whole check

    def commands(self) -> Sequence[click.Command]:
        from backorder_bigcommerce.commands import bigcommerce_group

        return [bigcommerce_group]

    def sandbox(self) -> click.Command | None:
        from backorder_bigcommerce.sandbox.cli import sandbox_bigcommerce

        return sandbox_bigcommerce


def _date(value: str) -> dt.datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


PLATFORM = BigCommercePlatform()


@hookimpl
def backorder_platforms() -> Sequence[Platform]:
    return [PLATFORM]


@hookimpl
def backorder_web_routes(web) -> Sequence[Any]:
    """The single-click app's callbacks (``/bigcommerce/auth``...), when configured."""
    from backorder_bigcommerce.oneclick import routes

    return routes(web)
