"""The core's conformance suite, run against the Magento plugin and its in-process sandbox."""

from __future__ import annotations

import json

import pytest

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
