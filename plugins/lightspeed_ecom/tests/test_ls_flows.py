"""End to end against the sandbox on 127.0.0.1: sync, shop default, orders, pushes, webhooks.

Webhook deliveries go where Lightspeed sends them: the core's webhook server
(``POST /webhooks/{store}``), which verifies them through the plugin, keeps each delivery
once and applies it.
"""

from __future__ import annotations

import json

import httpx
import pytest
from backorder_lightspeed_ecom.client import LightspeedClient
from backorder_lightspeed_ecom.sync import record_order, sync_catalog
from backorder_lightspeed_ecom.webhooks import sign

from backorder.config import Config
from backorder.http import SyncASGITransport
from backorder.models import Mode
from backorder.server import create_app


def _variant(shop, sku):
    return next(v for v in shop.variants.values() if v["sku"] == sku)


def _sync(service):
    with LightspeedClient.for_store(service.store) as client:
        return sync_catalog(service, client)


def _tees_sold(ls_service, ls_live, ls_sandbox_http, qty: int, groups=("variants", "orders")):
    """TEE-S (2 on hand) assigned, hooks registered for ``groups``, ``qty`` sold:
    ``(service, shop, variant, deliveries)``, the deliveries as Lightspeed sent them."""
    _, shop = ls_live
    service = ls_service()
    _sync(service)
    service.assign(["TEE-S"])
    with LightspeedClient.for_store(service.store) as client:
        for group in groups:
            client.create_webhook(group, "*", "https://example.com/hooks")
    small = _variant(shop, "TEE-S")
    ls_sandbox_http.post(
        "/__sandbox/checkout", json={"lines": [{"variant": small["id"], "quantity": qty}]}
    )
    deliveries = ls_sandbox_http.get("/__sandbox/deliveries").json()["deliveries"]
    return service, shop, small, deliveries


@pytest.fixture
def ls_webhooks(backorder_db, plugin_manager):
    """``post(service, headers, body)``: a delivery to the core's webhook server."""
    clients: list[httpx.Client] = []

    def post(service, headers: dict, body: bytes) -> httpx.Response:
        if not clients:
            config = Config(database=backorder_db.url, stores={service.name: service.store})
            server = create_app(config, backorder_db, plugin_manager, worker=False)
            clients.append(httpx.Client(transport=SyncASGITransport(server)))
        return clients[0].post(f"http://backorder.test/webhooks/{service.name}",
                               headers=headers, content=body)  # fmt: skip

    yield post
    for client in clients:
        client.close()


def test_sync_brings_each_variants_own_setting(ls_service):
    service = ls_service()
    report = _sync(service)
    assert report.new == 4 and report.defaulted == []
    small, medium, mug = service.item("TEE-S"), service.item("TEE-M"), service.item("MUG")
    assert (small.mode, small.threshold, small.on_hand) == (Mode.NOTIFY, None, 2)
    assert (medium.mode, medium.on_hand) == (Mode.OFF, 5)
    assert mug.policy.low_stock_level == 3
    card = next(v for v in service.items() if v.sku.startswith("lightspeed-"))
    assert card.tracked is False and small.name == "Organic tee - Small"


@pytest.mark.parametrize("default_on", [True, False])
def test_shop_default_applies_to_new_variants_only(ls_service, ls_live, default_on):
    _, shop = ls_live
    service = ls_service(allow_backorders_default=default_on)
    _sync(service)  # the first sync takes the shop as it is
    assert service.item("TEE-M").mode is Mode.OFF
    with shop.lock:
        product = next(iter(shop.products))
        shop.add_variant(product, sku="TEE-L", title="Large", stockTracking="enabled", stockLevel=0)
    report = _sync(service)
    assert report.new == 1
    new = service.item("TEE-L")
    assert new.mode is (Mode.NOTIFY if default_on else Mode.OFF)
    assert _variant(shop, "TEE-L")["stockTracking"] == ("indicator" if default_on else "enabled")
    assert report.defaulted == (["TEE-L"] if default_on else [])
    # existing variants are never changed by the default
    assert service.item("TEE-M").mode is Mode.OFF
    assert _variant(shop, "TEE-M")["stockTracking"] == "enabled"


def test_sync_follows_later_stock_changes(ls_service, ls_live):
    _, shop = ls_live
    service = ls_service()
    _sync(service)
    for level in (7, 5, 7):  # back to an earlier figure must still apply
        shop.variants[_variant(shop, "MUG")["id"]]["stockLevel"] = level
        _sync(service)
        assert service.item("MUG").on_hand == level


def test_order_is_split_through_the_core(ls_service, ls_live, ls_sandbox_http):
    _, shop = ls_live
    service = ls_service()
    _sync(service)
    service.assign(["TEE-S"])
    small = _variant(shop, "TEE-S")
    response = ls_sandbox_http.post(
        "/__sandbox/checkout",
        json={"lines": [{"variant": small["id"], "quantity": 5}], "email": "ann@example.com"},
    )
    order_id = str(response.json()["order"]["id"])
    assert small["stockLevel"] == -3  # Lightspeed sold below zero: "indicator"
    with LightspeedClient.for_store(service.store) as client:
        recorded = record_order(service, client, order_id)
        again = record_order(service, client, order_id)
    line = recorded.result.lines[0]
    assert recorded.result.accepted and (line.in_stock, line.backordered) == (2, 3)
    assert recorded.shipping == {1: "Ships within 1 week"}
    assert service.item("TEE-S").on_hand == -3 == small["stockLevel"]
    assert service.order(order_id).lines[0].backordered == 3
    assert again.result.duplicate and service.item("TEE-S").on_hand == -3


