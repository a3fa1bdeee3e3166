"""The store service on a real SQLite database: the ledger, orders, assignment, time."""

import datetime as dt

import pytest
import sqlalchemy as sa
from core_support import T0

from backorder.engine import ItemEdit
from backorder.errors import BackorderError, PlanLimitReached, UnknownItem
from backorder.hookspecs import hookimpl
from backorder.models import BackorderPolicy, EventType, ItemInput, LineRequest, OrderIn
from backorder.storage import records
from backorder.storage.schema import movements


def catalog(service, *entries):
    service.upsert_catalog([ItemInput(assigned=False, **e) for e in entries], at=T0)


def order(service, order_id, *lines, at=T0):
    return service.place_order(
        OrderIn(order_id=order_id, placed_at=at,
                lines=[LineRequest(sku=s, qty=q) for s, q in lines])
    )


@pytest.fixture
def shop(store_service):
    service = store_service(defaults=BackorderPolicy(threshold=3))
    catalog(
        service,
        {"sku": "TEE-S", "product_id": "1", "variant_id": "11", "on_hand": 2},
        {"sku": "TEE-M", "product_id": "1", "variant_id": "12", "on_hand": 0},
        {"sku": "CAP", "product_id": "2", "on_hand": 5},
    )
    return service


def balance(service, sku):
    with service.db.transaction() as conn:
        return records.ledger_balance(conn, service.name, sku)


class TestAssignment:
    def test_assigning_a_variant_assigns_its_whole_product_with_the_same_settings(self, shop):
        shop.assign([ItemInput(sku="TEE-S", threshold=7)])
        assert shop.item("TEE-M").assigned and shop.item("TEE-M").threshold == 7
        assert shop.item("TEE-S").on_hand == 2  # the sibling's stock is not copied
        assert not shop.item("CAP").assigned

    def test_assignment_books_given_stock_into_the_ledger(self, shop):
        shop.assign([ItemInput(sku="CAP", on_hand=9)])
        assert shop.item("CAP").on_hand == 9 == balance(shop, "CAP")

    def test_assigning_at_zero_stock_switches_to_backorder(self, shop):
        shop.assign(["TEE-S"])
        assert shop.item("TEE-M").status.value == "backorder"
        kinds = [(e.type, e.sku) for e in shop.drain_events()]
        assert (EventType.ASSIGNED, "TEE-M") in kinds
        assert (EventType.BACKORDER_ENABLED, "TEE-M") in kinds

    def test_plan_limit_counts_products_and_refuses_whole(self, store_service):
        service = store_service(plan_limit=1)
        catalog(service, {"sku": "A1", "product_id": "1"}, {"sku": "A2", "product_id": "1"},
                {"sku": "B", "product_id": "2"})
        service.assign(["A1"])  # one product, two variants: within a plan of 1
        with pytest.raises(PlanLimitReached, match="may assign 1 products"):
            service.assign(["B"])
        assert not service.item("B").assigned

    def test_unknown_sku_is_a_clear_error(self, shop):
        with pytest.raises(UnknownItem, match="NOPE"):
            shop.assign(["NOPE"])

    def test_unassign_carries_stock_data_and_can_stop_sales(self, shop):
        shop.assign(["CAP"])
        shop.drain_events()
        view = shop.unassign(["CAP"], "not_purchasable")[0]
        assert not view.assigned and not view.purchasable
        (event,) = shop.drain_events()
        assert event.type is EventType.UNASSIGNED
        assert event.data == {"action": "not_purchasable", "on_hand": 5, "incoming_qty": 0,
                              "back_in_stock_date": None}


