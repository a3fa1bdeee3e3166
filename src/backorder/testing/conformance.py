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

from backorder.documents.templating import MessageTemplate
from backorder.models import CatalogItem, ItemInput, ItemView, Mode, StockLevel, StoreSettings
from backorder.platform import PLUGIN_API, Platform
from backorder.rules import NOTICE_TOKENS
from backorder.simulate import parse_scenario, simulate
from backorder.webhooks import WebhookEvent, WebhookRejected

AT = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


class PlatformConformance:
    @pytest.fixture
    def known_order_id(self) -> str | None:
        return None

    @pytest.fixture
    def platform(self, plugin_manager, platform_name) -> Platform:
        return plugin_manager.platform(platform_name)

    def test_platform_is_a_registered_object(self, plugin_manager, platform_name, platform):
        assert platform_name in plugin_manager.platform_names()
        assert isinstance(platform, Platform)
        assert platform.name == platform_name and platform.api_version == PLUGIN_API

    def test_backorder_notice_is_a_valid_message(self, platform):
        notice = MessageTemplate("backorder_notice", platform.backorder_notice, NOTICE_TOKENS)
        values = {"name": "Conformance bag", "sku": "CONF-1", "qty": 5, "in_stock": 2,
                  "backordered": 3}  # fmt: skip
        assert "3" in notice.render(values)

    def test_native_item_translates(self, platform, native_item):
        item = platform.translate_item(native_item)
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

    def test_catalog_lists_unique_skus(self, platform, store):
        catalog = platform.fetch_catalog(store)
        assert catalog, "the sandbox store should list at least one item"
        assert all(isinstance(item, CatalogItem) for item in catalog)
        skus = [item.sku for item in catalog]
        assert len(skus) == len(set(skus))

    def test_levels_are_for_catalog_skus(self, platform, store):
        catalog = platform.fetch_catalog(store)
        skus = [item.sku for item in catalog][:3]
        levels = platform.fetch_levels(store, skus)
        assert all(isinstance(level, StockLevel) for level in levels)
        assert {level.sku for level in levels} <= set(skus)

    def test_apply_items_accepts_views(self, platform, store):
        catalog = platform.fetch_catalog(store)
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
        platform.apply_items(store, [view], "assign")

    def test_webhook_accepted(self, platform, store, webhook):
        headers, body = webhook
        events = platform.parse_webhook(store, headers, body)
        assert events and all(isinstance(e, WebhookEvent) for e in events)
        assert all(e.delivery_id for e in events)

    def test_webhook_without_credentials_rejected(self, platform, store, webhook):
        _, body = webhook
        with pytest.raises(WebhookRejected):
            platform.parse_webhook(store, {}, body)

    def test_malformed_webhook_rejected(self, platform, store, webhook):
        headers, _ = webhook
        with pytest.raises(WebhookRejected):
            platform.parse_webhook(store, headers, b"{not json")

    def test_known_order_fetches(self, platform, store, known_order_id):
        if known_order_id is None:
            pytest.skip("this platform's sandbox holds no orders")
        order = platform.fetch_order(store, known_order_id)
        assert order is not None and order.order_id == str(known_order_id)
        assert order.lines
