"""The tick's back-in-stock receipt as set-based statements, whatever the number of items.

:func:`receive_due` is the receipt as ``INSERT … SELECT`` and ``UPDATE … WHERE`` over
every due item at once; it gives exactly the result of
:func:`backorder.rules.receive_incoming` plus :func:`backorder.rules.settle` applied
item by item (tested against that path on random data).
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from backorder.models import (
    BackorderState,
    DisableReason,
    DomainEvent,
    EventType,
    StoreSettings,
    trusted,
)
from backorder.storage.schema import EVENT_COLUMNS, MOVEMENT_COLUMNS, events, items, movements

_AUTOMATIC = [
    DisableReason.THRESHOLD_USED_UP.value,
    DisableReason.BACK_IN_STOCK_DATE.value,
    DisableReason.STOCK_RECOVERED.value,
]


def iso_utc(conn: sa.Connection, column: sa.ColumnElement) -> sa.ColumnElement:
    """SQL for ``value.astimezone(UTC).isoformat()`` of a stored datetime (the receipt key)."""
    if conn.dialect.name == "sqlite":
        # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC wall time); isoformat drops a zero fraction
        fraction = sa.func.substr(column, 20, 7)
        return (
            sa.func.substr(column, 1, 10)
            + "T"
            + sa.func.substr(column, 12, 8)
            + sa.case((fraction.in_([".000000", ""]), ""), else_=fraction)
            + "+00:00"
        )
    utc = sa.func.timezone("UTC", column)
    micro = sa.cast(sa.func.extract("microseconds", column), sa.Integer) % 1_000_000
    return (
        sa.func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
        + sa.case((micro == 0, ""), else_=sa.func.to_char(utc, ".US"))
        + "+00:00"
    )


def _picked(conn: sa.Connection, ids: list[int]) -> sa.ColumnElement:
    """``items.id`` among ``ids`` (any number) as one bound parameter."""
    if conn.dialect.name == "sqlite":
        each = sa.func.json_each(sa.bindparam("ids", json.dumps(ids))).table_valued("value")
        return items.c.id.in_(sa.select(each.c.value))
    return items.c.id == sa.any_(sa.bindparam("ids", ids, type_=ARRAY(sa.Integer)))


def receive_due(
    conn: sa.Connection,
    store: str,
    settings: StoreSettings,
    now: dt.datetime,
    *,
    pending: bool = True,
) -> tuple[list[str], list[DomainEvent]]:
    """Receive the incoming stock of every assigned item whose back-in-stock date has come.

    Four statements whatever the number of items: the due items whose receipt key
    (``receipt:{sku}:{date}``) is not yet in the ledger are picked (an item already booked
    is left alone, as on the per-item path); then, for the picked rows only, the ledger rows
    and the ``backorder_disabled`` events of the items not already disabled
    (``INSERT … SELECT``), and the items (``UPDATE … WHERE``: on hand += incoming, incoming
    and date cleared, backorder disabled for ``back_in_stock_date`` or re-armed when stock
    is back above the switch condition, version + 1). The picked rows cannot change in
    between: SQLite's ``BEGIN IMMEDIATE`` holds the write lock, PostgreSQL's pick locks
    them ``FOR UPDATE``. Returns ``(SKUs received, events)``: the events are already
    stored (rows as ``fastpath.record_events`` writes them), the caller must not record them.
    ``pending=False`` (no notifier wants them) stores them as dispatched already.
    """
    iso = iso_utc(conn, items.c.back_in_stock_date)
    key = sa.literal("receipt:") + items.c.sku + ":" + iso
    booked = (
        sa.select(movements.c.id)
        .where(movements.c.store == store, movements.c.idempotency_key == key)
        .exists()
    )
    due = sa.and_(
        items.c.store == store,
        items.c.assigned == sa.true(),
        items.c.back_in_stock_date <= now,
    )
    pick = (
        sa.select(items.c.id, items.c.sku, items.c.incoming_qty, items.c.state)
        .where(due, ~booked)
        .order_by(items.c.sku)
    )
    if conn.dialect.name != "sqlite":
        pick = pick.with_for_update()  # SQLite's BEGIN IMMEDIATE already holds the write lock
    # plain columns (no result processing): the driver's own tuples, not Row objects
    picked = conn.execute(pick).cursor.fetchall()
    if not picked:
        return [], []
    chosen = _picked(conn, [row_id for row_id, _, _, _ in picked])
    conn.execute(
        movements.insert().from_select(
            list(MOVEMENT_COLUMNS),
            sa.select(
                items.c.store,
                items.c.sku,
                items.c.incoming_qty,
                items.c.on_hand + items.c.incoming_qty,
                sa.literal("receipt"),
                sa.literal("back-in-stock date ") + iso,
                key,
                sa.literal(now, items.c.updated_at.type),
            )
            .where(chosen)
            .order_by(items.c.sku),
        )
    )
    disabled = BackorderState.DISABLED.value
    # json.dumps' own text for {"received": n}; PostgreSQL's column wants it cast to JSON
    received = sa.literal('{"received": ') + sa.cast(items.c.incoming_qty, sa.String) + "}"
    if conn.dialect.name != "sqlite":
        received = sa.cast(received, events.c.data.type)
    stamp = sa.literal(now, events.c.at.type)
    done = () if pending else (stamp,)  # nobody waits for them: stored as dispatched
    conn.execute(
        events.insert().from_select(
            [*EVENT_COLUMNS, *(("dispatched_at",) if done else ())],
            sa.select(
                items.c.store,
                sa.literal(EventType.BACKORDER_DISABLED.value),
                items.c.sku,
                sa.literal(DisableReason.BACK_IN_STOCK_DATE.value),
                received,
                stamp,
                *done,
            )
            .where(chosen, items.c.state != disabled)
            .order_by(items.c.sku),
        )
    )
    reason = sa.case(
        (items.c.state == BackorderState.DISABLED.value, items.c.disabled_reason),
        else_=DisableReason.BACK_IN_STOCK_DATE.value,
    )
    default_mode = settings.defaults.mode.value
    mode = sa.case(  # most items override nothing: no JSON to parse for them
        (sa.cast(items.c.overrides, sa.String) == "{}", default_mode),
        else_=sa.func.coalesce(items.c.overrides["mode"].as_string(), default_mode),
    )
    rearm = sa.and_(
        items.c.tracked == sa.true(),
        mode != "off",
        items.c.on_hand + items.c.incoming_qty > settings.switch_condition,
        reason.in_(_AUTOMATIC),
    )
    conn.execute(
        items.update()
        .where(chosen)
        .values(
            on_hand=items.c.on_hand + items.c.incoming_qty,
            incoming_qty=0,
            back_in_stock_date=None,
            state=sa.case((rearm, BackorderState.IDLE.value), else_=BackorderState.DISABLED.value),
            disabled_reason=sa.case((rearm, None), else_=reason),
            version=items.c.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    kind, why = EventType.BACKORDER_DISABLED, DisableReason.BACK_IN_STOCK_DATE
    return [sku for _, sku, _, _ in picked], [
        trusted(
            DomainEvent,
            {"type": kind, "sku": sku, "at": now, "reason": why, "data": {"received": n}},
        )
        for _, sku, n, state in picked
        if state != disabled
    ]
