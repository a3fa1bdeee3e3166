"""The conformance suite wired to the docs plugin: ``DocsConformance`` with ``BROKEN``."""

from __future__ import annotations

import copy
import json

import pytest
from docs_plugin.plugin import NAME, SHOPS, DocsPlugin, FakeShop, sign

from backorder import Mode, StoreConfig, make_manager
from backorder.testing import PlatformConformance

CATALOG = {
    "CONF-1": {"name": "Conformance", "level": 2, "backorders": "notify", "limit": 3},
    "CONF-2": {"name": "Other", "level": 5, "backorders": "no", "limit": None},
}


class DocsConformance(PlatformConformance):
    BROKEN: frozenset[str] = frozenset()

    @pytest.fixture
    def plugin_manager(self):
        pm = make_manager(load_entry_points=False)
        pm.register(DocsPlugin(self.BROKEN), name=NAME)
        return pm

    @pytest.fixture(autouse=True)
    def shops(self):
        SHOPS.clear()
        SHOPS["shop-1"] = FakeShop(secret="secret-1", items=copy.deepcopy(CATALOG))
        SHOPS["shop-2"] = FakeShop(secret="secret-2", items=copy.deepcopy(CATALOG))
        yield SHOPS
        SHOPS.clear()

    @pytest.fixture
    def platform_name(self):
        return NAME

    @pytest.fixture
    def store(self):
        return StoreConfig(name="docs", platform=NAME, connection={"shop": "shop-1"})

    @pytest.fixture
    def other_store(self):
        return StoreConfig(name="other", platform=NAME, connection={"shop": "shop-2"})

    @pytest.fixture
    def native_item(self):
        return {"sku": "CONF-1", "level": 2, "backorders": "notify", "limit": 3}

    @pytest.fixture
    def webhook(self):
        body = json.dumps({"id": "d-1", "sku": "CONF-1", "level": 4}).encode()
        headers = {"X-Docs-Signature": sign(body, "secret-1"), "Content-Type": "application/json"}
        return headers, body

    @pytest.fixture
    def platform_state(self, shops):
        return lambda: json.dumps(
            {name: [shop.items, shop.messages] for name, shop in shops.items()}, sort_keys=True
        )

    @pytest.fixture
    def set_platform_level(self, shops):
        def set_level(sku, on_hand):
            shops["shop-1"].items[sku]["level"] = on_hand

        return set_level

    @pytest.fixture
    def native_combinations(self):
        return [
            ({"sku": "X", "backorders": "no"}, Mode.OFF, None),
            ({"sku": "X", "backorders": "yes"}, Mode.SILENT, None),
            ({"sku": "X", "backorders": "notify", "limit": 3}, Mode.NOTIFY, 3),
            ({"sku": "X"}, None, None),
        ]
