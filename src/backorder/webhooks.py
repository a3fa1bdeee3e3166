"""Webhook deliveries: what a parsed delivery asks of the core, stored once, then applied.

The web server (:mod:`backorder.server`) hands a delivery's raw body to the store's
platform (``Platform.parse_webhook``: authentication the platform's way) and stores each
event with :func:`record_deliveries` (unique per store on its ``delivery_id``: a retried
delivery is a duplicate). :func:`apply_deliveries`, run right after the answer and by
every worker pass, applies them through the ledger with the delivery id as the
idempotency key:

- ``stock``: the SKU's on-hand figure (``apply_levels``; unknown SKUs are skipped);
- ``order``: the order is fetched from the platform (``Platform.fetch_order``) and placed;
- ``product`` with ``tracking_enabled``: the platform tracks the product again, so its
  assigned items are unassigned (seed 001 FAQ);
- ``ignored``: recorded, nothing to do.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from backorder.errors import Conflict, InvalidInput, NotFound, Refused, WebhookRejected
from backorder.models import Qty, Sku, StockLevel, UTCDateTime
from backorder.storage import deliveries, records, work_queue
from backorder.storage.schema import webhook_deliveries

if TYPE_CHECKING:
    from backorder.engine import StoreService

__all__ = [
    "WebhookEvent",
    "WebhookRejected",
    "apply_deliveries",
    "apply_event",
    "pending_deliveries",
    "record_deliveries",
]

log = logging.getLogger("backorder.webhooks")

MAX_ATTEMPTS = 12
"""A delivery that fails this often (about six hours of backoff) is given up on."""

FINAL = (InvalidInput, NotFound, Refused, Conflict)
"""Errors a retry cannot mend: the delivery is closed with the reason."""


class WebhookEvent(BaseModel):
    """One thing a delivery asks for. ``delivery_id`` is the dedupe key (BigCommerce's hash)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["stock", "order", "product", "ignored"]
    delivery_id: str
    sku: Sku | None = None
    on_hand: Qty | None = None
    order_id: str | None = None
    product_id: str | None = None
    tracking_enabled: bool | None = None
    basis: Literal["absolute", "platform_count", "net_of_orders"] = "absolute"
    """How to read ``on_hand``: see :class:`backorder.models.StockLevel`."""
    as_of: UTCDateTime | None = None
    """When ``on_hand`` was true at the platform: a late delivery of an older figure is
    skipped (see :class:`backorder.models.StockLevel`)."""


# ----------------------------------------------------------------------------- intake
def record_deliveries(service: StoreService, events: Sequence[WebhookEvent]) -> tuple[int, int]:
    """Store parsed events, skipping delivery ids already seen; returns ``(new, duplicates)``."""
    now = service.clock()
    counts: dict[str, int] = {}
    rows = []
    for event in events:
        n = counts[event.delivery_id] = counts.get(event.delivery_id, 0) + 1
        key = event.delivery_id if n == 1 else f"{event.delivery_id}#{n}"
        payload = event.model_dump(mode="json")
        rows.append(deliveries.row(service.name, key[:255], event.kind, payload, now))
    with service.db.transaction() as conn:
        new = deliveries.insert_new(conn, rows)
    return new, len(rows) - new


def pending_deliveries(service: StoreService) -> list[dict[str, Any]]:
    """Deliveries not yet applied (for ``backorder status`` and tests)."""
    with service.db.read() as conn:
        return deliveries.pending(conn, service.name)


# ---------------------------------------------------------------------------- applying
def apply_deliveries(
    service: StoreService, *, limit: int = 100, now: dt.datetime | None = None
) -> tuple[int, int]:
    """Apply due deliveries of one store; returns ``(applied, failed)``. Safe from many workers."""
    token = uuid.uuid4().hex
    with service.db.transaction() as conn:
        rows = work_queue.claim(
            conn, webhook_deliveries, service.name, token, now=now or service.clock(), limit=limit
        )
    applied = failed = 0
    for row in rows:
        event = WebhookEvent.model_validate(row.payload)
        try:
            outcome = apply_event(service, event)
        except FINAL as exc:  # the rules or the data refuse it: retrying cannot help
            _finish(service, row, token, outcome=f"refused: {exc}")
            applied += 1
        except Exception as exc:
            log.warning("store %s: delivery %s failed: %s", service.name, event.delivery_id, exc)
            if row.attempts + 1 >= MAX_ATTEMPTS:
                _finish(service, row, token, outcome=f"gave up: {exc}")
            else:
                _finish(service, row, token, error=exc)
            failed += 1
        else:
            _finish(service, row, token, outcome=outcome)
            applied += 1
    return applied, failed


def _finish(service: StoreService, row: Any, token: str, **result: Any) -> None:
    with service.db.transaction() as conn:
        work_queue.finish(conn, webhook_deliveries, row, token, now=service.clock(), **result)


def apply_event(service: StoreService, event: WebhookEvent) -> str:
    """Apply one webhook event through the ledger; returns what happened, in words."""
    if event.kind == "stock":
        if event.sku is None or event.on_hand is None:
            return "ignored: a stock event needs sku and on_hand"
        level = StockLevel(
            sku=event.sku,
            on_hand=event.on_hand,
            source_ref=event.delivery_id,
            basis=event.basis,
            as_of=event.as_of,
        )
        changed = service.apply_levels([level], source="webhook")
        return f"stock {event.sku} = {event.on_hand}" + ("" if changed else " (no change)")
    if event.kind == "order":
        if not event.order_id:
            return "ignored: an order event needs order_id"
        order = service.platform.fetch_order(service.store, event.order_id)
        # The platform has taken this order already: record it whole, even past our limits
        # (a line beyond the threshold is noted on the line, and the item switches off).
        result = service.place_order(order, enforce=False)
        verdict = "accepted" if result.accepted else "refused: " + "; ".join(result.errors)
        return f"order {result.order_id} {'already placed' if result.duplicate else verdict}"
    if event.kind == "product" and event.tracking_enabled:
        skus = _assigned_skus(service, event)
        if skus:
            service.unassign(skus, "keep")
        return f"tracking enabled on the platform: unassigned {', '.join(skus) or 'nothing'}"
    return "ignored"


def _assigned_skus(service: StoreService, event: WebhookEvent) -> list[str]:
    if not (event.product_id or event.sku):
        return []
    with service.db.read() as conn:
        if event.product_id:
            found = records.load_items(
                conn, service.name, product_ids=[event.product_id], assigned=True
            )
        else:
            found = records.load_items(conn, service.name, skus=[event.sku or ""], assigned=True)
    return sorted(found)
