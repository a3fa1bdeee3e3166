"""Magento's stock semantics, table-driven from Magento's own unit tests (cited per table)."""

from __future__ import annotations

import pytest
from backorder_magento.models import ItemOptions, StockItem, stock_item_from_fields
from backorder_magento.stock_rules import (
    Effective,
    backorder_notice,
    backorder_qty,
    check_qty,
    check_quote_item_qty,
    effective,
    is_salable_for_requested_qty,
    is_stuck_out_of_stock,
    salable_qty,
    save_stock_item,
    set_in_stock_automatically,
    set_out_of_stock_automatically,
    verify_stock,
)

DEFAULTS = ItemOptions()


def eff(backorders=0, min_qty=0.0, manage_stock=True) -> Effective:
    return Effective(manage_stock, backorders, float(min_qty), 1, 10000, 1, None, False)


def item(**fields) -> StockItem:
    """A stored stock item (it has an ``item_id``, as every item a save reads back)."""
    return stock_item_from_fields({"sku": "S", "item_id": 1, **fields})


# Magento\CatalogInventory\Test\Unit\Model\StockStateProviderTest::stockItemDataProvider,
# with MSI 1.2.7's AdaptVerifyStockToNegativeMinQtyPlugin: a limit is used up only *below*
# min_qty (qty < min_qty), so qty == min_qty stays in stock.
@pytest.mark.parametrize(
    ("qty", "backorders", "min_qty", "manage", "expected"),
    [
        (None, 0, 0, True, False),  # qty_is_null_manage_stock_on
        (3, 0, 3, True, False),  # qty_reached_threshold_without_backorders
        (-100, 1, 0, True, True),  # backorders_are_ininite
        (-100, 1, -100, True, True),  # limit reached to the unit: still in stock (MSI plugin)
        (-101, 1, -100, True, False),  # below the limit: out of stock
        (-99, 1, -100, True, True),  # qty_not_yet_reached_threshold_1
        (1, 0, 0, True, True),  # qty_not_yet_reached_threshold_2
    ],
)
def test_verify_stock(qty, backorders, min_qty, manage, expected):
    assert verify_stock(qty, eff(backorders, min_qty, manage)) is expected


# Magento\CatalogInventory\Test\Unit\Model\StockStateProviderTest::stockItemAndQtyDataProvider
@pytest.mark.parametrize(
    ("manage", "qty", "min_qty", "backorders", "order_qty", "expected"),
    [
        (False, 0, 0, 0, 0, True),  # disabled_manage_stock
        (True, -100, 0, 1, 100, True),  # infinite_backorders
        (True, -100, -100, 2, 1, False),  # qty_reached_threshold
        (True, -99, -100, 2, 1, True),  # one unit of the limit left
        (True, 5, 0, 0, 6, False),  # no backorders, not enough
        (True, 100, 60, 3, 50.5, False),  # Spi\StockStateProviderTest variation 2 (checkQty false)
    ],
)
def test_check_qty(manage, qty, min_qty, backorders, order_qty, expected):
    assert check_qty(qty, eff(backorders, min_qty, manage), order_qty) is expected


# Magento\InventorySales\Test\Unit\Model\IsProductSalableCondition\
#     BackOrderNotifyCustomerConditionTest
# (rows where the mocked salable qty is consistent with the stock: salable = qty - min_qty).
@pytest.mark.parametrize(
    ("qty", "requested", "backorders", "manage", "message_qty"),
    [
        (1, 2, 2, True, 1),  # StockQty=1, ReqQty=2, Backorders=YesNotify -> remaining 1
        (10, 20, 2, True, 10),
        (1, 1, 2, True, None),  # StockQty=1, ReqQty=1 -> no notice
        (0, 1, 0, True, None),  # Backorders=No -> no notice
        (0, 1, 1, True, None),  # Backorders=Yes (no notify) -> no notice
        (0, 1, 2, False, None),  # ManageStock=No -> no notice
        (3, 3, 2, True, None),
    ],
)
def test_backorder_notify_customer(qty, requested, backorders, manage, message_qty):
    stock = item(qty=qty, backorders=backorders, manage_stock=manage)
    expected = (
        None
        if message_qty is None
        else "We don't have as many quantity as you requested, but we'll back order "
        f"the remaining {message_qty}."
    )
    assert backorder_notice(stock, DEFAULTS, requested) == expected


