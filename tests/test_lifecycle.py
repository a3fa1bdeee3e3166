"""Order lifecycle (issue 14): cancels, shipments and returns release and restore stock."""

import datetime as dt

import pytest
import sqlalchemy as sa
from core_support import T0

from backorder.engine import ItemEdit
from backorder.errors import InvalidInput, NotFound, Refused
from backorder.models import (
    BackorderPolicy,
    DisableReason,
    EventType,
    ItemInput,
    LineRequest,
    OrderIn,
)
from backorder.rules.lifecycle import LineCounts, left
from backorder.storage import records
from backorder.storage.schema import movements

DAY = dt.timedelta(days=1)


@pytest.fixture
def life(store_service):
    service = store_service(
        clock=lambda: T0, switch_condition=0, defaults=BackorderPolicy(threshold=3)
    )
    service.upsert_catalog([ItemInput(sku="BIKE", on_hand=2)], at=T0)
    service.drain_events()
    return service


def order(service, order_id, qty, day=1, sku="BIKE"):
    return service.place_order(OrderIn(order_id=order_id, placed_at=T0 + day * DAY,
                                       lines=[LineRequest(sku=sku, qty=qty)]))


def books_agree(service, sku="BIKE"):
    with service.db.read() as conn:
        return records.ledger_balance(conn, service.name, sku) == service.item(sku).on_hand


def snapshot(service):
    """Everything a refused change must leave as it was."""
    with service.db.read() as conn:
        moves = conn.execute(sa.select(sa.func.count()).select_from(movements)).scalar()
    return service.item("BIKE"), service.order("A"), moves


class TestWhatALineHasLeft:
    @pytest.mark.parametrize(("cancelled", "shipped", "expected"), [
        (1, 0, (2, 1)),  # a cancel takes a backordered unit first
        (3, 0, (1, 0)),  # ... then in-stock units
        (0, 3, (0, 1)),  # a shipment takes the in-stock units first
        (1, 2, (0, 1)),
        (2, 1, (1, 0)),
    ])
    def test_cancels_take_backordered_first_and_shipments_in_stock_first(
        self, cancelled, shipped, expected
    ):
        line = LineCounts(line_no=1, sku="X", in_stock=2, backordered=2,
                          cancelled=cancelled, shipped=shipped)
        rest = left(line)
        assert (rest.in_stock, rest.backordered) == expected


