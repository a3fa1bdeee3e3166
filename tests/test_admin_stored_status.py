"""The status stored on each item row is the rules' status after any write, on both databases.

The web app counts and filters items by ``items.status`` (kept by triggers, migration
0009). Any sequence of what changes items (orders one by one and in a batch, stock set
and adjusted, backorders switched by hand, the tick receiving stock, edits of settings
and purchasability, assign and unassign, catalog loads, CSV imports, a hand-written
``UPDATE``, the store's defaults edited): after each step every item's stored status
equals :func:`backorder.rules.view`'s. A write path that bypassed the triggers, or a
trigger that drifted from the rules, shows up here as a merchant would see it: a status
count that disagrees with the item's own page.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import sqlalchemy as sa
from core_support import T0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorder.admin import queries
from backorder.config import StoreConfig
from backorder.engine import ItemEdit, StoreService
from backorder.errors import BackorderError
from backorder.imports import import_csv
from backorder.models import BackorderPolicy, ItemInput, LineRequest, OrderIn, StoreSettings
from backorder.storage import item_status
from backorder.storage.db import Database
from backorder.storage.schema import items

SKUS = ["A", "B", "C", "D"]
_stores = itertools.count()
small = st.integers(0, 4)

policies = st.builds(
    BackorderPolicy,
    mode=st.sampled_from(["off", "silent", "notify"]),
    threshold=st.none() | small,
    low_stock_level=small,
    out_of_stock_threshold=small,
)
store_settings = st.builds(
    StoreSettings,
    switch_condition=st.integers(-1, 3),
    over_threshold=st.sampled_from(["refuse", "clamp"]),
    defaults=policies,
)
sku = st.sampled_from(SKUS)
edits = st.fixed_dictionaries(
    {},
    optional={
        "on_hand": st.integers(-4, 6),
        "tracked": st.booleans(),
        "purchasing_disabled": st.booleans(),
        "mode": st.sampled_from(["off", "silent", "notify"]),
        "threshold": st.none() | small,
        "low_stock_level": small,
        "out_of_stock_threshold": small,
        "use_default": st.lists(
            st.sampled_from(["mode", "threshold", "low_stock_level", "out_of_stock_threshold"]),
            max_size=2, unique=True,
        ),
    },
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.lists(st.tuples(sku, st.integers(1, 6)), min_size=1,
                                             max_size=3)),
        st.tuples(st.just("batch"), st.lists(st.tuples(sku, st.integers(1, 6)), min_size=1,
                                             max_size=4)),
        st.tuples(st.just("adjust"), sku, st.integers(-3, 6)),
        st.tuples(st.just("set"), sku, st.integers(-2, 6)),
        st.tuples(st.sampled_from(["enable", "disable"]), sku),
        st.tuples(st.just("tick"), st.integers(0, 9)),
        st.tuples(st.just("edit"), sku, edits),
        st.tuples(st.just("unassign"), sku, st.sampled_from(["keep", "track",
                                                             "not_purchasable"])),
        st.tuples(st.just("assign"), sku),
        st.tuples(st.just("catalog"), st.integers(-2, 4)),
        st.tuples(st.just("import"), sku, st.integers(-2, 6), st.sampled_from(["", "2",
                                                                               "unlimited"])),
        st.tuples(st.just("sql"), sku, st.integers(-3, 3)),
        st.tuples(st.just("defaults"), policies),
    ),
    max_size=14,
)


def new_store(db: Database, store_settings: StoreSettings) -> StoreService:
    service = StoreService(db, StoreConfig(name=f"st{next(_stores)}", settings=store_settings))
    service.upsert_catalog(
        [
            ItemInput(sku="A", product_id="p1", on_hand=2, incoming_qty=3,
                      back_in_stock_date=T0 + dt.timedelta(days=3)),
            ItemInput(sku="B", product_id="p1", on_hand=0, threshold=2),
            ItemInput(sku="C", on_hand=-1, tracked=True, low_stock_level=3, incoming_qty=5,
                      back_in_stock_date=T0 + dt.timedelta(days=6)),
            ItemInput(sku="D", assigned=False, on_hand=1),
        ],
        at=T0,
    )
    item_status.ensure(db, service.name, service.settings)  # as a store page does first
    return service


def stored_statuses(service: StoreService) -> dict[str, str | None]:
    with service.db.read() as conn:
        query = sa.select(items.c.sku, items.c.status).where(items.c.store == service.name)
        return dict(conn.execute(query).all())


def rules_statuses(service: StoreService) -> dict[str, str]:
    return {view.sku: view.status.value for view in service.items()}


def step(service: StoreService, n: int, op: tuple) -> StoreService:
    """Apply one operation; returns the service (a new one when the defaults changed)."""
    at = T0 + dt.timedelta(hours=n)
    kind = op[0]
    try:
        if kind in ("order", "batch"):
            order = OrderIn(order_id=f"o{n}", placed_at=at,
                            lines=[LineRequest(sku=s, qty=q) for s, q in op[1]])
            if kind == "order":
                service.place_order(order)
            else:
                service.place_orders([order, order.model_copy(update={"order_id": f"o{n}b"})])
        elif kind == "adjust":
            service.adjust_stock(op[1], op[2], key=f"a{n}", at=at)
        elif kind == "set":
            service.set_stock(op[1], op[2], key=f"s{n}", at=at)
        elif kind in ("enable", "disable"):
            getattr(service, kind)([op[1]], at=at)
        elif kind == "tick":
            service.tick(T0 + dt.timedelta(days=op[1]))
        elif kind == "edit":
            service.edit(op[1], ItemEdit(**op[2]), key=f"e{n}", at=at)
        elif kind == "unassign":
            service.unassign([op[1]], op[2], at=at)
        elif kind == "assign":
            service.assign([op[1]], at=at)
        elif kind == "catalog":
            service.upsert_catalog([ItemInput(sku=f"N{n}", on_hand=op[1])], at=at)
        elif kind == "import":
            data = f"SKU,Stock,Backorder Threshold\r\n{op[1]},{op[2]},{op[3]}\r\n".encode()
            import_csv(service, data, mode="update", name=f"i{n}.csv")
        elif kind == "sql":  # a hand-written statement: the trigger keeps the status too
            with service.db.transaction() as conn:
                conn.execute(
                    items.update()
                    .where(items.c.store == service.name, items.c.sku == op[1])
                    .values(on_hand=items.c.on_hand + op[2])
                )
        elif kind == "defaults":  # the merchant edits the store defaults
            new = service.settings.model_copy(update={"defaults": op[1]})
            service = StoreService(service.db, StoreConfig(name=service.name, settings=new))
            item_status.ensure(service.db, service.name, service.settings)
    except BackorderError:
        pass  # refused (plan limit, a row the rules reject): nothing changed
    return service


def run(db: Database, store_settings: StoreSettings, ops: list[tuple]) -> None:
    service = new_store(db, store_settings)
    assert stored_statuses(service) == rules_statuses(service)
    for n, op in enumerate(ops):
        service = step(service, n, op)
        assert stored_statuses(service) == rules_statuses(service), op
    with db.read() as conn:  # and the layout's counts read them
        counted = queries.totals(conn, service.name, service.settings).statuses
    views = service.items(assigned=True)
    for name, count in counted.items():
        assert count == sum(1 for v in views if v.status.value == name)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(store_settings=store_settings, ops=operations)
def test_sqlite_stored_status_follows_every_write(tmp_path_factory, store_settings, ops):
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('status')}/s.db")
    try:
        run(db, store_settings, ops)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def pg_db(pg_url):
    db = Database(pg_url)
    yield db
    db.dispose()


@pytest.mark.postgres
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(store_settings=store_settings, ops=operations)
def test_postgresql_stored_status_follows_every_write(pg_db, store_settings, ops):
    run(pg_db, store_settings, ops)


def test_a_store_without_its_defaults_applied_counts_nothing_until_a_page_applies_them(
    backorder_db,
):
    service = StoreService(backorder_db, StoreConfig(name="fresh"))
    service.upsert_catalog([ItemInput(sku="X", on_hand=-2)], at=T0)
    assert stored_statuses(service) == {"X": None}
    assert item_status.ensure(backorder_db, "fresh", service.settings)
    assert stored_statuses(service) == rules_statuses(service) == {"X": "backorder"}
    assert not item_status.ensure(backorder_db, "fresh", service.settings)  # only a read


def test_a_bulk_import_sets_the_statuses_of_the_items_it_creates_and_changes(backorder_db):
    """The import sets statuses set-based (its status triggers paused in its transaction):
    new items, updated ones and untouched ones all have the rules' status, and the
    triggers are back for the next one-row write."""
    service = new_store(backorder_db, StoreSettings(
        defaults=BackorderPolicy(mode="notify", threshold=3, low_stock_level=2)))
    new_rows = "".join(f"N{n},{n % 7 - 3},{n % 4 or ''}\r\n" for n in range(40))
    import_csv(service, f"SKU,Stock,Backorder Threshold\r\nD,-2,\r\n{new_rows}".encode(),
               mode="assign", name="bulk.csv")
    import_csv(service, b"SKU,Stock\r\nA,-1\r\nN3,5\r\n", mode="update", name="u.csv")
    statuses = stored_statuses(service)
    assert statuses == rules_statuses(service)
    assert len(statuses) == 44 and len(set(statuses.values())) >= 3
    with backorder_db.transaction() as conn:  # a hand-written write: the trigger is back
        conn.execute(items.update().where(items.c.store == service.name, items.c.sku == "B")
                     .values(on_hand=-5))
    assert stored_statuses(service) == rules_statuses(service)


def test_migration_0009_backfills_statuses_and_the_search_index(tmp_path):
    """A database of items from before 0009 gets their statuses (under the model's
    defaults until a page applies the store's) and finds them by name."""
    from backorder.admin.queries import ItemFilter, item_page

    db = Database(f"sqlite:///{tmp_path}/old.db", migrate=False)
    db.migrate("0007")
    with db.transaction() as conn:
        for sku, on_hand, assigned in (("LAMP-1", -2, True), ("MUG-1", 5, False)):
            conn.execute(sa.text(
                "INSERT INTO items (store, sku, name, assigned, tracked, on_hand, incoming_qty,"
                " state, purchasing_disabled, overrides, version, updated_at) VALUES ('old', "
                ":sku, :name, :assigned, 1, :on_hand, 0, 'enabled', 0, '{}', 0, :at)"
            ), {"sku": sku, "name": f"Brass {sku.lower()}", "assigned": assigned,
                "on_hand": on_hand, "at": T0})
    db.migrate()
    try:
        service = StoreService(db, StoreConfig(name="old"))
        assert stored_statuses(service) == rules_statuses(service) == {
            "LAMP-1": "backorder", "MUG-1": "backorder"}
        with db.read() as conn:
            rows, _ = item_page(conn, "old", service.settings, ItemFilter(search="brass lamp"),
                                offset=0, limit=10, count=False)
        assert [row.view.sku for row in rows] == ["LAMP-1"]
    finally:
        db.dispose()
