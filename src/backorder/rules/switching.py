"""When backorder switches on and off by itself, and by the merchant's hand.

Each function takes an item and returns the changed item plus the domain events the
change emits. The caller persists both in one transaction.
"""

from __future__ import annotations

import datetime as dt

from backorder.models import (
    BackorderState,
    DisableReason,
    DomainEvent,
    EventType,
    ItemState,
    Mode,
    StoreSettings,
)
from backorder.rules.availability import effective_policy

Transition = tuple[ItemState, list[DomainEvent]]

AUTOMATIC_REASONS = frozenset(
    {
        DisableReason.THRESHOLD_USED_UP,
        DisableReason.BACK_IN_STOCK_DATE,
        DisableReason.STOCK_RECOVERED,
    }
)
"""Reasons an item was switched off by itself; it re-arms when stock recovers."""


def _event(kind: EventType, item: ItemState, at: dt.datetime, **kw) -> DomainEvent:
    return DomainEvent(type=kind, sku=item.sku, at=at, **kw)


def _disabled(item: ItemState, reason: DisableReason, at: dt.datetime) -> Transition:
    new = item.model_copy(update={"state": BackorderState.DISABLED, "disabled_reason": reason})
    return new, [_event(EventType.BACKORDER_DISABLED, item, at, reason=reason)]


def settle(item: ItemState, settings: StoreSettings, at: dt.datetime) -> Transition:
    """Apply the automatic switches that the item's current stock calls for.

    - idle and stock at/below the switch condition -> enabled;
    - enabled and stock back above it -> idle (disabled for "stock recovered");
    - enabled and the threshold used up -> disabled ("threshold used up");
    - disabled automatically and stock back above the condition -> idle again (re-armed).
      A manual disable stays until the merchant enables again.
    """
    policy = effective_policy(settings, item)
    if not (item.assigned and item.tracked) or policy.mode is Mode.OFF:
        if item.state is BackorderState.ENABLED:
            return item.model_copy(update={"state": BackorderState.IDLE}), []
        return item, []
    events: list[DomainEvent] = []
    above = item.on_hand > settings.switch_condition
    if item.state is BackorderState.IDLE and not above:
        item = item.model_copy(update={"state": BackorderState.ENABLED, "disabled_reason": None})
        events.append(_event(EventType.BACKORDER_ENABLED, item, at))
    elif item.state is BackorderState.ENABLED and above:
        item = item.model_copy(update={"state": BackorderState.IDLE})
        events.append(
            _event(EventType.BACKORDER_DISABLED, item, at, reason=DisableReason.STOCK_RECOVERED)
        )
        return item, events
    elif (
        item.state is BackorderState.DISABLED
        and above
        and item.disabled_reason in AUTOMATIC_REASONS
    ):
        return item.model_copy(update={"state": BackorderState.IDLE, "disabled_reason": None}), []
    if (
        item.state is BackorderState.ENABLED
        and policy.threshold is not None
        and item.on_hand + policy.threshold <= 0
    ):
        events.append(
            _event(EventType.THRESHOLD_EXHAUSTED, item, at, data={"threshold": policy.threshold})
        )
        item, disabled = _disabled(item, DisableReason.THRESHOLD_USED_UP, at)
        events += disabled
    return item, events


def enable(item: ItemState, settings: StoreSettings, at: dt.datetime) -> Transition:
    """The merchant switches backorder on (seed 000 §6.2)."""
    if item.state is BackorderState.ENABLED:
        return item, []
    armed = item.model_copy(update={"state": BackorderState.IDLE, "disabled_reason": None})
    if item.on_hand > settings.switch_condition:
        return armed, []
    enabled = armed.model_copy(update={"state": BackorderState.ENABLED})
    item, events = settle(enabled, settings, at)
    return item, [_event(EventType.BACKORDER_ENABLED, enabled, at), *events]


def disable(item: ItemState, at: dt.datetime) -> Transition:
    """The merchant switches backorder off; it stays off until enabled by hand."""
    if item.state is BackorderState.DISABLED and item.disabled_reason is DisableReason.MANUAL:
        return item, []
    return _disabled(item, DisableReason.MANUAL, at)


def receive_incoming(
    item: ItemState, settings: StoreSettings, at: dt.datetime
) -> tuple[int, Transition]:
    """On the back-in-stock date: the incoming qty to book, and backorder switched off.

    Returns ``(units received, transition)``; ``(0, (item, []))`` when nothing is due.
    The caller books the units through the ledger, which makes receiving idempotent.
    """
    due = item.back_in_stock_date
    if due is None or at < due or not item.assigned:
        return 0, (item, [])
    received = item.incoming_qty
    item = item.model_copy(
        update={"on_hand": item.on_hand + received, "incoming_qty": 0, "back_in_stock_date": None}
    )
    events: list[DomainEvent] = []
    if item.state is not BackorderState.DISABLED:
        item, events = _disabled(item, DisableReason.BACK_IN_STOCK_DATE, at)
        events[0].data.update({"received": received})
    item, more = settle(item, settings, at)
    return received, (item, events + more)
