"""Substring search of item names and SKUs through an index, on SQLite and PostgreSQL.

``LIKE '%lamp 77%'`` reads every row of a store: at 100,000 items, more than a page of the
web app may cost (issue 16). Migration 0008 adds a trigram index, which finds the rows
containing a piece of text of 3 characters or more without reading the others:

- SQLite: an FTS5 table ``items_search`` with the ``trigram`` tokenizer (SQLite 3.34+,
  case-insensitive) over ``items.name`` and ``items.sku``, external content (it stores
  only the index, not a copy of the text), kept by triggers on insert, delete and a
  change of name or SKU. https://www.sqlite.org/fts5.html#the_trigram_tokenizer
- PostgreSQL: GIN indexes ``gin_trgm_ops`` on ``lower(name)`` and ``lower(sku)`` from the
  ``pg_trgm`` extension, which ``LIKE '%…%'`` uses as it is.
  https://www.postgresql.org/docs/current/pgtrgm.html#PGTRGM-INDEX
  Where ``pg_trgm`` cannot be installed (it ships with PostgreSQL's contrib package and
  is a trusted extension since PostgreSQL 13), the migration skips these indexes and the
  search reads the store's rows, as before: the same results, slower.

The index only narrows the rows: the search condition itself stays the ``LIKE`` it always
was, so results are the same with or without it. Text shorter than 3 characters has no
trigram and is matched by ``LIKE`` alone (it reads the store's rows).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from backorder.storage.schema import items

MIN_INDEXED = 3
"""Shorter search text has no trigram: the index cannot narrow it."""

SEARCH_OBJECTS = ("items_search", "ix_items_name_trgm", "ix_items_sku_trgm")
"""Names of the search index's objects, outside the SQLAlchemy metadata (tables of the
FTS5 module are named ``items_search_*``)."""


def _like_pattern(text: str) -> str:
    text = text.lower()
    for special in ("\\", "%", "_"):
        text = text.replace(special, "\\" + special)
    return f"%{text}%"


def contains(dialect: str, text: str) -> sa.ColumnElement[bool]:
    """Items whose name or SKU contains ``text``, ignoring case (a ``WHERE`` clause)."""
    pattern = _like_pattern(text)
    like = sa.or_(
        sa.func.lower(items.c.name).like(pattern, escape="\\"),
        sa.func.lower(items.c.sku).like(pattern, escape="\\"),
    )
    if dialect != "sqlite" or len(text) < MIN_INDEXED:
        return like  # PostgreSQL's trigram indexes serve the LIKE itself
    phrase = '"' + text.replace('"', '""') + '"'
    candidates = sa.text("SELECT rowid FROM items_search WHERE items_search MATCH :phrase")
    return sa.and_(
        items.c.id.in_(candidates.bindparams(phrase=phrase).columns(sa.column("rowid"))),
        like,
    )


# -------------------------------------------------------------------------- migrations
def create(conn: sa.Connection) -> list[str]:
    """Create the search index (migration 0008) and fill it; returns what was skipped."""
    skipped: list[str] = []
    if conn.dialect.name == "postgresql":
        available = conn.scalar(
            sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        )
        lacking = ["pg_trgm (not installable here: the search reads the store's rows)"]
        if not available:
            return lacking
        try:
            with conn.begin_nested():  # a refusal (no privilege) must not end the migration
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except sa.exc.DBAPIError:
            return lacking
        schema = conn.scalar(sa.text(  # the operator class, wherever the extension lives
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        ))
        ops = f'"{schema}".gin_trgm_ops'
        for column in ("name", "sku"):
            conn.execute(sa.text(
                f"CREATE INDEX IF NOT EXISTS ix_items_{column}_trgm ON items "
                f"USING gin (lower({column}) {ops})"
            ))
        return skipped
    for statement in _sqlite_ddl():
        conn.execute(sa.text(statement))
    conn.execute(sa.text("INSERT INTO items_search(items_search) VALUES ('rebuild')"))
    return skipped


def _sqlite_ddl() -> list[str]:
    old = "INSERT INTO items_search(items_search, rowid, name, sku) " \
          "VALUES ('delete', OLD.id, OLD.name, OLD.sku);"
    new = "INSERT INTO items_search(rowid, name, sku) VALUES (NEW.id, NEW.name, NEW.sku);"
    return [
        "CREATE VIRTUAL TABLE items_search USING fts5("
        "name, sku, content='items', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER items_search_insert AFTER INSERT ON items BEGIN {new} END",
        f"CREATE TRIGGER items_search_delete AFTER DELETE ON items BEGIN {old} END",
        f"CREATE TRIGGER items_search_update AFTER UPDATE OF name, sku ON items "
        f"BEGIN {old} {new} END",
    ]


def drop(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        for column in ("name", "sku"):
            conn.execute(sa.text(f"DROP INDEX IF EXISTS ix_items_{column}_trgm"))
        return
    for trigger in ("insert", "delete", "update"):
        conn.execute(sa.text(f"DROP TRIGGER IF EXISTS items_search_{trigger}"))
    conn.execute(sa.text("DROP TABLE IF EXISTS items_search"))


def is_search_object(name: Any) -> bool:
    """Whether a table or index belongs to the search index (schema comparisons skip it)."""
    return isinstance(name, str) and name.startswith(SEARCH_OBJECTS)


__all__ = ["MIN_INDEXED", "SEARCH_OBJECTS", "contains", "create", "drop", "is_search_object"]
