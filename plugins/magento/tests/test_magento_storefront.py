"""Storefront messages on Magento: after a change commits, each assigned item's messages are
set as the product attributes ``backorder_message`` and ``backorder_shipping`` (``PUT
/V1/products/{sku}`` with ``custom_attributes``), which a Luma layout block shows."""

from __future__ import annotations

import datetime as dt

import pytest
from backorder_magento.sandbox import SandboxStore

from backorder.engine import ItemEdit, StoreService
from backorder.storage.db import Database
from backorder.storefront import StorefrontSettings

TOKEN = "sandbox-token"
NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)


@pytest.fixture
def magento_sandbox() -> SandboxStore:
    return SandboxStore([{"sku": "BAG", "name": "Bag", "qty": 3}], token=TOKEN)


@pytest.fixture
def shop(tmp_path, plugin_manager, magento_store, magento_sandbox):
    db = Database(f"sqlite:///{tmp_path}/storefront.db")
    store = magento_store.model_copy(update={"storefront": StorefrontSettings(
        shipping_description="Ships in 3 weeks")})  # publish: on by default
    service = StoreService(db, store, plugin_manager, lambda: NOW)
    service.sync_from_platform()
    yield service, magento_sandbox
    db.dispose()


def test_messages_are_published_as_product_attributes(shop):
    service, sandbox = shop
    service.assign(["BAG"])
    assert sandbox.custom_attributes["BAG"] == {
        "backorder_message": "3 in stock", "backorder_shipping": ""}
    service.edit("BAG", ItemEdit(on_hand=0, threshold=5))
    assert sandbox.custom_attributes["BAG"] == {
        "backorder_message": "Out of stock: available on backorder",
        "backorder_shipping": "Ships in 3 weeks"}
    assert ("PUT", "/V1/products/BAG") in sandbox.requests


def test_nothing_is_published_when_the_store_says_not(tmp_path, plugin_manager, magento_store,
                                                      magento_sandbox):
    db = Database(f"sqlite:///{tmp_path}/quiet.db")
    quiet = magento_store.model_copy(update={"storefront": StorefrontSettings(publish=False)})
    service = StoreService(db, quiet, plugin_manager, lambda: NOW)
    service.sync_from_platform()
    service.assign(["BAG"])
    service.edit("BAG", ItemEdit(on_hand=0, threshold=5))
    assert magento_sandbox.custom_attributes == {}
    db.dispose()
