"""Storefront delivery on Lightspeed: the backorder shipping text as the product's delivery
timeframe while a variant waits, the merchant's timeframe back afterwards (storefront.py)."""

from __future__ import annotations

import pytest
from backorder_lightspeed_ecom.client import LightspeedClient
from backorder_lightspeed_ecom.plugin import PLATFORM
from backorder_lightspeed_ecom.storefront import PREFIX, publish
from backorder_lightspeed_ecom.sync import sync_catalog

from backorder.engine import ItemEdit
from backorder.errors import PlatformError

WAITS = {"shipping_description": "Ships when back in stock, expected 20/05/2031."}
SELLS = {"shipping_description": "", "inventory_description": "5 in stock"}


def _variant(shop, sku):
    return next(v for v in shop.variants.values() if v["sku"] == sku)


def _product(shop, title):
    return next(p for p in shop.products.values() if p["title"] == title)


def _timeframe(shop, product):
    link = product["deliverydate"]
    return shop.deliverydates[link["resource"]["id"]] if link else None


def _sold_out(shop, sku):
    variant = _variant(shop, sku)
    variant["stockLevel"] = 0
    return variant


def test_a_waiting_variant_shows_the_shipping_text_and_its_siblings_the_merchants(
    ls_shop, ls_client
):
    small = _sold_out(ls_shop, "TEE-S")  # indicator, none left: sells on backorder
    medium = _variant(ls_shop, "TEE-M")
    with ls_client() as client:
        name = publish(client, "TEE-S", WAITS)
    tee = _product(ls_shop, "Organic tee")
    ours = _timeframe(ls_shop, tee)
    assert name == ours["name"] and ours["name"].startswith(PREFIX)
    assert ls_shop.delivery_text(small["id"]) == WAITS["shipping_description"]
    assert ls_shop.delivery_text(medium["id"]) == "Ships today"  # the merchant's in-stock text
    assert len(ls_shop.deliverydates) == 2  # the merchant's "1 week" is kept, not edited
    assert ls_shop.deliverydates[int(ours["name"].split(":")[1])]["name"] == "1 week"


def test_publishing_the_same_text_again_changes_nothing(ls_shop, ls_client):
    _sold_out(ls_shop, "TEE-S")
    with ls_client() as client:
        publish(client, "TEE-S", WAITS)
        writes = [r for r in ls_shop.requests if r[0] != "GET"]
        publish(client, "TEE-S", WAITS)
    assert [r for r in ls_shop.requests if r[0] != "GET"] == writes
    assert len(ls_shop.deliverydates) == 2


def test_back_in_stock_puts_the_merchants_timeframe_back_and_drops_ours(ls_shop, ls_client):
    small = _sold_out(ls_shop, "TEE-S")
    with ls_client() as client:
        publish(client, "TEE-S", WAITS)
        small["stockLevel"] = 4
        assert publish(client, "TEE-S", SELLS) == "1 week"
    tee = _product(ls_shop, "Organic tee")
    assert _timeframe(ls_shop, tee)["name"] == "1 week"
    assert [d["name"] for d in ls_shop.deliverydates.values()] == ["1 week"]
    assert ls_shop.delivery_text(small["id"]) == "Ships today"


def test_a_sibling_still_waiting_keeps_the_shipping_text(ls_shop, ls_client):
    _sold_out(ls_shop, "TEE-S")
    medium = _sold_out(ls_shop, "TEE-M")
    medium["stockTracking"] = "indicator"
    with ls_client() as client:
        publish(client, "TEE-S", WAITS)
        publish(client, "TEE-S", SELLS)  # TEE-S sells again; TEE-M still waits
    tee = _product(ls_shop, "Organic tee")
    assert _timeframe(ls_shop, tee)["name"].startswith(PREFIX)
    assert ls_shop.delivery_text(medium["id"]) == WAITS["shipping_description"]


def test_a_product_without_a_timeframe_gets_none_back(ls_shop, ls_client):
    mug = _sold_out(ls_shop, "MUG")
    with ls_client() as client:
        publish(client, "MUG", WAITS)
        assert ls_shop.delivery_text(mug["id"]) == WAITS["shipping_description"]
        assert publish(client, "MUG", SELLS) is None
    assert _product(ls_shop, "Enamel mug")["deliverydate"] is False
    assert [d["name"] for d in ls_shop.deliverydates.values()] == ["1 week"]


def test_a_new_text_replaces_the_old_record(ls_shop, ls_client):
    small = _sold_out(ls_shop, "TEE-S")
    later = {"shipping_description": "Ships in June."}
    with ls_client() as client:
        first = publish(client, "TEE-S", WAITS)
        second = publish(client, "TEE-S", later)
    assert first != second
    assert ls_shop.delivery_text(small["id"]) == "Ships in June."
    assert sorted(d["name"] for d in ls_shop.deliverydates.values()) == sorted(["1 week", second])


def test_an_unknown_sku_is_a_platform_error_naming_it(ls_client):
    with ls_client() as client, pytest.raises(PlatformError, match="NOPE"):
        publish(client, "NOPE", WAITS)


def test_the_hook_publishes_over_http(ls_live, ls_store):
    _, shop = ls_live
    small = _sold_out(shop, "TEE-S")
    PLATFORM.publish_storefront(ls_store, "TEE-S", WAITS)
    assert shop.delivery_text(small["id"]) == WAITS["shipping_description"]


def test_a_change_in_the_core_reaches_the_product_page(ls_service, ls_live):
    """Assigned, stock run down to 0 in the core: the push outbox publishes the messages and
    Lightspeed's own page says when it ships; stock back: the merchant's text again."""
    _, shop = ls_live
    service = ls_service()
    with LightspeedClient.for_store(service.store) as client:
        sync_catalog(service, client)
    service.assign(["TEE-S"])
    small = _variant(shop, "TEE-S")
    service.edit("TEE-S", ItemEdit(on_hand=0))
    assert shop.delivery_text(small["id"]) == "Ships as soon as it is back in stock."
    service.edit("TEE-S", ItemEdit(on_hand=6))
    assert shop.delivery_text(small["id"]) == "Ships today"
    assert [d["name"] for d in shop.deliverydates.values()] == ["1 week"]
