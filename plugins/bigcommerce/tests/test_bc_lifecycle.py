"""Order lifecycle on BigCommerce (issue 14): the sandbox's order status changes and
shipments reach the core through its webhooks; in app mode a cancel gives our stock back
and the product is sold again on BigCommerce."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from backorder.models import ItemInput
from backorder.webhooks import WebhookRejected

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def bc_shop(bc_shop_for):
    return bc_shop_for("app")


def test_order_then_cancel_restores_stock_and_threshold_and_pushes_them(
    bc_shop, bc_sandbox, bc_buy
):
    service, client, state = bc_shop
    tent = state.products[101]
    service.assign([ItemInput(sku="TENT-2P", threshold=2)], at=T0)  # 3 on hand: salable 5
    order = bc_buy(client, 101, 5)  # uses the threshold up
    bc_sandbox.deliver()
    assert service.item("TENT-2P").on_hand == -2
    assert tent.availability == "disabled"
    client.request("PUT", f"/v2/orders/{order.id}", json={"status_id": 5})  # Cancelled
    bc_sandbox.deliver()
    view = service.item("TENT-2P")
    assert (view.on_hand, view.salable, view.purchasable) == (3, 5, True)
    assert tent.availability == "available"  # pushed back: BigCommerce sells it again
    (line,) = service.lifecycle.line_counts("TENT-2P").values()
    assert line.cancelled == 5


def test_a_shipment_ships_what_bigcommerce_says_is_shipped(bc_shop, bc_sandbox, bc_buy):
    service, client, _state = bc_shop
    service.assign([ItemInput(sku="TENT-2P", threshold=2)], at=T0)
    order = bc_buy(client, 101, 4)  # 3 in stock, 1 backordered
    bc_sandbox.deliver()
    (row,) = client.order_products(order.id)
    client.request("POST", f"/v2/orders/{order.id}/shipments",
                   json={"items": [{"order_product_id": row.id, "quantity": 3}]})
    bc_sandbox.deliver()  # store/shipment/created and statusUpdated (Partially Shipped)
    (line,) = service.lifecycle.line_counts("TENT-2P").values()
    assert line.shipped == 3  # once, though two deliveries said so
    assert service.item("TENT-2P").on_hand == -1


def test_native_mode_leaves_a_cancel_to_bigcommerce(bc_shop_for, bc_sandbox):
    from backorder_bigcommerce.webhooks import parse

    service, _client, _state = bc_shop_for("native")
    body = json.dumps({"scope": "store/order/statusUpdated", "hash": "h1", "data": {
        "type": "order", "id": 1, "status": {"previous_status_id": 11, "new_status_id": 5}}})
    headers = {"X-Backorder-Secret": service.store.secret("webhook_secret")}
    [event] = parse(service.store, headers, body.encode())
    assert event.kind == "ignored"


def test_a_status_without_its_id_is_rejected(bc_shop):
    from backorder_bigcommerce.webhooks import parse

    service, _client, _state = bc_shop
    body = json.dumps({"scope": "store/order/statusUpdated", "hash": "h1",
                       "data": {"type": "order", "id": 1, "status": {}}})
    headers = {"X-Backorder-Secret": service.store.secret("webhook_secret")}
    with pytest.raises(WebhookRejected, match=r"data\.status\.new_status_id"):
        parse(service.store, headers, body.encode())
