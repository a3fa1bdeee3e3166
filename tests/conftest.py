"""Shared fixtures of the core's tests. Store and plugin fixtures come from backorder.testing."""

import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from admin_support import shop  # noqa: F401  (the web app's store fixture)
from core_support import PG_URL, pg_unavailable


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL URL whose tables live in a schema of this test session alone.

    The database may hold anything a previous run or another checkout left (another
    migration head, other rows): each session works in a fresh schema and drops it.
    """
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    """A migrated database, once a SQLite file and once PostgreSQL (skipped, saying why, when
    PostgreSQL is not reachable); a module may define its own ``db`` instead."""
    from backorder.storage.db import Database

    url = f"sqlite:///{tmp_path}/backorder.db"
    if request.param == "pg":
        url = request.getfixturevalue("pg_url")
    database = Database(url)
    yield database
    database.dispose()
