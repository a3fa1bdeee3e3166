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

``other_store``
    a store of your platform for another shop, with its own webhook credentials: the
    genuine ``webhook`` (made for ``store``) must be rejected for it.
``platform_state``
    a callable returning a snapshot (any value that compares with ``==``) of what your
    fake platform holds for ``store``'s shop: everything ``apply_items`` and
    ``publish_storefront`` could change, without what changes by itself (timestamps).
``set_platform_level``
    a callable ``(sku, on_hand)`` that changes the fake platform's stock figure for a
    SKU of its catalog, as a sale or a restock at the platform would.
``native_combinations``
    every combination of backorder settings your platform has, each as ``(native
    fields, Mode, threshold)``: the core mode and threshold ``translate_item`` must give.

Optional: ``known_order_id`` (an order your sandbox holds; ``None`` skips that test);
``credential_headers`` (the headers of ``webhook`` that authenticate it; default: all of
them but ``Content-Type`` and ``Content-Length``); ``foreign_store`` (a store of another
platform; default: one named ``elsewhere`` on platform ``not-<yours>``).

The suite fails a plugin that accepts a forged or another shop's delivery, that touches
its platform (or answers) for a store of another platform, whose ``apply_items`` changes
nothing, whose syncs stop applying new figures (a ``source_ref`` that repeats), or whose
native settings map to another mode or threshold than it declares.
"""

from __future__ import annotations

import datetime as dt

import pytest

from backorder.config import StoreConfig
from backorder.documents.templating import MessageTemplate
from backorder.engine import StoreService
from backorder.models import (
    BackorderPolicy,
    BackorderState,
    CatalogItem,
    DisableReason,
    ItemInput,
    ItemView,
    Mode,
    Status,
    StockLevel,
    StoreSettings,
)
from backorder.platform import PLUGIN_API, Platform
from backorder.rules import NOTICE_TOKENS
from backorder.simulate import parse_scenario, simulate
from backorder.webhooks import WebhookEvent, WebhookRejected

AT = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


NOT_CREDENTIALS = frozenset({"content-type", "content-length", "user-agent", "accept"})


def _forge(value: str) -> str:
    """The same credential with its last character changed."""
    return value[:-1] + ("1" if value[-1:] == "0" else "0") if value else "forged"


def _view(item: CatalogItem, *, on: bool) -> ItemView:
    """An assigned item's state: selling on backorder (``on``), or switched off."""
    return ItemView(
        sku=item.sku, product_id=item.product_id, variant_id=item.variant_id, name=item.name,
        assigned=True, tracked=True, on_hand=0, salable=3 if on else 0,
        status=Status.BACKORDER if on else Status.UNAVAILABLE, purchasable=on,
        mode=Mode.NOTIFY if on else Mode.OFF, threshold=3 if on else 0, backordered=0,
        state=BackorderState.ENABLED if on else BackorderState.DISABLED,
        disabled_reason=None if on else DisableReason.MANUAL,
        policy=BackorderPolicy(mode=Mode.NOTIFY if on else Mode.OFF, threshold=3 if on else 0),
    )


class PlatformConformance:
    @pytest.fixture
    def known_order_id(self) -> str | None:
        return None

    @pytest.fixture
    def credential_headers(self, webhook) -> list[str]:
        headers, _ = webhook
        return [name for name in headers if name.lower() not in NOT_CREDENTIALS]

    @pytest.fixture
    def foreign_store(self, platform_name) -> StoreConfig:
        return StoreConfig(name="elsewhere", platform=f"not-{platform_name}", connection={})

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

    # ------------------------------------------------------------ the stricter checks
    def test_webhook_with_a_forged_credential_rejected(
        self, platform, store, webhook, credential_headers
    ):
        headers, body = webhook
        assert credential_headers, "the genuine delivery carries no credential header"
        for name in credential_headers:
            forged = {**headers, name: _forge(headers[name])}
            with pytest.raises(WebhookRejected):
                platform.parse_webhook(store, forged, body)
                pytest.fail(f"a delivery with a forged {name} header was accepted")

    def test_webhook_for_another_shop_rejected(self, platform, other_store, webhook):
        headers, body = webhook
        with pytest.raises(WebhookRejected):
            platform.parse_webhook(other_store, headers, body)
            pytest.fail("a delivery signed with another shop's secret was accepted")

    def test_another_platforms_store_is_left_alone(
        self, platform, store, foreign_store, platform_state, webhook
    ):
        item = platform.fetch_catalog(store)[0]
        headers, body = webhook
        before = platform_state()
        calls = {
            "fetch_catalog": lambda: platform.fetch_catalog(foreign_store),
            "fetch_levels": lambda: platform.fetch_levels(foreign_store, [item.sku]),
            "apply_items": lambda: platform.apply_items(
                foreign_store, [_view(item, on=False)], "edit"
            ),
            "publish_storefront": lambda: platform.publish_storefront(
                foreign_store, item.sku, {"availability": "Conformance"}
            ),
            "parse_webhook": lambda: platform.parse_webhook(foreign_store, headers, body),
        }
        for name, call in calls.items():
            try:
                answer = call()
            except Exception:  # refusing is doing nothing
                answer = None
            assert not answer, f"{name} answered for another platform's store: {answer!r}"
            assert platform_state() == before, (
                f"{name} with another platform's store changed this platform's shop"
            )

    def test_apply_items_reaches_the_platform(self, platform, store, platform_state):
        if not platform.pushes:
            pytest.skip("this platform pushes nothing (apply_items not overridden)")
        item = platform.fetch_catalog(store)[0]
        platform.apply_items(store, [_view(item, on=True)], "edit")
        selling = platform_state()
        platform.apply_items(store, [_view(item, on=False)], "edit")
        stopped = platform_state()
        assert selling != stopped, "apply_items switching an item off changed nothing"
        platform.apply_items(store, [_view(item, on=False)], "edit")
        assert platform_state() == stopped, "the same apply_items twice changed it again"

    def test_repeated_syncs_apply_changed_figures(
        self, plugin_manager, store, set_platform_level, backorder_db
    ):
        service = StoreService(backorder_db, store, plugin_manager)
        service.sync_from_platform()
        sku = next(item.sku for item in service.items() if item.tracked)
        seen = []
        for figure in (7, 4, 7):
            set_platform_level(sku, figure)
            service.sync_from_platform()
            seen.append(service.item(sku).on_hand)
        assert seen == [7, 4, 7], "a sync skipped a new figure (does a source_ref repeat?)"

    def test_native_combinations_map_exactly(self, platform, native_combinations):
        assert native_combinations, "declare your platform's backorder settings"
        for fields, mode, threshold in native_combinations:
            item = platform.translate_item(fields)
            assert (item.mode, item.threshold) == (mode, threshold), (
                f"{fields} should map to mode {mode}, threshold {threshold}"
            )
