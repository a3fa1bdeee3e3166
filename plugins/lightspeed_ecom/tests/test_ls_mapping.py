"""stockTracking and the CSV columns mapped onto the core policy, and back."""

from __future__ import annotations

import pytest
from backorder_lightspeed_ecom.csv_dialect import write_csv
from backorder_lightspeed_ecom.mapping import (
    catalog_items,
    product_update,
    translate,
    variant_update,
)
from backorder_lightspeed_ecom.models import Variant

from backorder.config import StoreConfig
from backorder.models import BackorderState, ItemView, Mode, Status, StoreSettings
from backorder.plugins import make_manager


@pytest.mark.parametrize(
    ("tracking", "tracked", "mode"),
    [("disabled", False, None), ("enabled", True, Mode.OFF), ("indicator", True, Mode.NOTIFY)],
)
def test_stock_tracking_maps_to_policy(tracking, tracked, mode):
    item = translate({"sku": "A", "stockTracking": tracking, "stockLevel": 4})
    assert item.tracked is tracked
    assert item.mode == mode
    assert item.on_hand == 4


def test_indicator_means_unlimited_backorders_unless_a_threshold_is_given():
    unlimited = translate({"sku": "A", "stockTracking": "indicator"})
    assert "threshold" in unlimited.overrides() and unlimited.threshold is None
    limited = translate({"sku": "A", "stockTracking": "indicator", "threshold": 3})
    assert limited.threshold == 3


def test_native_variant_fields_fill_the_item():
    item = translate(
        {
            "id": 77,
            "product": {"resource": {"id": 5}},
            "title": "Blue",
            "stockTracking": "enabled",
            "stockLevel": -2,
            "stockAlert": 4,
            "stockBuyMinimum": 2,
            "stockBuyMaximum": 10,
        }
    )
    assert (item.sku, item.variant_id, item.product_id) == ("lightspeed-77", "77", "5")
    assert (item.on_hand, item.low_stock_level, item.min_sale_qty, item.max_sale_qty) == (
        -2,
        4,
        2,
        10,
    )


def test_csv_names_translate_too():
    item = translate(
        {"SKU": "T", "NL_Title_Short": "Tas", "Stock_Track": "Y", "Stock_Disable_Sold_Out": "N"}
    )
    assert (item.sku, item.name, item.mode) == ("T", "Tas", Mode.NOTIFY)


@pytest.mark.parametrize(("shop_default", "mode"), [(False, Mode.OFF), (True, Mode.NOTIFY)])
def test_tracking_without_the_sold_out_column_follows_the_shop_default(shop_default, mode):
    """Seed 003: "Allow backorders" for new products is the shop's default, off unless the
    merchant turned it on; ``Stock_Track=Y`` alone does not say."""
    fields = {"SKU": "CAP", "EN_Title_Short": "Cap", "Stock_Track": "Y"}
    item = translate(fields, allow_backorders_default=shop_default)
    assert (item.tracked, item.mode) == (True, mode)
    said = translate({**fields, "Stock_Disable_Sold_Out": "Y"}, allow_backorders_default=True)
    assert said.mode is Mode.OFF


@pytest.mark.parametrize(
    ("connection", "mode"), [({}, Mode.OFF), ({"allow_backorders_default": True}, Mode.NOTIFY)]
)
def test_a_stores_connection_carries_the_shop_default_into_translation(connection, mode):
    platform = make_manager().platform("lightspeed_ecom")
    store = StoreConfig(name="shop", platform="lightspeed_ecom", connection=connection)
    item = platform.translate_store_item(store, {"SKU": "CAP", "Stock_Track": "Y"})
    assert item.mode is mode
    assert platform.translate_item({"SKU": "CAP", "Stock_Track": "Y"}).mode is Mode.OFF


