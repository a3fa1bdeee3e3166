"""The CSV import's set-based statements, on the transaction's own DBAPI connection.

An import reads and writes up to millions of rows, so it uses :mod:`.driver` (plain SQL
with the driver's placeholders and the columns' own type processors, cursor listeners
honoured): rows are stored exactly as SQLAlchemy would store them, and commit or roll
back with the rest of the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from backorder.storage.fastpath import driver
from backorder.storage.records import VersionConflict
from backorder.storage.schema import ITEM_STATE_COLUMNS

IN_CHUNK = 900
"""SKUs per ``IN (...)`` list: below SQLite's historical 999-parameter limit."""

ITEM_COLUMNS = (
    "id",
    "version",
    *(column for column in ITEM_STATE_COLUMNS if column != "platform_level"),
    "category",
    "brand",
)
"""What an import reads of each item (the platform's own count it never needs)."""

class ImportItem(NamedTuple):
    """An item as an import reads it: one field per column of :data:`ITEM_COLUMNS` (spelled
    out for the type checker; ``tests/test_import_columns.py`` holds them equal), values as
    the driver returns them (SQLite: dates as text, booleans as 0/1)."""

    id: int
    version: int
    sku: str
    product_id: str | None
    variant_id: str | None
    name: str
    assigned: Any
    tracked: Any
    on_hand: int
    incoming_qty: int
    back_in_stock_date: Any
    state: str
    disabled_reason: str | None
    purchasing_disabled: Any
    overrides: Any
    category: str | None
    brand: str | None

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


class ImportStatements:
    """The statements of one import on one connection (one cursor, closed by :meth:`close`)."""

    def __init__(
        self, conn: sa.Connection, *, lock: bool = False, need: Collection[str] = ITEM_COLUMNS
    ) -> None:
        self.conn = conn
        self.columns = ", ".join(
            c if c in need or c not in _STAND_INS else f"{_STAND_INS[c]} AS {c}"
            for c in ITEM_COLUMNS
        )
        self.dialect = conn.dialect
        self.sqlite = self.dialect.name == "sqlite"
        self.mark = driver.mark(self.dialect)
        self.lock = lock and not self.sqlite
        self.cursor = driver.cursor(conn)
        self.bind_date: Callable[[Any], Any] = driver.processor(
            self.dialect, "items", "back_in_stock_date"
        )
        self.load_date: Callable[[Any], Any] = driver.processor(
            self.dialect, "items", "back_in_stock_date", result=True
        )
        self.bind_json: Callable[[Any], Any] = driver.processor(self.dialect, "items", "overrides")
        self._bool_literal = sa.Boolean().literal_processor(self.dialect)

    def _run(self, sql: str, params: Any, *, many: bool = False) -> None:
        driver.run(self.conn, self.cursor, sql, params, many=many)

    def _marks(self, n: int) -> str:
        return ", ".join([self.mark] * n)

    def _items_in(
        self, store: str, column: str, values: Sequence[str], also: str = "", params: tuple = ()
    ) -> Iterator[ImportItem]:
        """Items whose ``column`` is one of ``values`` (asked in ``IN`` lists of 900),
        narrowed by the SQL ``also`` and its ``params``; locked on PostgreSQL.

        Locks are taken in one order whatever the file's row order: the values sorted
        into their chunks and, by SKU, the rows within a chunk, so two imports of the same
        SKUs queue instead of deadlocking (issue 20, item 8)."""
        values = sorted(set(values))
        if self.lock and not also:
            also = f" ORDER BY {column}"
        for i in range(0, len(values), IN_CHUNK):
            chunk = values[i : i + IN_CHUNK]
            sql = (
                f"SELECT {self.columns} FROM items WHERE store = {self.mark} "
                f"AND {column} IN ({self._marks(len(chunk))}){also}"
            )
            if self.lock:
                sql += " FOR UPDATE"
            self._run(sql, (store, *chunk, *params))
            yield from map(ImportItem._make, self.cursor.fetchall())

    def load(self, store: str, skus: Sequence[str]) -> dict[str, ImportItem]:
        """Items by SKU."""
        return {item.sku: item for item in self._items_in(store, "sku", skus)}

    def unassigned_of_products(self, store: str, product_ids: Sequence[str]) -> list[ImportItem]:
        """Unassigned items of some products (the siblings an assign import takes along)."""
        also = f" AND assigned = {self.mark} ORDER BY id"
        return list(self._items_in(store, "product_id", product_ids, also, (False,)))

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
