"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backorder.storage.db import Database
from backorder.storage.item_search import is_search_object
from backorder.storage.schema import metadata


def outside_search_index(_object, name, _type, _reflected, _compare_to) -> bool:
    """The search index (FTS5 tables, pg_trgm indexes) lives outside the metadata."""
    return not is_search_object(name)


def drift(db: Database) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": outside_search_index}
        )
        return compare_metadata(context, metadata)


def test_sqlite_schema_matches_the_code(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/m.db")
    assert drift(db) == []
    db.migrate()  # applying again is a no-op
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.postgres
def test_postgresql_schema_matches_the_code(pg_url):
    db = Database(pg_url)  # a fresh schema of this test session (see conftest.pg_url)
    try:
        assert drift(db) == []
    finally:
        db.dispose()
