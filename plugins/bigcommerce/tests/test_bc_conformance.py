"""The core's conformance suite, run against the plugin and its in-process sandbox."""

from __future__ import annotations

import dataclasses
import json

import pytest
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.connection import client_for

from backorder.models import Mode
from backorder.testing import PlatformConformance

from .conftest import store_config


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

    @pytest.fixture
    def other_store(self, bc_sandbox, monkeypatch):
        monkeypatch.setenv("BC_OTHER_SECRET", "another-shop-secret")
        store = store_config(bc_sandbox)
        connection = {**store.connection, "webhook_secret_env": "BC_OTHER_SECRET"}
        return store.model_copy(update={"name": "other", "connection": connection})

    @pytest.fixture
    def platform_state(self, bc_sandbox):
        state = bc_sandbox.state

        def snapshot():
            def plain(rows):
                return {key: {k: v for k, v in dataclasses.asdict(row).items()
                              if k not in ("modified", "stale")} for key, row in rows.items()}

            return plain(state.products), plain(state.variants)

        return snapshot

    @pytest.fixture
    def set_platform_level(self, bc_sandbox):
        def set_level(sku, on_hand):
            bc_sandbox.state.by_sku[sku].level = on_hand

        return set_level

    @pytest.fixture
    def native_combinations(self):
        # availability "available" with a backorder_limit: backorders up to it (the app's
        # metafield); without one the store's defaults apply
        x = {"sku": "X", "id": 1, "inventory_tracking": "product", "inventory_level": 2}
        return [
            ({**x, "availability": "available"}, None, None),
            ({**x, "availability": "available", "backorder_limit": 3}, Mode.NOTIFY, 3),
        ]
