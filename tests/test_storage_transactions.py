"""A write transaction is all or nothing, whichever layer its statements go through.

On SQLite, ``Database.transaction`` begins and commits at the driver (the order path's
statements are the driver's); a SQLAlchemy statement inside it joins the same transaction.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from core_support import T0

from backorder.storage.db import Database
from backorder.storage.fastpath import driver
from backorder.storage.schema import events


@pytest.fixture(autouse=True)
def clean(db):
    """PostgreSQL's schema lives for the whole session: this module's rows start empty."""
    with db.transaction() as conn:
        conn.execute(events.delete().where(events.c.store == "txn"))


COLUMNS = ("store", "type", "sku", "data", "at")


def _driver_write(conn: sa.Connection, sku: str) -> None:
    driver.insert(conn, "events", COLUMNS, [("txn", "order_backordered", sku, {}, T0)])


def _write_both(conn: sa.Connection, tag: str) -> None:
    """One events row through the driver, one through SQLAlchemy."""
    _driver_write(conn, f"{tag}-driver")
    conn.execute(events.insert().values(
        store="txn", type="order_backordered", sku=f"{tag}-sqlalchemy", data={}, at=T0))


def _skus(db: Database) -> list[str]:
    with db.read() as conn:
        return sorted(conn.execute(
            sa.select(events.c.sku).where(events.c.store == "txn")).scalars())


def test_statements_of_both_layers_commit_together(db):
    with db.transaction() as conn:
        _write_both(conn, "kept")
    assert _skus(db) == ["kept-driver", "kept-sqlalchemy"]
    with db.transaction() as conn:  # the kept connection is usable again, driver-only too
        _driver_write(conn, "again")
    assert _skus(db) == ["again", "kept-driver", "kept-sqlalchemy"]


@pytest.mark.parametrize("sqlalchemy_first", [False, True])
def test_a_failure_midway_leaves_nothing_of_either_layer(db, sqlalchemy_first):
    with pytest.raises(RuntimeError), db.transaction() as conn:
        if sqlalchemy_first:
            conn.execute(sa.select(1))
        _write_both(conn, "lost")
        raise RuntimeError("the change failed after writing")
    assert _skus(db) == []
    with db.transaction() as conn:  # and the next transaction starts clean
        _write_both(conn, "next")
    assert _skus(db) == ["next-driver", "next-sqlalchemy"]


def test_a_listener_on_begin_hears_every_write_transaction(db):
    heard = []

    def hear(conn):
        heard.append(conn)

    sa.event.listen(db.engine, "begin", hear)
    try:
        with db.transaction() as conn:
            _write_both(conn, "heard")
        with db.transaction() as conn:
            _driver_write(conn, "driver-only")
    finally:
        sa.event.remove(db.engine, "begin", hear)
    assert len(heard) == 2
    assert _skus(db) == ["driver-only", "heard-driver", "heard-sqlalchemy"]