# Magento\InventorySales\Model\GetBackorderQty docblock example and
# Magento\InventorySales\Test\Integration\SalesQuoteItem\AddSalesQuoteItemOnNotDefaultStockTest.
@pytest.mark.parametrize(
    ("qty", "min_qty", "reservations", "requested", "expected"),
    [
        (10, -10, 0, 15, 5),  # instock 10, minqty -10, requested 15 -> 5
        (10, -20, 0, 15, 5),  # salable 30, still 5 beyond stock
        (0, 0, -5, 5, 5),  # already in backorders: capped at the request, not 10
        (3, 0, 0, 6, 3),  # SKU-1 style: 6 requested, 3 on hand -> 3
        (4, 0, 0, 5.5, 1.5),  # decimal quantities stay decimal
        (8, 0, 0, 5, 0),  # enough stock
    ],
)
def test_backorder_qty(qty, min_qty, reservations, requested, expected):
    stock = item(qty=qty, backorders=1, min_qty=min_qty, is_qty_decimal=True)
    assert backorder_qty(stock, DEFAULTS, requested, reservations) == pytest.approx(expected)


def test_backorder_qty_is_zero_without_backorders_or_managed_stock():
    assert backorder_qty(item(qty=0), DEFAULTS, 3) == 0
    assert backorder_qty(item(qty=0, backorders=2, manage_stock=False), DEFAULTS, 3) == 0


# Magento\CatalogInventory\Model\StockStateProvider::checkQuoteItemQty, one row per check in order.
@pytest.mark.parametrize(
    ("fields", "qty", "code", "message"),
    [
        ({"min_sale_qty": 2}, 1, "qty_min", "The fewest you may purchase is 2."),
        (
            {"max_sale_qty": 5},
            6,
            "qty_max",
            "The requested qty exceeds the maximum qty allowed in shopping cart",
        ),
        (
            {"enable_qty_increments": True, "qty_increments": 5, "qty": 100},
            7,
            "qty_increments",
            "You can buy this product only in quantities of 5 at a time.",
        ),
        ({"qty": 100}, 1.5, "qty_decimal", "You cannot use decimal quantity for this product."),
        # both increments and decimal fail: Magento's decimal check runs last and wins
        (
            {"enable_qty_increments": True, "qty_increments": 2, "qty": 100},
            2.5,
            "qty_decimal",
            "You cannot use decimal quantity for this product.",
        ),
        ({"qty": 5, "is_in_stock": False}, 1, "out_stock", "This product is out of stock."),
        ({"qty": 2}, 3, "qty_available", "The requested qty is not available"),
        (
            {"qty": 0, "backorders": 2, "min_qty": -3},
            4,
            "qty_available",
            "The requested qty is not available",
        ),
        # min sale qty is checked before stock: an out-of-stock item still says "fewest"
        (
            {"min_sale_qty": 3, "is_in_stock": False},
            1,
            "qty_min",
            "The fewest you may purchase is 3.",
        ),
    ],
)
def test_cart_checks_in_magento_order(fields, qty, code, message):
    result = check_quote_item_qty(item(**fields), DEFAULTS, qty)
    assert (result.has_error, result.error_code, result.message) == (True, code, message)


def test_manage_stock_off_accepts_before_stock_checks():
    result = check_quote_item_qty(item(qty=0, is_in_stock=False, manage_stock=False), DEFAULTS, 50)
    assert not result.has_error and result.item_backorders == 0


def test_notify_backorders_give_message_and_backordered_qty():
    stock = item(qty=3, backorders=2)
    result = check_quote_item_qty(stock, DEFAULTS, 5)
    assert not result.has_error
    assert result.item_backorders == 2
    assert result.message == (
        "We don't have as many quantity as you requested, but we'll back order the remaining 2."
    )
    silent = check_quote_item_qty(item(qty=3, backorders=1), DEFAULTS, 5)
    assert (silent.message, silent.item_backorders) == (None, 2)


def test_cart_summary_qty_counts_other_lines_of_the_same_sku():
    # 4 in stock, 3 already in the cart on another line, this line asks for 2 -> 1 backordered
    result = check_quote_item_qty(item(qty=4, backorders=1), DEFAULTS, 2, summary_qty=5)
    assert result.item_backorders == 1


