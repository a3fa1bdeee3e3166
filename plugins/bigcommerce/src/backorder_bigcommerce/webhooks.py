"""Webhook deliveries: authenticate and parse them into core events (one-way, BC → us).

BigCommerce payloads carry ids only, so stock and product events re-read the resource.
The custom header registered with the hooks (``connection.webhook_header``) carries the
store's secret and is compared in constant time. Deliveries repeat: every event's
``delivery_id`` is the envelope ``hash``, which the core's webhook server
(``backorder.server``) keeps unique per store, so a repeated delivery is applied once.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from pydantic import ValidationError

from backorder.config import StoreConfig
from backorder.errors import first_problem
from backorder.models import CatalogItem
from backorder.webhooks import MalformedDelivery, WebhookEvent, WebhookRejected, load_json
from backorder_bigcommerce import push
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.client import BigCommerceClient, BigCommerceError
from backorder_bigcommerce.connection import Connection, client_for, connection
from backorder_bigcommerce.levels import read_levels
from backorder_bigcommerce.mapping import catalog_items

SCOPES = (
    "store/product/inventory/updated",
    "store/sku/inventory/updated",
    "store/order/created",
    "store/product/updated",
    "store/order/statusUpdated",
    "store/shipment/created",
)

CANCELLED_STATUSES = {5: "Cancelled", 6: "Declined"}
"""Order statuses (orders.v2.oas2.yml, "Order Status Descriptions") that cancel what the
order has left."""
REFUNDED_STATUS = 4
"""Refunded: the whole order; shipped units come back as returns, not restocked."""
SHIPPED_STATUSES = {2: "Shipped", 3: "Partially Shipped", 10: "Completed"}
"""Statuses after which the lines' ``quantity_shipped`` are read and followed."""


