"""The item search finds exactly the items whose name or SKU contains the text, through an index.

Migration 0009 narrows a search with a trigram index (FTS5 on SQLite, pg_trgm on
PostgreSQL). Whatever the names, SKUs and search text (short text the index cannot use,
``%``, ``_``, quotes, other case), the list shows what a plain "contains, ignoring case"
shows, and an item renamed or deleted is found under its new name only.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorder.admin.queries import ItemFilter, item_page
from backorder.models import ItemState, StoreSettings
from backorder.storage import records
from backorder.storage.db import Database
from backorder.storage.schema import items

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
alphabet = st.sampled_from(list("abAB 7%_\"'\\-"))
texts = st.text(alphabet, max_size=8)


def found(db: Database, store: str, search: str) -> list[str]:
    with db.read() as conn:
        rows, _ = item_page(conn, store, StoreSettings(), ItemFilter(search=search),
                            offset=0, limit=1000, count=False)
    return [row.view.sku for row in rows]


def check(db: Database, names: list[str], search: str) -> None:
    store = f"q{uuid.uuid4().hex[:12]}"
    with db.transaction() as conn:
        for n, name in enumerate(names):
            records.insert_item(conn, store, ItemState(sku=f"K{n}-{name[:3]}", name=name), AT)
    try:
        with db.read() as conn:
            stored = dict(conn.execute(
                sa.select(items.c.sku, items.c.name).where(items.c.store == store)).all())
        needle = search.lower()
        expected = sorted(sku for sku, name in stored.items()
                          if needle in name.lower() or needle in sku.lower())
        assert found(db, store, search) == expected
    finally:
        with db.transaction() as conn:
            conn.execute(items.delete().where(items.c.store == store))


@settings(max_examples=80, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(names=st.lists(texts, max_size=8), search=texts.filter(bool))
def test_sqlite_search_finds_what_contains_the_text(backorder_db, names, search):
    check(backorder_db, names, search)


@pytest.fixture(scope="module")
def pg_db(pg_url):
    db = Database(pg_url)
    yield db
    db.dispose()


@pytest.mark.postgres
@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(names=st.lists(texts, max_size=8), search=texts.filter(bool))
def test_postgresql_search_finds_what_contains_the_text(pg_db, names, search):
    check(pg_db, names, search)


def test_a_renamed_item_is_found_by_its_new_name_and_a_deleted_one_not_at_all(backorder_db):
    with backorder_db.transaction() as conn:
        records.insert_item(conn, "s", ItemState(sku="LAMP-1", name="Brass lamp"), AT)
        records.insert_item(conn, "s", ItemState(sku="MUG-1", name="Blue mug"), AT)
    assert found(backorder_db, "s", "brass") == ["LAMP-1"]
    with backorder_db.transaction() as conn:
        conn.execute(items.update().where(items.c.sku == "LAMP-1").values(name="Copper lamp"))
        conn.execute(items.delete().where(items.c.sku == "MUG-1"))
    assert found(backorder_db, "s", "brass") == []
    assert found(backorder_db, "s", "copper") == ["LAMP-1"]
    assert found(backorder_db, "s", "blue") == []


def test_sqlite_search_reads_the_trigram_index(backorder_db):
    """The index is what serves a search of 3 characters or more (not a scan of items)."""
    with backorder_db.read() as conn:
        where = ItemFilter(search="lamp").where("s", "sqlite", StoreSettings())
        plan = conn.execute(sa.text("EXPLAIN QUERY PLAN " + str(
            sa.select(items.c.sku).where(*where).compile(
                conn, compile_kwargs={"literal_binds": True})))).all()
    assert any("items_search" in row[-1] and "VIRTUAL TABLE" in row[-1] for row in plan)


def report_check(db: Database, names: list[str], search: str) -> None:
    """The report's search: a line's own name (its item's when it has none) or its SKU."""
    from backorder import report
    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.models import ItemInput, LineRequest, OrderIn
    from backorder.storage.schema import order_lines, orders

    service = StoreService(db, StoreConfig(name=f"r{uuid.uuid4().hex[:12]}"))
    skus = [f"K{n}-{name[:3]}" for n, name in enumerate(names)]
    service.upsert_catalog(
        [ItemInput(sku=sku, name=name) for sku, name in zip(skus, names, strict=True)], at=AT)
    for n, sku in enumerate(skus):  # every other line carries a name of its own
        service.place_order(OrderIn(order_id=f"o{n}", placed_at=AT, lines=[LineRequest(
            sku=sku, qty=1, name=f"line {names[-1 - n]}" if n % 2 else None)]))
    with db.transaction() as conn:  # and some lines were stored without a name
        conn.execute(order_lines.update().where(
            order_lines.c.order_pk.in_(sa.select(orders.c.id).where(
                orders.c.store == service.name, orders.c.order_id.in_(["o0", "o3"])))
        ).values(name=""))
    everything = report.backorder_report(service, refresh=False)
    assert everything
    needle = search.lower()
    expected = [(r.sku, r.order_id) for r in everything
                if needle in r.product_name.lower() or needle in r.sku.lower()]
    found_rows = report.backorder_report(service, search=search, refresh=False)
    assert [(r.sku, r.order_id) for r in found_rows] == expected
    paged = report.report_page(service, search=search, limit=1000)
    assert [(r.sku, r.order_id) for r in paged.records] == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(names=st.lists(texts.filter(bool), min_size=1, max_size=6), search=texts.filter(bool))
def test_sqlite_report_search_finds_what_contains_the_text(backorder_db, names, search):
    report_check(backorder_db, names, search)


@pytest.mark.postgres
@settings(max_examples=20, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(names=st.lists(texts.filter(bool), min_size=1, max_size=6), search=texts.filter(bool))
def test_postgresql_report_search_finds_what_contains_the_text(pg_db, names, search):
    report_check(pg_db, names, search)