class TestCancel:
    def test_a_whole_cancel_restores_stock_and_switches_backorder_back_on(self, life):
        order(life, "A", 5)  # 2 in stock + 3 backordered: threshold used up
        assert life.item("BIKE").disabled_reason is DisableReason.THRESHOLD_USED_UP
        life.drain_events()
        result = life.cancel("A")
        assert [(x.sku, x.cancelled, x.in_stock, x.backordered, x.shipped) for x in result.lines] \
            == [("BIKE", 5, 0, 0, 0)]
        item = life.item("BIKE")
        assert item.on_hand == 2 and item.salable == 5
        events = life.drain_events()
        assert [e.type for e in events].count(EventType.ORDER_CANCELLED) == 1
        assert books_agree(life)

    def test_a_partial_cancel_frees_threshold_and_switches_on_with_reason(self, life):
        order(life, "A", 5)
        life.drain_events()
        result = life.cancel("A", {"BIKE": 2})  # backordered units go first
        (line,) = result.lines
        assert (line.cancelled, line.in_stock, line.backordered) == (2, 2, 1)
        item = life.item("BIKE")
        assert item.on_hand == -1 and item.salable == 2 and item.state.value == "enabled"
        enabled = [e for e in life.drain_events() if e.type is EventType.BACKORDER_ENABLED]
        assert [e.reason for e in enabled] == [DisableReason.THRESHOLD_FREED]

    def test_a_replayed_key_returns_the_first_answer_and_changes_nothing(self, life):
        order(life, "A", 4)
        first = life.cancel("A", {"BIKE": 1}, key="k1")
        again = life.cancel("A", {"BIKE": 1}, key="k1")
        assert again.duplicate and again.lines == first.lines
        assert life.item("BIKE").on_hand == -1

    def test_a_whole_cancel_of_a_cancelled_order_changes_nothing(self, life):
        order(life, "A", 4)
        life.cancel("A")
        before = snapshot(life)
        life.drain_events()
        result = life.cancel("A")
        assert [x.changed for x in result.lines] == [0]
        assert snapshot(life)[0] == before[0]
        assert not [e for e in life.drain_events() if e.type is EventType.ORDER_CANCELLED]

    @pytest.mark.parametrize(("lines", "error", "words"), [
        ({"BIKE": 5}, Refused, "cannot cancel 5: 4 of the 4 ordered"),
        ({"NOPE": 1}, InvalidInput, "no line for SKU NOPE"),
        ({"BIKE": 0}, InvalidInput, "got 0"),
        ({"BIKE": -2}, InvalidInput, "got -2"),
        ({"BIKE": 10**9}, InvalidInput, "from 1 to"),
    ])
    def test_bad_requests_name_the_order_and_change_nothing(self, life, lines, error, words):
        order(life, "A", 4)
        before = snapshot(life)
        with pytest.raises(error, match=words) as raised:
            life.cancel("A", lines)
        assert "order A" in str(raised.value)
        assert snapshot(life) == before

    def test_an_unknown_order_is_refused(self, life):
        with pytest.raises(NotFound, match="no order 'Z'"):
            life.cancel("Z")

    def test_cancelling_the_oldest_line_moves_later_lines_forward(self, life):
        life.incoming.expect("BIKE", "PO-1", 2, T0 + 10 * DAY)
        life.incoming.expect("BIKE", "PO-2", 5, T0 + 20 * DAY)
        order(life, "A", 4, day=1)  # 2 in stock, 2 backordered: PO-1
        life.edit("BIKE", ItemEdit(threshold=10))
        order(life, "B", 2, day=2)  # 2 backordered: PO-2
        life.incoming.refresh()
        life.drain_events()
        life.cancel("A", {"BIKE": 2})  # its backordered units: PO-1 has room for B now
        moved = [e for e in life.drain_events() if e.type is EventType.ETA_CHANGED]
        assert [(e.data["order_id"], e.data["eta"]) for e in moved] == [
            ("B", (T0 + 10 * DAY).isoformat())
        ]


class TestShipAndReturn:
    def test_ships_in_stock_units_and_refuses_unreleased_ones(self, life):
        order(life, "A", 4)  # 2 in stock, 2 backordered
        before = snapshot(life)
        with pytest.raises(Refused, match="order A BIKE: cannot ship 3: 2 of the 4 ordered"):
            life.ship("A", {"BIKE": 3})
        assert snapshot(life) == before
        result = life.ship("A")
        assert [(x.shipped, x.in_stock, x.backordered) for x in result.lines] == [(2, 0, 2)]
        assert life.item("BIKE").on_hand == -2 and books_agree(life)

    def test_released_units_ship_first_come_first_served(self, life):
        order(life, "A", 3, day=1)  # 2 + 1 backordered
        order(life, "B", 1, day=2)  # 1 backordered
        life.adjust_stock("BIKE", 1, key="count-1")  # one unit arrives: A's
        with pytest.raises(Refused, match="order B BIKE: cannot ship 1: 0 of the 1 ordered"):
            life.ship("B", {"BIKE": 1})  # B waits: the unit is A's
        assert [x.changed for x in life.ship("B").lines] == [0]  # all that can ship: none
        assert [x.shipped for x in life.ship("A").lines] == [3]
        life.adjust_stock("BIKE", 1, key="count-2")
        assert [x.shipped for x in life.ship("B").lines] == [1]
        assert [x.status for x in life.ship("B").lines] == ["shipped"]

    def test_a_restocked_return_goes_back_on_hand_once(self, life):
        order(life, "A", 2)
        life.ship("A")
        with pytest.raises(Refused, match="cannot return 3: 2 of the 2 ordered"):
            life.return_items("A", {"BIKE": 3}, restock=True)
        life.return_items("A", {"BIKE": 1}, restock=True, key="rma-1")
        life.return_items("A", {"BIKE": 1}, restock=True, key="rma-1")
        assert life.item("BIKE").on_hand == 1
        result = life.return_items("A", {"BIKE": 1}, restock=False)
        assert result.lines[0].returned == 2 and life.item("BIKE").on_hand == 1
        assert books_agree(life)

    def test_shipped_units_cannot_be_cancelled(self, life):
        order(life, "A", 2)
        life.ship("A", {"BIKE": 1})
        with pytest.raises(Refused, match="cannot cancel 2: 1 of the 2 ordered"):
            life.cancel("A", {"BIKE": 2})
        result = life.cancel("A")
        assert [(x.cancelled, x.shipped, x.status) for x in result.lines] == [(1, 1, "shipped")]


