"""Leased work rows: tables that workers in several processes take rows from.

The push outbox and the webhook deliveries are both such tables (columns ``store``,
``available_at``, ``attempts``, ``claimed_by``, ``done_at``, ``outcome``). A worker claims
due rows with a lease; a worker that dies loses its rows when the lease runs out; a
failed row comes back after a growing backoff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

LEASE = dt.timedelta(minutes=2)
"""How long a claimed row stays with its worker."""


def claim(
    conn: sa.Connection,
    table: sa.Table,
    store: str,
    token: str,
    *,
    now: dt.datetime,
    limit: int | None = 100,
    ids: Sequence[int] | None = None,
    ready: sa.ColumnElement[bool] | None = None,
) -> list[sa.Row]:
    """Take due rows for one worker (``token``), with a lease.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets concurrent workers pass each other;
    SQLite: the write transaction (``BEGIN IMMEDIATE``) already serializes claimers.
    With ``ids`` (delivery right after the commit that wrote them) only rows no
    worker has touched yet are taken. ``ready``: a further condition a row must meet
    now (a row that must wait for an earlier one is left for a later claim).
    """
    query = sa.select(table).where(table.c.store == store, table.c.done_at.is_(None))
    if ready is not None:
        query = query.where(ready)
    if ids is not None:
        query = query.where(table.c.id.in_(list(ids)), table.c.attempts == 0)
    else:
        query = query.where(table.c.available_at <= now)
    query = query.order_by(table.c.id).limit(limit)
    if conn.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    rows = list(conn.execute(query).all())
    if rows:
        conn.execute(
            table.update()
            .where(table.c.id.in_([row.id for row in rows]))
            .values(available_at=now + LEASE, attempts=table.c.attempts + 1, claimed_by=token)
        )
    return rows


def finish(
    conn: sa.Connection,
    table: sa.Table,
    row: sa.Row,
    token: str,
    *,
    now: dt.datetime,
    error: Exception | None = None,
    outcome: str | None = None,
) -> None:
    """Mark a claimed row done, or failed: retried after 10 s, 20 s, 40 s… up to an hour."""
    if error is None:
        values: dict[str, Any] = {"done_at": now, "outcome": outcome}
    else:
        delay = min(10 * 2 ** max(row.attempts, 0), 3600)
        values = {
            "available_at": now + dt.timedelta(seconds=delay),
            "outcome": f"{type(error).__name__}: {error}"[:2000],
        }
    conn.execute(
        table.update()
        .where(table.c.id == row.id, table.c.claimed_by == token)
        .values(claimed_by=None, **values)
    )
