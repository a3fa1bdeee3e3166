"""Native backorders (beta): BigCommerce's stock figure after backorders, in both readings.

The plugin assumes ``unconfirmed.ON_HAND_EXCLUDES_BACKORDERED``: "When backorders are
enabled, BigCommerce tracks backordered quantities separately from on-hand inventory"
(beta guide). Each test runs under that reading and under the other one (BigCommerce's
count itself goes below zero); the sandbox follows the same constant, so switching the
reading is that one line.
"""

from __future__ import annotations

import datetime as dt

import pytest
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce import unconfirmed as u

from backorder.models import ItemInput

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(params=[True, False], ids=["excludes-backordered", "includes-backordered"])
def reading(request, monkeypatch):
    monkeypatch.setattr(u, "ON_HAND_EXCLUDES_BACKORDERED", request.param)
    return request.param


def test_a_sync_after_native_backorders_keeps_our_count(reading, bc_shop_for, bc_sandbox, bc_buy):
    service, client, state = bc_shop_for("native")
    service.assign([ItemInput(sku="MUG-RED", threshold=3)], at=T0)
    bc_buy(client, 102, 2, variant_id=1003)  # 0 on hand: both units backordered
    bc_sandbox.deliver()
    assert service.item("MUG-RED").on_hand == -2
    red = state.variants[1003]
    assert (red.level, red.backordered) == ((0, {1: 2}) if reading else (-2, {1: 2}))
    service.sync_from_platform()
    assert service.item("MUG-RED").on_hand == -2
    assert service.platform.fetch_levels(service.store, ["MUG-RED"])[0].on_hand == -2


def test_a_stock_webhook_after_native_backorders_keeps_the_backorders(
    reading, bc_shop_for, bc_sandbox, bc_buy
):
    service, client, _state = bc_shop_for("native")
    service.assign([ItemInput(sku="TENT-2P", threshold=5)], at=T0)
    bc_buy(client, 101, 4)  # 3 on hand: one unit backordered
    bc_sandbox.deliver()
    assert service.item("TENT-2P").on_hand == -1
    client.set_levels([s.AdjustmentItem(location_id=1, product_id=101, quantity=6)], "ERP")
    bc_sandbox.deliver()  # store/product/inventory/updated: re-read, then applied absolutely
    assert service.item("TENT-2P").on_hand == (5 if reading else 6)