def test_stock_alert_is_the_warning_level_stock_drops_below(store_service):
    """``stockAlert`` (Lightspeed's "Inventory warning level") becomes the low-stock level:
    at the level the variant is in stock, below it low (seed 001: "drops below")."""
    service = store_service(platform="lightspeed_ecom")
    native = {"sku": "MUG", "stockTracking": "enabled", "stockLevel": 3, "stockAlert": 3}
    service.upsert_catalog([translate(native)])
    assert service.item("MUG").status is Status.IN_STOCK
    service.set_stock("MUG", 2, key="count-1")
    assert service.item("MUG").status is Status.LOW_STOCK
    assert write_csv(service.items()).splitlines()[1].endswith(",3")  # Stock_Alert back as 3


def test_backorders_without_tracking_is_an_error_naming_the_columns():
    with pytest.raises(ValueError, match=r"Stock_Disable_Sold_Out=N.*Stock_Track=Y"):
        translate({"SKU": "T", "Stock_Track": "N", "Stock_Disable_Sold_Out": "N"})


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"sku": "A", "stockTracking": "sometimes"}, "stockTracking"),
        ({"sku": "A", "stockLevel": "many"}, "stockLevel"),
        ({"sku": "A", "stockLevel": 3, "on_hand": 4}, "on_hand"),
        ({"sku": "A", "stockTracking": "enabled", "mode": "notify"}, "mode"),
        ({"SKU": "A", "Stock_Track": "maybe"}, "Stock_Track"),
    ],
)
def test_bad_or_contradictory_fields_name_the_field(fields, where):
    with pytest.raises(ValueError, match=where):
        translate(fields)


def test_duplicate_skus_stay_unique_in_the_catalog():
    variants = [
        Variant(id=2, sku="X", stockTracking="enabled", stockLevel=1, product=1),
        Variant(id=1, sku="X", stockTracking="indicator", stockLevel=2, product=1),
        Variant(id=3, sku="", stockTracking="disabled", product=1),
    ]
    items = catalog_items(variants, {1: "Shirt"})
    assert [i.sku for i in items] == ["X", "X-2", "lightspeed-3"]
    assert items[2].tracked is False and items[2].on_hand is None
    assert items[0].name == "Shirt"


def _view(**changes) -> ItemView:
    base = dict(
        sku="A",
        product_id="1",
        variant_id="10",
        assigned=True,
        tracked=True,
        on_hand=-1,
        salable=2,
        status=Status.BACKORDER,
        purchasable=True,
        mode=Mode.NOTIFY,
        threshold=3,
        backordered=1,
        state=BackorderState.ENABLED,
        policy=StoreSettings().defaults,
    )
    return ItemView(**(base | changes))


def test_push_allows_backorders_while_the_rules_do():
    assert variant_update(_view(), "edit") == {
        "id": 10,
        "stockTracking": "indicator",
        "stockLevel": -1,
    }


def test_push_refuses_sold_out_sales_once_the_threshold_is_used_up():
    used_up = _view(
        on_hand=-3,
        salable=0,
        purchasable=False,
        status=Status.UNAVAILABLE,
        state=BackorderState.DISABLED,
    )
    assert variant_update(used_up, "order") == {"id": 10, "stockTracking": "enabled"}


def test_push_leaves_unassigned_items_alone_unless_asked():
    idle = _view(assigned=False, state=BackorderState.IDLE)
    assert variant_update(idle, "unassign") is None
    assert product_update(idle, "unassign") is None
    assert variant_update(idle, "unassign:track") == {
        "id": 10,
        "stockTracking": "enabled",
        "stockLevel": -1,
    }
    assert variant_update(_view(variant_id=None), "edit") is None
    assert variant_update(_view(tracked=False), "assign") == {"id": 10, "stockTracking": "disabled"}


def test_unassign_not_purchasable_keeps_the_level_and_hides_the_product():
    """The level stays Lightspeed's (a positive one is not wiped); only backorders go off and
    the product leaves the storefront (seed 001: "disable the product on your online store")."""
    idle = _view(assigned=False, state=BackorderState.IDLE, on_hand=5, purchasable=False)
    update = variant_update(idle, "unassign:not_purchasable")
    assert update == {"id": 10, "stockTracking": "enabled"}
    assert product_update(idle, "unassign:not_purchasable") == {"id": 1, "visibility": "hidden"}
