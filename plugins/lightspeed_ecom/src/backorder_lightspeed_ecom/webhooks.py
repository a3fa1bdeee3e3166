"""Lightspeed webhook deliveries: verified and parsed.

A delivery's body is the resource JSON (``{"variant": {...}}`` for item group
``variants``, ``{"order": {...}}`` for ``orders``). It is signed with the header
``x-signature = md5(body + api secret)`` (Lightspeed's community forum; sources in the
README).
A delivery's stable key is ``{group}/{id}@{updatedAt}#{body digest}``: a retried delivery
has the same key, a later change of the same resource a new one. The core's webhook
server keeps keys unique, so a repeated delivery is applied once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping

from backorder.config import StoreConfig
from backorder.webhooks import WebhookEvent, WebhookRejected
from backorder_lightspeed_ecom.mapping import variant_sku
from backorder_lightspeed_ecom.models import Order, StockTracking, Variant

SIGNATURE_HEADER = "x-signature"


def sign(body: bytes, secret: str) -> str:
    return hashlib.md5(body + secret.encode()).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, secret: str | None) -> None:
    given = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER, "")
    if not secret:
        raise WebhookRejected("connection.api_secret: not configured; cannot verify deliveries")
    if not given:
        raise WebhookRejected(f"header {SIGNATURE_HEADER}: missing")
    if not hmac.compare_digest(given.strip().lower().encode(), sign(body, secret).encode()):
        raise WebhookRejected(f"header {SIGNATURE_HEADER}: does not match the body")


def _key(group: str, record: dict, body: bytes) -> str:
    """``{group}/{id}@{updatedAt}#{body digest}``: updatedAt has one-second precision, so the
    digest tells apart two changes made within the same second."""
    digest = hashlib.sha256(body).hexdigest()[:12]
    return f"{group}/{record.get('id')}@{record.get('updatedAt') or '-'}#{digest}"


def parse(store: StoreConfig, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    verify(headers, body, store.secret("api_secret"))
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WebhookRejected(f"body: not JSON ({exc})") from None
    if not isinstance(data, dict) or not data:
        raise WebhookRejected('body: expected a JSON object such as {"variant": {...}}')
    if "variant" in data:
        return [_variant_event(data["variant"], body)]
    if "order" in data:
        return [_order_event(data["order"], body)]
    group = next(iter(data))
    record = data[group] if isinstance(data[group], dict) else {}
    return [WebhookEvent(kind="ignored", delivery_id=_key(group, record, body))]


def _variant_event(record: object, body: bytes) -> WebhookEvent:
    if not isinstance(record, dict):
        raise WebhookRejected("body field variant: expected an object")
    try:
        variant = Variant.model_validate(record)
    except ValueError as exc:
        raise WebhookRejected(f"body field variant: {exc}") from None
    tracked = variant.stockTracking is not StockTracking.DISABLED
    try:
        as_of = dt.datetime.fromisoformat(variant.updatedAt) if variant.updatedAt else None
    except ValueError:
        raise WebhookRejected(
            f"body field variant.updatedAt: not a date and time: {variant.updatedAt!r}"
        ) from None
    return WebhookEvent(
        kind="stock",
        delivery_id=_key("variants", record, body),
        sku=variant_sku(variant),
        on_hand=variant.stockLevel if tracked else None,
        product_id=str(variant.product_id) if variant.product_id else None,
        tracking_enabled=tracked,
        as_of=as_of,  # a late delivery of an older level is skipped
        # Lightspeed lowers stockLevel on every sale: the figure is net of its orders up to
        # updatedAt, so an order delivered after it must not take the units again
        basis="net_of_orders",
    )


def _order_event(record: object, body: bytes) -> WebhookEvent:
    if not isinstance(record, dict):
        raise WebhookRejected("body field order: expected an object")
    try:
        order = Order.model_validate(record)
    except ValueError as exc:
        raise WebhookRejected(f"body field order: {exc}") from None
    return WebhookEvent(
        kind="order", delivery_id=_key("orders", record, body), order_id=str(order.id)
    )
