"""One order's statements in three round trips on PostgreSQL (reads, writes, commit).

:meth:`backorder.engine.StoreService.place_order` waited for the server after each of
its statements: the order-id lookup, the items read, the order insert (for its id), the
lines, the ledger rows, each item written, the events, the storefront rows, the commit.
Here, on PostgreSQL:

- :func:`find`: the transaction's ``BEGIN`` and one statement reading both whether the
  order id is taken and the items go out together (psycopg's pipeline mode): one round
  trip;
- :func:`save_order` switches the transaction into pipeline mode (:mod:`.pg_pipeline`);
  the order and its lines are one statement (the lines take the id the order's insert
  returns), so nothing waits for it. The ledger rows, the item writes
  (:func:`write_item`), the events and the storefront rows after it queue too, and
  :meth:`Database.transaction <backorder.storage.db.Database.transaction>` sends them
  with one Sync before it commits, checking then that every conditional item write
  matched its row (else :class:`VersionConflict`: the order is run again, as before).

The rows written are exactly those of :mod:`backorder.storage.fastpath`, which every
other database (SQLite) still uses: each function here falls back to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from backorder.models import ItemState, OrderResult
from backorder.storage import fastpath, pg_pipeline
from backorder.storage.fastpath import driver
from backorder.storage.fastpath.orders import (
    changed_fields,
    item_reader,
    line_rows,
    update_item_params,
    update_item_sql,
)
from backorder.storage.records import Loaded, VersionConflict
from backorder.storage.schema import ITEM_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS


@lru_cache(maxsize=64)
def _find_sql(skus: int) -> str:
    """Whether the order id is taken, beside each item's row (one row of NULLs if none)."""
    items = f"SELECT {', '.join(ITEM_COLUMNS)} FROM items WHERE store = %s" + (
        f" AND sku IN ({', '.join(['%s'] * skus)})" if skus else " AND false"
    )
    return (
        "SELECT EXISTS (SELECT 1 FROM orders WHERE store = %s AND order_id = %s), i.* "
        f"FROM (VALUES (1)) AS one LEFT JOIN ({items}) AS i ON true ORDER BY i.sku"
    )


def _postgres(conn: sa.Connection) -> bool:
    return conn.dialect.name == "postgresql"


def find(
    conn: sa.Connection, store: str, order_id: str, skus: Iterable[str]
) -> tuple[bool, dict[str, Loaded]]:
    """Whether the store has the order id already, and (if not) its items by SKU, like
    :func:`fastpath.order_exists` then :func:`fastpath.load_items` (no row locks taken:
    the item writes are conditional on the version read)."""
    if not _postgres(conn):
        if fastpath.order_exists(conn, store, order_id):
            return True, {}
        return False, fastpath.load_items(conn, store, skus)
    skus = list(skus)
    dialect = conn.dialect
    own_begin = pg_pipeline.begin_in_pipeline(conn)
    with pg_pipeline.driver_connection(conn).pipeline():
        if own_begin:
            driver.cursor(conn).execute("BEGIN")
        params = (store, order_id, store, *skus)
        cur = driver.run(conn, driver.cursor(conn), _find_sql(len(skus)), params)
    rows = cur.fetchall()
    cur.close()
    found = bool(rows[0][0])
    loaded: dict[str, Loaded] = {}
    read = item_reader(dialect)
    for row in rows:
        if row[1] is not None:  # (no item found: one row of NULLs)
            row_id, version, item = read(row[1:])
            loaded[item.sku] = Loaded(row_id, version, item)
    return found, loaded


@lru_cache(maxsize=64)
def _save_sql(lines: int) -> str:
    """The order and its lines in one statement: the lines take the id the order's insert
    returns, so nothing waits for it."""
    order = driver.insert_sql(POSTGRESQL, "orders", ORDER_COLUMNS) + " RETURNING id"
    if not lines:
        return order
    row = "((SELECT id FROM placed), " + ", ".join(["%s"] * (len(LINE_COLUMNS) - 1)) + ")"
    return (
        f"WITH placed AS ({order}) INSERT INTO order_lines ({', '.join(LINE_COLUMNS)}) "
        "VALUES " + ", ".join([row] * lines)
    )


POSTGRESQL = postgresql.dialect()


def save_order(
    conn: sa.Connection,
    store: str,
    result: OrderResult,
    *,
    placed_at: dt.datetime,
    customer_email: str | None,
    names: dict[str, str],
) -> None:
    """:func:`fastpath.save_order`; on PostgreSQL one statement, queued in the
    transaction's pipeline, which stays open for the statements after it."""
    if not (_postgres(conn) and pg_pipeline.start(conn)):
        fastpath.save_order(
            conn, store, result, placed_at=placed_at, customer_email=customer_email,
            names=names,
        )
        return
    dialect = conn.dialect
    order = (store, result.order_id, placed_at, customer_email, result.accepted, result.errors)
    params = list(driver.bind_rows(dialect, "orders", ORDER_COLUMNS, [order])[0])
    lines = driver.bind_rows(dialect, "order_lines", LINE_COLUMNS[1:], line_rows(result, names))
    for line in lines:
        params += line
    cur = driver.cursor(conn)
    driver.run(conn, cur, _save_sql(len(lines)), params)
    cur.close()


def write_item(conn: sa.Connection, loaded: Loaded, new: ItemState, at: dt.datetime) -> bool:
    """:func:`fastpath.write_item`; in a pipeline, the check that it matched its row (the
    version read) is made at the sync."""
    if not pg_pipeline.active(conn):
        return fastpath.write_item(conn, loaded, new, at)
    changed = changed_fields(loaded.item, new)
    if not changed:
        return False
    dialect = conn.dialect
    columns, params = update_item_params(dialect, changed, loaded.row_id, loaded.version, at)
    cur = driver.cursor(conn)
    driver.run(conn, cur, update_item_sql(dialect, columns), params)
    pg_pipeline.expect_rows(conn, cur, 1, VersionConflict(new.sku))
    return True
