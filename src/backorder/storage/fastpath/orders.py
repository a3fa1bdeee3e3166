"""The order paths on the driver cursor: one order, order batches, and the item reads,
item writes, ledger rows and outbox rows they share.

The per-operation statements of record (:mod:`backorder.storage.records`) build a fresh
statement for every call, which SQLAlchemy must coerce and hash before it can reuse the
compiled SQL; on an order that is most of the time. Here every statement's text is built
once per dialect and cached, values are bound through the columns' own processors
(:mod:`.driver`), and a batch writes its rows with one ``executemany`` per table. The
rows, tables and indexes are exactly those the statements of record write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from backorder.models import (
    BackorderState,
    DisableReason,
    DomainEvent,
    EventType,
    ItemState,
    OrderResult,
    trusted,
)
from backorder.storage import item_search
from backorder.storage.fastpath import driver
from backorder.storage.records import Loaded, VersionConflict
from backorder.storage.schema import (
    EVENT_COLUMNS,
    ITEM_COLUMNS,
    ITEM_STATE_COLUMNS,
    LINE_COLUMNS,
    MOVEMENT_COLUMNS,
    ORDER_COLUMNS,
)

# ------------------------------------------------------------------------------ items
_STATES = {s.value: s for s in BackorderState}
_REASONS = {r.value: r for r in DisableReason}


def item_reader(dialect: sa.Dialect) -> Callable[[Sequence[Any]], tuple[int, int, ItemState]]:
    """Row (columns :data:`ITEM_COLUMNS`) -> ``(row id, version, ItemState)``.

    The row comes from our own table, written from validated models; the columns' result
    processors give exactly what SQLAlchemy would (booleans, datetimes, JSON), so the
    model is constructed without validating it again.
    """
    return _item_reader(dialect)


_BOOLS = ("assigned", "tracked", "purchasing_disabled")


@lru_cache(maxsize=4096)
def _item_reader(dialect: sa.Dialect):
    fields = ITEM_STATE_COLUMNS
    date_proc = driver.processor(dialect, "items", "back_in_stock_date", result=True)
    json_proc = driver.processor(dialect, "items", "overrides", result=True)
    # positions in the row (id and version come first)
    i_date, i_state, i_reason, i_json = (
        fields.index(name) + 2
        for name in ("back_in_stock_date", "state", "disabled_reason", "overrides")
    )
    bools = [(fields.index(name) + 2, name) for name in _BOOLS]

    def read(row: Sequence[Any]) -> tuple[int, int, ItemState]:
        # Only the columns that need it are converted: most dates are NULL and most
        # overrides empty, and this runs for every item of every order.
        values = dict(zip(fields, row[2:], strict=True))
        date = row[i_date]
        if date is not None:
            date = date_proc(date)
            if date.tzinfo is None:
                date = date.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC
            values["back_in_stock_date"] = date
        values["state"] = _STATES[row[i_state]]
        reason = row[i_reason]
        if reason is not None:
            values["disabled_reason"] = _REASONS[reason]
        overrides = row[i_json]
        values["overrides"] = {} if overrides in ("{}", {}) else json_proc(overrides)
        for i, name in bools:
            values[name] = bool(row[i])
        return row[0], row[1], trusted(ItemState, values)  # written from validated models

    return read


@lru_cache(maxsize=4096)
def items_by_sku_sql(dialect: sa.Dialect, n: int, lock: bool = False) -> str:
    m = driver.mark(dialect)
    sql = (
        f"SELECT {', '.join(ITEM_COLUMNS)} FROM items WHERE store = {m} "
        f"AND sku IN ({', '.join([m] * n)}) ORDER BY sku"
    )
    return sql + (" FOR UPDATE" if lock else "")


@lru_cache(maxsize=4096)
def update_item_sql(dialect: sa.Dialect, columns: tuple[str, ...]) -> str:
    """The conditional item write: ``SET <columns>, version, updated_at WHERE id AND version``."""
    m = driver.mark(dialect)
    sets = ", ".join(f"{c} = {m}" for c in (*columns, "version", "updated_at"))
    return f"UPDATE items SET {sets} WHERE items.id = {m} AND items.version = {m}"


def changed_fields(old: ItemState, new: ItemState) -> dict[str, Any]:
    """The fields of ``new`` that differ from ``old`` (as ``records.write_item`` compares)."""
    before = old.__dict__
    return {name: value for name, value in new.__dict__.items() if value != before[name]}


def update_item_params(
    dialect: sa.Dialect, changed: dict[str, Any], row_id: int, version: int, at: dt.datetime
) -> tuple[tuple[str, ...], tuple]:
    """``(columns, parameters)`` of one conditional write (see :func:`update_item_sql`)."""
    columns = tuple(sorted(changed))
    values = [changed[c] for c in columns]
    for i, proc in driver.bind_converters(dialect, "items", columns):
        values[i] = proc(values[i])
    stamp = _stamp(dialect)(at)
    return columns, (*values, version + 1, stamp, row_id, version)


@lru_cache(maxsize=16)
def _stamp(dialect: sa.Dialect) -> driver.Processor:
    return driver.processor(dialect, "items", "updated_at")


def load_items(
    conn: sa.Connection, store: str, skus: Iterable[str], *, lock: bool = False
) -> dict[str, Loaded]:
    """Items of a store by SKU, like ``records.load_items(conn, store, skus=...)``.

    ``lock``: on PostgreSQL, take the rows' write locks now (``FOR UPDATE``), in SKU order
    (PostgreSQL locks the rows after sorting them), so two transactions writing
    overlapping SKUs queue instead of deadlocking. SQLite's write lock is the whole
    database and is held from ``BEGIN IMMEDIATE``: nothing to take.
    """
    skus = list(skus)
    if not skus:
        return {}
    dialect = conn.dialect
    read = item_reader(dialect)
    cur = driver.cursor(conn)
    lock = lock and dialect.name == "postgresql"
    driver.run(conn, cur, items_by_sku_sql(dialect, len(skus), lock), (store, *skus))
    out = {}
    for row in cur.fetchall():
        row_id, version, item = read(row)
        out[item.sku] = Loaded(row_id, version, item)
    cur.close()
    return out


def write_item(conn: sa.Connection, loaded: Loaded, new: ItemState, at: dt.datetime) -> bool:
    """:func:`records.write_item` (conditional on the version read) as one raw statement;
    False when ``new`` is the item as read (nothing written)."""
    changed = changed_fields(loaded.item, new)
    if not changed:
        return False
    dialect = conn.dialect
    columns, params = update_item_params(dialect, changed, loaded.row_id, loaded.version, at)
    cur = driver.cursor(conn)
    driver.run(conn, cur, update_item_sql(dialect, columns), params)
    count = cur.rowcount
    cur.close()
    if count != 1:
        raise VersionConflict(new.sku)
    return True


# -------------------------------------------------------------------------- one order
@lru_cache(maxsize=4096)
def _order_exists_sql(dialect: sa.Dialect) -> str:
    m = driver.mark(dialect)
    return f"SELECT id FROM orders WHERE store = {m} AND order_id = {m}"


def order_exists(conn: sa.Connection, store: str, order_id: str) -> bool:
    cur = driver.cursor(conn)
    driver.run(conn, cur, _order_exists_sql(conn.dialect), (store, order_id))
    found = cur.fetchone() is not None
    cur.close()
    return found


def line_rows(result: OrderResult, names: dict[str, str], *order_pk: int) -> list[tuple]:
    """The rows (:data:`LINE_COLUMNS`) of an order's lines; without ``order_pk`` they lack
    their first column (PostgreSQL's one-statement insert fills it in)."""
    return [
        (
            *order_pk,
            line.line_no,
            line.sku,
            names.get(line.sku, ""),
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
    """The order and its lines' decisions (the snapshot ``records.load_order`` reads back)."""
    dialect = conn.dialect
    cur = driver.cursor(conn)
    row = (store, result.order_id, placed_at, customer_email, result.accepted, result.errors)
    driver.run(
        conn,
        cur,
        driver.insert_sql(dialect, "orders", ORDER_COLUMNS) + " RETURNING id",
        driver.bind_rows(dialect, "orders", ORDER_COLUMNS, [row])[0],
    )
    order_pk = cur.fetchone()[0]
    cur.close()
    driver.insert(conn, "order_lines", LINE_COLUMNS, line_rows(result, names, order_pk))


def record_movements(conn: sa.Connection, rows: Sequence[tuple]) -> None:
    """Ledger rows (:data:`MOVEMENT_COLUMNS`) in one ``executemany``."""
    driver.insert(conn, "movements", MOVEMENT_COLUMNS, rows)


# -------------------------------------------------------------------- order batches
CHUNK = 5_000
"""Values per ``IN (...)`` list (far under SQLite's and PostgreSQL's parameter limits)."""


def existing_orders(conn: sa.Connection, store: str, order_ids: Sequence[str]) -> set[str]:
    ids, out = list(dict.fromkeys(order_ids)), set()
    m = driver.mark(conn.dialect)
    cur = driver.cursor(conn)
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        driver.run(
            conn,
            cur,
            f"SELECT order_id FROM orders WHERE store = {m} "
            f"AND order_id IN ({', '.join([m] * len(chunk))})",
            (store, *chunk),
        )
        out |= {row[0] for row in cur.fetchall()}
    cur.close()
    return out


def load_many(
    conn: sa.Connection, store: str, skus: Iterable[str], *, lock: bool = False
) -> dict[str, Loaded]:
    """:func:`load_items` for any number of SKUs (in chunks), still keyed in SKU order;
    with ``lock`` the chunks are locked in SKU order too."""
    wanted, out = sorted(set(skus)), dict[str, Loaded]()
    for i in range(0, len(wanted), CHUNK):
        out |= load_items(conn, store, wanted[i : i + CHUNK], lock=lock)
    return out


ORDERS_PER_INSERT = 1_000

SEARCH_BULK_LINES = 1_000
"""From this many lines a batch writes the search index of its lines set-based
(:class:`~backorder.storage.item_search.BulkIndex`) instead of through the per-row
trigger; a smaller one is not worth the trigger's drop and re-creation."""


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
    cur = driver.cursor(conn)
    lines: list[tuple] = []
    for i in range(0, len(placed), ORDERS_PER_INSERT):
        chunk = placed[i : i + ORDERS_PER_INSERT]
        rows = driver.bind_rows(
            dialect,
            "orders",
            ORDER_COLUMNS,
            [(store, r.order_id, at, email, r.accepted, r.errors) for r, at, email, _ in chunk],
        )
        driver.run(
            conn,
            cur,
            driver.insert_sql(dialect, "orders", ORDER_COLUMNS, len(rows))
            + " RETURNING id, order_id",
            [value for row in rows for value in row],
        )
        pks = dict((order_id, pk) for pk, order_id in cur.fetchall())
        for result, _, _, names in chunk:
            lines += line_rows(result, names, pks[result.order_id])
    cur.close()
    if len(lines) < SEARCH_BULK_LINES:
        driver.insert(conn, "order_lines", LINE_COLUMNS, lines)
        return
    with item_search.bulk(conn, "order_lines"):
        driver.insert(conn, "order_lines", LINE_COLUMNS, lines)


def write_items(
    conn: sa.Connection, writes: Sequence[tuple[Loaded, ItemState, dt.datetime]]
) -> None:
    """Conditional writes of many items, one ``executemany`` per set of changed columns,
    each in SKU order (the order every writer takes row locks in)."""
    dialect = conn.dialect
    groups: dict[tuple[str, ...], list[tuple]] = {}
    for loaded, new, at in sorted(writes, key=lambda w: w[1].sku):
        changed = changed_fields(loaded.item, new)
        if changed:
            columns, params = update_item_params(
                dialect, changed, loaded.row_id, loaded.version, at
            )
            groups.setdefault(columns, []).append(params)
    cur = driver.cursor(conn)
    for columns, rows in groups.items():
        driver.run(conn, cur, update_item_sql(dialect, columns), rows, many=True)
        if dialect.supports_sane_multi_rowcount and cur.rowcount != len(rows):
            raise VersionConflict(f"{len(rows)} items")
    cur.close()


# ----------------------------------------------------------------------------- events
_VALUES = {member: member.value for member in (*EventType, *DisableReason)}


def event_rows(store: str, domain_events: Sequence[DomainEvent]) -> list[tuple]:
    """The outbox rows of some events, as ``records.record_events`` writes them."""
    value = _VALUES.__getitem__
    return [
        (store, value(e.type), e.sku, e.reason and value(e.reason), e.data, e.at)
        for e in domain_events
    ]


def record_events(conn: sa.Connection, store: str, domain_events: Sequence[DomainEvent]) -> None:
    """:func:`backorder.storage.records.record_events` in one raw ``executemany``."""
    if domain_events:
        driver.insert(conn, "events", EVENT_COLUMNS, event_rows(store, domain_events))
