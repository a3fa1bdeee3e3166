"""Integration-module pushes: bearer or HMAC, stock and order events, clear rejections."""

from __future__ import annotations

import json

import pytest
from backorder_magento.webhook import parse_push, sign

from backorder.webhooks import WebhookRejected


def _body(**fields) -> bytes:
    return json.dumps({"delivery_id": "d1", **fields}).encode()


def test_hmac_signed_stock_push(magento_store):
    body = _body(event="cataloginventory_stock_item_save_after", sku="MB-01", qty=4)
    [event] = parse_push(magento_store, {"X-Backorder-Signature": sign("push-secret", body)}, body)
    assert (event.kind, event.sku, event.on_hand, event.delivery_id) == ("stock", "MB-01", 4, "d1")


def test_bearer_order_push_and_other_events(magento_store):
    headers = {"authorization": "Bearer push-token"}
    [order] = parse_push(
        magento_store, headers, _body(event="sales_order_place_after", order_id=42)
    )
    assert (order.kind, order.order_id) == ("order", "42")
    [other] = parse_push(magento_store, headers, _body(event="catalog_product_save_after"))
    assert other.kind == "ignored"


@pytest.mark.parametrize(
    ("headers", "body", "error"),
    [
        ({"Authorization": "Bearer nope"}, _body(event="x"), "missing or wrong"),
        ({"X-Backorder-Signature": "sha256=00"}, _body(event="x"), "missing or wrong"),
        ({"Authorization": "Bearer push-token"}, b"[1]", r"body field \(body\)"),
        ({"Authorization": "Bearer push-token"}, _body(), "body field event"),
        (
            {"Authorization": "Bearer push-token"},
            _body(event="cataloginventory_stock_item_save_after", sku="A", qty=1.5),
            "qty: 1.5 is not a whole number",
        ),
        (
            {"Authorization": "Bearer push-token"},
            _body(event="sales_order_place_after"),
            "order_id: required",
        ),
    ],
)
def test_rejections_name_the_problem(magento_store, headers, body, error):
    with pytest.raises(WebhookRejected, match=error):
        parse_push(magento_store, headers, body)


def test_store_without_push_credentials_rejects_everything(magento_store):
    bare = magento_store.model_copy(update={"connection": {"base_url": "x", "token": "t"}})
    with pytest.raises(WebhookRejected, match="set webhook_token or webhook_secret"):
        parse_push(bare, {"Authorization": "Bearer "}, _body(event="x"))


def test_stock_push_carries_when_the_item_was_saved(magento_store):
    """``updated_at`` (Magento's UTC ``Y-m-d H:i:s``) lets the core skip a late, older push."""
    import datetime as dt

    body = _body(
        event="cataloginventory_stock_item_save_after",
        sku="MB-01",
        qty=4,
        updated_at="2026-12-01 10:05:00",
    )
    [event] = parse_push(magento_store, {"Authorization": "Bearer push-token"}, body)
    assert event.as_of == dt.datetime(2026, 12, 1, 10, 5, tzinfo=dt.UTC)
    bad = _body(event="cataloginventory_stock_item_save_after", sku="A", qty=1, updated_at="x")
    with pytest.raises(WebhookRejected, match="body field updated_at"):
        parse_push(magento_store, {"Authorization": "Bearer push-token"}, bad)