def test_reservations_reduce_what_a_cart_may_take():
    stock = item(qty=5)
    assert not check_quote_item_qty(stock, DEFAULTS, 5).has_error
    assert check_quote_item_qty(stock, DEFAULTS, 5, reservations=-1).error_code == "qty_available"


# Spi\StockStateProviderTest::testCheckQtyIncrementsMsg (non-child item).
def test_qty_increments_message():
    result = check_quote_item_qty(item(enable_qty_increments=True, qty_increments=5), DEFAULTS, 1)
    assert result.message == "You can buy this product only in quantities of 5 at a time."


def test_use_config_falls_back_to_global_config():
    config = ItemOptions.from_mapping(
        {"cataloginventory/item_options/backorders": "2", "min_qty": -4, "max_sale_qty": 7}
    )
    follows = effective(item(), config)
    assert (follows.backorders, follows.min_qty, follows.max_sale_qty) == (2, -4, 7)
    own = effective(item(backorders=0, min_qty=1), config)
    assert (own.backorders, own.min_qty) == (0, 1)
    explicit = effective(item(backorders=0, use_config_backorders=True), config)
    assert explicit.backorders == 2  # the "Default" link wins over the stored value
    assert effective(item(), DEFAULTS) == Effective(True, 0, 0, 1, 10000, 1, None, False)


def test_salable_qty_and_msi_salability():
    limited = item(qty=2, backorders=1, min_qty=-3)
    assert salable_qty(limited, DEFAULTS) == 5
    assert salable_qty(limited, DEFAULTS, reservations=-5) == 0
    assert salable_qty(item(qty=2, is_in_stock=False), DEFAULTS) == 0
    assert is_salable_for_requested_qty(limited, DEFAULTS, 5).salable
    refused = is_salable_for_requested_qty(limited, DEFAULTS, 6)
    assert not refused.salable
    assert ("is_salable_with_reservations-not_enough_qty", "Not enough items for sale") in (
        refused.errors
    )
    unlimited = item(qty=-50, backorders=1, min_qty=0)
    assert is_salable_for_requested_qty(unlimited, DEFAULTS, 1000).salable
    assert is_salable_for_requested_qty(item(min_sale_qty=2), DEFAULTS, 1).errors[0][0] == (
        "is_correct_qty-min_sale_qty"
    )


# MSI InventorySales/etc/di.xml, IsProductSalableForRequestedQtyConditionChainOnAddToCart
# (the REST endpoint's chain): required is_correct_qty + is_any_source_item_in_stock, then
# back_order (10), manage_stock (20), is_salable_with_reservations (30), each condition's own
# code and message.
NOT_SALABLE = (
    ("back_order-disabled", "Backorders are disabled"),
    ("manage_stock-enabled", "Manage stock is enabled"),
    ("is_salable_with_reservations-not_enough_qty", "Not enough items for sale"),
)
NO_SOURCE = (
    "is_any_source_item_in_stock-no_source_items_in_stock",
    "There are no source items with the in stock status",
)


@pytest.mark.parametrize(
    ("fields", "requested", "errors"),
    [
        ({"qty": 2, "backorders": 1, "min_qty": -3}, 6, NOT_SALABLE),  # limit of 3: 5 salable
        ({"qty": 2}, 3, NOT_SALABLE),  # backorders off
        ({"qty": 2, "is_in_stock": False, "stock_status_changed_auto": 0}, 1, (NO_SOURCE,)),
        # required conditions all run: both errors, is_correct_qty first
        (
            {"qty": 2, "min_sale_qty": 2, "is_in_stock": False},
            1,
            (("is_correct_qty-min_sale_qty", "The fewest you may purchase is 2."), NO_SOURCE),
        ),
        ({"qty": 0, "is_in_stock": False, "manage_stock": False}, 9, ()),  # not managed
        ({"qty": -50, "backorders": 2}, 1000, ()),  # back_order: unlimited
        ({"qty": 2, "backorders": 1, "min_qty": -3}, 5, ()),  # is_salable_with_reservations
    ],
)
def test_msi_salability_codes_in_magentos_order(fields, requested, errors):
    result = is_salable_for_requested_qty(item(**fields), DEFAULTS, requested)
    assert (result.salable, result.errors) == (not errors, errors)


