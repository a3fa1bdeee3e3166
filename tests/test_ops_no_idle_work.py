"""No work for nobody: with every plugin loaded (as the CLI and the server run), a change on
a store whose platform pushes nothing and whose notifiers want nothing writes no push, leaves
no event pending and opens no transaction after its own; notifiers that do listen get their
events in one batch, finished in one transaction."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from backorder.config import StoreConfig
from backorder.engine import ItemEdit, StoreService
from backorder.hookspecs import hookimpl
from backorder.models import BackorderPolicy, ItemInput, LineRequest, OrderIn, StoreSettings
from backorder.storage.schema import event_deliveries, events, push_outbox

AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _service(db, pm, **store) -> StoreService:
    settings = StoreSettings(defaults=BackorderPolicy(threshold=5))
    svc = StoreService(db, StoreConfig(name="shop", settings=settings, **store), pm=pm,
                       clock=lambda: AT)
    svc.upsert_catalog([ItemInput(sku="TENT", on_hand=1), ItemInput(sku="MAT", on_hand=0)])
    return svc


def _order(order_id: str) -> OrderIn:
    return OrderIn(order_id=order_id, lines=[LineRequest(sku="TENT", qty=2),
                                             LineRequest(sku="MAT", qty=1)])


def _begins(db) -> list[int]:
    """A counter of the transactions the database opens from now on."""
    count = [0]
    sa.event.listen(db.engine, "begin", lambda conn: count.__setitem__(0, count[0] + 1))
    return count


def _rows(db, table, *where) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where))
                   .scalar_one())


def test_core_order_with_every_plugin_loaded_is_one_transaction(backorder_db, plugin_manager):
    svc = _service(backorder_db, plugin_manager)
    begins = _begins(backorder_db)
    result = svc.place_order(_order("A1"))
    assert result.accepted and result.lines[0].backordered == 1
    assert begins[0] == 1  # the order's own: no push claimed, no events dispatched
    assert _rows(backorder_db, push_outbox) == 0
    assert _rows(backorder_db, events) >= 2  # order_backordered, backorder_enabled...
    assert svc.outbox.backlog()["events_pending"] == 0


def test_batch_and_tick_and_import_leave_nothing_pending(backorder_db, plugin_manager, tmp_path):
    svc = _service(backorder_db, plugin_manager)
    svc.place_orders([_order("B1"), _order("B2")])
    svc.edit("TENT", ItemEdit(incoming_qty=3, back_in_stock_date=AT - dt.timedelta(days=1)))
    begins = _begins(backorder_db)
    assert svc.tick(AT)  # a backorder_disabled event, stored as dispatched
    assert begins[0] == 1
    csv = tmp_path / "stock.csv"
    csv.write_text("Product ID,SKU,Name,Stock\nP9,NEW-1,New,0\n", encoding="utf-8")
    from backorder import imports

    begins[0] = 0
    assert imports.import_csv(svc, csv, mode="assign").created == 1
    assert begins[0] == 1  # its events (assigned, backorder_enabled) need no dispatcher
    assert _rows(backorder_db, events) >= 5
    assert svc.outbox.backlog() == {
        "pushes_pending": 0, "pushes_failing": 0, "webhooks_pending": 0, "events_pending": 0,
    }


class Listener:
    """A notifier wanting every event, noting what it was handed."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    @hookimpl
    def backorder_notify(self, store, event) -> None:
        self.heard.append(event.type.value)


def test_a_listening_notifier_hears_each_event_once_in_one_batch(
    backorder_db, plugin_manager, register_plugin
):
    listener = register_plugin(Listener(), name="listener")
    svc = _service(backorder_db, plugin_manager)
    assert "backorder_enabled" in listener.heard  # the catalog's MAT at 0
    listener.heard.clear()
    begins = _begins(backorder_db)
    svc.place_order(_order("C1"))
    # the order, one claim, one finish for all its events (not one per event)
    assert begins[0] == 3
    assert sorted(listener.heard) == ["backorder_enabled", "order_backordered", "order_backordered"]
    assert svc.outbox.backlog()["events_pending"] == 0
    with backorder_db.read() as conn:
        delivered = conn.execute(sa.select(event_deliveries.c.notifier)).scalars().all()
    assert set(delivered) == {"listener"} and len(delivered) == _rows(backorder_db, events)


def test_postgresql_orders_reuse_the_threads_connection(pg_url, plugin_manager):
    """One connection per thread for writes: no pool checkout (and so no pre-ping round
    trip) per order on PostgreSQL."""
    from backorder.storage.db import Database

    db = Database(pg_url)
    try:
        svc = StoreService(db, StoreConfig(name="pg-shop"), pm=plugin_manager, clock=lambda: AT)
        svc.upsert_catalog([ItemInput(sku="TENT", on_hand=100)])
        checkouts = [0]
        sa.event.listen(db.engine, "checkout",
                        lambda *args: checkouts.__setitem__(0, checkouts[0] + 1))
        for n in range(5):
            svc.place_order(OrderIn(order_id=f"P{n}", lines=[LineRequest(sku="TENT", qty=1)]))
        assert checkouts[0] == 0
        assert svc.item("TENT").on_hand == 95
    finally:
        db.dispose()


def test_trusted_models_share_one_fields_set_and_copies_stay_apart():
    """A batch builds hundreds of thousands of models: one fields-set per class, not per
    model; a copy with changes is its own model and leaves the others as they were."""
    from backorder.models import LineDecision, trusted

    values = {name: None for name in LineDecision.model_fields}
    a = trusted(LineDecision, {**values, "sku": "A", "line_no": 1})
    b = trusted(LineDecision, {**values, "sku": "B", "line_no": 2})
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__
    c = a.model_copy(update={"sku": "C"})
    assert (a.sku, b.sku, c.sku) == ("A", "B", "C")
    assert c.model_fields_set == a.model_fields_set == set(LineDecision.model_fields)
    assert c.__pydantic_fields_set__ is not a.__pydantic_fields_set__
