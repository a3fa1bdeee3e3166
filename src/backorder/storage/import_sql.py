"""Set-based statements for CSV imports, on the transaction's own DBAPI connection.

An import reads and writes up to millions of rows, so it uses :mod:`backorder.storage.raw`
(plain SQL with the driver's placeholders and the columns' own type processors, cursor
listeners honoured): rows are stored exactly as SQLAlchemy would store them, and commit
or roll back with the rest of the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from backorder.storage import raw
from backorder.storage.ledger import VersionConflict

IN_CHUNK = 900
"""SKUs per ``IN (...)`` list: below SQLite's historical 999-parameter limit."""

LOAD_COLUMNS = (
    "id",
    "version",
    "sku",
    "product_id",
    "variant_id",
    "name",
    "assigned",
    "tracked",
    "on_hand",
    "incoming_qty",
    "back_in_stock_date",
    "state",
    "disabled_reason",
    "purchasing_disabled",
    "overrides",
    "category",
    "brand",
)
"""What an import reads of each item, in this order (a plain tuple per item)."""

_STAND_INS = {
    "product_id": "NULL",
    "variant_id": "NULL",
    "name": "''",
    "incoming_qty": "0",
    "back_in_stock_date": "NULL",
    "purchasing_disabled": "0",
    "category": "NULL",
    "brand": "NULL",
}
"""Columns an import may not need: read as these constants when it does not (see ``need``)."""

