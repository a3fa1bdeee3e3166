"""SQLite triggers set aside for one transaction's bulk writes, then created again.

Some triggers (the search index's, the stored status's: migration 0009) keep derived data
row by row, which costs a bulk write (a CSV import, a batch of orders) several times its
own statements; the bulk path does the same work set-based instead. It drops the
triggers inside its own transaction and creates them again, from the SQL SQLite stored
for them, before the transaction commits.

Nothing outside the transaction ever sees them missing: SQLite's DDL is transactional,
other connections read the schema as committed (WAL), and the write lock the transaction
holds (``BEGIN IMMEDIATE``) keeps every other writer out until it ends. A transaction that
fails rolls back, the drop with it; so the caller's transaction must roll back on any
exception between :meth:`PausedTriggers.pause` and :meth:`PausedTriggers.restore`
(``StoreService.transact`` does). Every other writer, one-row writes and raw SQL in the
``sqlite3`` shell alike, stays covered by the triggers. (Other connections re-prepare
their statements once after such a transaction: it changed the schema.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa

IN_CHUNK = 900
"""Ids per ``IN (...)`` list: below SQLite's historical 999-parameter limit."""


class PausedTriggers:
    """Named SQLite triggers, dropped by :meth:`pause` and created again by :meth:`restore`
    (both inside the caller's transaction). On PostgreSQL nothing is paused."""

    def __init__(self, conn: sa.Connection, names: Sequence[str]) -> None:
        self.conn, self.names = conn, tuple(names)
        self._sql: list[str] = []  # the dropped triggers' own SQL, while paused

    @property
    def paused(self) -> bool:
        return bool(self._sql)

    def pause(self) -> bool:
        """Drop those of the triggers that exist; returns whether any was."""
        if self.conn.dialect.name != "sqlite" or self.paused:
            return self.paused
        stored: dict[str, str] = dict(self.conn.execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                    "AND name IN :names").bindparams(sa.bindparam("names", expanding=True)),
            {"names": list(self.names)},
        ).all())
        for name in self.names:
            if name in stored:  # (a name SQLite itself gave, quoted)
                quoted = self.conn.dialect.identifier_preparer.quote_identifier(name)
                self.conn.execute(sa.DDL("DROP TRIGGER %(trigger)s", context={"trigger": quoted}))
                self._sql.append(stored[name])
        return self.paused

    def restore(self) -> None:
        for sql in self._sql:
            self.conn.exec_driver_sql(sql)
        self._sql = []


def max_id(conn: sa.Connection, table: str) -> int:
    """The greatest id of ``table`` (0 when empty): rows inserted later have greater ones."""
    return int(conn.scalar(sa.select(sa.func.max(sa.table(table, sa.column("id")).c.id))) or 0)


def id_chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    """``ids`` in lists of at most :data:`IN_CHUNK` (one ``IN`` list each)."""
    for i in range(0, len(ids), IN_CHUNK):
        yield list(ids[i : i + IN_CHUNK])
