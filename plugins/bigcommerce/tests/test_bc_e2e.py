"""End to end on the sandbox: the seeds' life cycle, asserted on BigCommerce's own fields.

BigCommerce (the sandbox) takes orders and sends webhooks to the core's webhook server
(``backorder.server``); the plugin re-reads what changed, the rules decide, and the
plugin pushes tracking and purchasability back. Every step checks the sandbox's
product and variant fields, as a merchant would see them in the control panel.
"""

from __future__ import annotations

import datetime as dt

import pytest
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.client import BigCommerceError
from backorder_bigcommerce.connection import client_for

from backorder.engine import ItemEdit, StoreService
from backorder.models import ItemInput
from backorder.storage.db import Database
from backorder.webhooks import apply_deliveries, pending_deliveries

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
BACK = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)


@pytest.fixture
def bc_shop(bc_shop_for):
    return bc_shop_for("app")


def deliver(bc_sandbox) -> int:
    return bc_sandbox.deliver()


def test_life_cycle_on_bigcommerce_fields(bc_shop, bc_sandbox, bc_buy):
    service, client, state = bc_shop
    tent = state.products[101]
    assert tent.tracking == "product"

    service.assign(
        [ItemInput(sku="TENT-2P", threshold=2, incoming_qty=10, back_in_stock_date=BACK)], at=T0
    )
    assert tent.tracking == "none"  # assigned: BigCommerce stops tracking, we track
    assert tent.availability == "available"
    assert service.item("TENT-2P").on_hand == 3  # the stock taken into our ledger

    bc_buy(client, 101, 2)
    assert deliver(bc_sandbox) >= 1
    assert service.item("TENT-2P").on_hand == 1
    assert tent.availability_description == ""

    bc_buy(client, 101, 2)  # runs stock below zero: backorder switches on
    deliver(bc_sandbox)
    view = service.item("TENT-2P")
    assert (view.on_hand, view.status.value) == (-1, "backorder")
    assert tent.availability == "available"
    assert tent.availability_description == (  # the store's own messages (issue 15)
        "Ships as soon as it is back in stock. Expected back in stock on 2026-02-01.")

    bc_buy(client, 101, 1)  # uses the threshold up: the product becomes unavailable
    deliver(bc_sandbox)
    assert service.item("TENT-2P").purchasable is False
    assert tent.availability == "disabled"
    with pytest.raises(BigCommerceError) as refused:
        bc_buy(client, 101, 1)
    assert refused.value.status == 422

    service.tick(BACK)  # back-in-stock date: incoming stock received, backorder disabled
    view = service.item("TENT-2P")
    assert (view.on_hand, view.status.value, view.purchasable) == (8, "in_stock", True)
    assert tent.availability == "available"
    assert tent.availability_description == ""
    assert tent.tracking == "none"


def test_inventory_webhook_sets_our_stock_once(bc_shop, bc_sandbox):
    service, client, state = bc_shop
    service.assign(["TENT-2P", "MUG-BLUE"], at=T0)
    deliver(bc_sandbox)  # our own tracking change: store/product/updated, nothing to do
    state.faults.duplicate_deliveries = True
    client.set_levels(
        [
            s.AdjustmentItem(location_id=1, product_id=101, quantity=20),
            s.AdjustmentItem(location_id=1, variant_id=1003, quantity=7),
        ],
        reason="ERP count",
    )
    assert deliver(bc_sandbox) == 4  # each delivery arrives twice
    assert service.item("TENT-2P").on_hand == 20
    assert service.item("MUG-RED").on_hand == 7
    assert len(service.items(assigned=True)) == 3


def test_tracking_turned_on_in_bigcommerce_unassigns(bc_shop, bc_sandbox):
    service, client, state = bc_shop
    service.assign(["MUG-RED"], at=T0)
    assert state.products[102].tracking == "none"
    assert {v.sku for v in service.items(assigned=True)} == {"MUG-BLUE", "MUG-RED"}
    client.update_products([s.ProductPutCollectionItem(id=102, inventory_tracking="variant")])
    deliver(bc_sandbox)
    assert service.items(assigned=True) == []


def test_unassign_track_hands_our_stock_back(bc_shop, bc_sandbox, bc_buy):
    service, client, state = bc_shop
    service.assign([ItemInput(sku="MUG-BLUE", threshold=5)], at=T0)
    bc_buy(client, 102, 3, variant_id=1003)  # MUG-RED had 0: three on backorder
    deliver(bc_sandbox)
    assert service.item("MUG-RED").on_hand == -3
    service.edit("MUG-BLUE", ItemEdit(on_hand=9), at=T0)
    service.unassign(["MUG-BLUE"], "track", at=T0)
    assert state.products[102].tracking == "variant"
    levels = {v.sku: v.level for v in state.variants.values() if v.product_id == 102}
    assert levels == {"MUG-BLUE": 9, "MUG-RED": 0}  # BigCommerce cannot hold -3


def test_unassign_not_purchasable_disables_the_product(bc_shop, bc_sandbox):
    service, _client, state = bc_shop
    service.assign(["STOVE-X"], at=T0)
    service.unassign(["STOVE-X"], "not_purchasable", at=T0)
    stove = state.products[103]
    assert (stove.availability, stove.tracking) == ("disabled", "none")
    assert service.item("STOVE-X").purchasable is False


