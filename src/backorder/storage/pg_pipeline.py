"""PostgreSQL pipeline mode for a write transaction's last statements.

A one-order transaction used to wait for the server after every statement (about ten
round trips, each costing the network and a wake-up of both processes). In psycopg 3's
pipeline mode (``Connection.pipeline()``, libpq 14+) statements are queued and sent
without waiting; the results come back together at the next *sync*. The order path
(:mod:`backorder.storage.pg_orders`) switches a transaction's connection into pipeline
mode once it has read what it decides on, so every write after that (the order, its
lines, the ledger, the items, the events, the storefront rows) costs one round trip.

Pipelining is only allowed inside :meth:`backorder.storage.db.Database.transaction`
(:func:`transaction`), which finishes the pipeline before it commits: a result checked after
the sync (an item write that matched no row, a unique key taken) is raised there and the
transaction rolls back as with any statement's error. Any SQLAlchemy statement on the
connection first finishes the pipeline too (:func:`before_sqlalchemy`, an engine
listener): SQLAlchemy reads a statement's result at once, which pipeline mode defers.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

import sqlalchemy as sa

_ALLOWED = "backorder_pipeline_allowed"
_IDLE = 0  # libpq's PQTRANS_IDLE: no transaction open
_OPEN = "backorder_pipeline"
_OWN_BEGIN = "backorder_pipeline_own_begin"


class _Pipeline:
    """An open pipeline and the row counts to check once its results are in."""

    __slots__ = ("checks", "stack")

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.checks: list[tuple[Any, int, Exception]] = []


def driver_connection(conn: sa.Connection) -> Any:
    """The psycopg connection under ``conn`` (typed ``Any``: psycopg is optional)."""
    return conn.connection.driver_connection


@contextmanager
def transaction(conn: sa.Connection) -> Iterator[None]:
    """``conn.begin()`` in which the order path may pipeline: the pipeline is finished
    (synced, its checks made) before the commit, or abandoned before the rollback."""
    conn.info.pop(_OWN_BEGIN, None)
    try:
        with conn.begin():
            conn.info[_ALLOWED] = True
            try:
                yield
                finish(conn)
            except BaseException:
                abandon(conn)
                raise
            finally:
                conn.info.pop(_ALLOWED, None)
    finally:
        _end_own_begin(conn)


def begin_in_pipeline(conn: sa.Connection) -> bool:
    """Prepare to send this transaction's ``BEGIN`` with its first statements, in one
    pipeline, and say whether the caller must send it (it is first in the transaction).

    psycopg (not in autocommit) sends ``BEGIN`` before a transaction's first statement
    and, in pipeline mode, waits for it (a Sync): one round trip of its own. Here the
    connection is switched to autocommit for the rest of the transaction, so psycopg
    sends no ``BEGIN`` and the caller queues it; ``commit()`` and ``rollback()`` still end
    the transaction the caller began (psycopg sends them whenever one is open), and
    :func:`transaction` switches autocommit off again after it."""
    info = conn.info
    if not info.get(_ALLOWED):
        return False
    dbapi = driver_connection(conn)
    if dbapi.autocommit or dbapi.pgconn.transaction_status != _IDLE:
        return False
    dbapi.autocommit = True
    info[_OWN_BEGIN] = True
    return True


def _end_own_begin(conn: sa.Connection) -> None:
    if conn.invalidated or conn.closed or not conn.info.pop(_OWN_BEGIN, False):
        return
    dbapi = driver_connection(conn)
    if dbapi is None or not dbapi.autocommit:
        return
    try:
        dbapi.autocommit = False  # the transaction has ended (committed or rolled back)
    except Exception:  # (a broken connection): never reused in autocommit
        conn.invalidate()


def start(conn: sa.Connection) -> bool:
    """Queue this connection's statements from now on, if allowed here; whether they are."""
    info = conn.info
    if _OPEN in info:
        return True
    if not info.get(_ALLOWED):
        return False
    if driver_connection(conn).autocommit and not info.get(_OWN_BEGIN):
        return False  # no transaction to hold the queue: each statement is its own
    stack = ExitStack()
    stack.enter_context(driver_connection(conn).pipeline())
    info[_OPEN] = _Pipeline(stack)
    return True


def active(conn: sa.Connection) -> bool:
    return _OPEN in conn.info


def expect_rows(conn: sa.Connection, cursor: Any, rows: int, error: Exception) -> None:
    """Raise ``error`` at the sync unless ``cursor``'s statement touched ``rows`` rows."""
    conn.info[_OPEN].checks.append((cursor, rows, error))


def finish(conn: sa.Connection) -> None:
    """Send what is queued and wait for every result (a statement's error is raised here),
    then make the row-count checks. No-op when no pipeline is open."""
    pipeline = conn.info.pop(_OPEN, None)
    if pipeline is None:
        return
    pipeline.stack.close()  # leaves pipeline mode: Sync, and every result fetched
    for cursor, rows, error in pipeline.checks:
        count = cursor.rowcount
        cursor.close()
        if count != rows:
            raise error


def abandon(conn: sa.Connection) -> None:
    """Leave pipeline mode after an error (the transaction is rolled back next); the
    pipeline's own errors are not raised over the first one."""
    pipeline = conn.info.pop(_OPEN, None)
    if pipeline is None:
        return
    with suppress(Exception):  # the error being handled is the one that counts
        pipeline.stack.__exit__(*sys.exc_info())  # psycopg logs its own errors


def before_sqlalchemy(conn: sa.Connection, *_args: Any) -> None:
    """Engine ``before_execute`` listener: a SQLAlchemy statement needs its result at once."""
    if _OPEN in conn.info:
        finish(conn)
