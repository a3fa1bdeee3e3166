"""The conformance suite every platform plugin runs against itself.

Subclass :class:`PlatformConformance` in a test module (its name must start with
``Test``) and provide these fixtures:

``platform_name``
    the platform your plugin serves, e.g. ``"bigcommerce"``.
``store``
    a :class:`~backorder.config.StoreConfig` for that platform, connected to your sandbox.
``native_item``
    a dict in your platform's own words for one item with 2 units on hand, backorders
    allowed and a backorder limit of 3 (so 5 are salable), SKU ``"CONF-1"``.
``webhook``
    ``(headers, body)`` of one genuine delivery your plugin must accept.

Optional: ``known_order_id`` (an order your sandbox holds; ``None`` skips that test).
"""

from __future__ import annotations

import datetime as dt

import pytest

from backorder.config import StoreConfig
from backorder.models import CatalogItem, ItemInput, ItemView, Mode, StockLevel, StoreSettings
from backorder.plugins import platforms
from backorder.simulate import parse_scenario, simulate
from backorder.webhooks import WebhookEvent, WebhookRejected

AT = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


class PlatformConformance:
    @pytest.fixture
    def known_order_id(self) -> str | None:
        return None

    @pytest.fixture
    def other_store(self) -> StoreConfig:
        return StoreConfig(name="elsewhere", platform="no-such-platform")

    def test_platform_is_served(self, plugin_manager, platform_name):
        assert platform_name in platforms(plugin_manager)

    def test_native_item_translates(self, plugin_manager, platform_name, native_item):
        item = plugin_manager.hook.backorder_translate_item(
            platform=platform_name, fields=native_item
        )
        assert isinstance(item, ItemInput)
        assert item.sku == "CONF-1"
        assert item.tracked and item.on_hand == 2
        assert item.mode is not Mode.OFF and item.threshold == 3

    def test_scenario_splits_and_limits_orders(self, plugin_manager, platform_name, native_item):
        scenario = parse_scenario(
            {
                "platform": platform_name,
                "items": [native_item],
                "events": [
                    {"at": AT.isoformat(), "type": "order", "lines": [{"sku": "CONF-1", "qty": 3}]},
                    {"at": AT.isoformat(), "type": "order", "lines": [{"sku": "CONF-1", "qty": 3}]},
                    {"at": AT.isoformat(), "type": "order", "lines": [{"sku": "CONF-1", "qty": 2}]},
                ],
            }
        )
        out = simulate(scenario, plugin_manager)
        first, over, last = out["results"]
        assert (first["lines"][0]["in_stock"], first["lines"][0]["backordered"]) == (2, 1)
        assert over["accepted"] is False and "over_threshold" in over["errors"][0]
        assert last["accepted"] and last["lines"][0]["backordered"] == 2
        assert out["items"]["CONF-1"]["salable"] == 0
        assert out["items"]["CONF-1"]["purchasable"] is False

    def test_other_platforms_are_left_alone(self, plugin_manager, platform_name, other_store):
        hook = plugin_manager.hook
        assert hook.backorder_translate_item(platform="no-such-platform", fields={}) is None
        assert hook.backorder_fetch_catalog(store=other_store) is None
        assert hook.backorder_fetch_levels(store=other_store, skus=[]) is None
        assert hook.backorder_fetch_order(store=other_store, order_id="1") is None
        assert hook.backorder_parse_webhook(store=other_store, headers={}, body=b"{}") is None

    def test_catalog_lists_unique_skus(self, plugin_manager, store):
        catalog = plugin_manager.hook.backorder_fetch_catalog(store=store)
        assert catalog, "the sandbox store should list at least one item"
        assert all(isinstance(item, CatalogItem) for item in catalog)
        skus = [item.sku for item in catalog]
        assert len(skus) == len(set(skus))

    def test_levels_are_for_catalog_skus(self, plugin_manager, store):
        catalog = plugin_manager.hook.backorder_fetch_catalog(store=store)
        skus = [item.sku for item in catalog][:3]
        levels = plugin_manager.hook.backorder_fetch_levels(store=store, skus=skus)
        assert all(isinstance(level, StockLevel) for level in levels)
        assert {level.sku for level in levels} <= set(skus)

    def test_apply_items_accepts_views(self, plugin_manager, store):
        catalog = plugin_manager.hook.backorder_fetch_catalog(store=store)
        item = catalog[0]
        view = ItemView(
            sku=item.sku,
            product_id=item.product_id,
            variant_id=item.variant_id,
            name=item.name,
            assigned=True,
            tracked=True,
            on_hand=0,
            salable=3,
            status="backorder",
            purchasable=True,
            mode=Mode.NOTIFY,
            threshold=3,
            backordered=0,
            state="enabled",
            policy=StoreSettings().defaults,
        )
        plugin_manager.hook.backorder_apply_items(store=store, items=[view], reason="assign")

    def test_webhook_accepted(self, plugin_manager, store, webhook):
        headers, body = webhook
        events = plugin_manager.hook.backorder_parse_webhook(
            store=store, headers=headers, body=body
        )
        assert events and all(isinstance(e, WebhookEvent) for e in events)
        assert all(e.delivery_id for e in events)

    def test_webhook_without_credentials_rejected(self, plugin_manager, store, webhook):
        _, body = webhook
        with pytest.raises(WebhookRejected):
            plugin_manager.hook.backorder_parse_webhook(store=store, headers={}, body=body)

    def test_malformed_webhook_rejected(self, plugin_manager, store, webhook):
        headers, _ = webhook
        with pytest.raises(WebhookRejected):
            plugin_manager.hook.backorder_parse_webhook(
                store=store, headers=headers, body=b"{not json"
            )

    def test_known_order_fetches(self, plugin_manager, store, known_order_id):
        if known_order_id is None:
            pytest.skip("this platform's sandbox holds no orders")
        order = plugin_manager.hook.backorder_fetch_order(store=store, order_id=known_order_id)
        assert order is not None and order.order_id == str(known_order_id)
        assert order.lines
