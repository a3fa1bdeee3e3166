"""Push deliveries from a Magento integration module (this project's convention).

Magento has no native webhooks for stock. The convention: a small integration module
observes ``cataloginventory_stock_item_save_after`` and ``sales_order_place_after`` and
POSTs JSON to backorder::

    {"delivery_id": "uuid", "event": "cataloginventory_stock_item_save_after",
     "sku": "MB-01", "qty": 5}
    {"delivery_id": "uuid", "event": "sales_order_place_after", "order_id": "42"}

Order lifecycle pushes (the module observes the events Magento dispatches:
``order_cancel_after`` from ``Order::cancel()`` (magento2 ``Sales/Model/Order.php``), and
the model events ``sales_order_shipment_save_after`` / ``sales_order_creditmemo_save_after``)::

    {"delivery_id": "uuid", "event": "order_cancel_after", "order_id": "42"}
    {"delivery_id": "uuid", "event": "sales_order_shipment_save_after", "order_id": "42",
     "items": [{"sku": "MB-01", "qty": 1}]}
    {"delivery_id": "uuid", "event": "sales_order_creditmemo_save_after", "order_id": "42",
     "items": [{"sku": "MB-01", "qty": 1, "back_to_stock": true}]}

An order cancel cancels every unit not yet shipped (Magento cancels what is neither
shipped nor invoiced). A credit memo's units return shipped units (restocked when its
items say ``back_to_stock``, Magento's "Return to Stock" box) and cancel the rest.

authenticated by either ``Authorization: Bearer <webhook_token>`` or
``X-Backorder-Signature: sha256=<hex HMAC-SHA256 of the raw body with webhook_secret>``
(connection keys ``webhook_token`` / ``webhook_secret``, or their ``*_env`` variants).
Other events are acknowledged as ``ignored``. ``delivery_id`` is the dedupe key.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backorder.errors import first_problem
from backorder.models import MAX_QTY, UTCDateTime
from backorder.webhooks import MalformedDelivery, WebhookEvent, WebhookRejected, check_qty

SIGNATURE_HEADER = "x-backorder-signature"
STOCK_EVENT = "cataloginventory_stock_item_save_after"
ORDER_EVENT = "sales_order_place_after"
CANCEL_EVENT = "order_cancel_after"
SHIPMENT_EVENT = "sales_order_shipment_save_after"
CREDITMEMO_EVENT = "sales_order_creditmemo_save_after"


class PushItem(BaseModel):
    """A shipment or credit-memo item: its SKU, qty and (credit memo) back_to_stock."""

    model_config = ConfigDict(extra="ignore")

    sku: str = Field(min_length=1)
    qty: float = Field(gt=0)
    back_to_stock: bool = False


class Push(BaseModel):
    model_config = ConfigDict(extra="ignore")

    delivery_id: str = Field(min_length=1)
    event: str = Field(min_length=1)
    sku: str | None = None
    qty: float | None = Field(None, allow_inf_nan=False)
    order_id: str | int | None = None
    items: list[PushItem] | None = None
    updated_at: UTCDateTime | None = None
    """When the stock item was saved (Magento's UTC ``Y-m-d H:i:s``): a late push of an
    older figure is skipped."""


def sign(secret: str, body: bytes) -> str:
    """The signature header value an integration module sends for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _authenticated(store: Any, headers: Mapping[str, str], body: bytes) -> bool:
    given = {k.lower(): v for k, v in headers.items()}
    token, secret = store.secret("webhook_token"), store.secret("webhook_secret")
    if token:
        bearer = given.get("authorization", "")
        if hmac.compare_digest(bearer.encode(), f"Bearer {token}".encode()):
            return True
    if secret:
        signature = given.get(SIGNATURE_HEADER, "")
        if hmac.compare_digest(signature.encode(), sign(secret, body).encode()):
            return True
    return False


def authenticate_headers(store: Any, headers: Mapping[str, str]) -> None:
    """Before the body is read: a store with neither secret, or a delivery with neither a
    right Bearer token nor a signature header, is refused (the signature is checked by
    :func:`parse_push`, which has the body)."""
    token, secret = store.secret("webhook_token"), store.secret("webhook_secret")
    if not (token or secret):
        raise WebhookRejected("connection: set webhook_token or webhook_secret to accept pushes")
    given = {k.lower(): v for k, v in headers.items()}
    if token and hmac.compare_digest(
        given.get("authorization", "").encode(), f"Bearer {token}".encode()
    ):
        return
    if not (secret and given.get(SIGNATURE_HEADER)):
        raise WebhookRejected(
            "header Authorization (Bearer) or X-Backorder-Signature: missing or wrong"
        )


def parse_push(store: Any, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    if not (store.secret("webhook_token") or store.secret("webhook_secret")):
        raise WebhookRejected("connection: set webhook_token or webhook_secret to accept pushes")
    if not _authenticated(store, headers, body):
        raise WebhookRejected(
            "header Authorization (Bearer) or X-Backorder-Signature: missing or wrong"
        )
    try:
        push = Push.model_validate_json(body)
    except ValidationError as exc:
        where, problem = first_problem(exc)
        raise MalformedDelivery(f"body field {where or '(body)'}: {problem}") from None
    if push.event == STOCK_EVENT:
        if not push.sku or push.qty is None:
            raise MalformedDelivery("body field sku/qty: required for a stock item save")
        if abs(push.qty) > MAX_QTY:  # before round(): 1e400 parses as infinity
            check_qty(push.qty, "qty")
        if not math.isclose(push.qty, round(push.qty)):
            raise MalformedDelivery(f"body field qty: {push.qty} is not a whole number")
        return [
            WebhookEvent(
                kind="stock",
                delivery_id=push.delivery_id,
                sku=push.sku,
                on_hand=round(push.qty),
                as_of=push.updated_at,
            )
        ]
    if push.event == ORDER_EVENT:
        if push.order_id in (None, ""):
            raise MalformedDelivery("body field order_id: required for an order placement")
        return [
            WebhookEvent(kind="order", delivery_id=push.delivery_id, order_id=str(push.order_id))
        ]
    if push.event in (CANCEL_EVENT, SHIPMENT_EVENT, CREDITMEMO_EVENT):
        return _order_change(push)
    return [WebhookEvent(kind="ignored", delivery_id=push.delivery_id)]


def _order_change(push: Push) -> list[WebhookEvent]:
    """One event per kind of unit: a credit memo with items back to stock and items not
    is two changes (the second delivery id gets ``#2`` when stored)."""
    if push.order_id in (None, ""):
        raise WebhookRejected(f"body field order_id: required for {push.event}")
    if push.event != CANCEL_EVENT and not push.items:
        raise WebhookRejected(f"body field items: {push.event} lists its items [{{sku, qty}}]")
    change = {CANCEL_EVENT: "cancel", SHIPMENT_EVENT: "ship"}.get(push.event, "refund")
    if not push.items:
        return [WebhookEvent(kind="order_change", delivery_id=push.delivery_id,
                             order_id=str(push.order_id), change=change)]  # type: ignore[arg-type]
    groups: dict[bool, dict[str, int]] = {}
    for n, item in enumerate(push.items):
        if not math.isclose(item.qty, round(item.qty)):
            raise WebhookRejected(f"body field items.{n}.qty: {item.qty} is not a whole number")
        restock = item.back_to_stock and change == "refund"
        lines = groups.setdefault(restock, {})
        lines[item.sku] = lines.get(item.sku, 0) + round(item.qty)
    return [
        WebhookEvent(
            kind="order_change", delivery_id=push.delivery_id, order_id=str(push.order_id),
            change=change, lines=lines, restock=restock,  # type: ignore[arg-type]
        )
        for restock, lines in groups.items()
    ]