def test_variant_unavailable_sets_purchasing_disabled_with_message(bc_shop, bc_sandbox, bc_buy):
    service, client, state = bc_shop
    service.assign([ItemInput(sku="MUG-RED", threshold=1)], at=T0)
    bc_buy(client, 102, 1, variant_id=1003)
    deliver(bc_sandbox)
    red, blue = state.variants[1003], state.variants[1002]
    assert red.purchasing_disabled is True
    assert red.purchasing_disabled_message == "Sold out"
    assert blue.purchasing_disabled is False


def test_native_mode_drives_backorder_limit_instead_of_tracking(
    bc_sandbox, bc_store_config, plugin_manager, tmp_path, bc_buy
):
    state = bc_sandbox.state
    state.native_backorders = True
    store = bc_store_config(bc_sandbox, mode="native")
    db = Database(f"sqlite:///{tmp_path}/native.db")
    service = StoreService(db, store, pm=plugin_manager, clock=lambda: T0)
    service.sync_from_platform()
    service.assign([ItemInput(sku="MUG-RED", threshold=3)], at=T0)
    red, blue = state.variants[1003], state.variants[1002]
    assert state.products[102].tracking == "variant"  # BigCommerce keeps tracking
    assert (red.backorder_limit, blue.backorder_limit) == ({1: 3}, {1: 3})
    client = client_for(store)
    lines = client.order_products(bc_buy(client, 102, 2, variant_id=1003).id)
    assert lines[0].quantity_backordered == 2  # BigCommerce sold them into backorder
    service.disable(["MUG-RED"], at=T0)
    assert red.backorder_limit == {1: 0}
    db.dispose()


def test_a_platform_outage_delays_pushes_and_loses_none(bc_shop, bc_sandbox):
    """BigCommerce fails every product write for a while (more than the client retries):
    the change commits, the push waits in the outbox, and goes through once when the
    platform is back; nothing is sent twice."""
    service, _client, state = bc_shop
    tent = state.products[101]
    state.faults.match, state.faults.fail_next = "/catalog/products", 50
    service.assign(["TENT-2P"], at=T0)
    assert service.item("TENT-2P").assigned  # our side committed
    assert tent.tracking == "product"  # the platform did not hear it yet
    assert service.outbox.backlog()["pushes_failing"] == 1
    assert service.outbox.deliver(now=T0 + dt.timedelta(seconds=5)) == (0, 0)  # backoff
    state.faults.fail_next = 0  # the platform is back
    assert service.outbox.deliver(now=T0 + dt.timedelta(minutes=5)) == (1, 0)
    assert tent.tracking == "none"
    assert service.outbox.deliver(now=T0 + dt.timedelta(hours=2)) == (0, 0)  # nothing twice
    assert service.outbox.backlog()["pushes_pending"] == 0


def test_timeouts_on_reads_are_retried_and_the_sync_completes(bc_shop, bc_sandbox):
    service, client, state = bc_shop
    client.set_levels(  # an ERP count, as the merchant's IMS would send it
        [s.AdjustmentItem(location_id=1, product_id=101, quantity=9)], reason="ERP count"
    )
    state.faults.match, state.faults.timeout_next = "/catalog/products", 2
    new, changed = service.sync_from_platform()
    assert (new, changed) == (0, 1) and service.item("TENT-2P").on_hand == 9


def test_a_stale_inventory_read_is_corrected_by_the_next_sync(bc_shop, bc_sandbox, bc_clock):
    """BigCommerce's inventory reads may lag a write (the sandbox's stale-read fault). The
    webhook's re-read then sees the old level and changes nothing (that figure is already
    booked); nothing is lost: the next sync, once reads are fresh, books the new level."""
    service, client, state = bc_shop
    service.assign(["TENT-2P"], at=T0)
    deliver(bc_sandbox)
    before = service.item("TENT-2P").on_hand
    assert before != 20
    state.faults.stale_seconds = 60
    client.set_levels([s.AdjustmentItem(location_id=1, product_id=101, quantity=20)], "ERP")
    deliver(bc_sandbox)
    assert service.item("TENT-2P").on_hand == before  # the re-read was stale
    bc_clock.sleep(61)
    service.sync_from_platform()
    assert service.item("TENT-2P").on_hand == 20
    service.sync_from_platform()  # and a second sync books nothing more
    assert service.item("TENT-2P").on_hand == 20


def test_an_order_the_platform_fails_to_serve_is_retried_not_refused(bc_shop, bc_sandbox, bc_buy):
    """BigCommerce fails the order read behind a webhook (a platform error, not our rules
    saying no): the delivery stays pending, and the worker applies it once BigCommerce is
    back."""
    service, client, state = bc_shop
    service.assign(["TENT-2P"], at=T0)
    deliver(bc_sandbox)
    state.faults.match, state.faults.fail_next = "/v2/orders/", 50
    bc_buy(client, 101, 2)
    deliver(bc_sandbox)
    assert service.order("5001") is None
    [pending] = pending_deliveries(service)
    assert "BigCommerce GET" in pending["outcome"] and "HTTP 503" in pending["outcome"]
    state.faults.fail_next = 0  # the platform is back
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # past the backoff the server set
    assert apply_deliveries(service, now=later) == (1, 0)
    assert service.order("5001").accepted and service.item("TENT-2P").on_hand == 1
