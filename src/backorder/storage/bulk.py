"""Statements for the hot paths: built once, executed with bound parameters, set-based.

The engine's per-operation functions (:mod:`backorder.storage.ledger`) build a fresh
statement for every call (``.values(...)`` with literals), which SQLAlchemy must coerce
and hash before it can reuse the compiled SQL; on an order that is most of the time.
Here every statement is a module-level constant whose values come only from bound
parameters, so it is compiled once and cached. Rows, tables and indexes are exactly
those of the ledger functions.

:func:`receive_due` is the back-in-stock receipt as ``INSERT … SELECT`` and
``UPDATE … WHERE`` over every due item at once; it gives exactly the result of
:func:`backorder.rules.receive_incoming` plus :func:`backorder.rules.settle` applied
item by item (tested against that path on random data).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from backorder.models import (
    BackorderState,
    DisableReason,
    DomainEvent,
    EventType,
    ItemState,
    OrderResult,
    StoreSettings,
    trusted,
)
from backorder.storage import raw
from backorder.storage.ledger import Loaded, VersionConflict
from backorder.storage.schema import events, items, movements

MOVEMENT_COLUMNS = raw.MOVEMENT_COLUMNS
ORDER_COLUMNS = ("store", "order_id", "placed_at", "customer_email", "accepted", "errors")
LINE_COLUMNS = (
    "order_pk",
    "name",
    "line_no",
    "sku",
    "requested",
    "in_stock",
    "backordered",
    "accepted",
    "error",
    "message",
)


@lru_cache(maxsize=4096)
def _order_exists_sql(dialect: sa.Dialect) -> str:
    m = raw.mark(dialect)
    return f"SELECT id FROM orders WHERE store = {m} AND order_id = {m}"


def order_exists(conn: sa.Connection, store: str, order_id: str) -> bool:
    cur = raw.cursor(conn)
    raw.run(conn, cur, _order_exists_sql(conn.dialect), (store, order_id))
    found = cur.fetchone() is not None
    cur.close()
    return found


def load_items(conn: sa.Connection, store: str, skus: Iterable[str]) -> dict[str, Loaded]:
    """Items of a store by SKU, like ``ledger.load_items(conn, store, skus=...)``."""
    skus = list(skus)
    if not skus:
        return {}
    dialect = conn.dialect
    read = raw.item_reader(dialect)
    cur = raw.cursor(conn)
    raw.run(conn, cur, raw.items_by_sku_sql(dialect, len(skus)), (store, *skus))
    out = {}
    for row in cur.fetchall():
        row_id, version, item = read(row)
        out[item.sku] = Loaded(row_id, version, item)
    cur.close()
    return out


def _line_rows(order_pk: int, result: OrderResult, names: dict[str, str]) -> list[tuple]:
    return [
        (
            order_pk,
            names.get(line.sku, ""),
            line.line_no,
            line.sku,
            line.requested,
            line.in_stock,
            line.backordered,
            line.accepted,
            line.error,
            line.message,
        )
        for line in result.lines
    ]


def save_order(
    conn: sa.Connection,
    store: str,
    result: OrderResult,
    *,
    placed_at: dt.datetime,
    customer_email: str | None,
    names: dict[str, str],
) -> None:
    """The order and its lines' decisions (the snapshot ``ledger.load_order`` reads back)."""
    dialect = conn.dialect
    cur = raw.cursor(conn)
    row = (store, result.order_id, placed_at, customer_email, result.accepted, result.errors)
    raw.run(
        conn,
        cur,
        raw.insert_sql(dialect, "orders", ORDER_COLUMNS) + " RETURNING id",
        raw.bind_rows(dialect, "orders", ORDER_COLUMNS, [row])[0],
    )
    order_pk = cur.fetchone()[0]
    cur.close()
    raw.insert(conn, "order_lines", LINE_COLUMNS, _line_rows(order_pk, result, names))


def record_movements(conn: sa.Connection, rows: Sequence[tuple]) -> None:
    """Ledger rows (:data:`MOVEMENT_COLUMNS`) in one ``executemany``."""
    raw.insert(conn, "movements", MOVEMENT_COLUMNS, rows)


def write_item(conn: sa.Connection, loaded: Loaded, new: ItemState, at: dt.datetime) -> bool:
    """:func:`ledger.write_item` (conditional on the version read) as one raw statement;
    False when ``new`` is the item as read (nothing written)."""
    changed = raw.changed_fields(loaded.item, new)
    if not changed:
        return False
    dialect = conn.dialect
    columns, params = raw.update_item_params(dialect, changed, loaded.row_id, loaded.version, at)
    cur = raw.cursor(conn)
    raw.run(conn, cur, raw.update_item_sql(dialect, columns), params)
    count = cur.rowcount
    cur.close()
    if count != 1:
        raise VersionConflict(new.sku)
    return True