class Sql:
    """The raw statements of one import on one connection."""

    def __init__(
        self, conn: sa.Connection, *, lock: bool = False, need: Sequence[str] = LOAD_COLUMNS
    ) -> None:
        self.conn = conn
        self.columns = ", ".join(
            c if c in need or c not in _STAND_INS else f"{_STAND_INS[c]} AS {c}"
            for c in LOAD_COLUMNS
        )
        self.dialect = conn.dialect
        self.sqlite = self.dialect.name == "sqlite"
        self.mark = raw.mark(self.dialect)
        self.lock = lock and not self.sqlite
        self.cursor = raw.cursor(conn)
        self.bind_date: Callable[[Any], Any] = raw.processor(
            self.dialect, "items", "back_in_stock_date"
        )
        self.load_date: Callable[[Any], Any] = raw.processor(
            self.dialect, "items", "back_in_stock_date", result=True
        )
        self.bind_json: Callable[[Any], Any] = raw.processor(self.dialect, "items", "overrides")
        self._bool_literal = sa.Boolean().literal_processor(self.dialect)

    def _run(self, sql: str, params: Any, *, many: bool = False) -> None:
        raw.run(self.conn, self.cursor, sql, params, many=many)

    def _marks(self, n: int) -> str:
        return ", ".join([self.mark] * n)

    def load(self, store: str, skus: Sequence[str]) -> dict[str, tuple]:
        """Items by SKU (columns :data:`LOAD_COLUMNS`), read in ``IN`` lists of 900."""
        found: dict[str, tuple] = {}
        cols = self.columns
        for i in range(0, len(skus), IN_CHUNK):
            chunk = skus[i : i + IN_CHUNK]
            sql = (
                f"SELECT {cols} FROM items WHERE store = {self.mark} "
                f"AND sku IN ({self._marks(len(chunk))})"
            )
            if self.lock:
                sql += " FOR UPDATE"
            self._run(sql, (store, *chunk))
            for row in self.cursor.fetchall():
                found[row[2]] = row
        return found

    def unassigned_of_products(self, store: str, product_ids: Sequence[str]) -> list[tuple]:
        """Unassigned items of some products (the siblings an assign import takes along)."""
        out: list[tuple] = []
        cols = self.columns
        for i in range(0, len(product_ids), IN_CHUNK):
            chunk = product_ids[i : i + IN_CHUNK]
            sql = (
                f"SELECT {cols} FROM items WHERE store = {self.mark} "
                f"AND product_id IN ({self._marks(len(chunk))}) AND assigned = {self.mark} "
                "ORDER BY id"
            )
            if self.lock:
                sql += " FOR UPDATE"
            self._run(sql, (store, *chunk, False))
            out += self.cursor.fetchall()
        return out

    def any_unassigned_of_products(self, store: str, product_ids: Sequence[str]) -> bool:
        """Whether some unassigned item of these products exists (cheap when none does)."""
        for i in range(0, len(product_ids), IN_CHUNK):
            chunk = product_ids[i : i + IN_CHUNK]
            self._run(
                f"SELECT 1 FROM items WHERE store = {self.mark} "
                f"AND product_id IN ({self._marks(len(chunk))}) AND assigned = {self.mark} "
                "LIMIT 1",
                (store, *chunk, False),
            )
            if self.cursor.fetchone() is not None:
                return True
        return False

    def assigned_products(self, store: str) -> set[str]:
        self._run(
            "SELECT COALESCE(product_id, sku) FROM items "
            f"WHERE store = {self.mark} AND assigned = {self.mark}",
            (store, True),
        )
        return {row[0] for row in self.cursor.fetchall()}

    def update_items(self, columns: Sequence[str], rows: list[tuple]) -> None:
        """``UPDATE items SET <columns>, version + 1, updated_at WHERE id AND version``.

        Each row is ``(*values of columns, updated_at, id, version)``; a row whose version
        moved meanwhile makes the whole import retry (:class:`VersionConflict`).
        """
        if not rows:
            return
        sets = ", ".join(f"{c} = {self.mark}" for c in (*columns, "updated_at"))
        self._run(
            f"UPDATE items SET {sets}, version = version + 1 "
            f"WHERE id = {self.mark} AND version = {self.mark}",
            rows,
            many=True,
        )
        if self.dialect.supports_sane_multi_rowcount and self.cursor.rowcount != len(rows):
            raise VersionConflict("import")

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: list[tuple],
        fixed: Mapping[str, Any] | None = None,
    ) -> None:
        """``executemany`` of rows whose values are already as the driver takes them.

        ``fixed`` gives the columns whose value is the same in every row (the store, the
        import's timestamp, what every new item starts with); the rows carry only
        ``columns``. A fixed ``NULL``, number or boolean is written into the statement once
        instead of being bound with every row (the driver spends about as long binding a
        value as SQLite does storing it); text is always bound, so nothing a merchant
        typed (a store name) ever becomes SQL. The rows stored are the same either way.
        """
        if not rows:
            return
        names, values, tail_names, tail = list(columns), [self.mark] * len(columns), [], []
        for name, value in (fixed or {}).items():
            literal = self._literal(value)
            if literal is None:  # bound with every row, after the row's own values
                tail_names.append(name)
                tail.append(value)
            else:
                names.append(name)
                values.append(literal)
        if tail:
            names += tail_names
            values += [self.mark] * len(tail)
            rows = [(*row, *tail) for row in rows]
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)})"
        self._run(sql, rows, many=True)

    def _literal(self, value: Any) -> str | None:
        """``value`` as an SQL literal storing exactly what binding it stores, or ``None``."""
        if value is None:
            return "NULL"
        kind = type(value)
        if kind is bool:
            return self._bool_literal(value)
        if kind is int and -(2**63) <= value < 2**63:
            return str(value)
        return None

    def movement_exists(self, store: str, key: str) -> bool:
        self._run(
            f"SELECT 1 FROM movements WHERE store = {self.mark} AND idempotency_key = {self.mark}",
            (store, key),
        )
        return self.cursor.fetchone() is not None

    def close(self) -> None:
        self.cursor.close()

    def utc(self, value: Any) -> dt.datetime | None:
        """A stored datetime as an aware UTC datetime."""
        if value is None:
            return None
        value = self.load_date(value) if isinstance(value, str) else value
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
