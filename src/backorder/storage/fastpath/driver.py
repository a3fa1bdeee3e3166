"""The driver level under the fast paths: plain SQL on the transaction's own DBAPI
connection, values converted by the columns' own type processors.

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

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from backorder.storage.schema import metadata

Processor = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


@lru_cache(maxsize=4096)
def processors(dialect: sa.Dialect, table: str, columns: tuple[str, ...], *, result=False):
    """The bind (or result) processor of each column, ``None`` where a value passes as is."""
    out: list[Callable[[Any], Any] | None] = []
    for name in columns:
        col_type = metadata.tables[table].c[name].type.dialect_impl(dialect)
        proc: Callable[[Any], Any] | None
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
def bind_converters(dialect: sa.Dialect, table: str, columns: tuple[str, ...]):
    """``(position, bind processor)`` of each of ``columns`` whose values need converting."""
    return [(i, p) for i, p in enumerate(processors(dialect, table, columns)) if p is not None]


def processor(dialect: sa.Dialect, table: str, column: str, *, result=False) -> Processor:
    return processors(dialect, table, (column,), result=result)[0] or _same


def mark(dialect: sa.Dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def cursor(conn: sa.Connection) -> Any:
    """A DBAPI cursor on the connection's current transaction."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None, "the connection is checked out, so its DBAPI connection is open"
    return dbapi.cursor()


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
    procs = bind_converters(dialect, table, columns)
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
