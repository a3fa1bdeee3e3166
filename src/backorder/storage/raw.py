"""Plain SQL on the transaction's own DBAPI connection, with the columns' own type processors.

SQLAlchemy Core costs some 40 µs per statement in parameter and result processing,
several times what SQLite itself spends on a one-row insert. The hot paths (an order,
a CSV import) therefore issue plain SQL with the driver's placeholders (``?`` for
sqlite3, ``%s`` for psycopg) on the DBAPI connection underneath the caller's
:class:`sqlalchemy.engine.Connection`, so it commits or rolls back with the rest of the
transaction. Values go through the column types' own bind and result processors
(cached per dialect), so rows are stored and read exactly as SQLAlchemy would store
and read them (SQLite: ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC strings, JSON as text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from backorder.models import BackorderState, DisableReason, DomainEvent, EventType, ItemState
from backorder.storage.schema import metadata

Processor = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


@lru_cache(maxsize=4096)
def processors(dialect: sa.Dialect, table: str, columns: tuple[str, ...], *, result=False):
    """The bind (or result) processor of each column, ``None`` where a value passes as is."""
    out = []
    for name in columns:
        col_type = metadata.tables[table].c[name].type.dialect_impl(dialect)
        if result:
            proc = col_type.result_processor(dialect, None)
        else:
            proc = col_type.bind_processor(dialect)
        out.append(proc)
    return tuple(out)


def processor(dialect: sa.Dialect, table: str, column: str, *, result=False) -> Processor:
    return processors(dialect, table, (column,), result=result)[0] or _same


def mark(dialect: sa.Dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def cursor(conn: sa.Connection) -> Any:
    """A DBAPI cursor on the connection's current transaction."""
    return conn.connection.dbapi_connection.cursor()


def run(conn: sa.Connection, cur: Any, sql: str, params: Any, *, many: bool = False) -> Any:
    """``cur.execute`` (or ``executemany``), telling the engine's cursor listeners as
    SQLAlchemy would (``before_cursor_execute`` / ``after_cursor_execute``: tracing,
    logging, the crash tests), with no execution context."""
    dispatch = conn.dispatch
    if dispatch.before_cursor_execute:
        for fn in dispatch.before_cursor_execute:
            sql, params = fn(conn, cur, sql, params, None, many)
    (cur.executemany if many else cur.execute)(sql, params)
    if dispatch.after_cursor_execute:
        dispatch.after_cursor_execute(conn, cur, sql, params, None, many)
    return cur


@lru_cache(maxsize=4096)
def insert_sql(dialect: sa.Dialect, table: str, columns: tuple[str, ...], rows: int = 1) -> str:
    m = mark(dialect)
    values = "(" + ", ".join([m] * len(columns)) + ")"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([values] * rows)


def bind_rows(
    dialect: sa.Dialect, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
) -> list[tuple]:
    """Rows of plain Python values as the driver should receive them."""
    procs = [(i, p) for i, p in enumerate(processors(dialect, table, columns)) if p is not None]
    if not procs:
        return [tuple(r) for r in rows]
    out = []
    last: dict[int, tuple[Any, Any]] = {}  # a batch's rows often share a value (its time)
    for row in rows:
        row = list(row)
        for i, proc in procs:
            value = row[i]
            seen = last.get(i)
            if seen is not None and seen[0] is value:
                row[i] = seen[1]
            else:
                row[i] = converted = proc(value)
                last[i] = (value, converted)
        out.append(tuple(row))
    return out


def insert(
    conn: sa.Connection, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
) -> None:
    """``executemany`` of an ``INSERT`` (values converted by the columns' processors)."""
    if rows:
        dialect = conn.dialect
        cur = cursor(conn)
        sql = insert_sql(dialect, table, columns)
        run(conn, cur, sql, bind_rows(dialect, table, columns, rows), many=True)
        cur.close()


# ---------------------------------------------------------------------------- items
ITEM_COLUMNS = ("id", "version", *ItemState.model_fields)
"""An item as the hot paths read it: row id, version, then :class:`ItemState`'s fields."""
_STATE_FIELDS = tuple(ItemState.model_fields)
_STATES = {s.value: s for s in BackorderState}
_REASONS = {r.value: r for r in DisableReason}


