"""The built-in core platform passes the conformance suite third-party plugins run."""

import json

import pytest

from backorder.config import StoreConfig
from backorder.testing import PlatformConformance


@pytest.fixture(autouse=True)
def only_core(monkeypatch):
    monkeypatch.setenv("BACKORDER_PLUGINS", "core")


class TestCorePlatform(PlatformConformance):
    @pytest.fixture
    def platform_name(self):
        return "core"

    @pytest.fixture
    def store(self, tmp_path):
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(
            "- {sku: CONF-1, product_id: '1', name: Conformance, on_hand: 2}\n"
            "- {sku: CONF-2, product_id: '2', name: Other, on_hand: 0}\n"
        )
        return StoreConfig(
            name="conf", platform="core",
            connection={"catalog_file": str(catalog), "webhook_token": "s3cret"},
        )

    @pytest.fixture
    def native_item(self):
        return {"sku": "CONF-1", "on_hand": 2, "threshold": 3}

    @pytest.fixture
    def webhook(self):
        body = json.dumps({"kind": "stock", "delivery_id": "d1", "sku": "CONF-1", "on_hand": 4})
        return {"X-Backorder-Token": "s3cret"}, body.encode()
