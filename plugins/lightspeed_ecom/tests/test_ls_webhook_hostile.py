"""Hostile but signed deliveries (issue 20, items 3 and 4): refused at parse time with the
field named, never accepted and then failing on every retry."""

from __future__ import annotations

import pytest
from backorder_lightspeed_ecom.webhooks import parse, sign

from backorder.config import StoreConfig
from backorder.models import MAX_QTY
from backorder.webhooks import MalformedDelivery

SECRET = "ls-secret"
STORE = StoreConfig(name="ls", platform="lightspeed_ecom", connection={"api_secret": SECRET})


def deliver(body: bytes):
    return parse(STORE, {"x-signature": sign(body, SECRET)}, body)


def variant(stock_level: str) -> bytes:
    return (
        '{"variant": {"id": 7, "sku": "TEE", "stockTracking": "enabled", '
        f'"stockLevel": {stock_level}}}}}'
    ).encode()


@pytest.mark.parametrize(
    "body, field",
    [
        (variant(str(2**63)), "variant.stockLevel"),
        (variant(str(MAX_QTY + 1)), "variant.stockLevel"),
        (variant("1e400"), "body"),
        (variant("NaN"), "body"),
        (variant('"abc"'), "variant.stockLevel"),
        (b'{"variant": ' + b"[" * 2000 + b"]" * 2000 + b"}", "body"),
        (b'{"order": {"id": "abc"}}', "order.id"),
    ],
    ids=["2^63", "over-max", "1e400", "nan", "text", "2000-deep", "order-id-text"],
)
def test_a_hostile_body_is_refused_naming_the_field(body, field):
    with pytest.raises(MalformedDelivery, match=field):
        deliver(body)


def test_the_documented_maximum_is_accepted():
    [event] = deliver(variant(str(MAX_QTY)))
    assert event.on_hand == MAX_QTY
