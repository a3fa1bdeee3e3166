"""The ``magento`` platform object (entry point ``magento``)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import click

from backorder.config import StoreConfig
from backorder.dialects import CsvDialect
from backorder.errors import InvalidInput
from backorder.hookspecs import hookimpl
from backorder.models import CatalogItem, ItemInput, ItemView, LineRequest, OrderIn, StockLevel
from backorder.platform import BasePlatform, Platform
from backorder.webhooks import WebhookEvent
from backorder_magento import PLATFORM as NAME
from backorder_magento.connection import client_for, item_options
from backorder_magento.csv_dialect import MagentoProductCsv
from backorder_magento.models import StockItem
from backorder_magento.stock_rules import MSG_BACKORDER_NOTIFY, effective
from backorder_magento.translate import refuse_decimal, to_item_input, to_stock_item_update
from backorder_magento.webhook import authenticate_headers, parse_push

STOCK_TYPES = {"simple", "virtual", "downloadable"}
"""Product types that carry their own qty (``StockConfiguration::isQty``)."""


def _whole(qty: float | None) -> int:
    return math.floor(float(qty or 0))


def _stock_products(store: StoreConfig) -> Iterator[tuple[dict[str, Any], StockItem]]:
    """Every product that carries its own qty, with its stock item (decimal ones refused)."""
    with client_for(store) as client:
        for product in client.products():
            raw = (product.get("extension_attributes") or {}).get("stock_item")
            if product.get("type_id", "simple") in STOCK_TYPES and raw:
                item = StockItem.model_validate({**raw, "sku": product["sku"]})
                refuse_decimal(item)
                yield product, item


def _ordered_units(line: Mapping[str, Any], order_id: str) -> int:
    """An order line's ``qty_ordered`` in whole units; a decimal one is refused by SKU."""
    qty = float(line["qty_ordered"])
    if not math.isclose(qty, round(qty)):
        raise InvalidInput(
            f"order {order_id}: SKU {line['sku']!r} was ordered in a decimal quantity "
            f"({qty:g}); backorder counts whole units"
        )
    return max(round(qty), 1)


STOREFRONT_ATTRIBUTES = {
    "backorder_message": "inventory_description",
    "backorder_shipping": "shipping_description",
}
"""Product attribute (text, created once by the merchant) -> the storefront message it holds."""


def storefront_attributes(messages: Mapping[str, str]) -> dict[str, str]:
    return {code: messages.get(name, "") for code, name in STOREFRONT_ATTRIBUTES.items()}


class MagentoPlatform(BasePlatform):
    name = NAME
    backorder_notice = MSG_BACKORDER_NOTIFY
    """MSI's own sentence (``BackOrderNotifyCustomerCondition``), as a Magento shop says it."""

    def translate_item(self, fields: Mapping[str, Any]) -> ItemInput:
        return to_item_input(fields)

    def fetch_catalog(self, store: StoreConfig) -> Sequence[CatalogItem]:
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

    def fetch_levels(self, store: StoreConfig, skus: Sequence[str]) -> Sequence[StockLevel]:
        if not skus:
            items = [item for _, item in _stock_products(store)]
        else:
            with client_for(store) as client:
                items = [client.stock_item(sku).model_copy(update={"sku": sku}) for sku in skus]
            for item in items:
                refuse_decimal(item)
        # source_ref names this reading: "qty:N" alone repeated whenever the figure came
        # back to an earlier value (5, 3, 5: the second 5 was skipped); one run id per call.
        run = uuid.uuid4().hex[:12]
        return [
            StockLevel(
                sku=item.sku, on_hand=_whole(item.qty), source_ref=f"{run}:qty:{item.qty:g}"
            )
            for item in items
            if item.qty is not None and item.sku
        ]

    def apply_items(self, store: StoreConfig, items: Sequence[ItemView], reason: str) -> None:
        with client_for(store) as client:
            for view in items:
                changes = to_stock_item_update(view, reason)
                if changes:
                    current = client.stock_item(view.sku)
                    client.update_stock_item(view.sku, current.item_id or 0, changes)

    def publish_storefront(
        self, store: StoreConfig, sku: str, messages: Mapping[str, str]
    ) -> None:
        """The messages as the product attributes a Luma block shows (README, "Storefront"):
        ``backorder_message`` (the availability text) and ``backorder_shipping``."""
        with client_for(store) as client:
            client.set_custom_attributes(sku, storefront_attributes(messages))

    def fetch_order(self, store: StoreConfig, order_id: str) -> OrderIn:
        with client_for(store) as client:
            order = client.order(order_id)
        lines = [
            LineRequest(
                sku=line["sku"], qty=_ordered_units(line, order_id), name=line.get("name")
            )
            for line in order.get("items", [])
            if not line.get("parent_item_id")  # a configurable's child repeats its parent's line
        ]
        return OrderIn(
            order_id=str(order.get("entity_id", order_id)),
            lines=lines,
            customer_email=order.get("customer_email"),
        )

    def parse_webhook(
        self, store: StoreConfig, headers: Mapping[str, str], body: bytes
    ) -> Sequence[WebhookEvent]:
        return parse_push(store, headers, body)

    def authenticate_headers(self, store: StoreConfig, headers: Mapping[str, str]) -> None:
        authenticate_headers(store, headers)

    def csv_dialects(self) -> Sequence[CsvDialect]:
        return [MagentoProductCsv()]

    def commands(self) -> Sequence[click.Command]:
        from backorder_magento.commands import magento_order, repair_stock_status

        return [repair_stock_status, magento_order]

    def sandbox(self) -> click.Command | None:
        from backorder_magento.commands import sandbox_magento

        return sandbox_magento


PLATFORM = MagentoPlatform()


@hookimpl
def backorder_platforms() -> Sequence[Platform]:
    return [PLATFORM]
