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
from backorder.storage import item_search, records
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


# ------------------------------------------------------------ bulk writes (the CSV import)
def fts_consistent(db: Database) -> None:
    """SQLite's own check that the FTS5 index holds exactly the rows of ``items``."""
    with db.transaction() as conn:
        conn.exec_driver_sql(
            "INSERT INTO items_search(items_search, rank) VALUES ('integrity-check', 1)")


def search_triggers(db: Database) -> set[str]:
    with db.read() as conn:
        return set(conn.scalars(sa.text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'items' "
            "AND name LIKE 'items_search%'")))


def test_a_bulk_import_is_found_by_the_names_and_skus_it_wrote(backorder_db):
    """The import writes the index set-based (its triggers paused in its transaction):
    new items, renamed ones, and untouched ones are all found as they now are."""
    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.imports import import_csv
    from backorder.models import ItemInput

    triggers = search_triggers(backorder_db)
    assert triggers == {"items_search_insert", "items_search_update", "items_search_delete"}
    service = StoreService(backorder_db, StoreConfig(name="s"))
    service.upsert_catalog([ItemInput(sku="OLD-1", name="Brass lamp", assigned=False),
                            ItemInput(sku="OLD-2", name="Oak table")], at=AT)
    rows = "".join(f"NEW-{n:04d},Walnut chair {n},1\r\n" for n in range(1500))
    import_csv(service, f"SKU,Name,Stock\r\nOLD-1,Copper lamp,3\r\n{rows}".encode(),
               mode="assign", name="bulk.csv")
    assert found(backorder_db, "s", "brass") == []
    assert found(backorder_db, "s", "copper") == ["OLD-1"]
    assert found(backorder_db, "s", "oak t") == ["OLD-2"]
    assert found(backorder_db, "s", "chair 1499") == ["NEW-1499"]
    assert found(backorder_db, "s", "new-0007") == ["NEW-0007"]
    with backorder_db.read() as conn:  # (a page holds 1,000: count through the index)
        assert conn.scalar(sa.select(sa.func.count()).select_from(items).where(
            item_search.contains("sqlite", "walnut"))) == 1500
    # an update import renaming rows it inserted earlier and older ones
    import_csv(service, b"SKU,Name\r\nNEW-0001,Maple stool\r\nOLD-2,Pine table\r\n",
               mode="update", name="rename.csv")
    assert found(backorder_db, "s", "maple") == ["NEW-0001"]
    assert found(backorder_db, "s", "pine") == ["OLD-2"]
    assert found(backorder_db, "s", "oak") == []
    fts_consistent(backorder_db)
    assert search_triggers(backorder_db) == triggers  # back, for every other writer


def test_a_refused_import_leaves_the_index_and_its_triggers_as_they_were(backorder_db):
    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.errors import BackorderError
    from backorder.imports import import_csv
    from backorder.models import ItemInput

    service = StoreService(backorder_db, StoreConfig(name="s"))
    service.upsert_catalog([ItemInput(sku="OLD-1", name="Brass lamp")], at=AT)
    with pytest.raises(BackorderError):  # a bad row: the whole file is refused
        import_csv(service, b"SKU,Name,Stock\r\nOLD-1,Copper lamp,3\r\nNEW-1,Chair,x\r\n",
                   mode="assign", name="bad.csv")
    assert found(backorder_db, "s", "brass") == ["OLD-1"]
    assert found(backorder_db, "s", "chair") == []
    assert len(search_triggers(backorder_db)) == 3
    fts_consistent(backorder_db)