def test_assign_and_threshold_push_stock_tracking(ls_service, ls_live, ls_sandbox_http):
    _, shop = ls_live
    service = ls_service()
    _sync(service)
    medium = _variant(shop, "TEE-M")
    service.assign(["TEE-M"])
    assert medium["stockTracking"] == "enabled"  # its own setting: no backorders
    from backorder.engine import ItemEdit

    service.edit("TEE-M", ItemEdit(mode=Mode.NOTIFY, threshold=1, on_hand=0))
    assert (medium["stockTracking"], medium["stockLevel"]) == ("indicator", 0)
    ls_sandbox_http.post(
        "/__sandbox/checkout", json={"lines": [{"variant": medium["id"], "quantity": 1}]}
    )
    with LightspeedClient.for_store(service.store) as client:
        order_id = str(max(shop.orders))
        assert record_order(service, client, order_id).result.accepted
    assert service.item("TEE-M").purchasable is False
    assert medium["stockTracking"] == "enabled"  # threshold used up: Lightspeed refuses now
    refused = ls_sandbox_http.post(
        "/__sandbox/checkout", json={"lines": [{"variant": medium["id"], "quantity": 1}]}
    )
    assert refused.status_code == 409


def test_unassign_not_purchasable_keeps_lightspeeds_level_and_hides_the_product(
    ls_service, ls_live, ls_sandbox_http
):
    """Seed 001: unassigning may "make the product not purchasable on the online store";
    the variant's positive level is Lightspeed's count and stays."""
    _, shop = ls_live
    service = ls_service()
    _sync(service)
    mug = _variant(shop, "MUG")
    service.assign(["MUG"])
    service.unassign(["MUG"], "not_purchasable")
    assert (mug["stockLevel"], mug["stockTracking"]) == (10, "enabled")
    assert shop.products[mug["product"]["resource"]["id"]]["visibility"] == "hidden"
    refused = ls_sandbox_http.post(
        "/__sandbox/checkout", json={"lines": [{"variant": mug["id"], "quantity": 1}]}
    )
    assert refused.status_code == 409 and "hidden" in refused.json()["error"]["message"]
    assert service.item("MUG").on_hand == 10


def test_webhook_deliveries_are_verified_and_applied_once(
    ls_service, ls_live, ls_sandbox_http, ls_webhooks
):
    service, shop, small, deliveries = _tees_sold(ls_service, ls_live, ls_sandbox_http, 3)
    assert [d["group"] for d in deliveries] == ["orders", "variants"]

    def post(delivery, body: str | None = None) -> httpx.Response:
        raw = (body or delivery["body"]).encode()
        return ls_webhooks(service, delivery["headers"], raw)

    assert [post(d).json()["new"] for d in deliveries] == [1, 1]
    first = service.order(str(max(shop.orders)))
    assert (first.lines[0].in_stock, first.lines[0].backordered) == (2, 1)
    assert service.item("TEE-S").on_hand == -1 == small["stockLevel"]
    # redelivered: nothing happens twice
    assert [post(d).json()["duplicates"] for d in deliveries] == [1, 1]
    assert service.item("TEE-S").on_hand == -1
    assert service.order(first.order_id).lines == first.lines
    tampered = deliveries[1]["body"].replace('"stockLevel": -1', '"stockLevel": 50')
    assert json.loads(tampered)["variant"]["stockLevel"] == 50
    refused = post(deliveries[1], tampered)
    assert refused.status_code == 401 and "x-signature" in refused.json()["error"]
    assert service.item("TEE-S").on_hand == -1


def test_a_late_variant_delivery_never_rolls_stock_back(
    ls_service, ls_live, ls_sandbox_http, ls_webhooks
):
    """Two variant updates delivered newest first (Lightspeed gives no order guarantee): the
    older one's ``updatedAt`` marks it stale, so the item keeps the newer level."""
    service, _, _, [delivery] = _tees_sold(
        ls_service, ls_live, ls_sandbox_http, 1, groups=["variants"]
    )
    secret = service.store.secret("api_secret")

    def version(level: int, updated: str) -> tuple[dict, bytes]:
        body = json.loads(delivery["body"])
        body["variant"].update(stockLevel=level, updatedAt=updated)
        raw = json.dumps(body).encode()
        return {**delivery["headers"], "x-signature": sign(raw, secret)}, raw

    newer = version(7, "2026-12-01T10:05:00+00:00")
    older = version(4, "2026-12-01T10:00:00+00:00")
    for headers, raw in (newer, older):
        assert ls_webhooks(service, headers, raw).status_code == 202
    assert service.item("TEE-S").on_hand == 7


def test_an_order_delivered_after_its_stock_update_is_split_on_the_stock_it_met(
    ls_service, ls_live, ls_sandbox_http, ls_webhooks
):
    service, shop, small, deliveries = _tees_sold(ls_service, ls_live, ls_sandbox_http, 3)
    for delivery in reversed(deliveries):  # the variant change arrives first
        ls_webhooks(service, delivery["headers"], delivery["body"].encode())
    first = service.order(str(max(shop.orders)))
    assert (first.lines[0].in_stock, first.lines[0].backordered) == (2, 1)
    assert service.item("TEE-S").on_hand == -1 == small["stockLevel"]
