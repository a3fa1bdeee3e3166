"""Magento-native items in the core: translation rules and the simulator end to end."""

from __future__ import annotations

import datetime as dt

import pytest
from backorder_magento.csv_dialect import MagentoProductCsv
from backorder_magento.models import ItemOptions, stock_item_from_fields
from backorder_magento.stock_rules import is_salable_for_requested_qty
from backorder_magento.translate import to_item_input, to_stock_item_update

from backorder.models import ItemView, Mode, StoreSettings
from backorder.simulate import ScenarioError, parse_scenario, simulate

AT = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC).isoformat()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"qty": 2, "backorders": 1, "min_qty": -3}, {"mode": Mode.SILENT, "threshold": 3}),
        ({"qty": 0, "backorders": 2, "min_qty": 0}, {"mode": Mode.NOTIFY, "threshold": None}),
        ({"qty": 0, "backorders": 2, "min_qty": 4}, {"mode": Mode.NOTIFY, "threshold": None}),
        ({"qty": 9, "min_qty": 4}, {"mode": Mode.OFF, "out_of_stock_threshold": 4}),
        ({"qty": 1, "manage_stock": 0}, {"tracked": False}),
        ({"qty": 1, "enable_qty_increments": 1, "qty_increments": 6}, {"qty_increments": 6}),
        ({"qty": 1, "min_sale_qty": 2, "max_sale_qty": 8}, {"min_sale_qty": 2, "max_sale_qty": 8}),
        # the "Default" link: use_config_backorders = 1 follows the global config
        (
            {"qty": 1, "backorders": 0, "use_config_backorders": 1, "config": {"backorders": 2}},
            {"mode": Mode.NOTIFY},
        ),
        (
            {"qty": 1, "config": {"cataloginventory/item_options/min_qty": -2, "backorders": 1}},
            {"mode": Mode.SILENT, "threshold": 2},
        ),
        ({"qty": 0}, {"mode": Mode.OFF, "tracked": True}),  # Magento's defaults: no backorders
    ],
)
def test_translation(fields, expected):
    entry = to_item_input({"sku": "A", **fields})
    assert {k: getattr(entry, k) for k in expected} == expected


def test_manual_out_of_stock_is_not_purchasable_automatic_is_not():
    manual = to_item_input({"sku": "A", "qty": 5, "is_in_stock": 0, "stock_status_changed_auto": 0})
    assert manual.purchasing_disabled
    auto = to_item_input({"sku": "A", "qty": 0, "is_in_stock": 0, "stock_status_changed_auto": 1})
    assert not auto.purchasing_disabled
    untracked = to_item_input({"sku": "A", "is_in_stock": 0, "manage_stock": 0})
    assert not untracked.purchasing_disabled


def test_core_fields_pass_through_and_win():
    entry = to_item_input(
        {"sku": "A", "qty": 1, "backorders": 1, "threshold": 9, "incoming_qty": 4}
    )
    assert (entry.threshold, entry.incoming_qty) == (9, 4)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"qty": 1.5}, "qty: 1.5 is not a whole number"),
        ({"qty": 2, "is_qty_decimal": 1}, "is_qty_decimal: SKU 'A' is sold in decimal quantities"),
        ({"qty": 0, "backorders": 5}, "backorders:"),
        ({"qty": 0, "bakorders": 1}, "bakorders: not a Magento stock item field"),
    ],
)
def test_bad_fields_name_the_field(fields, error):
    with pytest.raises(ValueError, match=error):
        to_item_input({"sku": "A", **fields})


def _run(plugin_manager, items, events):
    return simulate(
        parse_scenario({"platform": "magento", "items": items, "events": events}), plugin_manager
    )


def test_simulate_out_of_stock_threshold_matches_magento(plugin_manager):
    out = _run(
        plugin_manager,
        [{"sku": "A", "qty": 5, "min_qty": 2}],
        [
            {"at": AT, "type": "order", "lines": [{"sku": "A", "qty": 4}]},
            {"at": AT, "type": "order", "lines": [{"sku": "A", "qty": 3}]},
        ],
    )
    assert [r["accepted"] for r in out["results"]] == [False, True]
    assert out["items"]["A"]["salable"] == 0 and out["items"]["A"]["status"] == "unavailable"


def test_simulate_unlimited_notify_backorders(plugin_manager):
    out = _run(
        plugin_manager,
        [{"sku": "B", "qty": 1, "backorders": 2, "min_qty": 0}],
        [{"at": AT, "type": "order", "lines": [{"sku": "B", "qty": 40}]}],
    )
    line = out["results"][0]["lines"][0]
    assert (line["in_stock"], line["backordered"]) == (1, 39)
    assert line["message"].endswith("back order the remaining 39.")
    assert out["items"]["B"]["salable"] is None