def test_a_raw_one_row_write_after_an_import_is_still_indexed(backorder_db):
    """Outside a bulk path the triggers keep the index: a hand-written INSERT and UPDATE
    (an integrator's SQL, here through a plain sqlite3 connection) are found."""
    import sqlite3

    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.imports import import_csv

    service = StoreService(backorder_db, StoreConfig(name="s"))
    import_csv(service, b"SKU,Name,Stock\r\nNEW-1,Walnut chair,1\r\n", mode="assign",
               name="one.csv")
    raw = sqlite3.connect(backorder_db.engine.url.database, isolation_level=None)
    try:
        raw.execute("INSERT INTO items (store, sku, name, overrides, updated_at) "
                    "VALUES ('s', 'RAW-1', 'Velvet sofa', '{}', '2026-01-01 00:00:00.000000')")
        raw.execute("UPDATE items SET name = 'Linen chair' WHERE sku = 'NEW-1'")
    finally:
        raw.close()
    assert found(backorder_db, "s", "velvet") == ["RAW-1"]
    assert found(backorder_db, "s", "linen") == ["NEW-1"]
    assert found(backorder_db, "s", "walnut") == []
    fts_consistent(backorder_db)


def test_an_import_writes_its_items_without_the_per_row_search_trigger(backorder_db):
    """What makes a bulk import fast: SQLite compiles no FTS5 or status trigger into the
    import's INSERT of items (seen through the authorizer, which names the trigger behind each
    access while a statement is compiled), while a one-row write still has it."""
    import sqlite3

    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.imports import import_csv
    from backorder.models import ItemInput

    by_trigger: list[str] = []

    def watch(action, arg1, arg2, db_name, trigger):
        if trigger and (action, arg1) in ((sqlite3.SQLITE_INSERT, "items_search"),
                                          (sqlite3.SQLITE_UPDATE, "items")):
            by_trigger.append(trigger)  # the search index's, the stored status's
        return sqlite3.SQLITE_OK

    def on_begin(conn):
        conn.connection.dbapi_connection.set_authorizer(watch)

    sa.event.listen(backorder_db.engine, "begin", on_begin)
    service = StoreService(backorder_db, StoreConfig(name="s"))
    import_csv(service, b"SKU,Name,Stock\r\nNEW-1,Walnut chair,1\r\nNEW-2,Oak chair,2\r\n",
               mode="assign", name="bulk.csv")
    assert by_trigger == []
    assert found(backorder_db, "s", "chair") == ["NEW-1", "NEW-2"]
    service.upsert_catalog([ItemInput(sku="ONE-1", name="Brass lamp")], at=AT)
    assert {"items_search_insert", "items_status_insert"} <= set(by_trigger)
    assert found(backorder_db, "s", "brass") == ["ONE-1"]


def test_a_batch_of_orders_is_found_by_its_lines_names(backorder_db, monkeypatch):
    """A big batch (here any batch) writes its lines' search index set-based; the report
    search finds them, the index matches the lines, and the triggers are back."""
    from backorder import report
    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.models import ItemInput, LineRequest, OrderIn
    from backorder.storage.fastpath import orders as fast_orders

    monkeypatch.setattr(fast_orders, "SEARCH_BULK_LINES", 1)
    service = StoreService(backorder_db, StoreConfig(name="s"))
    service.upsert_catalog([ItemInput(sku="LAMP-1", name="Brass lamp"),
                            ItemInput(sku="MUG-1", name="Blue mug")], at=AT)
    service.place_orders([
        OrderIn(order_id=f"o{n}", placed_at=AT, lines=[
            LineRequest(sku="LAMP-1", qty=1, name=f"Lamp gift {n}"),
            LineRequest(sku="MUG-1", qty=1)])
        for n in range(3)
    ])
    rows = report.backorder_report(service, search="gift 2", refresh=False)
    assert [(r.sku, r.order_id) for r in rows] == [("LAMP-1", "o2")]
    assert {r.order_id for r in report.backorder_report(service, search="mug-1",
                                                        refresh=False)} == {"o0", "o1", "o2"}
    with backorder_db.transaction() as conn:
        conn.exec_driver_sql("INSERT INTO order_lines_search(order_lines_search, rank) "
                             "VALUES ('integrity-check', 1)")
    with backorder_db.read() as conn:
        assert set(conn.scalars(sa.text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'order_lines_search%'"))) == {
            "order_lines_search_insert", "order_lines_search_update",
            "order_lines_search_delete"}
