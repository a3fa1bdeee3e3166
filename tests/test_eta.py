"""Incoming stock fills backorders first come, first served, with an ETA per order line."""

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from core_support import T0
from hypothesis import given, settings
from hypothesis import strategies as st

from backorder.commands import main
from backorder.engine import ItemEdit
from backorder.errors import BackorderError
from backorder.models import EventType, ItemInput, LineRequest, OrderIn
from backorder.rules.allocation import BackorderedLine, LineStatus, Receipt, allocate

DAY = dt.timedelta(days=1)


def line(order_id, qty, day, line_no=1):
    return BackorderedLine(order_id=order_id, line_no=line_no, placed_at=T0 + day * DAY,
                           backordered=qty)


def receipt(ref, qty, day):
    return Receipt(ref=ref, qty=qty, expected_at=T0 + day * DAY)


class TestAllocation:
    def test_oldest_lines_take_the_earliest_receipts(self):
        result = allocate(-7, [line("B", 2, 2), line("A", 2, 1), line("C", 3, 3)],
                          [receipt("late", 5, 30), receipt("soon", 3, 10)])
        etas = {x.order_id: (x.status, x.eta) for x in result.lines}
        assert etas["A"] == (LineStatus.WAITING, T0 + 10 * DAY)
        assert etas["B"] == (LineStatus.WAITING, T0 + 30 * DAY)  # 1 from "soon", 1 from "late"
        assert etas["C"] == (LineStatus.WAITING, T0 + 30 * DAY)
        assert result.promised == {"soon": 3, "late": 4}
        assert result.next_eta == T0 + 30 * DAY  # "late" has one unit of room left

    def test_a_line_no_receipt_fully_covers_has_no_date(self):
        result = allocate(-4, [line("A", 4, 1)], [receipt("r", 3, 5)])
        assert result.lines[0].status is LineStatus.NO_DATE and result.lines[0].eta is None
        assert result.next_eta is None

    def test_arrived_stock_releases_the_oldest_lines_first(self):
        # 5 backordered in all, 2 still outstanding: 3 released, oldest first
        result = allocate(-2, [line("new", 2, 2), line("old", 3, 1)], [])
        by_order = {x.order_id: x for x in result.lines}
        assert (by_order["old"].status, by_order["old"].released) == (LineStatus.RELEASED, 3)
        assert (by_order["new"].released, by_order["new"].status) == (0, LineStatus.NO_DATE)

    @given(
        st.integers(-30, 10),
        st.lists(st.tuples(st.integers(1, 6), st.integers(0, 20)), max_size=8),
        st.lists(st.tuples(st.integers(0, 8), st.integers(0, 40)), max_size=5),
        st.randoms(use_true_random=False),
    )
    def test_never_promises_more_than_a_receipt_holds_and_input_order_is_irrelevant(
        self, on_hand, raw_lines, raw_receipts, rnd
    ):
        lines = [line(f"o{i}", qty, day) for i, (qty, day) in enumerate(raw_lines)]
        receipts = [receipt(f"r{i}", qty, day) for i, (qty, day) in enumerate(raw_receipts)]
        result = allocate(on_hand, lines, receipts)
        held = {r.ref: r.qty for r in receipts}
        assert all(qty <= held[ref] for ref, qty in result.promised.items())
        for x in result.lines:
            assert x.released + x.waiting == x.backordered
            assert (x.eta is not None) == (x.status is LineStatus.WAITING)
        shuffled_lines, shuffled_receipts = lines[:], receipts[:]
        rnd.shuffle(shuffled_lines)
        rnd.shuffle(shuffled_receipts)
        assert allocate(on_hand, shuffled_lines, shuffled_receipts) == result


@pytest.fixture
def bikes(store_service):
    service = store_service(clock=lambda: T0)
    service.upsert_catalog([ItemInput(sku="BIKE", on_hand=0)], at=T0)
    service.drain_events()
    return service


def place(service, order_id, qty, day):
    return service.place_order(OrderIn(order_id=order_id, placed_at=T0 + day * DAY,
                                       lines=[LineRequest(sku="BIKE", qty=qty)]))


def eta_events(service):
    return [e for e in service.drain_events() if e.type is EventType.ETA_CHANGED]


