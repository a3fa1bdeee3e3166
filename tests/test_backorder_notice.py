"""The notice a customer reads when part of a line goes on backorder (``notify`` mode).

The core's wording names the product; a platform may give its own (Magento: MSI's exact
sentence, tested in the Magento plugin); a store overrides either in ``[storefront]``.
"""

from __future__ import annotations

import datetime as dt

from backorder import rules
from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import BackorderPolicy, ItemInput, ItemState, OrderIn, StoreSettings
from backorder.simulate import parse_scenario, simulate
from backorder.storefront import StorefrontSettings

AT = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
NOTIFY = StoreSettings(defaults=BackorderPolicy(mode="notify", threshold=None))


def test_the_core_notice_names_the_product():
    item = ItemState(sku="BIKE", name="Trail bike", assigned=True, on_hand=1)
    line = rules.decide_line(1, item, NOTIFY, 3, "BIKE")
    assert line.message == (
        'We don\'t have as many "Trail bike" as you requested, but we\'ll back order the '
        "remaining 2."
    )


def test_an_item_without_a_name_is_named_by_its_sku():
    line = rules.decide_line(1, ItemState(sku="BIKE", assigned=True), NOTIFY, 1, "BIKE")
    assert line.message.startswith('We don\'t have as many "BIKE" as you requested')


def test_the_core_platform_speaks_in_simulate(plugin_manager):
    scenario = parse_scenario({
        "platform": "core",
        "settings": {"defaults": {"mode": "notify", "threshold": None}},
        "items": [{"sku": "BIKE", "name": "Trail bike", "on_hand": 0}],
        "events": [{"at": AT.isoformat(), "type": "order", "sku": "BIKE", "qty": 2}],
    })
    line = simulate(scenario, plugin_manager)["results"][0]["lines"][0]
    assert line["message"] == (
        'We don\'t have as many "Trail bike" as you requested, but we\'ll back order the '
        "remaining 2."
    )


def _shop(tmp_path, storefront: StorefrontSettings, pm=None) -> StoreService:
    from backorder.storage.db import Database

    store = StoreConfig(name="shop", settings=NOTIFY, storefront=storefront)
    service = StoreService(Database(f"sqlite:///{tmp_path}/notice.db"), store, pm=pm)
    service.upsert_catalog([ItemInput(sku="BIKE", name="Trail bike", on_hand=1)])
    service.assign(["BIKE"])
    return service


def test_a_store_overrides_the_notice_with_tokens(tmp_path, plugin_manager):
    override = StorefrontSettings(
        backorder_notice="{backordered} of your {qty} × {name} ({sku}) will follow."
    )
    service = _shop(tmp_path, override, plugin_manager)
    result = service.place_order(OrderIn(order_id="1", lines=[{"sku": "BIKE", "qty": 3}]))
    assert result.lines[0].message == "2 of your 3 × Trail bike (BIKE) will follow."


def test_without_an_override_the_platform_wording_is_used(tmp_path, plugin_manager):
    service = _shop(tmp_path, StorefrontSettings(), plugin_manager)
    result = service.place_order(OrderIn(order_id="1", lines=[{"sku": "BIKE", "qty": 3}]))
    assert result.lines[0].message == plugin_manager.platform("core").backorder_notice.format(
        name="Trail bike", backordered=2
    )
