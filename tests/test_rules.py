"""The pure rules: salable qty, status, order lines, switching. No database here."""

import datetime as dt

import pytest

from backorder import rules
from backorder.models import (
    BackorderPolicy,
    BackorderState,
    DisableReason,
    EventType,
    ItemState,
    Mode,
    Status,
    StoreSettings,
)

AT = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def item(**kw) -> ItemState:
    return ItemState(**{"sku": "A", "assigned": True, **kw})


def settings(**defaults) -> StoreSettings:
    return StoreSettings(defaults=BackorderPolicy(**defaults))


class TestSalable:
    def test_stock_plus_threshold_when_backorders_on(self):
        s = settings(threshold=3)
        assert rules.view(item(on_hand=2), s).salable == 5

    def test_unlimited_threshold_means_unlimited(self):
        assert rules.view(item(on_hand=-40), settings(threshold=None)).salable is None

    def test_mode_off_sells_only_stock(self):
        s = settings(mode="off", threshold=3)
        assert rules.view(item(on_hand=2), s).salable == 2
        assert rules.view(item(on_hand=-1), s).salable == 0

    def test_unassigned_sells_only_stock(self):
        assert rules.view(item(on_hand=2, assigned=False), settings(threshold=3)).salable == 2

    def test_disabled_sells_only_stock(self):
        s = settings(threshold=3)
        view = rules.view(item(on_hand=1, state="disabled", disabled_reason="manual"), s)
        assert view.salable == 1 and view.purchasable

    def test_untracked_is_unlimited_and_never_backordered(self):
        view = rules.view(item(on_hand=0, tracked=False), settings(mode="off"))
        assert view.salable is None and view.purchasable and view.status is Status.IN_STOCK

    def test_item_override_beats_store_default_and_use_default_restores_it(self):
        s = settings(threshold=10)
        assert rules.view(item(on_hand=0, overrides={"threshold": 2}), s).salable == 2
        assert rules.view(item(on_hand=0, overrides={"threshold": None}), s).salable is None
        assert rules.view(item(on_hand=0, overrides={}), s).salable == 10

    def test_an_item_that_cannot_be_bought_has_nothing_salable(self):
        # tracked with stock, unlimited backorders, or untracked: not purchasable means 0
        disabled = {"purchasing_disabled": True}
        assert rules.view(item(on_hand=5, **disabled), settings(mode="off")).salable == 0
        assert rules.view(item(on_hand=5, **disabled), settings(threshold=None)).salable == 0
        assert rules.view(item(on_hand=5, tracked=False, **disabled), settings()).salable == 0

    def test_backordered_units_are_the_negative_stock(self):
        assert rules.view(item(on_hand=-3), settings()).backordered == 3
        assert rules.view(item(on_hand=4), settings()).backordered == 0


class TestStatus:
    def test_backorder_when_enabled(self):
        assert rules.view(item(on_hand=0, state="enabled"), settings()).status is Status.BACKORDER

    def test_low_stock_once_stock_drops_below_the_level(self):
        """Seed 001 §4.2.1: "drops below" the low-stock level, so at the level it is not low."""
        s = settings(low_stock_level=3)
        assert rules.view(item(on_hand=2), s).status is Status.LOW_STOCK
        assert rules.view(item(on_hand=3), s).status is Status.IN_STOCK
        assert rules.view(item(on_hand=1), settings(low_stock_level=0)).status is Status.IN_STOCK

    def test_unavailable_when_nothing_salable_or_purchasing_disabled(self):
        s = settings(threshold=2)
        assert rules.view(item(on_hand=-2, state="enabled"), s).status is Status.UNAVAILABLE
        assert (
            rules.view(item(on_hand=9, purchasing_disabled=True), s).status is Status.UNAVAILABLE
        )


class TestOrderLine:
    def decide(self, it, qty, s=None):
        return rules.decide_line(1, it, s or settings(threshold=3), qty, it.sku if it else "X")

    def test_mixed_line_reports_both_parts(self):
        d = self.decide(item(on_hand=2), 4)
        assert (d.accepted, d.in_stock, d.backordered) == (True, 2, 2)

    def test_all_in_stock(self):
        d = self.decide(item(on_hand=9), 4)
        assert (d.in_stock, d.backordered, d.message) == (4, 0, None)

    def test_over_salable_is_refused_with_reason(self):
        d = self.decide(item(on_hand=2), 6)
        assert not d.accepted and d.error.startswith("over_threshold")
        assert (d.in_stock, d.backordered) == (0, 0)

    def test_over_salable_is_clamped_when_the_store_says_so(self):
        s = StoreSettings(over_threshold="clamp", defaults=BackorderPolicy(threshold=3))
        d = self.decide(item(on_hand=2), 9, s)
        assert d.accepted and (d.in_stock, d.backordered) == (2, 3)
        assert "clamped" in d.error

    def test_nothing_left_is_refused_even_when_clamping(self):
        s = StoreSettings(over_threshold="clamp", defaults=BackorderPolicy(threshold=3))
        assert not self.decide(item(on_hand=-3), 1, s).accepted

    def test_out_of_stock_when_backorders_off(self):
        d = self.decide(item(on_hand=1), 2, settings(mode="off"))
        assert not d.accepted and d.error.startswith("out_of_stock")

    def test_notify_mode_tells_the_customer_silent_does_not(self):
        assert "back order the remaining 2" in self.decide(item(on_hand=1), 3).message
        assert self.decide(item(on_hand=1), 3, settings(mode="silent", threshold=3)).message is None

    def test_unknown_and_unpurchasable_items_are_refused(self):
        assert self.decide(None, 1).error.startswith("unknown_sku")
        assert self.decide(item(purchasing_disabled=True, on_hand=5), 1).error.startswith(
            "not_purchasable"
        )

    @pytest.mark.parametrize(
        ("policy", "qty", "error"),
        [
            ({"min_sale_qty": 2, "max_sale_qty": 1}, 1, "min_sale_qty"),  # min checked first
            ({"max_sale_qty": 3, "qty_increments": 2}, 5, "max_sale_qty"),  # then max
            ({"qty_increments": 2}, 3, "qty_increments"),  # then increments
            ({"qty_increments": 2}, 4, None),
        ],
    )
    def test_quantity_rules_in_fixed_order_first_error_wins(self, policy, qty, error):
        d = self.decide(item(on_hand=100), qty, settings(**policy))
        assert (d.error or "").split(":")[0] == (error or "")


