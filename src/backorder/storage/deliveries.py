"""Webhook deliveries as received: stored once per delivery id, then leased to workers.

The rows are a work queue (:mod:`backorder.storage.work_queue`); this module holds the
statements of intake: insert-if-new, and the pending list for ``status``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backorder.storage.schema import webhook_deliveries


def insert_new(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the rows whose ``(store, delivery_id)`` is new; returns how many were.

    Counted from ``RETURNING``, not ``rowcount`` (which drivers and SQLAlchemy versions
    report differently for ``ON CONFLICT DO NOTHING``).
    """
    insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    new = 0
    for row in rows:
        stmt = insert(webhook_deliveries).values(**row).on_conflict_do_nothing()
        new += conn.execute(stmt.returning(webhook_deliveries.c.id)).first() is not None
    return new


def in_order() -> sa.ColumnElement[bool]:
    """A claim condition: an ``order_change`` waits while the order's placement (stored
    before or after it: platforms deliver in parallel) or an earlier change of the same
    order is stored but not applied yet.

    Several workers (threads, processes) apply one store's deliveries at once, each its
    own claimed rows; without this a cancel received right after its order could be
    applied first, find no order and be closed as refused (lost). Deliveries of other
    kinds do not wait: stock figures carry their own ``as_of``.
    """
    earlier = webhook_deliveries.alias("earlier")  # the other delivery, earlier or not
    order_id = webhook_deliveries.c.payload["order_id"].as_string()
    waits_for = (
        sa.select(earlier.c.id)
        .where(
            earlier.c.store == webhook_deliveries.c.store,
            earlier.c.done_at.is_(None),
            sa.or_(
                earlier.c.kind == "order",  # its placement, stored before or after it
                sa.and_(earlier.c.kind == "order_change", earlier.c.id < webhook_deliveries.c.id),
            ),
            earlier.c.payload["order_id"].as_string() == order_id,
        )
        .exists()
    )
    return sa.or_(webhook_deliveries.c.kind != "order_change", ~waits_for)


def pending(conn: sa.Connection, store: str) -> list[dict[str, Any]]:
    """Deliveries of a store not yet applied, oldest first."""
    query = (
        sa.select(webhook_deliveries)
        .where(webhook_deliveries.c.store == store, webhook_deliveries.c.done_at.is_(None))
        .order_by(webhook_deliveries.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def row(store: str, delivery_id: str, kind: str, payload: Any, now: dt.datetime) -> dict:
    return {
        "store": store,
        "delivery_id": delivery_id,
        "kind": kind,
        "payload": payload,
        "received_at": now,
        "available_at": now,
    }
