"""The core's conformance suite, run against the plugin and the sandbox on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from backorder_lightspeed_ecom.webhooks import sign

from backorder.models import Mode
from backorder.testing import PlatformConformance

from .conftest import SECRET


class TestLightspeedConformance(PlatformConformance):
    @pytest.fixture
    def platform_name(self):
        return "lightspeed_ecom"

    @pytest.fixture
    def store(self, ls_store):
        return ls_store

    @pytest.fixture
    def native_item(self):
        # Lightspeed has no backorder limit of its own: the core threshold rides along.
        return {"sku": "CONF-1", "stockTracking": "indicator", "stockLevel": 2, "threshold": 3}

    @pytest.fixture
    def webhook(self, ls_shop):
        variant = next(iter(ls_shop.variants.values()))
        body = json.dumps({"variant": variant}).encode()
        return {"X-Signature": sign(body, SECRET), "Content-Type": "application/json"}, body

    @pytest.fixture
    def known_order_id(self, ls_shop):
        return str(next(iter(ls_shop.orders)))

    @pytest.fixture
    def other_store(self, ls_store):
        connection = {**ls_store.connection, "api_secret": "another-shop-secret"}
        return ls_store.model_copy(update={"name": "other", "connection": connection})

    @pytest.fixture
    def platform_state(self, ls_shop):
        def snapshot():
            def plain(rows):
                return {key: {k: v for k, v in row.items() if k not in TIMESTAMPS}
                        for key, row in rows.items()}

            return json.dumps([plain(ls_shop.variants), plain(ls_shop.products)],
                              sort_keys=True, default=str)

        return snapshot

    @pytest.fixture
    def set_platform_level(self, platform, ls_store, ls_shop):
        variant_of = {item.sku: int(item.variant_id) for item in platform.fetch_catalog(ls_store)}

        def set_level(sku, on_hand):
            ls_shop.variants[variant_of[sku]]["stockLevel"] = on_hand

        return set_level

    @pytest.fixture
    def native_combinations(self):
        # stockTracking: enabled = no backorders, indicator = backorders allowed (shown),
        # disabled = stock not tracked (mode left to the store); the core threshold rides along
        return [
            ({"sku": "X", "stockTracking": "enabled", "stockLevel": 2}, Mode.OFF, None),
            ({"sku": "X", "stockTracking": "indicator", "stockLevel": 2}, Mode.NOTIFY, None),
            ({"sku": "X", "stockTracking": "indicator", "stockLevel": 2, "threshold": 3},
             Mode.NOTIFY, 3),
            ({"sku": "X", "stockTracking": "disabled", "stockLevel": 2}, None, None),
        ]


TIMESTAMPS = frozenset({"createdAt", "updatedAt"})
