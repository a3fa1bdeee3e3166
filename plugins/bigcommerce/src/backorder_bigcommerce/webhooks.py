"""Webhook deliveries: authenticate and parse them into core events (one-way, BC → us).

BigCommerce payloads carry ids only, so stock and product events re-read the resource.
The custom header registered with the hooks (``connection.webhook_header``) carries the
store's secret and is compared in constant time. Deliveries repeat: every event's
``delivery_id`` is the envelope ``hash``, which the core's webhook server
(``backorder.server``) keeps unique per store, so a repeated delivery is applied once.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping

from pydantic import ValidationError

from backorder.config import StoreConfig
from backorder.webhooks import WebhookEvent, WebhookRejected
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.connection import client_for, connection
from backorder_bigcommerce.mapping import catalog_items

SCOPES = (
    "store/product/inventory/updated",
    "store/sku/inventory/updated",
    "store/order/created",
    "store/product/updated",
)


def authenticate(store: StoreConfig, headers: Mapping[str, str]) -> None:
    conn = connection(store)
    expected = store.secret("webhook_secret")
    given = {k.lower(): v for k, v in headers.items()}.get(conn.webhook_header.lower(), "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRejected(f"header {conn.webhook_header}: missing or wrong")


def parse(store: StoreConfig, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    authenticate(store, headers)
    try:
        envelope = s.WebhookCallbackBase.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        where = ""
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = f" field {'.'.join(map(str, first['loc']))}: {first['msg']}"
        raise WebhookRejected(f"body{where or ': not JSON'}") from None
    data, key = envelope.data, envelope.hash
    try:
        rid = int(data["id"])
    except (KeyError, TypeError, ValueError):
        raise WebhookRejected("body field data.id: an integer is required") from None
    scope = envelope.scope
    if scope == "store/order/created":
        return [WebhookEvent(kind="order", delivery_id=key, order_id=str(rid))]
    client = client_for(store)
    basis = connection(store).level_basis
    if scope == "store/product/inventory/updated":
        return _stock_events(key, client.product(rid), basis)
    if scope == "store/sku/inventory/updated":
        inventory = data.get("inventory") or {}
        product_id, variant_id = inventory.get("product_id"), inventory.get("variant_id", rid)
        if product_id is None:
            raise WebhookRejected("body field data.inventory.product_id: required")
        variant = client.variant(int(product_id), int(variant_id))
        return [
            WebhookEvent(
                kind="stock",
                delivery_id=key,
                sku=variant.sku,
                on_hand=variant.inventory_level or 0,
                product_id=str(product_id),
                basis=basis,
            )
        ]
    if scope == "store/product/updated":
        product = client.product(rid)
        return [
            WebhookEvent(
                kind="product",
                delivery_id=key,
                product_id=str(rid),
                tracking_enabled=product.inventory_tracking != "none",
            )
        ]
    return [WebhookEvent(kind="ignored", delivery_id=key)]


def _stock_events(key: str, product: s.ProductFull, basis) -> list[WebhookEvent]:
    return [
        WebhookEvent(
            kind="stock",
            delivery_id=key,
            sku=item.sku,
            on_hand=item.on_hand or 0,
            product_id=item.product_id,
            basis=basis,
        )
        for item in catalog_items(product)
    ]
