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
from collections.abc import Mapping

from pydantic import ValidationError

from backorder.config import StoreConfig
from backorder.errors import first_problem
from backorder.webhooks import (
    MalformedDelivery,
    WebhookEvent,
    WebhookRejected,
    check_qty,
    load_json,
)
from backorder_lightspeed_ecom.mapping import variant_sku
from backorder_lightspeed_ecom.models import Order, StockTracking, Variant

SIGNATURE_HEADER = "x-signature"


def sign(body: bytes, secret: str) -> str:
    return hashlib.md5(body + secret.encode()).hexdigest()


def verify_headers(headers: Mapping[str, str], secret: str | None) -> str:
    """The signature header, refused before the body is read when it is missing or when
    the store has no secret to check it with."""
    given = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER, "")
    if not secret:
        raise WebhookRejected("connection.api_secret: not configured; cannot verify deliveries")
    if not given:
        raise WebhookRejected(f"header {SIGNATURE_HEADER}: missing")
    return given


def verify(headers: Mapping[str, str], body: bytes, secret: str | None) -> None:
    given = verify_headers(headers, secret)
    assert secret  # verify_headers refused a store without one
    if not hmac.compare_digest(given.strip().lower().encode(), sign(body, secret).encode()):
        raise WebhookRejected(f"header {SIGNATURE_HEADER}: does not match the body")


def _key(group: str, record: dict, body: bytes) -> str:
    """``{group}/{id}@{updatedAt}#{body digest}``: updatedAt has one-second precision, so the
    digest tells apart two changes made within the same second."""
    digest = hashlib.sha256(body).hexdigest()[:12]
    return f"{group}/{record.get('id')}@{record.get('updatedAt') or '-'}#{digest}"


def parse(store: StoreConfig, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    verify(headers, body, store.secret("api_secret"))
    data = load_json(body)
    if not isinstance(data, dict) or not data:
        raise MalformedDelivery('body: expected a JSON object such as {"variant": {...}}')
    if "variant" in data:
        return [_variant_event(data["variant"], body)]
    if "order" in data:
        return _order_events(store, data["order"], body)
    group = next(iter(data))
    record = data[group] if isinstance(data[group], dict) else {}
    return [WebhookEvent(kind="ignored", delivery_id=_key(group, record, body))]


def _variant_event(record: object, body: bytes) -> WebhookEvent:
    if not isinstance(record, dict):
        raise MalformedDelivery("body field variant: expected an object")
    try:
        variant = Variant.model_validate(record)
    except ValidationError as exc:
        where, problem = first_problem(exc, "variant")
        raise MalformedDelivery(f"body field {where}: {problem}") from None
    tracked = variant.stockTracking is not StockTracking.DISABLED
    try:
        as_of = dt.datetime.fromisoformat(variant.updatedAt) if variant.updatedAt else None
    except ValueError:
        raise MalformedDelivery(
            f"body field variant.updatedAt: not a date and time: {variant.updatedAt!r}"
        ) from None
    return WebhookEvent(
        kind="stock",
        delivery_id=_key("variants", record, body),
        sku=variant_sku(variant),
        on_hand=check_qty(variant.stockLevel, "variant.stockLevel") if tracked else None,
        product_id=str(variant.product_id) if variant.product_id else None,
        tracking_enabled=tracked,
        as_of=as_of,  # a late delivery of an older level is skipped
        # Lightspeed lowers stockLevel on every sale: the figure is net of its orders up to
        # updatedAt, so an order delivered after it must not take the units again
        basis="net_of_orders",
    )


CANCELLED = "cancelled"
"""The order ``status`` of a cancelled order."""
SHIPPED = ("shipped", "partially_shipped")
"""``shipmentStatus`` values after which the lines' ``quantityShipped`` are followed."""


def _order_events(store: StoreConfig, record: object, body: bytes) -> list[WebhookEvent]:
    """An ``orders`` delivery: the order is recorded (a no-op once it is); a ``cancelled``
    status cancels all it has left; a shipment status ships what the lines'
    ``quantityShipped`` say beyond what we shipped (issue 14)."""
    if not isinstance(record, dict):
        raise MalformedDelivery("body field order: expected an object")
    try:
        order = Order.model_validate(record)
    except ValidationError as exc:
        where, problem = first_problem(exc, "order")
        raise MalformedDelivery(f"body field {where}: {problem}") from None
    key = _key("orders", record, body)
    events = [WebhookEvent(kind="order", delivery_id=key, order_id=str(order.id))]
    if order.status == CANCELLED:
        events.append(WebhookEvent(kind="order_change", delivery_id=f"{key}:cancel",
                                   order_id=str(order.id), change="cancel"))
    elif order.shipmentStatus in SHIPPED:
        from backorder_lightspeed_ecom.client import LightspeedClient
        from backorder_lightspeed_ecom.sync import line_sku

        totals: dict[str, int] = {}
        with LightspeedClient.for_store(store) as client:
            for line in client.order_products(order.id):
                sku = line_sku(line, {})
                totals[sku] = totals.get(sku, 0) + line.quantityShipped
        events.append(WebhookEvent(kind="order_change", delivery_id=f"{key}:ship",
                                   order_id=str(order.id), change="ship", lines=totals,
                                   totals=True))
    return events
