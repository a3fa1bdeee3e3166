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

from backorder.models import (
    BackorderState,
    DisableReason,
    DomainEvent,
    EventType,
    ItemState,
    trusted,
)
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
        elif isinstance(col_type, sa.Boolean) and dialect.name == "sqlite":
            proc = None  # sqlite3 binds True/False as 1/0 itself
        else:
            proc = col_type.bind_processor(dialect)
            if proc is not None and isinstance(col_type, sa.DateTime):
                proc = _last_one(proc)
            elif proc is not None and isinstance(col_type, sa.JSON) and dialect.name == "sqlite":
                proc = _empty_shortcut(proc)  # (psycopg wants its Json wrapper, not text)
        out.append(proc)
    return tuple(out)


def _last_one(proc: Processor) -> Processor:
    """``proc`` remembering its last value: an operation stamps every row it writes with
    the same datetime object, which need be turned into text only once."""
    cell: list[tuple[Any, Any]] = [(object(), None)]

    def convert(value: Any) -> Any:
        seen = cell[0]  # read once: another thread may replace it
        if seen[0] is value:
            return seen[1]
        converted = proc(value)
        cell[0] = (value, converted)
        return converted

    return convert


def _empty_shortcut(proc: Processor) -> Processor:
    """``proc`` (SQLite JSON) without an encoder call for an empty list or dict."""

    def convert(value: Any) -> Any:
        if not value and type(value) in (list, dict):
            return "[]" if type(value) is list else "{}"
        return proc(value)

    return convert


@lru_cache(maxsize=4096)
def _bind_procs(dialect: sa.Dialect, table: str, columns: tuple[str, ...]):
    return [(i, p) for i, p in enumerate(processors(dialect, table, columns)) if p is not None]


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
    logging, the crash tests), with no execution context. Listeners registered on the
    engine are told; those on a single Connection object are not (the engine's own
    listener lists are cheap to test on every statement, a Connection's are not)."""
    dispatch = conn.engine.dispatch
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
    procs = _bind_procs(dialect, table, columns)
    if not procs:
        return [tuple(r) for r in rows]
    out = []
    for row in rows:
        row = list(row)
        for i, proc in procs:
            row[i] = proc(row[i])
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


_BOOLS = ("assigned", "tracked", "purchasing_disabled")


@lru_cache(maxsize=4096)
def _item_reader(dialect: sa.Dialect):
    fields = _STATE_FIELDS
    procs = processors(dialect, "items", fields, result=True)
    date_proc = procs[fields.index("back_in_stock_date")] or _same
    json_proc = procs[fields.index("overrides")] or _same
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
    for i, proc in _bind_procs(dialect, "items", columns):
        values[i] = proc(values[i])
    stamp = _stamp(dialect)(at)
    return columns, (*values, version + 1, stamp, row_id, version)


@lru_cache(maxsize=16)
def _stamp(dialect: sa.Dialect) -> Processor:
    return processor(dialect, "items", "updated_at")


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
