"""What a real Magento store would do with our pushes and reads, against the live sandbox.

The sandbox applies Magento's own rules (:mod:`backorder_magento.stock_rules`), so these
tests check the plugin and Magento agree on what a customer may buy.
"""

from __future__ import annotations

import datetime as dt

import pytest
from backorder_magento.sandbox import SandboxStore

from backorder.engine import StoreService
from backorder.errors import InvalidInput
from backorder.models import ItemInput, OrderIn
from backorder.storage.db import Database

TOKEN = "sandbox-token"
NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)


BAG = [{"sku": "BAG", "name": "Bag", "qty": 3}]


@pytest.fixture
def magento_sandbox(request) -> SandboxStore:
    """The sandbox of ``magento_store`` (conftest), seeded with the test's products."""
    return SandboxStore(request.param, token=TOKEN)


@pytest.fixture
def shop(tmp_path, plugin_manager, magento_store, magento_sandbox):
    """A store service synced to the sandbox, and the sandbox."""
    db = Database(f"sqlite:///{tmp_path}/fidelity.db")
    service = StoreService(db, magento_store, plugin_manager, lambda: NOW)
    service.sync_from_platform()
    yield service, magento_sandbox
    db.dispose()


def _salable_in_magento(sandbox: SandboxStore, sku: str, qty: int) -> bool:
    from backorder_magento.stock_rules import is_salable_for_requested_qty

    return is_salable_for_requested_qty(sandbox.items[sku], sandbox.config, qty).salable


@pytest.mark.parametrize("magento_sandbox", [BAG], indirect=True)
@pytest.mark.parametrize(("threshold", "backorders", "min_qty"), [(0, 0, 0), (2, 2, -2)])
def test_a_backorder_limit_reaches_magento_as_magento_reads_it(
    shop, threshold, backorders, min_qty
):
    service, sandbox = shop
    service.assign([ItemInput(sku="BAG", mode="notify", threshold=threshold)])

    item = sandbox.items["BAG"]
    assert (item.backorders, item.min_qty) == (backorders, min_qty)
    # Magento sells what the core sells, not one more: a limit of 0 is not "unlimited"
    assert service.item("BAG").salable == 3 + threshold
    assert _salable_in_magento(sandbox, "BAG", 3 + threshold)
    assert not _salable_in_magento(sandbox, "BAG", 4 + threshold)


@pytest.mark.parametrize(
    "magento_sandbox", [[{"sku": "ROPE", "qty": 2.5, "is_qty_decimal": True}]], indirect=True
)
def test_a_decimal_product_is_refused_by_sku_at_sync(plugin_manager, magento_store):
    platform = plugin_manager.platform("magento")
    with pytest.raises(InvalidInput, match="is_qty_decimal: SKU 'ROPE' is sold in decimal"):
        platform.fetch_catalog(magento_store)
    with pytest.raises(InvalidInput, match="is_qty_decimal: SKU 'ROPE' is sold in decimal"):
        platform.fetch_levels(magento_store, ["ROPE"])


@pytest.mark.parametrize("magento_sandbox", [BAG], indirect=True)
def test_a_decimal_order_line_is_refused_by_sku(shop):
    service, sandbox = shop
    sandbox.orders["7"] = {
        "entity_id": 7,
        "items": [{"sku": "BAG", "qty_ordered": 1.5, "name": "Bag", "parent_item_id": None}],
    }
    with pytest.raises(InvalidInput, match=r"order 7: SKU 'BAG' was ordered in a decimal"):
        service.platform.fetch_order(service.store, "7")


@pytest.mark.parametrize("magento_sandbox", [BAG], indirect=True)
def test_magento_store_orders_carry_msis_notice(shop):
    service, _ = shop
    service.assign([ItemInput(sku="BAG", mode="notify", threshold=None)])
    result = service.place_order(OrderIn(order_id="1", lines=[{"sku": "BAG", "qty": 5}]))
    assert result.lines[0].message == (
        "We don't have as many quantity as you requested, but we'll back order the remaining 2."
    )