def test_simulate_stuck_item_is_unavailable_until_repaired(plugin_manager):
    stuck = {"sku": "C", "qty": 0, "backorders": 1, "is_in_stock": 0}
    out = _run(plugin_manager, [stuck], [{"at": AT, "type": "order", "sku": "C", "qty": 1}])
    assert not out["results"][0]["accepted"]
    assert "not_purchasable" in out["results"][0]["errors"][0]


def test_simulate_bad_native_field_names_item(plugin_manager):
    with pytest.raises(ScenarioError, match=r"items\[0\]: qty: 2.5 is not a whole number"):
        _run(plugin_manager, [{"sku": "D", "qty": 2.5}], [])


def _view(**kw) -> ItemView:
    defaults = dict(
        sku="A", assigned=True, tracked=True, on_hand=0, salable=3, status="backorder",
        purchasable=True, mode=Mode.NOTIFY, threshold=3, backordered=0, state="enabled",
        policy=StoreSettings().defaults,
    )  # fmt: skip
    return ItemView(**(defaults | kw))


def test_stock_item_update_round_trips_through_translation():
    body = to_stock_item_update(_view(), "assign")
    assert body["backorders"] == 2 and body["min_qty"] == -3 and body["is_in_stock"] is True
    back = to_item_input({"sku": "A", "qty": 0, **body})
    assert (back.mode, back.threshold, back.tracked) == (Mode.NOTIFY, 3, True)
    assert to_stock_item_update(_view(assigned=False), "unassign") == {}
    assert to_stock_item_update(_view(assigned=False), "unassign:not_purchasable") == {
        "is_in_stock": False
    }


def test_csv_dialect_reads_magento_columns_and_names_bad_cells():
    dialect = MagentoProductCsv()
    row = {"sku": "A", "qty": "3", "is_in_stock": "1", "backorders": "1",
           "use_config_backorders": "0", "min_qty": "-2", "use_config_min_qty": "0",
           "manage_stock": "1", "use_config_manage_stock": "0"}  # fmt: skip
    entry = dialect.read_row(row)
    assert (entry.on_hand, entry.mode, entry.threshold) == (3, Mode.SILENT, 2)
    export = dialect.read_row(
        {"sku": "A", "qty": "3", "allow_backorders": "2", "out_of_stock_qty": "-1"}
    )
    assert (export.mode, export.threshold) == (Mode.NOTIFY, 1)
    with pytest.raises(ValueError, match="column backorders: '7'"):
        dialect.read_row(row | {"backorders": "7"})
    with pytest.raises(ValueError, match="column qty: 'lots'"):
        dialect.read_row(row | {"qty": "lots"})
    off = dialect.read_row(row | {"backorders": "0"})  # min_qty -2 with backorders off: 0
    assert (off.mode, off.out_of_stock_threshold) == (Mode.OFF, None)
    with pytest.raises(ValueError, match="column is_qty_decimal: SKU 'A' is sold in decimal"):
        dialect.read_row(row | {"is_qty_decimal": "1"})
    written = next(iter(dialect.write_rows([_view(on_hand=4)])))
    assert written == {"sku": "A", "qty": "4", "is_in_stock": "1", "backorders": "2",
                       "use_config_backorders": "0", "min_qty": "-3", "use_config_min_qty": "0",
                       "manage_stock": "1", "use_config_manage_stock": "0"}  # fmt: skip
    assert list(written) == list(dialect.columns)


# --- Magento fields named like core fields are Magento's: translated, never passed through.
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # Magento's "max_sale_qty 0 = no limit" (the core refused 0 as "greater than 0")
        ({"max_sale_qty": 0}, {"max_sale_qty": None}),
        # increments given but not enabled: Magento ignores them (getQtyIncrements() false)
        ({"qty_increments": 5, "enable_qty_increments": 0}, {"qty_increments": None}),
        ({"qty_increments": 5}, {"qty_increments": None}),  # enable_qty_increments defaults off
        # the "Default" link: the item's own value is not the one Magento uses
        ({"min_sale_qty": 3, "use_config_min_sale_qty": 1}, {"min_sale_qty": 1}),
        (
            {"max_sale_qty": 3, "use_config_max_sale_qty": 1, "config": {"max_sale_qty": 7}},
            {"max_sale_qty": 7},
        ),
        ({"min_sale_qty": 0}, {"min_sale_qty": 1}),
    ],
)
def test_same_named_magento_fields_are_translated(fields, expected):
    entry = to_item_input({"sku": "A", "qty": 1, **fields})
    assert {k: getattr(entry, k) for k in expected} == expected


