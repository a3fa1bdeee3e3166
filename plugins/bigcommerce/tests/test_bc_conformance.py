"""The core's conformance suite, run against the plugin and its in-process sandbox."""

from __future__ import annotations

import json

import pytest
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.connection import client_for

from backorder.testing import PlatformConformance


class TestBigCommerceConformance(PlatformConformance):
    @pytest.fixture
    def platform_name(self):
        return "bigcommerce"

    @pytest.fixture
    def store(self, bc_store):
        return bc_store

    @pytest.fixture
    def native_item(self):
        return {
            "sku": "CONF-1",
            "id": 501,
            "inventory_tracking": "product",
            "inventory_level": 2,
            "availability": "available",
            "backorder_limit": 3,
        }

    @pytest.fixture
    def webhook(self, bc_store, bc_secret):
        envelope = {
            "scope": "store/order/created",
            "store_id": "1025646",
            "producer": "stores/sandbox",
            "hash": "352e4afc6dd3fc85ea26bfdf3f91852604d57528",
            "created_at": 1767225600,
            "data": {"type": "order", "id": 5001},
        }
        return {"X-Backorder-Secret": bc_secret}, json.dumps(envelope).encode()

    @pytest.fixture
    def known_order_id(self, bc_store, bc_address):
        order = client_for(bc_store).create_order(
            s.OrderPost(
                billing_address=bc_address,
                products=[s.OrderCatalogProductPost(product_id=101, quantity=1)],
            )
        )
        return str(order.id)