# ------------------------------------------------------------------ back-in-stock receipt
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
    conn: sa.Connection, store: str, settings: StoreSettings, now: dt.datetime
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
    stored (rows as ``raw.record_events`` writes them), the caller must not record them.
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
    conn.execute(
        events.insert().from_select(
            list(raw.EVENT_COLUMNS),
            sa.select(
                items.c.store,
                sa.literal(EventType.BACKORDER_DISABLED.value),
                items.c.sku,
                sa.literal(DisableReason.BACK_IN_STOCK_DATE.value),
                received,
                sa.literal(now, events.c.at.type),
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


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while a bulk operation builds objects that all live on (the
    rows it fetched, the events it returns): the collector would walk them again and again
    and free nothing (a fifth of a million-item tick). Collection resumes after, if on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


# -------------------------------------------------------------------- order batches
CHUNK = 5_000
"""Values per ``IN (...)`` list (far under SQLite's and PostgreSQL's parameter limits)."""


def existing_orders(conn: sa.Connection, store: str, order_ids: Sequence[str]) -> set[str]:
    ids, out = list(dict.fromkeys(order_ids)), set()
    m = raw.mark(conn.dialect)
    cur = raw.cursor(conn)
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        raw.run(
            conn,
            cur,
            f"SELECT order_id FROM orders WHERE store = {m} "
            f"AND order_id IN ({', '.join([m] * len(chunk))})",
            (store, *chunk),
        )
        out |= {row[0] for row in cur.fetchall()}
    cur.close()
    return out


def load_many(conn: sa.Connection, store: str, skus: Iterable[str]) -> dict[str, Loaded]:
    """:func:`load_items` for any number of SKUs (in chunks), still keyed in SKU order."""
    wanted, out = sorted(set(skus)), {}
    for i in range(0, len(wanted), CHUNK):
        out |= load_items(conn, store, wanted[i : i + CHUNK])
    return out


ORDERS_PER_INSERT = 1_000


def save_orders(
    conn: sa.Connection,
    store: str,
    placed: Sequence[tuple[OrderResult, dt.datetime, str | None, dict[str, str]]],
) -> None:
    """Many ``(result, placed_at, customer_email, names)``: one multi-row insert per 1,000
    orders (ids returned with their order id), one ``executemany`` for all their lines;
    the rows :func:`save_order` writes."""
    if not placed:
        return
    dialect = conn.dialect
    cur = raw.cursor(conn)
    lines: list[tuple] = []
    for i in range(0, len(placed), ORDERS_PER_INSERT):
        chunk = placed[i : i + ORDERS_PER_INSERT]
        rows = raw.bind_rows(
            dialect,
            "orders",
            ORDER_COLUMNS,
            [(store, r.order_id, at, email, r.accepted, r.errors) for r, at, email, _ in chunk],
        )
        raw.run(
            conn,
            cur,
            raw.insert_sql(dialect, "orders", ORDER_COLUMNS, len(rows)) + " RETURNING id, order_id",
            [value for row in rows for value in row],
        )
        pks = dict((order_id, pk) for pk, order_id in cur.fetchall())
        for result, _, _, names in chunk:
            lines += _line_rows(pks[result.order_id], result, names)
    cur.close()
    raw.insert(conn, "order_lines", LINE_COLUMNS, lines)


def write_items(
    conn: sa.Connection, writes: Sequence[tuple[Loaded, ItemState, dt.datetime]]
) -> None:
    """Conditional writes of many items, one ``executemany`` per set of changed columns."""
    dialect = conn.dialect
    groups: dict[tuple[str, ...], list[tuple]] = {}
    for loaded, new, at in writes:
        changed = raw.changed_fields(loaded.item, new)
        if changed:
            columns, params = raw.update_item_params(
                dialect, changed, loaded.row_id, loaded.version, at
            )
            groups.setdefault(columns, []).append(params)
    cur = raw.cursor(conn)
    for columns, rows in groups.items():
        raw.run(conn, cur, raw.update_item_sql(dialect, columns), rows, many=True)
        if dialect.supports_sane_multi_rowcount and cur.rowcount != len(rows):
            raise VersionConflict(f"{len(rows)} items")
    cur.close()