def authenticate(store: StoreConfig, headers: Mapping[str, str]) -> None:
    conn = connection(store)
    expected = store.secret("webhook_secret")
    given = {k.lower(): v for k, v in headers.items()}.get(conn.webhook_header.lower(), "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRejected(f"header {conn.webhook_header}: missing or wrong")


def parse(store: StoreConfig, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    authenticate(store, headers)
    try:
        envelope = s.WebhookCallbackBase.model_validate(load_json(body))
    except ValidationError as exc:
        where, problem = first_problem(exc)
        raise MalformedDelivery(f"body field {where}: {problem}") from None
    data, key = envelope.data, envelope.hash
    rid = _id(data.get("id"), "data.id")
    scope = envelope.scope
    if scope == "store/order/created":
        return [WebhookEvent(kind="order", delivery_id=key, order_id=str(rid))]
    try:
        return _reread(store, scope, key, data, rid)
    except BigCommerceError as exc:
        if exc.status != 404:
            raise  # the server answers 503: BigCommerce delivers again later
        # Deleted at BigCommerce since the event: nothing left to read. Acknowledged and
        # skipped; the item stays as it is until a sync or an unassign (README).
        return [WebhookEvent(kind="ignored", delivery_id=key, product_id=str(rid))]


def _id(value: object, field: str) -> int:
    """A resource id from the payload: a positive integer (``"12"`` is taken too)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedDelivery(f"body field {field}: an integer is required")
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) < 1:
        raise MalformedDelivery(f"body field {field}: an integer is required, not {value!r:.40}")
    return int(text)


def _reread(
    store: StoreConfig, scope: str, key: str, data: dict, rid: int
) -> list[WebhookEvent]:
    """Stock and product events carry ids only: read the resource now."""
    client = client_for(store)
    conn = connection(store)
    if scope in ("store/order/statusUpdated", "store/shipment/created"):
        return [_order_change(key, client, conn, scope, data, rid)]
    if scope == "store/product/inventory/updated":
        return _stock_events(key, client, conn, catalog_items(client.product(rid)))
    if scope == "store/sku/inventory/updated":
        inventory = data.get("inventory") or {}
        if not isinstance(inventory, dict) or inventory.get("product_id") is None:
            raise MalformedDelivery("body field data.inventory.product_id: required")
        product_id = _id(inventory["product_id"], "data.inventory.product_id")
        variant_id = _id(inventory.get("variant_id", rid), "data.inventory.variant_id")
        variant = client.variant(product_id, variant_id)
        item = CatalogItem(
            sku=variant.sku, product_id=str(product_id), on_hand=variant.inventory_level or 0
        )
        return _stock_events(key, client, conn, [item])
    if scope == "store/product/updated":
        return [_product_event(key, client, conn, rid)]
    return [WebhookEvent(kind="ignored", delivery_id=key)]


def _order_change(
    key: str, client: BigCommerceClient, conn: Connection, scope: str, data: dict, rid: int
) -> WebhookEvent:
    """An order's status or a shipment (issue 14), app mode only.

    App mode: we own the stock (BigCommerce's tracking is off), so a Cancelled or Declined
    order gives its units back to our ledger, Refunded returns or cancels all it has, and a
    shipment (or Shipped / Partially Shipped / Completed) ships what BigCommerce's lines say
    is shipped (``quantity_shipped``) beyond what we shipped. Native mode: BigCommerce keeps
    the count and restocks a cancelled order itself; its inventory webhooks bring the new
    count, so the change is only acknowledged (booking it too would count it twice).
    """
    if conn.mode == "native":
        return WebhookEvent(kind="ignored", delivery_id=key)
    if scope == "store/shipment/created":
        order_id = data.get("orderId")
        if not isinstance(order_id, int) or isinstance(order_id, bool):
            raise WebhookRejected("body field data.orderId: an integer is required")
        return _shipped(key, client, order_id)
    status = data.get("status") or {}
    new = status.get("new_status_id") if isinstance(status, dict) else None
    if not isinstance(new, int) or isinstance(new, bool):
        raise WebhookRejected("body field data.status.new_status_id: an integer is required")
    if new in CANCELLED_STATUSES:
        return WebhookEvent(kind="order_change", delivery_id=key, order_id=str(rid),
                            change="cancel")
    if new == REFUNDED_STATUS:
        return WebhookEvent(kind="order_change", delivery_id=key, order_id=str(rid),
                            change="refund")
    if new in SHIPPED_STATUSES:
        return _shipped(key, client, rid)
    return WebhookEvent(kind="ignored", delivery_id=key, order_id=str(rid))


def _shipped(key: str, client: BigCommerceClient, order_id: int) -> WebhookEvent:
    totals: dict[str, int] = {}
    for line in client.order_products(order_id):
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity_shipped
    return WebhookEvent(kind="order_change", delivery_id=key, order_id=str(order_id),
                        change="ship", lines=totals, totals=True)


def _product_event(key: str, client: BigCommerceClient, conn: Connection, rid: int) -> WebhookEvent:
    """``store/product/updated`` fires for any edit, ours included ("Track inventory" is one
    of its fields, webhooks.v3.yml ``store_product_updated``). Only in app mode, where our
    assignment turned tracking off, does tracking turning *on* mean "unassign" (seed 001
    FAQ); native mode keeps tracking on, so an edit there unassigns nothing.

    "Turning on" is a change from what the push mirror last saw: a product whose own
    ``inventory_tracking: none`` push is still waiting in the outbox is tracked, and an
    edit then changes nothing. A mirror that knows nothing (a new process) takes a tracked
    product as turned on.
    """
    if conn.mode == "native":
        return WebhookEvent(kind="ignored", delivery_id=key, product_id=str(rid))
    product = client.product(rid)
    seen = push.mirror_for(client).products.setdefault(rid, {})
    before = seen.get("inventory_tracking", "none")
    seen["inventory_tracking"] = product.inventory_tracking
    return WebhookEvent(
        kind="product",
        delivery_id=key,
        product_id=str(rid),
        tracking_enabled=product.inventory_tracking != "none" and before == "none",
    )


def _stock_events(
    key: str, client: BigCommerceClient, conn: Connection, items: list[CatalogItem]
) -> list[WebhookEvent]:
    """App mode: the figures just read; native mode: our count from the inventory items."""
    if conn.mode == "native":
        counts = {
            level.sku: level.on_hand for level in read_levels(client, conn, [i.sku for i in items])
        }
    else:
        counts = {i.sku: i.on_hand or 0 for i in items}
    return [
        WebhookEvent(
            kind="stock",
            delivery_id=key,
            sku=item.sku,
            on_hand=counts[item.sku],
            product_id=item.product_id,
            basis=conn.level_basis,
        )
        for item in items
        if item.sku in counts
    ]
