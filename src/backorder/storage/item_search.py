"""Substring search of names and SKUs (items, order lines) through an index, on SQLite and
PostgreSQL.

``LIKE '%lamp 77%'`` reads every row of a store: at 100,000 items, more than a page of the
web app may cost (issue 16). Migration 0009 adds a trigram index, which finds the rows
containing a piece of text of 3 characters or more without reading the others:

- SQLite: FTS5 tables ``items_search`` and ``order_lines_search`` with the ``trigram``
  tokenizer (SQLite 3.34+, case-insensitive) over the ``name`` and ``sku`` of ``items``
  and ``order_lines``, external content (they store only the index, not a copy of the
  text), kept by triggers on insert, delete and a change of name or SKU. The bulk paths
  (the CSV import, a batch of 1,000+ order lines) pause those triggers in their own
  transaction and write the index set-based instead (:class:`BulkIndex`).
  https://www.sqlite.org/fts5.html#the_trigram_tokenizer
- PostgreSQL: GIN indexes ``gin_trgm_ops`` on ``lower(name)`` and ``lower(sku)`` of both
  tables, from the ``pg_trgm`` extension, which ``LIKE '%…%'`` uses as it is.
  https://www.postgresql.org/docs/current/pgtrgm.html#PGTRGM-INDEX
  Where ``pg_trgm`` cannot be installed (it ships with PostgreSQL's contrib package and
  is a trusted extension since PostgreSQL 13), the migration skips these indexes and the
  search reads the store's rows, as before: the same results, slower.

The index only narrows the rows: the search condition itself stays the ``LIKE`` it always
was, so results are the same with or without it. Text shorter than 3 characters has no
trigram and is matched by ``LIKE`` alone (it reads the store's rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from backorder.storage.paused_triggers import PausedTriggers, id_chunks, max_id
from backorder.storage.schema import items, order_lines

MIN_INDEXED = 3
"""Shorter search text has no trigram: the index cannot narrow it."""

INDEXED = ("items", "order_lines")
"""The tables whose ``name`` and ``sku`` are indexed."""
SEARCH_OBJECTS = tuple(
    name for table in INDEXED
    for name in (f"{table}_search", f"ix_{table}_name_trgm", f"ix_{table}_sku_trgm")
)
"""Names of the search index's objects, outside the SQLAlchemy metadata (tables of the
FTS5 module are named ``items_search_*``)."""


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE … ESCAPE '\\'``, lower case, ``%`` and ``_`` taken literally."""
    text = text.lower()
    for special in ("\\", "%", "_"):
        text = text.replace(special, "\\" + special)
    return f"%{text}%"


def contains(dialect: str, text: str) -> sa.ColumnElement[bool]:
    """Items whose name or SKU contains ``text``, ignoring case (a ``WHERE`` clause)."""
    pattern = like_pattern(text)
    like = sa.or_(
        sa.func.lower(items.c.name).like(pattern, escape="\\"),
        sa.func.lower(items.c.sku).like(pattern, escape="\\"),
    )
    if dialect != "sqlite" or len(text) < MIN_INDEXED:
        return like  # PostgreSQL's trigram indexes serve the LIKE itself
    return sa.and_(items.c.id.in_(_matches("items", text)), like)


_MATCH = {
    table: f"SELECT rowid FROM {table}_search WHERE {table}_search MATCH :{table}_phrase"
    for table in INDEXED
}
"""Per indexed table, its rowids matching a phrase (constant SQL, the phrase bound)."""


def _matches(table: str, text: str) -> sa.TextualSelect:
    """The rowids of ``table`` (SQLite) whose name or SKU contains ``text`` (3+ characters)."""
    return (
        sa.text(_MATCH[table])
        .bindparams(**{f"{table}_phrase": _phrase(text)})
        .columns(sa.column("rowid"))
    )


def _phrase(text: str) -> str:
    """``text`` as one FTS5 phrase: with the trigram tokenizer, "contains this text"."""
    return '"' + text.replace('"', '""') + '"'



