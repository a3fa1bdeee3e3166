"""The events table as a queue for notifiers: leased claims and per-notifier deliveries.

An event is pending while ``dispatched_at`` is NULL. A dispatcher claims due events with
a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
serializes claimers), so threads and processes sharing a database never hand the same
event to a notifier at once. ``event_deliveries`` records each notifier that took an
event: a retry calls only the notifiers that have not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from backorder.models import DomainEvent
from backorder.storage.schema import event_deliveries, events

LEASE = dt.timedelta(minutes=2)
"""How long a claimed event stays with its dispatcher (one that dies loses it then)."""


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _event(row: sa.Row) -> DomainEvent:
    return DomainEvent(
        type=row.type, sku=row.sku, reason=row.reason, data=row.data, at=_as_utc(row.at)
    )


def claim(
    conn: sa.Connection, store: str, token: str, *, now: dt.datetime, limit: int
) -> list[tuple[int, int, DomainEvent]]:
    """Take due pending events for one dispatcher: ``(id, attempts before, event)``."""
    query = (
        sa.select(events)
        .where(
            events.c.store == store,
            events.c.dispatched_at.is_(None),
            sa.or_(events.c.available_at.is_(None), events.c.available_at <= now),
        )
        .order_by(events.c.id)
        .limit(limit)
    )
    if conn.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    if rows:
        conn.execute(
            events.update()
            .where(events.c.id.in_([row.id for row in rows]))
            .values(available_at=now + LEASE, attempts=events.c.attempts + 1, claimed_by=token)
        )
    return [(row.id, row.attempts, _event(row)) for row in rows]


def delivered(conn: sa.Connection, event_ids: Sequence[int]) -> set[tuple[int, str]]:
    """``(event id, notifier)`` pairs already delivered among these events."""
    if not event_ids:
        return set()
    query = sa.select(event_deliveries.c.event_id, event_deliveries.c.notifier).where(
        event_deliveries.c.event_id.in_(list(event_ids))
    )
    return {(row.event_id, row.notifier) for row in conn.execute(query)}


def finish(
    conn: sa.Connection,
    event_id: int,
    token: str,
    *,
    notifiers: Iterable[str],
    now: dt.datetime,
    attempts: int,
    failed: bool,
) -> None:
    """Record the notifiers that took the event; done, or back after a growing backoff
    (10 s, 20 s, 40 s... up to an hour) when one failed."""
    rows = [{"event_id": event_id, "notifier": n, "delivered_at": now} for n in notifiers]
    if rows:
        conn.execute(event_deliveries.insert(), rows)
    if failed:
        delay = dt.timedelta(seconds=min(10 * 2**attempts, 3600))
        values: dict = {"available_at": now + delay}
    else:
        values = {"dispatched_at": now}
    conn.execute(
        events.update()
        .where(events.c.id == event_id, events.c.claimed_by == token)
        .values(claimed_by=None, **values)
    )


def after(conn: sa.Connection, store: str, last_id: int) -> list[tuple[int, DomainEvent]]:
    """Every event of the store recorded after event ``last_id``, oldest first."""
    query = (
        sa.select(events)
        .where(events.c.store == store, events.c.id > last_id)
        .order_by(events.c.id)
    )
    return [(row.id, _event(row)) for row in conn.execute(query)]


def pending_count(conn: sa.Connection, store: str) -> int:
    query = sa.select(sa.func.count()).where(
        events.c.store == store, events.c.dispatched_at.is_(None)
    )
    return int(conn.execute(query).scalar_one())