def test_order_change_events_have_a_message(life):
    from backorder.notify.message import build

    order(life, "A", 3)
    life.drain_events()
    life.cancel("A", {"BIKE": 1})
    life.ship("A", {"BIKE": 2})
    life.return_items("A", {"BIKE": 1}, restock=True)
    messages = [
        build("shop", e) for e in life.drain_events()
        if e.type in (EventType.ORDER_CANCELLED, EventType.ORDER_SHIPPED, EventType.ORDER_RETURNED)
    ]
    assert [m.subject for m in messages] == [
        "[shop] Order A: 1 unit(s) cancelled",
        "[shop] Order A: 2 unit(s) shipped",
        "[shop] Order A: 1 unit(s) returned",
    ]
    assert "Lines: 2 x BIKE (line 1)" in messages[1].body
    assert "Restock: True" in messages[2].body


class TestWhatUsersSee:
    def test_report_status_filters_open_shipped_and_cancelled_lines(self, life):
        from backorder.report import backorder_report

        order(life, "A", 3, day=1)  # 2 in stock + 1 backordered
        order(life, "B", 1, day=2)
        order(life, "C", 1, day=3)
        life.cancel("B")
        life.adjust_stock("BIKE", 2, key="delivery")  # releases A's and C's units
        life.ship("C")
        life.ship("A", {"BIKE": 1})

        def rows(status):
            return {r.order_id: (r.cancelled, r.shipped, r.waiting, r.status)
                    for r in backorder_report(life, status=status)}

        assert rows("open") == {"A": (0, 1, 1, "open")}
        assert rows("shipped") == {"C": (0, 1, 0, "shipped")}
        assert rows("cancelled") == {"B": (1, 0, 0, "cancelled")}
        assert set(rows("all")) == {"A", "B", "C"}

    def test_pick_list_picks_released_units_and_the_slip_ships_them(self, life):
        from backorder.documents.data import iter_orders
        from backorder.documents.render import build_context

        order(life, "A", 4, day=1)  # 2 in stock + 2 backordered
        order(life, "B", 1, day=2)
        life.adjust_stock("BIKE", 1, key="delivery")  # one of A's units has come
        life.cancel("A", {"BIKE": 1})  # ... and A cancels its other backordered unit
        with life.db.read() as conn:
            docs = list(iter_orders(conn, life.name, ["A", "B"]))
        pick = build_context("pick-list", docs, life.store)
        a, b = (o["lines"][0] for o in pick["orders"])
        assert (a["requested"], a["cancelled"], a["to_ship"], a["waiting"]) == (4, 1, 3, 0)
        assert a["expected"] == "ready to ship" and a["message"] == ""
        assert (b["to_ship"], b["waiting"]) == (0, 1)
        life.ship("A")
        with life.db.read() as conn:
            docs = list(iter_orders(conn, life.name, ["A"]))
        slip = build_context("packing-slip", docs, life.store)["orders"][0]
        assert (slip["shipped"], slip["to_ship"], slip["waiting"]) == (3, 0, 0)
