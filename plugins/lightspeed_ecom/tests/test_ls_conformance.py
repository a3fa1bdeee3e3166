"""The core's conformance suite, run against the plugin and the sandbox on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from backorder_lightspeed_ecom.webhooks import sign

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
