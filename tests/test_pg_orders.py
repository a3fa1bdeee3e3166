"""One order on PostgreSQL in three round trips (``storage.pg_orders``, ``storage.pg_pipeline``),
with every check the order path made before: a write that lost its race, an order id taken
meanwhile, a failed transaction rolled back whole."""

from __future__ import annotations

import tempfile
import uuid

import psycopg
import pytest
import sqlalchemy as sa

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import ItemInput, LineRequest, OrderIn
from backorder.storage import records
from backorder.storage.db import Database


@pytest.fixture
def service(pg_url):
    service = StoreService(Database(pg_url), StoreConfig(name=f"pgo-{uuid.uuid4().hex[:8]}"))
    service.upsert_catalog([ItemInput(sku=s, name=s, on_hand=10) for s in ("A", "B", "C")])
    yield service
    service.db.dispose()


def order(order_id: str, *lines: tuple[str, int]) -> OrderIn:
    return OrderIn(order_id=order_id, lines=[LineRequest(sku=s, qty=q) for s, q in lines])


def driver_connection(service: StoreService) -> psycopg.Connection:
    """The psycopg connection this thread's write transactions use."""
    with service.db.transaction() as conn:
        return conn.connection.driver_connection


def other_connection(service: StoreService) -> sa.Connection:
    """Another connection on the same database (and test schema), as another process."""
    return service.db.engine.connect()


def test_an_order_costs_three_round_trips(service):
    service.place_order(order("warm", ("C", 1)))
    dbapi = driver_connection(service)
    with tempfile.TemporaryFile("w+") as trace:
        dbapi.pgconn.trace(trace.fileno())
        result = service.place_order(order("o1", ("A", 2), ("B", 12), ("A", 1)))
        dbapi.pgconn.untrace()
        trace.seek(0)
        waits = sum("\tB\t" in line and "ReadyForQuery" in line for line in trace)
    assert result.accepted and [line.backordered for line in result.lines] == [0, 2, 0]
    # BEGIN + the order id + the items; every write; COMMIT (it was ten, one per statement)
    assert waits == 3
    assert service.item("A").on_hand == 7 and service.item("B").on_hand == -2


def test_a_write_that_lost_its_race_is_caught_at_the_sync_and_the_order_runs_again(service):
    """Another process takes units of A between our read and our pipelined write: our
    conditional write matches no row, so the order is run again on the new stock."""
    state = {"raced": 0}

    def race(conn, cursor, statement, params, context, many):
        if statement.startswith("UPDATE items") and not state["raced"]:
            state["raced"] = 1
            with other_connection(service) as other, other.begin():
                other.exec_driver_sql(
                    "UPDATE items SET on_hand = on_hand - 9, version = version + 1 "
                    "WHERE store = %s AND sku = 'A'", (service.name,)
                )

    sa.event.listen(service.db.engine, "before_cursor_execute", race)
    result = service.place_order(order("o1", ("A", 3)))
    sa.event.remove(service.db.engine, "before_cursor_execute", race)
    assert state["raced"] == 1
    # decided again on the 1 unit left: 1 in stock, 2 backordered (not 3 in stock)
    assert [(line.in_stock, line.backordered) for line in result.lines] == [(1, 2)]
    assert service.item("A").on_hand == 10 - 9 - 3
    with service.db.read() as conn:  # booked once: one order row, one ledger row
        assert records.load_order(conn, service.name, "o1") == result.model_copy(
            update={"duplicate": False}
        )
        movements = conn.exec_driver_sql(
            "SELECT count(*) FROM movements WHERE store = %s AND kind = 'order'",
            (service.name,),
        ).scalar_one()
    assert movements == 1


def test_an_order_id_taken_meanwhile_returns_the_first_answer(service):
    """The same order id committed by another process while ours is queued: the unique
    key fails at the sync, the retry finds the order and answers it as a duplicate."""
    rival = StoreService(Database(service.db.url, migrate=False), service.store)
    state = {"raced": 0}

    def race(conn, cursor, statement, params, context, many):
        if "INSERT INTO orders" in statement and not state["raced"]:
            state["raced"] = 1
            rival.place_order(order("o1", ("B", 4)))

    sa.event.listen(service.db.engine, "before_cursor_execute", race)
    try:
        result = service.place_order(order("o1", ("B", 4)))
    finally:
        sa.event.remove(service.db.engine, "before_cursor_execute", race)
        rival.db.dispose()
    assert state["raced"] == 1
    assert result.duplicate and result.accepted
    assert service.item("B").on_hand == 6  # taken once


def test_a_failed_transaction_after_an_order_still_rolls_back_whole(service):
    """The order path sends BEGIN itself (psycopg's autocommit switched on for that
    transaction): the next transaction must be an ordinary one again."""
    service.place_order(order("o1", ("A", 1)))
    with pytest.raises(RuntimeError), service.db.transaction() as conn:
        conn.exec_driver_sql(
            "UPDATE items SET on_hand = 0 WHERE store = %s AND sku = 'A'", (service.name,)
        )
        raise RuntimeError("the caller failed")
    assert service.item("A").on_hand == 9
    assert driver_connection(service).autocommit is False


def test_a_sqlalchemy_statement_inside_the_write_pipeline_sees_the_queued_writes(service):
    """A statement through SQLAlchemy (a push queued, a record read) ends the pipeline
    first: it reads what the order wrote so far."""
    seen = {}

    def peek(conn, cursor, statement, params, context, many):
        if statement.startswith("INSERT INTO storefront_items") and not seen:
            seen["lines"] = conn.execute(
                sa.text("SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_pk "
                        "WHERE o.store = :s AND o.order_id = 'o1'"), {"s": service.name}
            ).scalar_one()

    sa.event.listen(service.db.engine, "before_cursor_execute", peek)
    try:
        service.place_order(order("o1", ("A", 1), ("C", 2)))
    finally:
        sa.event.remove(service.db.engine, "before_cursor_execute", peek)
    assert seen == {"lines": 2}


def test_unknown_skus_and_a_replayed_order_read_in_the_one_statement(service):
    """The one read answers both questions: no item found (a row of NULLs) and the order
    id taken (the replay returns the first answer, nothing booked twice)."""
    unknown = service.place_order(order("o1", ("NOPE", 1)))
    assert not unknown.accepted and "NOPE" in unknown.errors[0]
    first = service.place_order(order("o2", ("A", 2), ("NOPE", 1)))
    again = service.place_order(order("o2", ("A", 2), ("NOPE", 1)))
    assert again.duplicate and again.model_copy(update={"duplicate": False}) == first
    placed = service.place_order(order("o3", ("A", 2)))
    assert placed.accepted and service.place_order(order("o3", ("A", 2))).duplicate
    assert service.item("A").on_hand == 8  # o2 refused whole (an unknown line), o3 once


def test_an_autocommit_engine_is_left_in_autocommit(pg_url):
    """An embedding application's engine in autocommit keeps it: the order path neither
    switches it off nor queues statements outside a transaction."""
    db = Database(pg_url, isolation_level="AUTOCOMMIT")
    service = StoreService(db, StoreConfig(name=f"pgo-{uuid.uuid4().hex[:8]}"))
    try:
        service.upsert_catalog([ItemInput(sku="A", on_hand=5)])
        assert service.place_order(order("o1", ("A", 2))).accepted
        assert service.item("A").on_hand == 3
        assert driver_connection(service).autocommit is True
    finally:
        db.dispose()
