"""The core's conformance suite, run against the Magento plugin and its in-process sandbox."""

from __future__ import annotations

import json

import pytest

from backorder.models import Mode
from backorder.testing import PlatformConformance


class TestMagentoConformance(PlatformConformance):
    @pytest.fixture
    def platform_name(self):
        return "magento"

    @pytest.fixture
    def store(self, magento_store):
        return magento_store

    @pytest.fixture
    def native_item(self):
        # 2 on hand, "Allow Qty Below 0", Out-of-Stock Threshold -3 (= backorder limit 3)
        return {"sku": "CONF-1", "qty": 2, "backorders": 1, "min_qty": -3}

    @pytest.fixture
    def webhook(self):
        body = json.dumps(
            {
                "delivery_id": "d-1",
                "event": "cataloginventory_stock_item_save_after",
                "sku": "MB-01",
                "qty": 7,
            }
        ).encode()
        return {"Authorization": "Bearer push-token"}, body

    @pytest.fixture
    def known_order_id(self, magento_sandbox):
        status, order = magento_sandbox.place_order([{"sku": "MB-02", "qty": 3}])
        assert status == 200
        return str(order["entity_id"])

    @pytest.fixture
    def other_store(self, magento_store):
        connection = {**magento_store.connection, "webhook_token": "another-shop-token",
                      "webhook_secret": "another-shop-secret"}
        return magento_store.model_copy(update={"name": "other", "connection": connection})

    @pytest.fixture
    def platform_state(self, magento_sandbox):
        return lambda: (
            {sku: item.model_dump() for sku, item in magento_sandbox.items.items()},
            json.dumps(magento_sandbox.products, sort_keys=True, default=str),
        )

    @pytest.fixture
    def set_platform_level(self, magento_sandbox):
        def set_level(sku, on_hand):
            magento_sandbox.items[sku].qty = on_hand

        return set_level

    @pytest.fixture
    def native_combinations(self):
        # backorders 0/1/2 = No / Allow Qty Below 0 / ... and Notify Customer; a negative
        # Out-of-Stock Threshold (min_qty) is the backorder limit, 0 leaves it unlimited
        x = {"sku": "X", "qty": 2}
        return [
            ({**x, "backorders": 0}, Mode.OFF, None),
            ({**x, "backorders": 1}, Mode.SILENT, None),
            ({**x, "backorders": 1, "min_qty": -3}, Mode.SILENT, 3),
            ({**x, "backorders": 2, "min_qty": -3}, Mode.NOTIFY, 3),
            ({**x, "backorders": 2, "min_qty": 0}, Mode.NOTIFY, None),
        ]