class TestIncomingStock:
    def test_a_slipped_receipt_redates_its_lines_with_one_event_each(self, bikes):
        bikes.incoming.expect("BIKE", "PO-1", 4, T0 + 10 * DAY)
        place(bikes, "A", 2, 1)
        place(bikes, "B", 2, 2)
        bikes.incoming.refresh()
        assert eta_events(bikes) == []  # a new order's first date is not a change
        bikes.incoming.expect("BIKE", "PO-1", 4, T0 + 17 * DAY)
        events = eta_events(bikes)
        assert [(e.data["order_id"], e.data["eta"]) for e in events] == [
            ("A", (T0 + 17 * DAY).isoformat()), ("B", (T0 + 17 * DAY).isoformat()),
        ]

    def test_a_shrunk_receipt_leaves_the_newest_line_without_a_date(self, bikes):
        bikes.incoming.expect("BIKE", "PO-1", 4, T0 + 10 * DAY)
        place(bikes, "A", 2, 1)
        place(bikes, "B", 2, 2)
        bikes.incoming.refresh()
        bikes.incoming.expect("BIKE", "PO-1", 3, T0 + 10 * DAY)
        (event,) = eta_events(bikes)
        assert event.data["order_id"] == "B" and event.data["status"] == "no_date"

    def test_arrival_books_stock_once_and_releases_oldest_first(self, bikes):
        bikes.incoming.expect("BIKE", "PO-1", 3, T0 + 10 * DAY)
        place(bikes, "A", 2, 1)
        place(bikes, "B", 2, 2)
        bikes.incoming.refresh()
        allocation = bikes.incoming.arrive("BIKE", "PO-1", at=T0 + 10 * DAY)
        assert bikes.item("BIKE").on_hand == -1
        assert [(x.order_id, x.status.value) for x in allocation.lines] == [
            ("A", "released"), ("B", "no_date"),
        ]
        bikes.incoming.arrive("BIKE", "PO-1", at=T0 + 11 * DAY)  # a replay books nothing
        assert bikes.item("BIKE").on_hand == -1

    def test_a_cancelled_receipt_cannot_come_back(self, bikes):
        bikes.incoming.expect("BIKE", "PO-1", 3, T0 + 10 * DAY)
        bikes.incoming.cancel("BIKE", "PO-1")
        assert bikes.incoming.next_eta("BIKE") is None
        with pytest.raises(BackorderError, match="is cancelled"):
            bikes.incoming.expect("BIKE", "PO-1", 3, T0 + 12 * DAY)

    def test_the_simple_back_in_stock_pair_is_a_receipt(self, bikes):
        bikes.edit("BIKE", ItemEdit(incoming_qty=5, back_in_stock_date=T0 + 9 * DAY))
        assert bikes.incoming.next_eta("BIKE") == T0 + 9 * DAY


def test_simulate_shows_an_eta_per_line():
    path = Path(__file__).parents[1] / "examples" / "eta.yaml"
    out = CliRunner(env={"BACKORDER_PLUGINS": "core"}).invoke(main, ["simulate", str(path)])
    results = json.loads(out.output)["results"]
    etas = [r["lines"][0]["eta"] for r in results if r["type"] == "order"]
    assert etas == ["2026-11-20T00:00:00+00:00", "2026-12-15T00:00:00+00:00", "no_date"]
    slipped, arrived = results[-2:]
    assert slipped["events"][0]["previous_eta"] == "2026-11-20T00:00:00+00:00"
    assert arrived["events"][0]["status"] == "released"


def test_fulfil_queue_lists_lines_in_shipping_order(tmp_path):
    db = f"sqlite:///{tmp_path}/q.db"
    runner = CliRunner(env={"BACKORDER_PLUGINS": "core"})
    runner.invoke(main, ["--db", db, "demo"], catch_exceptions=False)
    # the demo's PO-31 brings 2 of the 3 red mugs order D-1004 waits for; PO-9 covers the rest
    runner.invoke(main, ["--db", db, "receipt", "MUG-RED", "PO-9", "--qty", "5",
                         "--expected", "2026-12-01"], catch_exceptions=False)
    out = runner.invoke(main, ["--db", db, "fulfil-queue", "MUG-RED"]).output
    assert "1. order D-1004 line 2" in out and "expected 2026-12-01" in out
    assert "promised from receipts: PO-31 2, PO-9 1" in out
    assert "a new backorder today would be expected: 2026-12-01" in out


