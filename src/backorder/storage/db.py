"""Engine set-up: SQLite (file, WAL, immediate write transactions) or PostgreSQL by URL."""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from backorder.errors import ConfigError, StorageError
from backorder.storage import pg_pipeline, races

MIGRATIONS = Path(__file__).with_name("migrations")

def storage_error(exc: BaseException) -> StorageError:
    """A driver's exception as backorder's :class:`StorageError` (the driver's first line,
    no statement or parameters): callers catch one kind whatever the database."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0]
    return StorageError(f"the database failed: {type(orig).__name__}: {first}")


def _file_sqlite(url: str) -> bool:
    """A SQLite database in a file (SQLAlchemy pools those with a QueuePool)."""
    try:
        database = sa.make_url(url).database or ""
    except (sa.exc.ArgumentError, ValueError):
        return False  # not a URL at all: _create_engine says so
    return database not in ("", ":memory:") and not database.startswith("file::memory")


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
    dbapi = conn.connection.dbapi_connection
    if dbapi.in_transaction:
        return  # begun at the driver (Database._sqlite_write): a SQLAlchemy statement inside
    read_only = conn.get_execution_options().get("backorder_read_only", False)
    dbapi.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """One database (SQLite file or PostgreSQL URL) shared by any number of stores."""

    def __init__(self, url: str, *, migrate: bool = True, **engine_options: Any) -> None:
        """
        :param url: a SQLAlchemy URL (``sqlite:///file.db``, ``postgresql+psycopg://...``).
        :param migrate: bring the schema up to date now (once per process is enough: an
            embedding application passes this object around instead of opening another).
        :param engine_options: passed to :func:`sqlalchemy.create_engine`, e.g. the pool:
            ``pool_size`` (default 5), ``max_overflow`` (10), ``pool_timeout`` (30 s),
            ``pool_recycle``, ``pool_pre_ping`` (default on for PostgreSQL). Size the pool
            to the threads that call the services at once (README: "Embedding backorder").
        """
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        engine_options.setdefault("pool_pre_ping", not self.is_sqlite)
        if not self.is_sqlite or _file_sqlite(url):
            # Every live thread keeps a write connection (see transaction()); a bounded
            # pool (15) would make the 16th thread wait 30 s and fail (issue 20, item 2):
            # the pool grows with the threads. On PostgreSQL each connection is a server
            # process: size max_connections for processes x threads (README, Embedding).
            engine_options.setdefault("max_overflow", -1)
        self.engine = _create_engine(url, **engine_options)
        # SQLite has one writer at a time anyway: this process's threads queue for it
        # here, in order, instead of polling the database lock (busy_timeout).
        self._write_lock = (os.getpid(), threading.RLock())
        self._writers = threading.local()
        # every live thread's, for dispose(); a finished thread's goes back to the pool
        self._kept: weakref.WeakSet[sa.Connection] = weakref.WeakSet()
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        else:  # the order path's pipeline ends before any SQLAlchemy statement
            sa.event.listen(self.engine, "before_execute", pg_pipeline.before_sqlalchemy)
        if migrate:
            try:
                self.migrate()
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                raise StorageError(f"database {shown_url(url)!r}: {_reason(exc)}") from None

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
        invalidated by the error that showed it, and is replaced on the next call. On
        SQLite this process's writers also queue on one lock.

        :raises backorder.errors.StorageError: the database failed (a lost race or a
            deadlock is raised as the driver's, for the caller to retry).
        """
        try:
            with self._lock() if self.is_sqlite else nullcontext():
                kept = self._writer()
                if kept is None:
                    with self.engine.connect() as conn, self._begin(conn):
                        yield conn
                    return
                with self._begin(kept):
                    yield kept
        except self.driver_errors as exc:
            if self._retried(exc):
                raise  # the caller's retry loop (StoreService.transact) runs it again
            raise storage_error(exc) from exc

    def _begin(self, conn: sa.Connection):
        """``conn.begin()``; on PostgreSQL one in which the order path may queue statements
        (psycopg pipeline mode, :mod:`backorder.storage.pg_pipeline`): they are sent and
        checked before the commit; on SQLite one begun at the driver (:meth:`_sqlite_write`)
        unless someone listens for SQLAlchemy's ``begin`` events besides us."""
        if not self.is_sqlite:
            return pg_pipeline.transaction(conn)
        if len(self.engine.dispatch.begin) == 1:  # _sqlite_begin's alone
            return self._sqlite_write(conn)
        return conn.begin()

    @staticmethod
    @contextmanager
    def _sqlite_write(conn: sa.Connection) -> Iterator[sa.Connection]:
        """A write transaction at the driver: ``BEGIN IMMEDIATE`` ... ``COMMIT`` without
        SQLAlchemy's transaction bookkeeping, which costs more than the two statements (an
        order pays it every time; the fast paths issue their statements at the driver too).
        A SQLAlchemy statement inside begins SQLAlchemy's transaction on top of it
        (:func:`_sqlite_begin` leaves the driver's open), and it then commits or rolls
        back through SQLAlchemy."""
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None, "a kept connection is open"
        _sqlite_begin(conn)  # what SQLAlchemy's begin event would have issued
        try:
            yield conn
        except BaseException:
            conn.rollback() if conn.in_transaction() else dbapi.rollback()
            raise
        if conn.in_transaction():
            conn.commit()
            return
        try:
            dbapi.commit()
        except BaseException:
            dbapi.rollback()  # (a failed COMMIT leaves the transaction open)
            raise

    @staticmethod
    def _retried(exc: BaseException) -> bool:
        """A lost race (:func:`backorder.storage.races.lost_race`: a unique key taken
        meanwhile, a deadlock, a serialization failure): left as it is for
        :meth:`StoreService.transact`, which runs the transaction again."""
        return races.lost_race(exc) is not None

    def _lock(self) -> threading.RLock:
        """This process's write lock (a forked child gets a fresh one: a lock copied
        while another thread of the parent held it would never be released)."""
        pid, lock = self._write_lock
        if pid != os.getpid():
            lock = threading.RLock()
            self._write_lock = (os.getpid(), lock)
        return lock

    def _writer(self) -> sa.Connection | None:
        """This thread's kept connection; ``None`` when it is busy (a nested call).

        A forked child never uses its parent's (neither SQLite nor a PostgreSQL socket may be
        carried across ``fork``): the connection is kept per process id."""
        pid, conn = getattr(self._writers, "kept", (None, None))
        if conn is None or pid != os.getpid() or conn.closed or conn.invalidated:
            conn = self.engine.connect()
            self._writers.kept = (os.getpid(), conn)
            self._kept.add(conn)
        busy = conn.in_transaction() or (
            self.is_sqlite and getattr(conn.connection.dbapi_connection, "in_transaction", 0)
        )  # (SQLite: _sqlite_write's, which SQLAlchemy does not know of)
        return None if busy else conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only transaction: a consistent snapshot that does not block writers.

        :raises backorder.errors.StorageError: the database failed (the driver's own
            exception is its ``__cause__``).
        """
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(backorder_read_only=True)
                with conn.begin():
                    yield conn
        except self.driver_errors as exc:
            raise storage_error(exc) from exc

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions a database call may raise: SQLAlchemy's wrapped ones and the
        driver's own (the fast paths use the driver's cursor directly)."""
        dbapi = self.engine.dialect.loaded_dbapi
        return (sa.exc.DBAPIError, dbapi.Error)

    def dispose(self) -> None:
        for conn in list(self._kept):
            conn.close()
        self.engine.dispose()