def line_candidates(dialect: str, store: str, text: str) -> sa.CompoundSelect | None:
    """Ids of order lines that may match a report search for ``text`` (``None``: too short
    for the index). A report row shows its line's name, or its item's when the line has
    none, and its line's SKU: these are the lines whose name or SKU contains the text
    (through the index) and the nameless lines (through their partial index, migration
    0009) whose item's name or SKU does. The report's own ``LIKE`` still decides; this
    only spares it the other lines. A line may come twice (``UNION ALL``: it streams)."""
    if len(text) < MIN_INDEXED:
        return None
    line, item = order_lines.alias("hit_line"), items.alias("hit_item")
    pattern = like_pattern(text)
    by_line: sa.Select
    if dialect == "sqlite":
        by_line = sa.select(_matches("order_lines", text).subquery().c.rowid)
    else:  # the LIKEs the pg_trgm indexes serve
        by_line = sa.select(line.c.id).where(sa.or_(
            sa.func.lower(line.c.name).like(pattern, escape="\\"),
            sa.func.lower(line.c.sku).like(pattern, escape="\\"),
        ))
    named_so = (  # (EXISTS, not a join: the planner starts from the few nameless lines)
        sa.select(sa.literal(1))
        .where(item.c.store == store, item.c.sku == line.c.sku, sa.or_(
            sa.func.lower(item.c.name).like(pattern, escape="\\"),
            sa.func.lower(item.c.sku).like(pattern, escape="\\"),
        ))
        .correlate(line)
    )
    nameless = sa.select(line.c.id).where(line.c.name == "", named_so.exists())
    return sa.union_all(by_line, nameless)


# -------------------------------------------------------------------------- bulk writes
BULK_TRIGGERS = ("insert", "update")
"""The triggers a bulk write pauses (it never deletes: the delete trigger stays)."""


class BulkIndex:
    """Keeps a table's search index (SQLite FTS5) for one transaction's bulk writes,
    set-based, instead of through its per-row triggers.

    An FTS5 row written from a trigger costs about ten times what writing the same rows
    straight into FTS5 does (issue 16's measures: 100,000 items inserted in 1.4 s without
    the triggers, 14 s with them; the same rows into FTS5 directly 0.7 s). So a bulk path
    (the CSV import, a big batch of orders) pauses the ``insert`` and ``update`` triggers
    of ``{table}_search`` inside its own transaction (:mod:`.paused_triggers`: nobody
    else ever writes without them), writes its rows, and :meth:`finish` indexes them with
    one ``INSERT … SELECT`` and creates the triggers again before the transaction commits.

    Rows updated while paused: :meth:`before_update` takes their current name and SKU out
    of the index (external content: the index can only forget what it is told), and
    :meth:`finish` puts back their new ones. PostgreSQL's trigram indexes are ordinary
    indexes: there, every method does nothing.
    """

    def __init__(self, conn: sa.Connection, table: str = "items") -> None:
        if table not in INDEXED:
            raise ValueError(f"no search index on {table!r}")
        self.conn, self.table, self.index = conn, table, f"{table}_search"
        self.triggers = PausedTriggers(conn, [f"{self.index}_{kind}" for kind in BULK_TRIGGERS])
        self._since = 0  # rows with a greater id were inserted while paused
        self._updated: set[int] = set()  # older rows taken out of the index, to put back

    @property
    def paused(self) -> bool:
        return self.triggers.paused

    def pause(self) -> None:
        """Pause the per-row triggers until :meth:`finish` (in the caller's transaction)."""
        if not self.paused and self.triggers.pause():
            self._since = max_id(self.conn, self.table)

    def before_update(self, ids: Iterable[int], *, columns: Iterable[str]) -> None:
        """Rows about to be updated: when ``columns`` include the name or SKU, take their
        current entries out of the index (:meth:`finish` indexes them again)."""
        if not self.paused or not {"name", "sku"} & set(columns):
            return
        fresh = sorted({i for i in ids if i <= self._since} - self._updated)
        self._updated.update(fresh)
        source = _table(self.table, "id", "name", "sku")
        index = _table(self.index, self.index, "rowid", "name", "sku")
        for chunk in id_chunks(fresh):  # FTS5's 'delete' command, with the values indexed
            self.conn.execute(index.insert().from_select(
                [self.index, "rowid", "name", "sku"],
                sa.select(sa.literal("delete"), source.c.id, source.c.name, source.c.sku)
                .where(source.c.id.in_(chunk)),
            ))

    def finish(self) -> None:
        """Index the rows inserted and updated while paused; create the triggers again."""
        if not self.paused:
            return
        source = _table(self.table, "id", "name", "sku")
        index = _table(self.index, "rowid", "name", "sku")

        def add(where: sa.ColumnElement[bool]) -> None:
            self.conn.execute(index.insert().from_select(
                ["rowid", "name", "sku"],
                sa.select(source.c.id, source.c.name, source.c.sku).where(where),
            ))

        add(source.c.id > self._since)
        for chunk in id_chunks(sorted(self._updated)):
            add(source.c.id.in_(chunk))
        self.triggers.restore()
        self._updated = set()


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns))


