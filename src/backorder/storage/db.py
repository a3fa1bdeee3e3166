"""Engine set-up: SQLite (file, WAL, immediate write transactions) or PostgreSQL by URL."""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from backorder.errors import ConfigError, StorageError

MIGRATIONS = Path(__file__).with_name("migrations")

_EXAMPLES = "sqlite:///backorder.db or postgresql+psycopg://user@host/dbname"


def shown_url(url: str) -> str:
    """``url`` as it may be printed: its password hidden, even when it does not parse."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _create_engine(url: str, **options: Any) -> sa.Engine:
    """The engine for ``url``; a URL that cannot work is one :class:`ConfigError` naming it."""
    shown = shown_url(url)
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise ConfigError(f"database {shown!r}: not a database URL (use {_EXAMPLES})") from None
    try:
        return sa.create_engine(parsed, future=True, **options)
    except sa.exc.NoSuchModuleError:
        raise ConfigError(
            f"database {shown!r}: unknown kind of database {parsed.drivername!r} "
            f"(use {_EXAMPLES})"
        ) from None
    except ImportError as exc:
        hint = ""
        if parsed.drivername.startswith("postgresql"):
            hint = " (backorder uses postgresql+psycopg://: pip install 'backorder[postgres]')"
        raise ConfigError(
            f"database {shown!r}: its driver is not installed: no module {exc.name!r}{hint}"
        ) from None
    except (sa.exc.ArgumentError, TypeError, ValueError) as exc:
        raise ConfigError(f"database {shown!r}: {exc}") from None


def _reason(exc: sa.exc.DBAPIError) -> str:
    """The driver's first line of why it could not connect (the URL is printed separately)."""
    text = str(exc.orig).strip() or type(exc.orig).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = lines[0] if lines else text
    if "FATAL:" in text:
        reason = text[text.index("FATAL:") + 6:].strip().splitlines()[0]
    if "unable to open database file" in text:
        reason += " (does its folder exist, and may it be written?)"
    return f"cannot open it: {reason}"


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
        self.engine = _create_engine(url, pool_pre_ping=not self.is_sqlite)
        self._writers = threading.local()
        # every live thread's, for dispose(); a finished thread's goes back to the pool
        self._kept: weakref.WeakSet[sa.Connection] = weakref.WeakSet()
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        if migrate:
            try:
                self.migrate()
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                raise StorageError(f"database {shown_url(url)!r}: {_reason(exc)}") from None

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

        On SQLite each thread keeps one connection for its write transactions instead of
        taking one from the pool every time: checkout, reset and return cost more than a
        one-order transaction's own statements. PostgreSQL uses the pool as usual.
        """
        conn = self._writer() if self.is_sqlite else None
        if conn is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with conn.begin():
            yield conn

    def _writer(self) -> sa.Connection | None:
        """This thread's kept SQLite connection; ``None`` when it is busy (a nested call).

        A forked child never uses its parent's (SQLite forbids carrying a connection
        across ``fork``): the connection is kept per process id."""
        pid, conn = getattr(self._writers, "kept", (None, None))
        if conn is None or pid != os.getpid() or conn.closed or conn.invalidated:
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