class TestOrders:
    def test_order_runs_stock_negative_and_snapshots_the_split(self, shop):
        shop.assign(["TEE-S"])
        result = order(shop, "1001", ("TEE-S", 3))
        assert result.accepted
        assert (result.lines[0].in_stock, result.lines[0].backordered) == (2, 1)
        assert shop.item("TEE-S").on_hand == -1 == balance(shop, "TEE-S")
        assert shop.order("1001").lines[0].backordered == 1

    def test_the_same_order_twice_changes_nothing(self, shop):
        shop.assign(["TEE-S"])
        first = order(shop, "1001", ("TEE-S", 3))
        again = order(shop, "1001", ("TEE-S", 3))
        assert again.duplicate and again.lines == first.lines
        assert shop.item("TEE-S").on_hand == -1

    def test_one_refused_line_refuses_the_order_and_moves_no_stock(self, shop):
        shop.assign(["TEE-S", "CAP"])
        result = order(shop, "1002", ("CAP", 1), ("TEE-S", 6))
        assert not result.accepted and "line 2 (TEE-S): over_threshold" in result.errors[0]
        assert shop.item("CAP").on_hand == 5
        assert shop.order("1002").accepted is False
        with shop.db.transaction() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(movements).where(
                movements.c.kind == "order")).scalar_one() == 0

    def test_a_refused_order_replayed_after_restock_stays_refused(self, shop):
        shop.assign(["TEE-S"])
        assert not order(shop, "9", ("TEE-S", 9)).accepted
        shop.adjust_stock("TEE-S", 20, key="restock")
        again = order(shop, "9", ("TEE-S", 9))
        assert again.duplicate and not again.accepted
        assert shop.item("TEE-S").on_hand == 22

    def test_two_lines_of_one_sku_share_the_stock(self, shop):
        shop.assign(["TEE-S"])
        result = order(shop, "1003", ("TEE-S", 2), ("TEE-S", 2))
        assert [(x.in_stock, x.backordered) for x in result.lines] == [(2, 0), (0, 2)]

    def test_threshold_used_up_makes_the_item_unavailable(self, shop):
        shop.assign(["TEE-S"])
        order(shop, "1", ("TEE-S", 5))
        view = shop.item("TEE-S")
        assert (view.on_hand, view.salable, view.purchasable) == (-3, 0, False)
        assert view.disabled_reason.value == "threshold_used_up"
        assert not order(shop, "2", ("TEE-S", 1)).accepted

    def test_order_backordered_event_names_the_order(self, shop):
        shop.assign(["TEE-S"])
        shop.drain_events()
        order(shop, "77", ("TEE-S", 3))
        backordered = [e for e in shop.drain_events() if e.type is EventType.ORDER_BACKORDERED]
        assert backordered[0].data["order_id"] == "77" and backordered[0].data["backordered"] == 1


class TestStockAndEdits:
    def test_same_stock_event_twice_changes_nothing(self, shop):
        shop.assign(["CAP"])
        shop.adjust_stock("CAP", 4, key="delivery-1")
        shop.adjust_stock("CAP", 4, key="delivery-1")
        assert shop.item("CAP").on_hand == 9 == balance(shop, "CAP")

    def test_set_stock_is_absolute_and_recovers_backorder(self, shop):
        shop.assign(["TEE-S"])
        order(shop, "1", ("TEE-S", 4))
        view = shop.set_stock("TEE-S", 10, key="count-1")
        assert view.on_hand == 10 and view.status.value == "in_stock"
        assert balance(shop, "TEE-S") == 10

    def test_edit_overrides_and_use_default(self, shop):
        shop.assign(["CAP"])
        assert shop.edit("CAP", ItemEdit(threshold=None)).salable is None
        assert shop.edit("CAP", ItemEdit(use_default=["threshold"])).salable == 8

    def test_edit_rejects_unknown_default_field(self, shop):
        with pytest.raises(BackorderError, match="use_default: not a setting: colour"):
            shop.edit("CAP", ItemEdit(use_default=["colour"]))

    def test_apply_levels_books_each_snapshot_once(self, shop):
        from backorder.models import StockLevel

        levels = [StockLevel(sku="CAP", on_hand=1, source_ref="v7"),
                  StockLevel(sku="NOT-HERE", on_hand=3)]
        assert shop.apply_levels(levels, source="sync") == 1
        assert shop.apply_levels(levels, source="sync") == 0
        assert shop.item("CAP").on_hand == 1 == balance(shop, "CAP")


