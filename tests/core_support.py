"""Constants and helpers shared by the core's tests (importable: tests/ is on pythonpath)."""

import datetime as dt
import os

import sqlalchemy as sa

PG_URL = os.environ.get("BACKORDER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def pg_unavailable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means: skip, and say why
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"


def run_coroutine(coro):
    """``asyncio.run(coro)`` in a thread of its own: a session's browser tests (Playwright's
    sync API) may keep an event loop running in the main thread, where asyncio.run refuses."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def sqlite_rows(db_path) -> dict[str, list[str]]:
    """Every row of every table of a SQLite file, each table's sorted: equal before and
    after a command that must change nothing."""
    engine = sa.create_engine(f"sqlite:///{db_path}")
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        found = {t.name: sorted(map(repr, conn.execute(t.select()))) for t in meta.sorted_tables}
    engine.dispose()
    return found