def item_reader(dialect: sa.Dialect) -> Callable[[Sequence[Any]], tuple[int, int, ItemState]]:
    """Row (columns :data:`ITEM_COLUMNS`) -> ``(row id, version, ItemState)``.

    The row comes from our own table, written from validated models; the columns' result
    processors give exactly what SQLAlchemy would (booleans, datetimes, JSON), so the
    model is constructed without validating it again.
    """
    return _item_reader(dialect)


@lru_cache(maxsize=4096)
def _item_reader(dialect: sa.Dialect):
    procs = [
        (i, p)
        for i, p in enumerate(processors(dialect, "items", ITEM_COLUMNS, result=True))
        if p is not None
    ]
    i_date = ITEM_COLUMNS.index("back_in_stock_date") - 2
    i_state = ITEM_COLUMNS.index("state") - 2
    i_reason = ITEM_COLUMNS.index("disabled_reason") - 2
    bools = [ITEM_COLUMNS.index(c) - 2 for c in ("assigned", "tracked", "purchasing_disabled")]
    fields = _STATE_FIELDS
    construct = ItemState.model_construct

    def read(row: Sequence[Any]) -> tuple[int, int, ItemState]:
        row = list(row)
        for i, proc in procs:
            row[i] = proc(row[i])
        values = row[2:]
        date = values[i_date]
        if date is not None and date.tzinfo is None:
            values[i_date] = date.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC
        values[i_state] = _STATES[values[i_state]]
        reason = values[i_reason]
        values[i_reason] = None if reason is None else _REASONS[reason]
        for i in bools:
            values[i] = bool(values[i])
        return row[0], row[1], construct(**dict(zip(fields, values, strict=True)))

    return read


@lru_cache(maxsize=4096)
def items_by_sku_sql(dialect: sa.Dialect, n: int, lock: bool = False) -> str:
    m = mark(dialect)
    sql = (
        f"SELECT {', '.join(ITEM_COLUMNS)} FROM items WHERE store = {m} "
        f"AND sku IN ({', '.join([m] * n)}) ORDER BY sku"
    )
    return sql + (" FOR UPDATE" if lock else "")


@lru_cache(maxsize=4096)
def update_item_sql(dialect: sa.Dialect, columns: tuple[str, ...]) -> str:
    """The conditional item write: ``SET <columns>, version, updated_at WHERE id AND version``."""
    m = mark(dialect)
    sets = ", ".join(f"{c} = {m}" for c in (*columns, "version", "updated_at"))
    return f"UPDATE items SET {sets} WHERE items.id = {m} AND items.version = {m}"


def changed_fields(old: ItemState, new: ItemState) -> dict[str, Any]:
    """The fields of ``new`` that differ from ``old`` (as ``ledger.write_item`` compares)."""
    before = old.__dict__
    return {name: value for name, value in new.__dict__.items() if value != before[name]}


def update_item_params(
    dialect: sa.Dialect, changed: dict[str, Any], row_id: int, version: int, at: dt.datetime
) -> tuple[tuple[str, ...], tuple]:
    """``(columns, parameters)`` of one conditional write (see :func:`update_item_sql`)."""
    columns = tuple(sorted(changed))
    values = [changed[c] for c in columns]
    for i, proc in enumerate(processors(dialect, "items", columns)):
        if proc is not None:
            values[i] = proc(values[i])
    stamp = processor(dialect, "items", "updated_at")(at)
    return columns, (*values, version + 1, stamp, row_id, version)


# --------------------------------------------------------------------------- events
EVENT_COLUMNS = ("store", "type", "sku", "reason", "data", "at")
MOVEMENT_COLUMNS = (
    "store",
    "sku",
    "delta",
    "on_hand_after",
    "kind",
    "source",
    "idempotency_key",
    "created_at",
)
"""A ledger row as the hot paths (orders, tick, imports) write it."""


_VALUES = {member: member.value for member in (*EventType, *DisableReason)}


def event_rows(store: str, domain_events: Sequence[DomainEvent]) -> list[tuple]:
    """The outbox rows of some events, as ``ledger.record_events`` writes them."""
    value = _VALUES.__getitem__
    return [
        (store, value(e.type), e.sku, e.reason and value(e.reason), e.data, e.at)
        for e in domain_events
    ]


def record_events(conn: sa.Connection, store: str, domain_events: Sequence[DomainEvent]) -> None:
    """:func:`backorder.storage.ledger.record_events` in one raw ``executemany``."""
    if domain_events:
        insert(conn, "events", EVENT_COLUMNS, event_rows(store, domain_events))
