"""Domain events to notifiers: recorded with the change, each notifier told once.

A change's events are written in its own transaction. Those that no notifier subscribes
to (``backorder_notify_subscriptions``; a store without recipients, say) are written as
already dispatched: nothing waits for them. After commit, and on every worker pass,
:meth:`Notifications.dispatch` claims pending events with a lease and hands each to every
subscribed notifier that has not taken it yet; a notifier that fails is retried later
for that event alone, with backoff, and the failure is logged.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from backorder.models import DomainEvent, EventType
from backorder.storage import event_log, fastpath
from backorder.storage.fastpath import driver
from backorder.storage.schema import EVENT_COLUMNS

if TYPE_CHECKING:
    from backorder.engine import StoreService

log = logging.getLogger("backorder.notifications")

BATCH = 500
"""Events one dispatch claims at a time."""


class Notifications:
    def __init__(self, service: StoreService) -> None:
        self.service = service
        self._subscribers: dict[str, Collection[str] | None] | None = None

    def subscribers(self) -> dict[str, Collection[str] | None]:
        """Notifier -> the event types it wants for this store (``None``: all); asked once."""
        if self._subscribers is None:
            pm = self.service.pm
            self._subscribers = {} if pm is None else pm.subscriptions(self.service.store)
        return self._subscribers

    def wanted_by(self, event_type: EventType) -> list[str]:
        return [
            name
            for name, types in self.subscribers().items()
            if types is None or event_type.value in types
        ]

    def wanted_types(self) -> set[str] | None:
        """Event types (values) some notifier of this store wants; ``None``: every type."""
        subscribed = self.subscribers().values()
        if any(types is None for types in subscribed):
            return None
        return {t for types in subscribed if types is not None for t in types}

    def record(self, conn: sa.Connection, events: Sequence[DomainEvent]) -> int:
        """Write a change's events inside its transaction; unwanted ones as dispatched.

        Returns how many were stored pending (0: nothing for a dispatcher to do).
        """
        if not events:
            return 0
        wanted = {t for t in {e.type for e in events} if self.wanted_by(t)}
        store = self.service.name
        fastpath.record_events(conn, store, [e for e in events if e.type in wanted])
        quiet = [e for e in events if e.type not in wanted]
        if quiet:
            rows = [
                (*row, event.at)
                for row, event in zip(fastpath.event_rows(store, quiet), quiet, strict=True)
            ]
            driver.insert(conn, "events", (*EVENT_COLUMNS, "dispatched_at"), rows)
        return len(events) - len(quiet)

    def dispatch(self, *, limit: int = BATCH) -> int:
        """Hand due pending events to their notifiers; returns how many are now done."""
        svc = self.service
        if svc.pm is None:
            return 0
        token = uuid.uuid4().hex
        with svc.db.transaction() as conn:
            claimed = event_log.claim(conn, svc.name, token, now=svc.clock(), limit=limit)
            done_before = event_log.delivered(conn, [event_id for event_id, _, _ in claimed])
        if not claimed:
            return 0
        outcomes = []
        for event_id, attempts, event in claimed:
            took, failed = [], False
            for notifier in self.wanted_by(event.type):
                if (event_id, notifier) in done_before:
                    continue
                try:
                    svc.pm.notify(notifier, svc.store, event)
                except Exception as exc:  # retried later; the others keep what they took
                    log.warning(
                        "store %s: notifier %s failed on event %s (%s): %s",
                        svc.name, notifier, event_id, event.type.value, exc,
                    )
                    failed = True
                else:
                    took.append(notifier)
            outcomes.append((event_id, attempts, took, failed))
        # one transaction for the whole batch: a crash before it leaves the events claimed,
        # and their lease ends; the notifiers that took one are then called again for it
        with svc.db.transaction() as conn:
            now = svc.clock()
            for event_id, attempts, took, failed in outcomes:
                event_log.finish(
                    conn, event_id, token, notifiers=took, now=now,
                    attempts=attempts, failed=failed,
                )
        return sum(not failed for _, _, _, failed in outcomes)

    def pending(self) -> int:
        with self.service.db.read() as conn:
            return event_log.pending_count(conn, self.service.name)