# MSI InventoryCatalog AdaptMinQtyToBackordersPlugin::afterGetMinQty
def test_min_qty_counts_only_in_the_direction_the_backorder_setting_uses():
    assert effective(item(backorders=0, min_qty=-4), DEFAULTS).min_qty == 0
    assert effective(item(backorders=0, min_qty=4), DEFAULTS).min_qty == 4
    assert effective(item(backorders=2, min_qty=4), DEFAULTS).min_qty == 0
    assert effective(item(backorders=2, min_qty=-4), DEFAULTS).min_qty == -4


def test_positive_min_qty_is_the_out_of_stock_threshold():
    stock = item(qty=5, min_qty=2)
    assert salable_qty(stock, DEFAULTS) == 3
    assert check_quote_item_qty(stock, DEFAULTS, 4).error_code == "qty_available"
    assert not check_quote_item_qty(stock, DEFAULTS, 3).has_error


# Magento 2.4.8 StockItemRepository::updateStockStatus; ResourceModel\Stock::updateSetOutOfStock
def test_sells_out_without_backorders_goes_out_automatically_and_comes_back():
    sold_out = save_stock_item(item(qty=1), {"qty": 0}, DEFAULTS)
    assert (sold_out.is_in_stock, sold_out.stock_status_changed_auto) == (False, 1)
    restocked = save_stock_item(sold_out, {"qty": 4}, DEFAULTS)
    assert restocked.is_in_stock and restocked.stock_status_changed_auto == 1
    assert set_out_of_stock_automatically(item(qty=0), DEFAULTS).stock_status_changed_auto == 1


def test_manual_out_of_stock_is_never_flipped_back():
    manual = save_stock_item(item(qty=10), {"is_in_stock": False}, DEFAULTS)
    assert (manual.is_in_stock, manual.stock_status_changed_auto) == (False, 0)
    assert not set_in_stock_automatically(
        manual.model_copy(update={"qty": 50}), DEFAULTS
    ).is_in_stock
    assert not save_stock_item(manual, {"qty": 50}, DEFAULTS).is_in_stock


def test_turning_backorders_on_puts_a_sold_out_item_back_in_stock():
    # 2.4.8: the flag is reset only by a save that changes is_in_stock itself, so the item
    # that went out automatically comes back once backorders let it sell (2.4.7 left it out)
    sold_out = save_stock_item(item(qty=1), {"qty": 0}, DEFAULTS)
    allowed = {"backorders": 1, "use_config_backorders": False}
    back = save_stock_item(sold_out, allowed, DEFAULTS)
    assert (back.is_in_stock, back.stock_status_changed_auto) == (True, 1)
    # the admin form posts the displayed is_in_stock = 0 too: unchanged, so the same
    assert save_stock_item(sold_out, allowed | {"is_in_stock": False}, DEFAULTS).is_in_stock


def test_backorder_limit_goes_out_only_below_min_qty():
    limited = item(qty=0, backorders=1, min_qty=-3)
    used_up = save_stock_item(limited, {"qty": -3}, DEFAULTS)
    assert used_up.is_in_stock and salable_qty(used_up, DEFAULTS) == 0
    below = save_stock_item(limited, {"qty": -4}, DEFAULTS)
    assert (below.is_in_stock, below.stock_status_changed_auto) == (False, 1)
    unlimited = save_stock_item(item(qty=0, backorders=1), {"qty": -30}, DEFAULTS)
    assert unlimited.is_in_stock


def test_the_seed_stuck_case_arises_and_is_detected():
    # set out of stock by hand (the save changes is_in_stock: the flag goes to 0), then
    # backorders allowed: nothing flips it back
    manual = save_stock_item(item(qty=0), {"is_in_stock": False}, DEFAULTS)
    stuck = save_stock_item(manual, {"backorders": 1, "use_config_backorders": False}, DEFAULTS)
    assert (stuck.is_in_stock, stuck.stock_status_changed_auto) == (False, 0)
    assert is_stuck_out_of_stock(stuck, DEFAULTS)
    sold_out = save_stock_item(item(qty=1), {"qty": 0}, DEFAULTS)
    assert not is_stuck_out_of_stock(sold_out, DEFAULTS)  # backorders off: rightly out
    used_up = item(qty=-3, backorders=1, min_qty=-3, is_in_stock=False)
    assert not is_stuck_out_of_stock(used_up, DEFAULTS)  # limit used up: nothing to sell
    untracked = item(qty=0, backorders=1, manage_stock=False, is_in_stock=False)
    assert not is_stuck_out_of_stock(untracked, DEFAULTS)