class TestTimeAndSwitches:
    def test_tick_receives_incoming_on_the_date_once(self, shop):
        due = T0 + dt.timedelta(days=3)
        shop.assign([ItemInput(sku="TEE-S", incoming_qty=10, back_in_stock_date=due)])
        order(shop, "1", ("TEE-S", 3))
        assert shop.tick(due - dt.timedelta(seconds=1)) == []
        events = shop.tick(due)
        assert EventType.BACKORDER_DISABLED in [e.type for e in events]
        assert shop.item("TEE-S").on_hand == 9
        assert shop.tick(due + dt.timedelta(days=1)) == []
        assert shop.item("TEE-S").on_hand == 9 == balance(shop, "TEE-S")

    def test_manual_disable_stops_backorders_until_enabled(self, shop):
        shop.assign(["TEE-S"])
        order(shop, "1", ("TEE-S", 2))
        shop.disable(["TEE-S"])
        assert not shop.item("TEE-S").purchasable
        assert not order(shop, "2", ("TEE-S", 1)).accepted
        shop.enable(["TEE-S"])
        assert order(shop, "3", ("TEE-S", 1)).accepted

    def test_enable_needs_assignment(self, shop):
        with pytest.raises(BackorderError, match="not assigned"):
            shop.enable(["CAP"])


class TestHooks:
    def test_platform_and_notifiers_hear_changes_after_commit(
        self, store_service, plugin_manager, register_plugin
    ):
        from backorder.hookspecs import hookimpl
        from backorder.platform import BasePlatform

        heard = {"items": [], "events": []}

        class Shop(BasePlatform):
            name = "listening-shop"

            def apply_items(self, store, items, reason):
                heard["items"].append((reason, sorted(i.sku for i in items)))

        class Listener:
            @hookimpl
            def backorder_platforms(self):
                return [Shop()]

            @hookimpl
            def backorder_notify(self, store, event):
                heard["events"].append(event.type)

        register_plugin(Listener())
        service = store_service(pm=plugin_manager, platform="listening-shop")
        catalog(service, {"sku": "X", "product_id": "9", "on_hand": 0})
        service.assign(["X"])
        assert ("assign", ["X"]) in heard["items"]
        assert heard["events"][-2:] == [EventType.ASSIGNED, EventType.BACKORDER_ENABLED]

    def test_a_failing_notifier_is_retried_alone_and_the_others_hear_once(
        self, store_service, plugin_manager, register_plugin
    ):
        from backorder.hookspecs import hookimpl

        now = [T0]
        heard = []

        class Broken:
            fail = True

            @hookimpl
            def backorder_notify(self, store, event):
                if Broken.fail:
                    raise ConnectionError("smtp down")
                heard.append(("broken", event.type))

        class Fine:
            @hookimpl
            def backorder_notify(self, store, event):
                heard.append(("fine", event.type))

        register_plugin(Broken(), name="broken")
        register_plugin(Fine(), name="fine")
        service = store_service(pm=plugin_manager, clock=lambda: now[0])
        catalog(service, {"sku": "X", "on_hand": 3})
        service.assign(["X"])  # the change commits even though one delivery fails
        assert service.item("X").assigned
        assert heard == [("fine", EventType.ASSIGNED)]
        assert service.dispatch_events() == 0  # backing off: not due yet
        Broken.fail = False
        now[0] = T0 + dt.timedelta(seconds=11)
        assert service.dispatch_events() == 1
        assert heard == [("fine", EventType.ASSIGNED), ("broken", EventType.ASSIGNED)]
        assert service.dispatch_events() == 0

    def test_events_nobody_subscribes_to_are_not_pending(self, store_service, plugin_manager):
        service = store_service(pm=plugin_manager)  # the notify plugin, no recipients
        catalog(service, {"sku": "X", "on_hand": 3})
        service.assign(["X"])
        assert [e.type for e in service.drain_events()] == [EventType.ASSIGNED]
        assert service.notifications.pending() == 0
        assert service.outbox.backlog()["events_pending"] == 0


class TestRecordedOrders:
    def test_an_order_the_platform_took_is_recorded_past_the_threshold(self, shop):
        shop.assign(["TEE-S"])
        result = shop.place_order(
            OrderIn(order_id="p1", lines=[LineRequest(sku="TEE-S", qty=9)]), enforce=False
        )
        line = result.lines[0]
        assert result.accepted and (line.in_stock, line.backordered) == (2, 7)
        assert line.error.startswith("recorded past the rules: over_threshold")
        view = shop.item("TEE-S")
        assert view.on_hand == -7 and not view.purchasable
        assert view.disabled_reason.value == "threshold_used_up"

    def test_edit_can_hand_tracking_back(self, shop):
        shop.assign(["CAP"])
        assert shop.edit("CAP", ItemEdit(tracked=False)).salable is None


