"""The ``lightspeed_ecom`` platform object (entry point ``lightspeed_ecom``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import click

from backorder.config import StoreConfig
from backorder.dialects import CsvDialect
from backorder.hookspecs import hookimpl
from backorder.models import CatalogItem, ItemInput, ItemView, LineRequest, OrderIn, StockLevel
from backorder.platform import BasePlatform, Platform
from backorder.webhooks import WebhookEvent
from backorder_lightspeed_ecom import PLATFORM as NAME
from backorder_lightspeed_ecom.client import LightspeedClient, connection_of
from backorder_lightspeed_ecom.csv_dialect import LightspeedCsv
from backorder_lightspeed_ecom.mapping import (
    catalog_items,
    product_update,
    translate,
    variant_update,
)
from backorder_lightspeed_ecom.storefront import publish
from backorder_lightspeed_ecom.sync import _placed_at, line_sku
from backorder_lightspeed_ecom.webhooks import parse, verify_headers


def _client(store: StoreConfig) -> LightspeedClient:
    return LightspeedClient.for_store(store)


class LightspeedPlatform(BasePlatform):
    name = NAME

    def translate_item(self, fields: Mapping[str, Any]) -> ItemInput:
        return translate(fields)  # a shop whose "Allow backorders" default is off (seed 003)

    def translate_store_item(self, store: StoreConfig, fields: Mapping[str, Any]) -> ItemInput:
        default = connection_of(store).allow_backorders_default
        return translate(fields, allow_backorders_default=default)

    def fetch_catalog(self, store: StoreConfig) -> Sequence[CatalogItem]:
        with _client(store) as client:
            titles = {p.id: p.title or "" for p in client.products()}
            return catalog_items(client.variants(), titles)

    def fetch_levels(self, store: StoreConfig, skus: Sequence[str]) -> Sequence[StockLevel]:
        wanted = set(skus)
        # source_ref names this reading: a fixed ref per variant made every later sync a
        # no-op (the ledger books a ref once); one run id per call, as sync.py does.
        run = uuid.uuid4().hex[:12]
        return [
            StockLevel(sku=item.sku, on_hand=item.on_hand, source_ref=f"{run}:v{item.variant_id}")
            for item in self.fetch_catalog(store)
            if item.on_hand is not None and (not wanted or item.sku in wanted)
        ]

    def apply_items(self, store: StoreConfig, items: Sequence[ItemView], reason: str) -> None:
        variants = [u for u in (variant_update(view, reason) for view in items) if u]
        products = {u["id"]: u for u in (product_update(view, reason) for view in items) if u}
        if not variants and not products:
            return
        with _client(store) as client:
            for product_id, update in products.items():
                client.update_product(product_id, {k: v for k, v in update.items() if k != "id"})
            client.update_variants(variants)

    def publish_storefront(
        self, store: StoreConfig, sku: str, messages: Mapping[str, str]
    ) -> None:
        """The shipping description as the product's delivery timeframe while it waits
        (``storefront.py``): the text Lightspeed's own product page shows."""
        with _client(store) as client:
            publish(client, sku, messages)

    def fetch_order(self, store: StoreConfig, order_id: str) -> OrderIn:
        with _client(store) as client:
            order = client.order(order_id)
            products = [p for p in client.order_products(order_id) if p.quantityOrdered > 0]
        return OrderIn(
            order_id=str(order.id),
            customer_email=order.email,
            # when it was placed: a variant figure updated since counts it already
            placed_at=_placed_at(order.createdAt),
            lines=[LineRequest(sku=line_sku(p, {}), qty=p.quantityOrdered) for p in products],
        )

    def parse_webhook(
        self, store: StoreConfig, headers: Mapping[str, str], body: bytes
    ) -> Sequence[WebhookEvent]:
        return parse(store, headers, body)

    def authenticate_headers(self, store: StoreConfig, headers: Mapping[str, str]) -> None:
        verify_headers(headers, store.secret("api_secret"))  # the body's signature: in parse

    def csv_dialects(self) -> Sequence[CsvDialect]:
        return [LightspeedCsv()]

    def commands(self) -> Sequence[click.Command]:
        from backorder_lightspeed_ecom.commands import lightspeed_group

        return [lightspeed_group]

    def sandbox(self) -> click.Command | None:
        from backorder_lightspeed_ecom.commands import sandbox_command

        return sandbox_command


PLATFORM = LightspeedPlatform()


@hookimpl
def backorder_platforms() -> Sequence[Platform]:
    return [PLATFORM]
