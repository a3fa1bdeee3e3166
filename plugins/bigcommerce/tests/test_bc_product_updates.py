"""``store/product/updated`` read for what it is, and 207 Multi-Status pushes kept for retry.

BigCommerce fires ``store/product/updated`` for any product edit, ours included
(webhooks.v3.yml ``store_product_updated``). Only in app mode, where assigning turned
tracking off, does tracking turning on mean "unassign"; a batch ``PUT /catalog/products``
may answer 207 with some products not saved (products_catalog.v3.yml).
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from backorder.models import ItemInput
from backorder.storage.schema import push_outbox

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(hours=1)


def assigned(service) -> set[str]:
    return {view.sku for view in service.items(assigned=True)}


@pytest.mark.parametrize("mode", ["app", "native"])
def test_an_unrelated_edit_and_our_own_push_leave_the_product_assigned(
    mode, bc_shop_for, bc_sandbox, bc_buy
):
    service, client, state = bc_shop_for(mode)
    service.assign([ItemInput(sku="TENT-2P", threshold=1), "STOVE-X"], at=T0)
    bc_sandbox.deliver()  # our assignment's own product update
    state.put_products([{"id": 101, "name": "Two-person tent (green)"}])  # the merchant
    bc_buy(client, 101, 3)
    bc_sandbox.deliver()  # the order; app mode: our availability push after it
    bc_buy(client, 101, 1)  # natively into backorder; app mode: uses the threshold up
    bc_sandbox.deliver()
    assert len(state.delivered) >= 4
    assert any(e["scope"] == "store/product/updated" for e in state.delivered)
    assert assigned(service) == {"TENT-2P", "STOVE-X"}
    assert service.item("TENT-2P").on_hand == -1


def test_an_edit_while_our_assignment_waits_does_not_unassign(bc_shop_for, bc_sandbox):
    """App mode: BigCommerce did not save our ``inventory_tracking: none`` yet (a 207); a
    merchant's edit in the meantime shows the product still tracked, which is no change."""
    service, _client, state = bc_shop_for("app")
    state.faults.unsaved_products = [101]
    service.assign(["TENT-2P"], at=T0)
    assert state.products[101].tracking == "product"
    state.put_products([{"id": 101, "name": "Tent"}])
    bc_sandbox.deliver()
    assert assigned(service) == {"TENT-2P"}
    state.faults.unsaved_products = []
    assert service.outbox.deliver(now=LATER) == (1, 0)
    assert state.products[101].tracking == "none"
    assert assigned(service) == {"TENT-2P"}


def test_tracking_turned_on_by_the_merchant_still_unassigns_in_app_mode(bc_shop_for, bc_sandbox):
    service, _client, state = bc_shop_for("app")
    service.assign(["TENT-2P"], at=T0)
    bc_sandbox.deliver()
    state.put_products([{"id": 101, "inventory_tracking": "product"}])
    bc_sandbox.deliver()
    assert assigned(service) == set()


def test_a_207_keeps_the_unsaved_products_in_the_outbox_and_the_others_done(
    bc_shop_for, bc_sandbox
):
    service, client, state = bc_shop_for("app")
    state.faults.unsaved_products = [101]
    service.assign(["TENT-2P", "STOVE-X"], at=T0)  # one push, one batch of two products
    assert (state.products[101].tracking, state.products[103].tracking) == ("product", "none")
    with service.db.read() as conn:
        [row] = conn.execute(sa.select(push_outbox).where(push_outbox.c.reason == "assign")).all()
    assert row.done_at is None and row.skus == ["TENT-2P"]
    assert "HTTP 207" in row.outcome and "TENT-2P" in row.outcome
    state.faults.unsaved_products = []
    before = client.stats.by_route.get("PUT /v3/catalog/products", 0)
    assert service.outbox.deliver(now=LATER) == (1, 0)
    assert state.products[101].tracking == "none"
    assert client.stats.by_route["PUT /v3/catalog/products"] == before + 1
    assert service.outbox.backlog()["pushes_pending"] == 0