def test_a_date_with_an_offset_is_stored_as_the_same_instant(shop):
    paris = dt.timezone(dt.timedelta(hours=1))
    due = dt.datetime(2026, 12, 1, 9, 0, tzinfo=paris)
    view = shop.edit("CAP", ItemEdit(back_in_stock_date=due))
    assert view.back_in_stock_date == due and view.back_in_stock_date.tzinfo == dt.UTC


class TestPlatformCounts:
    """Tracking off at the platform (the seeds' app): its count moves only when the IMS says."""

    def level(self, qty, ref=""):
        from backorder.models import StockLevel

        return StockLevel(sku="CAP", on_hand=qty, source_ref=ref, basis="platform_count")

    def test_changes_of_the_platform_count_move_our_stock_never_our_sales(self, shop):
        shop.assign(["CAP"])
        shop.apply_levels([self.level(5)], source="sync")  # first figure: taken as is
        order(shop, "1", ("CAP", 7))  # we sell 7: on hand -2; the platform still says 5
        assert shop.apply_levels([self.level(5)], source="sync") == 0  # a re-read: no change
        assert shop.item("CAP").on_hand == -2
        shop.apply_levels([self.level(15, "hook-1")], source="webhook")  # 10 received
        shop.apply_levels([self.level(15, "hook-1")], source="webhook")  # a repeated delivery
        assert shop.item("CAP").on_hand == 8 == balance(shop, "CAP")

    def test_a_count_that_returns_to_an_earlier_figure_still_moves(self, shop):
        shop.apply_levels([self.level(5)], source="sync")
        shop.apply_levels([self.level(9)], source="sync")
        shop.apply_levels([self.level(5)], source="sync")
        assert shop.item("CAP").on_hand == 5 == balance(shop, "CAP")


def test_pushes_never_split_a_products_variants():
    from backorder.models import ItemState
    from backorder.outbox import product_chunks

    items = {f"P{p}-V{v}": ItemState(sku=f"P{p}-V{v}", product_id=str(p))
             for p in range(4) for v in range(3)}
    chunks = product_chunks(items, 3)  # 3 products a chunk, whatever their variant count
    assert [len(c) for c in chunks] == [9, 3]
    assert [{sku.split("-")[0] for sku in chunk} for chunk in chunks] == [
        {"P0", "P1", "P2"}, {"P3"},
    ]
    assert [sku for chunk in product_chunks(items, 7) for sku in chunk] == list(items)
    assert product_chunks({"LONE": None}, 2) == [["LONE"]]


class TestBulkOperationsLeaveTheCollectorAsTheyFoundIt:
    """A batch and a tick pause garbage collection while they build their rows; the host
    program's setting is back afterwards, whether the work succeeded or failed."""

    def test_on_before_is_on_after_even_when_the_work_fails(self, shop, monkeypatch):
        import gc

        from backorder.storage import fastpath

        assert gc.isenabled()
        shop.place_orders([OrderIn(order_id="B1", lines=[LineRequest(sku="CAP", qty=1)])])
        shop.tick(T0)
        assert gc.isenabled()

        def broken(*args, **kwargs):
            assert not gc.isenabled()  # paused while the receipt runs
            raise RuntimeError("disk full")

        monkeypatch.setattr(fastpath, "receive_due", broken)
        with pytest.raises(RuntimeError, match="disk full"):
            shop.tick(T0)
        assert gc.isenabled()

    def test_off_before_stays_off(self, shop):
        import gc

        gc.disable()
        try:
            shop.place_orders([OrderIn(order_id="B2", lines=[LineRequest(sku="CAP", qty=1)])])
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_after_commit_failures_never_reach_the_caller(
    store_service, plugin_manager, register_plugin, caplog
):
    """The change is stored; a failure while telling plugins is logged and retried later."""

    class Listener:  # a notifier wanting every event: the assign's is stored pending
        @staticmethod
        @hookimpl
        def backorder_notify(store, event) -> None:
            return None

    register_plugin(Listener(), name="listener")
    service = store_service(pm=plugin_manager)
    catalog(service, {"sku": "X", "on_hand": 3})

    def broken(*args, **kwargs):
        raise RuntimeError("database went away after commit")

    service.notifications.dispatch = broken  # type: ignore[method-assign]
    service.assign(["X"])
    assert service.item("X").assigned
    assert "after-commit delivery failed" in caplog.text
