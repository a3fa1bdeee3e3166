"""Alembic environment: runs on the connection the caller hands in, or on the configured URL."""

from alembic import context
from sqlalchemy import create_engine

from backorder.storage.item_search import is_search_object
from backorder.storage.schema import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        with create_engine(config.get_main_option("sqlalchemy.url") or "").begin() as conn:
            _run_on(conn)
    else:
        _run_on(connection)


def _run_on(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # the search index (FTS5 tables, pg_trgm indexes) is made by hand in 0008
        include_object=lambda _obj, name, _type, _reflected, _to: not is_search_object(name),
    )
    context.run_migrations()


run()
