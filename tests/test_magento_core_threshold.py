"""The out-of-stock threshold (Magento ``min_qty`` with backorders off) in the core rules."""

from __future__ import annotations

from backorder.models import ItemInput, ItemState, Mode, StoreSettings
from backorder.rules import decide_line, effective_policy, salable_qty, status


def _item(**overrides) -> ItemState:
    return ItemState(sku="A", assigned=True, on_hand=5, overrides=overrides)


def test_threshold_keeps_units_back_when_backorders_are_off():
    item = _item(mode=Mode.OFF, out_of_stock_threshold=2)
    policy = effective_policy(StoreSettings(), item)
    assert salable_qty(item, policy) == 3
    assert decide_line(1, item, StoreSettings(), 3, "A").accepted
    refused = decide_line(1, item, StoreSettings(), 4, "A")
    assert not refused.accepted and refused.error == "out_of_stock: only 3 can be bought"


def test_item_at_the_threshold_is_unavailable():
    item = _item(mode=Mode.OFF, out_of_stock_threshold=5)
    assert status(item, effective_policy(StoreSettings(), item)).value == "unavailable"


def test_threshold_is_ignored_while_backorders_are_on():
    item = _item(mode=Mode.NOTIFY, threshold=1, out_of_stock_threshold=4)
    assert salable_qty(item, effective_policy(StoreSettings(), item)) == 6


def test_default_keeps_old_behaviour_and_item_input_carries_it():
    item = _item(mode=Mode.OFF)
    assert salable_qty(item, effective_policy(StoreSettings(), item)) == 5
    entry = ItemInput(sku="A", out_of_stock_threshold=2)
    assert entry.overrides() == {"out_of_stock_threshold": 2}


def test_overrides_read_back_as_json_strings_are_enums():
    # overrides come back from storage as plain JSON: "off" must still mean Mode.OFF
    item = ItemState(sku="A", assigned=True, on_hand=5, overrides={"mode": "off"})
    policy = effective_policy(StoreSettings(), item)
    assert policy.mode is Mode.OFF and salable_qty(item, policy) == 5