def test_csv_dialect_translates_same_named_fields_too():
    dialect = MagentoProductCsv()
    entry = dialect.read_row({"sku": "A", "qty": "1", "max_cart_qty": "0",
                              "qty_increments": "4", "enable_qty_increments": "0"})  # fmt: skip
    assert (entry.max_sale_qty, entry.qty_increments) == (None, None)


def test_same_named_fields_do_not_refuse_orders_magento_takes(plugin_manager):
    out = _run(
        plugin_manager,
        [{"sku": "A", "qty": 5, "qty_increments": 3, "enable_qty_increments": 0,
          "max_sale_qty": 0}],
        [{"at": AT, "type": "order", "lines": [{"sku": "A", "qty": 2}]}],
    )  # fmt: skip
    assert out["results"][0]["accepted"]


# --- A negative Out-of-Stock Threshold with backorders off counts as 0.
def test_negative_config_min_qty_with_backorders_off_counts_as_zero():
    # Minqty::beforeSave saves it as 0; with MSI it is kept and getMinQty reads it as 0
    config = {"backorders": 0, "min_qty": -3}
    off = to_item_input({"sku": "A", "qty": 2, "config": config})
    assert (off.mode, off.out_of_stock_threshold) == (Mode.OFF, None)
    # an item that allows backorders itself keeps the config value as its limit (MSI)
    on = to_item_input({"sku": "A", "qty": 2, "backorders": 1, "config": config})
    assert (on.mode, on.threshold) == (Mode.SILENT, 3)


def test_simulate_negative_config_min_qty_with_backorders_off(plugin_manager):
    out = _run(
        plugin_manager,
        [{"sku": "A", "qty": 2, "config": {"backorders": 0, "min_qty": -3}}],
        [{"at": AT, "type": "order", "lines": [{"sku": "A", "qty": 3}]}],
    )
    assert not out["results"][0]["accepted"] and out["items"]["A"]["salable"] == 2


# --- Mode and limit, pushed to Magento and read back.
@pytest.mark.parametrize("mode", [Mode.OFF, Mode.SILENT, Mode.NOTIFY])
@pytest.mark.parametrize("threshold", [0, 4, None])
def test_mode_and_limit_round_trip_through_magento(mode, threshold):
    view = _view(on_hand=2, mode=mode, threshold=threshold, salable=None)
    body = to_stock_item_update(view, "edit")
    back = to_item_input({"sku": "A", "qty": 2, **body})
    if mode is Mode.OFF or threshold == 0:  # a limit of 0 is "no backorders" in Magento
        assert (body["backorders"], back.mode) == (0, Mode.OFF)
        assert "threshold" not in back.model_fields_set
    else:
        assert (back.mode, back.threshold) == (mode, threshold)
    # what Magento then lets a customer buy is what the core sells: 2 on hand + the limit
    stock = stock_item_from_fields({"sku": "A", "item_id": 1, "qty": 2, **body})
    sells = 2 + (threshold if mode is not Mode.OFF and threshold is not None else 0)
    assert is_salable_for_requested_qty(stock, ItemOptions(), sells).salable
    unlimited = mode is not Mode.OFF and threshold is None
    assert is_salable_for_requested_qty(stock, ItemOptions(), sells + 1).salable is unlimited


def test_csv_export_spells_a_limit_of_zero_as_no_backorders():
    row = next(iter(MagentoProductCsv().write_rows([_view(threshold=0)])))
    assert (row["backorders"], row["min_qty"]) == ("0", "0")


# --- Decimal quantities are refused by SKU.
def test_decimal_items_are_refused_by_sku(plugin_manager):
    with pytest.raises(ScenarioError, match=r"items\[0\]: is_qty_decimal: SKU 'D' is sold in"):
        _run(plugin_manager, [{"sku": "D", "qty": 2, "is_qty_decimal": 1}], [])


# --- Not purchasable: nothing salable.
def test_simulate_manual_out_of_stock_has_no_salable_qty(plugin_manager):
    out = _run(plugin_manager, [{"sku": "M", "qty": 5, "is_in_stock": 0}], [])
    assert out["items"]["M"]["salable"] == 0 and out["items"]["M"]["purchasable"] is False


# --- The notify notice is MSI's sentence on Magento.
def test_simulate_notice_is_msis_wording(plugin_manager):
    out = _run(
        plugin_manager,
        [{"sku": "B", "name": "Joust Duffle Bag", "qty": 1, "backorders": 2}],
        [{"at": AT, "type": "order", "lines": [{"sku": "B", "qty": 3}]}],
    )
    assert out["results"][0]["lines"][0]["message"] == (
        "We don't have as many quantity as you requested, but we'll back order the remaining 2."
    )
