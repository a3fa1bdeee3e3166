"""Engine set-up: SQLite (file, WAL, immediate write transactions) or PostgreSQL by URL."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE below is honoured.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn) -> None:
    # Take the write lock up front: a read-then-write transaction can then never be
    # overtaken by another writer (no lost update, no upgrade deadlock). Read-only
    # transactions (Database.read) begin deferred and never wait for writers (WAL).
    # Straight to the driver: this runs once per transaction, on every order.
    read_only = conn.get_execution_options().get("backorder_read_only", False)
    conn.connection.dbapi_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """One database (SQLite file or PostgreSQL URL) shared by any number of stores."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = sa.create_engine(url, future=True, pool_pre_ping=not self.is_sqlite)
        self._writers = threading.local()
        # every live thread's, for dispose(); a finished thread's goes back to the pool
        self._kept: weakref.WeakSet[sa.Connection] = weakref.WeakSet()
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        if migrate:
            self.migrate()

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision`` (idempotent; safe from many processes on PG)."""
        with self.engine.begin() as conn:
            if not self.is_sqlite:
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242)")
            cfg = self.alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A read-write transaction (on SQLite it holds the write lock from the start).

        Each thread keeps one connection for its write transactions instead of taking one
        from the pool every time: checkout, reset and return cost more than a one-order
        transaction's own statements, and on PostgreSQL the pool's pre-ping is one more
        round trip per checkout. A kept connection that broke (the server restarted) was
        invalidated by the error that showed it, and is replaced on the next call.
        """
        conn = self._writer()
        if conn is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with conn.begin():
            yield conn

    def _writer(self) -> sa.Connection | None:
        """This thread's kept connection; ``None`` when it is busy (a nested call).

        A forked child never uses its parent's (neither SQLite nor a PostgreSQL socket may be
        carried across ``fork``): the connection is kept per process id."""
        pid, conn = getattr(self._writers, "kept", (None, None))
        if pid != os.getpid() or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            self._writers.kept = (os.getpid(), conn)
            self._kept.add(conn)
        return None if conn.in_transaction() else conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only transaction: a consistent snapshot that does not block writers."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(backorder_read_only=True)
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        for conn in list(self._kept):
            conn.close()
        self.engine.dispose()
