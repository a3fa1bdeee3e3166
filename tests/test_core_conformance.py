"""The built-in core platform passes the conformance suite third-party plugins run."""

import json
import os

import pytest
import yaml

from backorder.config import StoreConfig
from backorder.models import Mode
from backorder.testing import PlatformConformance


@pytest.fixture(autouse=True)
def only_core(monkeypatch):
    monkeypatch.setenv("BACKORDER_PLUGINS", "core")


class TestCorePlatform(PlatformConformance):
    @pytest.fixture
    def platform_name(self):
        return "core"

    @pytest.fixture
    def catalog(self, tmp_path):
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(
            "- {sku: CONF-1, product_id: '1', name: Conformance, on_hand: 2}\n"
            "- {sku: CONF-2, product_id: '2', name: Other, on_hand: 0}\n"
        )
        return catalog

    @pytest.fixture
    def store(self, catalog):
        return StoreConfig(
            name="conf", platform="core",
            connection={"catalog_file": str(catalog), "webhook_token": "s3cret"},
        )

    @pytest.fixture
    def other_store(self, store):
        return store.model_copy(update={"name": "other", "connection": {
            **store.connection, "webhook_token": "another-shop"}})

    @pytest.fixture
    def platform_state(self, catalog):
        return catalog.read_text  # the core's "platform" is its catalog file

    @pytest.fixture
    def set_platform_level(self, catalog):
        edits = iter(range(1, 1000))

        def set_level(sku, on_hand):
            items = yaml.safe_load(catalog.read_text())
            for item in items:
                if item["sku"] == sku:
                    item["on_hand"] = on_hand
            catalog.write_text(yaml.safe_dump(items))
            stamp = next(edits) * 10**9  # a new version of the file, however fast the test
            os.utime(catalog, ns=(stamp, stamp))

        return set_level

    @pytest.fixture
    def native_combinations(self):
        return [
            ({"sku": "X", "mode": "notify", "threshold": 3}, Mode.NOTIFY, 3),
            ({"sku": "X", "mode": "silent", "threshold": None}, Mode.SILENT, None),
            ({"sku": "X", "mode": "off"}, Mode.OFF, None),
            ({"sku": "X"}, None, None),  # nothing said: the store's defaults apply
        ]

    @pytest.fixture
    def native_item(self):
        return {"sku": "CONF-1", "on_hand": 2, "threshold": 3}

    @pytest.fixture
    def webhook(self):
        body = json.dumps({"kind": "stock", "delivery_id": "d1", "sku": "CONF-1", "on_hand": 4})
        return {"X-Backorder-Token": "s3cret"}, body.encode()
