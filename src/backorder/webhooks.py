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
- ``order_change``: the platform cancelled, shipped or refunded units of an order
  (``change``: ``cancel`` / ``ship`` / ``refund``; ``lines`` per SKU, none: the whole
  order): applied with ``StoreService.cancel`` / ``ship`` / ``return_items`` under the
  delivery id as the key. A refund returns units already shipped (restocked when the
  platform says so) and cancels the rest (refunded before they shipped);
- ``ignored``: recorded, nothing to do.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from backorder.errors import (
    Conflict,
    InvalidInput,
    MalformedDelivery,
    NotFound,
    Refused,
    WebhookRejected,
)
from backorder.models import MAX_QTY, Qty, Sku, StockLevel, UTCDateTime
from backorder.storage import deliveries, keys, records, work_queue
from backorder.storage.schema import webhook_deliveries

if TYPE_CHECKING:
    from backorder.engine import StoreService

__all__ = [
    "MAX_DEPTH",
    "MalformedDelivery",
    "WebhookEvent",
    "WebhookRejected",
    "apply_deliveries",
    "apply_event",
    "check_qty",
    "load_json",
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

    kind: Literal["stock", "order", "product", "order_change", "ignored"]
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
    change: Literal["cancel", "ship", "refund"] | None = None
    """An ``order_change``: what the platform did to the order."""
    lines: dict[str, int] | None = None
    """An ``order_change``'s units per SKU; None: the whole order (all it has left)."""
    restock: bool = False
    """A refund's units go back on hand (Magento's ``back_to_stock``)."""
    totals: bool = False
    """A ``ship`` whose ``lines`` are the platform's units shipped so far per SKU (as
    BigCommerce's ``quantity_shipped``): what we have not shipped of them ships now."""


# ------------------------------------------------------------------------ body parsing
MAX_DEPTH = 32
"""How deeply a delivery's JSON may nest; every platform's payload needs fewer than 6."""


def load_json(body: bytes) -> Any:
    """A delivery body parsed as JSON, for a plugin's ``parse_webhook``.

    Unlike ``json.loads`` it refuses what a platform never sends and the core cannot
    store: ``NaN``, ``Infinity``, numbers that overflow a float (``1e400``) and nesting
    deeper than :data:`MAX_DEPTH` (``json.loads`` would raise ``RecursionError`` at about
    1,000 levels).

    :raises MalformedDelivery: the body is not such JSON; the message says why.
    """
    try:
        data = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float)
    except MalformedDelivery:
        raise
    except RecursionError:
        raise MalformedDelivery(f"body: JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an over-long integer
        raise MalformedDelivery(f"body: not JSON ({exc})") from None
    if _depth(data) > MAX_DEPTH:
        raise MalformedDelivery(f"body: JSON nested deeper than {MAX_DEPTH} levels")
    return data


def _no_constant(name: str) -> Any:
    raise MalformedDelivery(f"body: {name} is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedDelivery(f"body: the number {text[:40]} is out of range")
    return value


def _depth(data: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                children = value.values() if isinstance(value, dict) else value
                stack.extend((child, depth + 1) for child in children)
    return deepest


def check_qty(value: Any, field: str) -> int:
    """``value`` as a whole quantity within ``±MAX_QTY`` (the CLI's and the core's bound).

    Checked when a delivery is parsed, so a figure the ledger cannot hold is refused with a
    ``400`` instead of being accepted and then failing on every retry.

    :raises MalformedDelivery: not a whole number, not finite, or out of range; the message
        names ``field``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedDelivery(f"body field {field}: a number is required, not {value!r:.40}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MalformedDelivery(f"body field {field}: {value} is not a number of units")
        if not value.is_integer():
            raise MalformedDelivery(f"body field {field}: {value} is not a whole number")
    if not -MAX_QTY <= value <= MAX_QTY:
        raise MalformedDelivery(
            f"body field {field}: {value:.0f} is out of range (at most {MAX_QTY:,} either way)"
        )
    return int(value)


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
        rows.append(deliveries.row(service.name, keys.bounded(key), event.kind, payload, now))
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
    """Apply due deliveries of one store, at most ``limit``; returns ``(applied, failed)``.
    Safe from many workers.

    An order change waits for earlier deliveries about its order
    (:func:`backorder.storage.deliveries.in_order`): after a batch that applied orders or
    order changes, what waited on them is claimed in the same call (a cron ``tick``
    applies an order and its cancel in one run).
    """
    token = uuid.uuid4().hex
    applied = failed = taken = 0
    while taken < limit:
        with service.db.transaction() as conn:
            rows = work_queue.claim(
                conn, webhook_deliveries, service.name, token, now=now or service.clock(),
                limit=limit - taken, ready=deliveries.in_order(),
            )
        taken += len(rows)
        for row in rows:
            if _apply_row(service, row, token):
                applied += 1
            else:
                failed += 1
        if not any(row.kind in ("order", "order_change") for row in rows):
            break  # nothing can be waiting on this batch
    return applied, failed


def _apply_row(service: StoreService, row: Any, token: str) -> bool:
    """Apply one claimed delivery and close it; False when it failed (retried later)."""
    event = WebhookEvent.model_validate(row.payload)
    try:
        outcome = apply_event(service, event)
    except FINAL as exc:  # the rules or the data refuse it: retrying cannot help
        if not _order_may_arrive(event, exc, row):
            _finish(service, row, token, outcome=f"refused: {exc}")
            return True
        log.info("store %s: delivery %s waits for its order: %s", service.name,
                 event.delivery_id, exc)
        _finish(service, row, token, error=exc)
        return False
    except Exception as exc:
        log.warning("store %s: delivery %s failed: %s", service.name, event.delivery_id, exc)
        if row.attempts + 1 >= MAX_ATTEMPTS:
            _finish(service, row, token, outcome=f"gave up: {exc}")
        else:
            _finish(service, row, token, error=exc)
        return False
    else:
        _finish(service, row, token, outcome=outcome)
    return True


def _order_may_arrive(event: WebhookEvent, exc: Exception, row: Any) -> bool:
    """An order change for an order we do not have yet: its order's delivery may still be
    on its way (platforms deliver in parallel and retry a failed delivery later), so it is
    retried with the usual backoff and refused only after :data:`MAX_ATTEMPTS` tries."""
    return (
        isinstance(exc, NotFound)
        and event.kind == "order_change"
        and row.attempts + 1 < MAX_ATTEMPTS
    )


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
    if event.kind == "order_change":
        return _order_change(service, event)
    if event.kind == "product" and event.tracking_enabled:
        skus = _assigned_skus(service, event)
        if skus:
            service.unassign(skus, "keep")
        return f"tracking enabled on the platform: unassigned {', '.join(skus) or 'nothing'}"
    return "ignored"


def _order_change(service: StoreService, event: WebhookEvent) -> str:
    if not event.order_id or event.change is None:
        return "ignored: an order change needs order_id and change"
    order_id, key = event.order_id, event.delivery_id
    if event.change == "cancel":
        change = service.cancel(order_id, event.lines, key=key)
    elif event.change == "ship":
        lines = event.lines
        if event.totals:
            lines = _beyond_shipped(service, order_id, event.lines or {})
            if not lines:
                return f"order {order_id} ship: nothing beyond what is shipped already"
        change = service.ship(order_id, lines, key=key)
    else:
        returned, cancelled = _split_refund(service, order_id, event.lines, f"{key}:return")
        said = []
        if returned:
            change = service.return_items(
                order_id, returned, restock=event.restock, key=f"{key}:return"
            )
            said.append(f"returned {sum(returned.values())}")
        if cancelled:
            service.cancel(order_id, cancelled, key=f"{key}:cancel")
            said.append(f"cancelled {sum(cancelled.values())}")
        return f"order {order_id} refund: {', '.join(said) or 'nothing left to refund'}"
    units = sum(line.changed for line in change.lines)
    again = " (already applied)" if change.duplicate else ""
    return f"order {order_id} {event.change}: {units} unit(s){again}"


def _beyond_shipped(
    service: StoreService, order_id: str, totals: dict[str, int]
) -> dict[str, int]:
    """Per SKU, the platform's shipped total less what we have shipped."""
    from backorder.storage import order_changes

    with service.db.read() as conn:
        stored = order_changes.load(conn, service.name, order_id)
    if stored is None:
        raise NotFound(f"no order {order_id!r} in store {service.name!r}")
    ours: dict[str, int] = {}
    for _, counts in stored.lines.values():
        ours[counts.sku] = ours.get(counts.sku, 0) + counts.shipped
    more = {sku: total - ours.get(sku, 0) for sku, total in totals.items()}
    return {sku: units for sku, units in more.items() if units > 0}


def _split_refund(
    service: StoreService, order_id: str, lines: dict[str, int] | None, return_key: str
) -> tuple[dict[str, int], dict[str, int]]:
    """A refund's units as (returns of shipped units, cancels of units never shipped).

    A retried delivery whose return was booked already splits as it did the first time
    (from the return's stored answer), so its cancel takes the same units."""
    from backorder.rules.lifecycle import left
    from backorder.storage import order_changes

    with service.db.read() as conn:
        stored = order_changes.load(conn, service.name, order_id)
        first = order_changes.applied(conn, service.name, return_key)
    if stored is None:
        raise NotFound(f"no order {order_id!r} in store {service.name!r}")
    shipped: dict[str, int] = {}
    unshipped: dict[str, int] = {}
    for _, counts in stored.lines.values():
        shipped[counts.sku] = shipped.get(counts.sku, 0) + counts.shipped - counts.returned
        unshipped[counts.sku] = unshipped.get(counts.sku, 0) + left(counts).unshipped
    if first is not None:  # this delivery's return is booked: split as it was then
        booked: dict[str, int] = {}
        for line in first["lines"]:
            booked[line["sku"]] = booked.get(line["sku"], 0) + line["changed"]
        booked = {sku: units for sku, units in booked.items() if units}
        if lines is None:
            return booked, {sku: units for sku, units in unshipped.items() if units}
        rest = {sku: qty - booked.get(sku, 0) for sku, qty in lines.items()}
        return booked, {sku: units for sku, units in rest.items() if units > 0}
    wanted = lines if lines is not None else {
        sku: shipped[sku] + unshipped[sku] for sku in shipped
    }
    returned, cancelled = {}, {}
    for sku, qty in wanted.items():
        back = min(qty, shipped.get(sku, 0))
        if back:
            returned[sku] = back
        if qty - back:
            cancelled[sku] = qty - back
    return returned, cancelled


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
