"""Order lifecycle on Lightspeed eCom (issue 14): the sandbox cancels and ships orders and
its ``orders`` hook tells the core, which gives the stock back and pushes the level."""

from __future__ import annotations

from backorder_lightspeed_ecom.client import LightspeedClient
from backorder_lightspeed_ecom.sync import sync_catalog

from backorder.models import ItemInput
from backorder.webhooks import apply_deliveries, record_deliveries


def _variant(shop, sku):
    return next(v for v in shop.variants.values() if v["sku"] == sku)


def _deliver(service, http) -> None:
    """Hand every queued sandbox delivery to the core (as its webhook server would)."""
    for delivery in http.get("/__sandbox/deliveries").json()["deliveries"]:
        events = service.platform.parse_webhook(
            service.store, delivery["headers"], delivery["body"].encode()
        )
        record_deliveries(service, events)
    http.delete("/__sandbox/deliveries")
    apply_deliveries(service)


def _sold(ls_service, ls_live, http, qty):
    _, shop = ls_live
    service = ls_service()
    with LightspeedClient.for_store(service.store) as client:
        sync_catalog(service, client)
        client.create_webhook("orders", "*", "https://example.com/hooks")
        client.create_webhook("variants", "*", "https://example.com/hooks")
    service.assign([ItemInput(sku="TEE-S", threshold=1)])  # 2 on hand: salable 3
    small = _variant(shop, "TEE-S")
    http.post("/__sandbox/checkout", json={"lines": [{"variant": small["id"], "quantity": qty}]})
    _deliver(service, http)
    return service, shop, small, max(shop.orders)


def test_order_then_cancel_restores_stock_and_threshold_and_pushes_them(
    ls_service, ls_live, ls_sandbox_http
):
    service, _shop, small, order_id = _sold(ls_service, ls_live, ls_sandbox_http, 3)
    assert service.item("TEE-S").on_hand == -1 and not service.item("TEE-S").purchasable
    assert small["stockTracking"] == "enabled"  # threshold used up: no more backorders
    ls_sandbox_http.post("/__sandbox/cancel", json={"order": order_id})
    _deliver(service, ls_sandbox_http)
    view = service.item("TEE-S")
    assert (view.on_hand, view.salable, view.purchasable) == (2, 3, True)
    assert (small["stockLevel"], small["stockTracking"]) == (2, "indicator")  # pushed back


def test_a_shipment_ships_what_lightspeed_says_is_shipped(ls_service, ls_live, ls_sandbox_http):
    service, _shop, _small, order_id = _sold(ls_service, ls_live, ls_sandbox_http, 2)
    ls_sandbox_http.post("/__sandbox/ship", json={"order": order_id, "lines": {"TEE-S": 1}})
    _deliver(service, ls_sandbox_http)
    (line,) = service.lifecycle.line_counts("TEE-S").values()
    assert line.shipped == 1