def test_packing_slip_and_storefront_show_the_promised_date(tmp_path):
    from backorder.storefront import StorefrontSettings, storefront_messages

    db = f"sqlite:///{tmp_path}/docs.db"
    runner = CliRunner(env={"BACKORDER_PLUGINS": "core,weasyprint"})
    runner.invoke(main, ["--db", db, "demo"], catch_exceptions=False)
    html = runner.invoke(main, ["--db", db, "render", "packing-slip", "D-1004"]).output
    assert "Expected" in html and "2026-11-16" in html  # LAMP-01: the demo's PO-32
    assert "no date yet" in html  # MUG-RED: 3 waiting, PO-31 brings only 2
    assert "ready to ship" in html  # TENT-2P: stock arrived on its back-in-stock date

    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.storage.db import Database

    service = StoreService(Database(db), StoreConfig(name="demo"))
    settings = StorefrontSettings(show_back_in_stock_date=True)
    messages = storefront_messages(service.item("LAMP-01"), settings,
                                   next_eta=service.incoming.next_eta("LAMP-01"))
    assert messages["shipping_description"].endswith("Expected back in stock on 2026-11-16.")


def test_customers_hear_when_their_date_changes(tmp_path, monkeypatch, backorder_db):
    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.plugins import make_manager

    monkeypatch.setenv("BACKORDER_PLUGINS", "core,notify")
    store = StoreConfig.model_validate({
        "name": "shop",
        "notifications": {"outbox_dir": str(tmp_path / "outbox"),
                          "customer_eta": {"enabled": True}},
    })
    service = StoreService(backorder_db, store, pm=make_manager(), clock=lambda: T0)
    service.upsert_catalog([ItemInput(sku="BIKE", name="Gravel bike", on_hand=0)], at=T0)
    service.incoming.expect("BIKE", "PO-1", 2, T0 + 10 * DAY)
    service.place_order(OrderIn(order_id="A", placed_at=T0, customer_email="kim@example.com",
                                lines=[LineRequest(sku="BIKE", qty=2)]))
    service.incoming.refresh()
    service.incoming.expect("BIKE", "PO-1", 2, T0 + 24 * DAY)  # slips two weeks
    log = tmp_path / "outbox" / "shop" / "messages.jsonl"
    (sent,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert sent["to"] == ["kim@example.com"]
    assert sent["subject"] == "Your order A: Gravel bike"
    assert "the 2 × Gravel bike still to come in your order A are now expected on 2026-11-25" \
        in sent["body"]


def test_an_unknown_token_in_the_customer_message_names_the_field():
    from backorder.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=r"customer_eta.*unknown token \{colour\}"):
        parse_config({"stores": {"s": {"notifications": {"customer_eta": {
            "message": "Your {colour} bike"}}}}}, "backorder.toml")


def test_the_report_shows_each_lines_promise(store_service):
    from backorder.report import backorder_report

    service = store_service(clock=lambda: T0)
    service.upsert_catalog([ItemInput(sku="BIKE", on_hand=0)], at=T0)
    service.incoming.expect("BIKE", "PO-1", 2, T0 + 10 * DAY)
    for order_id, day in (("A", 1), ("B", 2)):
        service.place_order(OrderIn(order_id=order_id, placed_at=T0 + day * DAY,
                                    lines=[LineRequest(sku="BIKE", qty=2)]))
    expected = {r.order_id: r.expected for r in backorder_report(service)}
    assert expected == {"A": "2026-11-11", "B": "no date yet"}


@settings(deadline=None)  # each example opens a database: its time is the machine's
@given(st.permutations([("PO-1", 3, 10), ("PO-2", 2, 20), ("PO-3", 4, 5)]))
def test_receipts_recorded_in_any_order_give_the_same_promises(tmp_path_factory, arrival):
    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.storage.db import Database

    db = Database(f"sqlite:///{tmp_path_factory.mktemp('perm')}/p.db")
    service = StoreService(db, StoreConfig(name="perm"), clock=lambda: T0)
    service.upsert_catalog([ItemInput(sku="BIKE", on_hand=0)], at=T0)
    for order_id, qty, day in (("A", 2, 1), ("B", 4, 2), ("C", 3, 3)):
        service.place_order(OrderIn(order_id=order_id, placed_at=T0 + day * DAY,
                                    lines=[LineRequest(sku="BIKE", qty=qty)]))
    for ref, qty, day in arrival:
        service.incoming.expect("BIKE", ref, qty, T0 + day * DAY)
    allocation = service.incoming.allocation("BIKE")
    assert [(x.order_id, x.eta) for x in allocation.lines] == [
        ("A", T0 + 5 * DAY), ("B", T0 + 10 * DAY), ("C", T0 + 20 * DAY),
    ]
    assert allocation.promised == {"PO-3": 4, "PO-1": 3, "PO-2": 2}
    db.dispose()