@contextmanager
def bulk(conn: sa.Connection, table: str = "items") -> Iterator[BulkIndex]:
    """:class:`BulkIndex` paused for the block and finished after it (not on an exception:
    the caller's transaction rolls back, and the triggers' drop with it)."""
    index = BulkIndex(conn, table)
    index.pause()
    yield index
    index.finish()


# -------------------------------------------------------------------------- migrations
def create(conn: sa.Connection) -> list[str]:
    """Create the search index (migration 0009) and fill it; returns what was skipped."""
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
        ops = f"{conn.dialect.identifier_preparer.quote_identifier(schema)}.gin_trgm_ops"
        for table in INDEXED:
            for column in ("name", "sku"):
                conn.execute(sa.DDL(
                    "CREATE INDEX IF NOT EXISTS ix_%(table)s_%(column)s_trgm ON %(table)s "
                    "USING gin (lower(%(column)s) %(ops)s)",
                    context={"table": table, "column": column, "ops": ops},
                ))
        return skipped
    for table in INDEXED:
        for statement in _sqlite_ddl(table):
            conn.execute(sa.text(statement))
        conn.execute(sa.DDL("INSERT INTO %(index)s(%(index)s) VALUES ('rebuild')",
                            context={"index": f"{table}_search"}))
    return skipped


def _sqlite_ddl(table: str) -> list[str]:
    index = f"{table}_search"
    old = (f"INSERT INTO {index}({index}, rowid, name, sku) "
           "VALUES ('delete', OLD.id, OLD.name, OLD.sku);")
    new = f"INSERT INTO {index}(rowid, name, sku) VALUES (NEW.id, NEW.name, NEW.sku);"
    return [
        f"CREATE VIRTUAL TABLE {index} USING fts5("
        f"name, sku, content='{table}', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {index}_insert AFTER INSERT ON {table} BEGIN {new} END",
        f"CREATE TRIGGER {index}_delete AFTER DELETE ON {table} BEGIN {old} END",
        f"CREATE TRIGGER {index}_update AFTER UPDATE OF name, sku ON {table} "
        f"BEGIN {old} {new} END",
    ]


def drop(conn: sa.Connection) -> None:
    for table in INDEXED:
        if conn.dialect.name == "postgresql":
            for column in ("name", "sku"):
                conn.execute(sa.DDL("DROP INDEX IF EXISTS ix_%(table)s_%(column)s_trgm",
                                    context={"table": table, "column": column}))
            continue
        for trigger in ("insert", "delete", "update"):
            conn.execute(sa.DDL("DROP TRIGGER IF EXISTS %(table)s_search_%(trigger)s",
                                context={"table": table, "trigger": trigger}))
        conn.execute(sa.DDL("DROP TABLE IF EXISTS %(table)s_search", context={"table": table}))


def is_search_object(name: Any) -> bool:
    """Whether a table or index belongs to the search index (schema comparisons skip it)."""
    return isinstance(name, str) and name.startswith(SEARCH_OBJECTS)


__all__ = [
    "INDEXED",
    "MIN_INDEXED",
    "SEARCH_OBJECTS",
    "BulkIndex",
    "bulk",
    "contains",
    "create",
    "drop",
    "is_search_object",
    "like_pattern",
    "line_candidates",
]
