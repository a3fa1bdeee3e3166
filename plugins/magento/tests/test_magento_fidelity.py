"""What a real Magento store would do with our pushes and reads, against the live sandbox.

The sandbox applies Magento's own rules (:mod:`backorder_magento.stock_rules`), so these
tests check the plugin and Magento agree on what a customer may buy.
"""

from __future__ import annotations

import datetime as dt

import pytest
from backorder_magento.sandbox import SandboxStore, create_app

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.errors import InvalidInput
from backorder.http import SyncASGITransport
from backorder.models import ItemInput, OrderIn
from backorder.storage.db import Database

TOKEN = "sandbox-token"
NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)


@pytest.fixture
def shop(tmp_path, plugin_manager):
    """``shop(products)``: a sandbox with those products and a store service synced to it."""
    databases: list[Database] = []

    def build(products: list[dict]) -> tuple[StoreService, SandboxStore]:
        sandbox = SandboxStore(products, token=TOKEN)
        store = StoreConfig(
            name="mage",
            platform="magento",
            connection={
                "base_url": "http://sandbox.test/rest/default",
                "token": TOKEN,
                "transport": SyncASGITransport(create_app(sandbox)),
            },
        )
        db = Database(f"sqlite:///{tmp_path}/fidelity-{len(databases)}.db")
        databases.append(db)
        service = StoreService(db, store, plugin_manager, lambda: NOW)
        service.sync_from_platform()
        return service, sandbox

    yield build
    for db in databases:
        db.dispose()


def _salable_in_magento(sandbox: SandboxStore, sku: str, qty: int) -> bool:
    from backorder_magento.stock_rules import is_salable_for_requested_qty

    return is_salable_for_requested_qty(sandbox.items[sku], sandbox.config, qty).salable


@pytest.mark.parametrize(("threshold", "backorders", "min_qty"), [(0, 0, 0), (2, 2, -2)])
def test_a_backorder_limit_reaches_magento_as_magento_reads_it(
    shop, threshold, backorders, min_qty
):
    service, sandbox = shop([{"sku": "BAG", "name": "Bag", "qty": 3}])
    service.assign([ItemInput(sku="BAG", mode="notify", threshold=threshold)])

    item = sandbox.items["BAG"]
    assert (item.backorders, item.min_qty) == (backorders, min_qty)
    # Magento sells what the core sells, not one more: a limit of 0 is not "unlimited"
    assert service.item("BAG").salable == 3 + threshold
    assert _salable_in_magento(sandbox, "BAG", 3 + threshold)
    assert not _salable_in_magento(sandbox, "BAG", 4 + threshold)


def test_a_decimal_product_is_refused_by_sku_at_sync(shop, plugin_manager):
    with pytest.raises(InvalidInput, match="is_qty_decimal: SKU 'ROPE' is sold in decimal"):
        shop([{"sku": "ROPE", "qty": 2.5, "is_qty_decimal": True}])


def test_a_decimal_order_line_is_refused_by_sku(shop):
    service, sandbox = shop([{"sku": "BAG", "qty": 3}])
    sandbox.orders["7"] = {
        "entity_id": 7,
        "items": [{"sku": "BAG", "qty_ordered": 1.5, "name": "Bag", "parent_item_id": None}],
    }
    with pytest.raises(InvalidInput, match=r"order 7: SKU 'BAG' was ordered in a decimal"):
        service.platform.fetch_order(service.store, "7")


def test_magento_store_orders_carry_msis_notice(shop):
    service, _ = shop([{"sku": "BAG", "name": "Bag", "qty": 1}])
    service.assign([ItemInput(sku="BAG", mode="notify", threshold=None)])
    result = service.place_order(OrderIn(order_id="1", lines=[{"sku": "BAG", "qty": 3}]))
    assert result.lines[0].message == (
        "We don't have as many quantity as you requested, but we'll back order the remaining 2."
    )
