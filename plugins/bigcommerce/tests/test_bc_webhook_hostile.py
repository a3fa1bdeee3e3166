"""Hostile but authenticated deliveries (issue 20, item 3): a 4xx naming the field, and a
product deleted at BigCommerce since the event is acknowledged and skipped."""

from __future__ import annotations

import json

import pytest
from backorder_bigcommerce.webhooks import parse

from backorder.webhooks import MalformedDelivery


def envelope(scope: str, data: object) -> bytes:
    return json.dumps({"scope": scope, "hash": "h-1", "data": data}).encode()


@pytest.fixture
def signed(bc_secret):
    return {"X-Backorder-Secret": bc_secret}


@pytest.mark.parametrize(
    "body, field",
    [
        (envelope("store/product/inventory/updated", {"id": "abc"}), "data.id"),
        (envelope("store/product/inventory/updated", {"id": True}), "data.id"),
        (
            envelope(
                "store/sku/inventory/updated",
                {"id": 5, "inventory": {"product_id": "abc", "variant_id": 1}},
            ),
            "data.inventory.product_id",
        ),
        (
            envelope(
                "store/sku/inventory/updated",
                {"id": 5, "inventory": {"product_id": 1, "variant_id": "1; drop"}},
            ),
            "data.inventory.variant_id",
        ),
        (b'{"scope": "x", "hash": "h", "data": ' + b"[" * 2000 + b"]" * 2000 + b"}", "body"),
        (b'{"scope": "x", "hash": "h", "data": {"id": NaN}}', "body"),
    ],
    ids=["id-abc", "id-bool", "product-abc", "variant-text", "2000-deep", "nan"],
)
def test_a_hostile_body_is_refused_naming_the_field(bc_sandbox, bc_store, signed, body, field):
    with pytest.raises(MalformedDelivery, match=field):
        parse(bc_store, signed, body)


@pytest.mark.parametrize(
    "scope", ["store/product/inventory/updated", "store/product/updated"]
)
def test_a_product_deleted_at_bigcommerce_is_acknowledged_and_skipped(
    bc_sandbox, bc_store, signed, scope
):
    """The event names a product that is 404 on the re-read: nothing to apply, and the
    delivery must not fail (BigCommerce would retry it for 48 hours)."""
    [event] = parse(bc_store, signed, envelope(scope, {"id": 987654}))
    assert event.kind == "ignored" and event.product_id == "987654"
    assert event.delivery_id == "h-1"