class TestSwitching:
    def test_switches_to_backorder_at_the_switch_condition(self):
        s = StoreSettings(switch_condition=5)
        new, events = rules.settle(item(on_hand=5), s, AT)
        assert new.state is BackorderState.ENABLED
        assert [e.type for e in events] == [EventType.BACKORDER_ENABLED]
        untouched, none = rules.settle(item(on_hand=6), s, AT)
        assert untouched.state is BackorderState.IDLE and none == []

    def test_threshold_used_up_disables(self):
        s = settings(threshold=2)
        new, events = rules.settle(item(on_hand=-2, state="enabled"), s, AT)
        assert new.state is BackorderState.DISABLED
        assert new.disabled_reason is DisableReason.THRESHOLD_USED_UP
        assert [e.type for e in events] == [
            EventType.THRESHOLD_EXHAUSTED,
            EventType.BACKORDER_DISABLED,
        ]
        assert not rules.view(new, s).purchasable

    def test_stock_recovered_switches_back(self):
        new, events = rules.settle(item(on_hand=3, state="enabled"), settings(), AT)
        assert new.state is BackorderState.IDLE
        assert events[0].reason is DisableReason.STOCK_RECOVERED

    def test_automatic_disable_rearms_when_stock_returns_manual_does_not(self):
        auto = item(on_hand=4, state="disabled", disabled_reason="threshold_used_up")
        assert rules.settle(auto, settings(), AT)[0].state is BackorderState.IDLE
        manual = item(on_hand=4, state="disabled", disabled_reason="manual")
        assert rules.settle(manual, settings(), AT)[0].state is BackorderState.DISABLED

    def test_mode_off_never_switches(self):
        new, events = rules.settle(item(on_hand=-1), settings(mode="off"), AT)
        assert new.state is BackorderState.IDLE and events == []

    def test_manual_enable_and_disable(self):
        s = settings(threshold=5)
        off, events = rules.disable(item(on_hand=0, state="enabled"), AT)
        assert off.disabled_reason is DisableReason.MANUAL
        assert events[0].reason is DisableReason.MANUAL
        on, events = rules.enable(off, s, AT)
        assert on.state is BackorderState.ENABLED
        assert [e.type for e in events] == [EventType.BACKORDER_ENABLED]
        # above the switch condition, enabling arms it without claiming it is on backorder
        armed, events = rules.enable(off.model_copy(update={"on_hand": 8}), s, AT)
        assert armed.state is BackorderState.IDLE and events == []

    def test_back_in_stock_date_receives_incoming_and_disables(self):
        due = AT - dt.timedelta(hours=1)
        it = item(on_hand=-1, state="enabled", incoming_qty=1, back_in_stock_date=due)
        received, (new, events) = rules.receive_incoming(it, settings(), AT)
        assert received == 1 and new.on_hand == 0
        assert new.state is BackorderState.DISABLED
        assert new.disabled_reason is DisableReason.BACK_IN_STOCK_DATE
        assert events[0].data["received"] == 1
        assert new.incoming_qty == 0 and new.back_in_stock_date is None

    def test_back_in_stock_date_in_the_future_does_nothing(self):
        it = item(on_hand=-1, incoming_qty=5, back_in_stock_date=AT + dt.timedelta(days=1))
        received, (new, events) = rules.receive_incoming(it, settings(), AT)
        assert (received, new, events) == (0, it, [])

    def test_received_stock_above_condition_sells_again(self):
        it = item(on_hand=-1, state="enabled", incoming_qty=10, back_in_stock_date=AT)
        _, (new, _) = rules.receive_incoming(it, settings(threshold=2), AT)
        view = rules.view(new, settings(threshold=2))
        assert view.on_hand == 9 and view.status is Status.IN_STOCK and view.salable == 11


def test_mode_values_match_magento_and_seed_options():
    assert [m.value for m in Mode] == ["off", "silent", "notify"]
