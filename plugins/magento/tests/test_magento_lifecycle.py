"""Order lifecycle on Magento (issue 14): the sandbox cancels, ships and refunds orders and
hands over the integration module's pushes; the core follows them and pushes back."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from backorder_magento.webhook import parse_push

from backorder.engine import StoreService
from backorder.models import ItemInput
from backorder.storage.db import Database
from backorder.webhooks import WebhookRejected, apply_deliveries, record_deliveries

NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
HEADERS = {"Authorization": "Bearer push-token"}


@pytest.fixture
def shop(tmp_path, plugin_manager, magento_store, magento_sandbox):
    db = Database(f"sqlite:///{tmp_path}/life.db")
    service = StoreService(db, magento_store, plugin_manager, lambda: NOW)
    service.sync_from_platform()
    # MB-01: 12 on hand; a backorder limit of 3 (Magento: backorders 2, min_qty -3)
    service.assign([ItemInput(sku="MB-01", mode="notify", threshold=3)])
    yield service, magento_sandbox
    db.dispose()


def deliver(service, push: dict) -> None:
    body = json.dumps(push).encode()
    record_deliveries(service, service.platform.parse_webhook(service.store, HEADERS, body))
    apply_deliveries(service)


def test_order_then_cancel_restores_stock_and_threshold_and_pushes_them(shop):
    service, sandbox = shop
    status, order = sandbox.place_order([{"sku": "MB-01", "qty": 15}])  # 12 + 3 backordered
    assert status == 200
    deliver(service, {"delivery_id": "p1", "event": "sales_order_place_after",
                      "order_id": order["entity_id"]})  # fmt: skip
    assert service.item("MB-01").on_hand == -3
    assert sandbox.items["MB-01"].is_in_stock is False  # the limit is used up: pushed
    push = sandbox.cancel_order(str(order["entity_id"]), delivery_id="c1")
    deliver(service, push)
    deliver(service, push)  # a repeated push changes nothing
    item = service.item("MB-01")
    assert (item.on_hand, item.salable, item.status.value) == (12, 15, "in_stock")
    mine = sandbox.items["MB-01"]
    assert (mine.is_in_stock, mine.backorders, mine.min_qty) == (True, 2, -3)  # pushed back
    assert sandbox.orders[str(order["entity_id"])]["items"][0]["qty_canceled"] == 15


def test_shipment_and_credit_memo_back_to_stock(shop):
    service, sandbox = shop
    _, order = sandbox.place_order([{"sku": "MB-01", "qty": 2}])
    entity = str(order["entity_id"])
    deliver(service, {"delivery_id": "p1", "event": "sales_order_place_after", "order_id": entity})
    deliver(service, sandbox.ship_order(entity, {"MB-01": 2}, delivery_id="s1"))
    assert [x.shipped for x in service.lifecycle.line_counts("MB-01").values()] == [2]
    deliver(service, sandbox.refund_order(entity, {"MB-01": 1}, True, delivery_id="r1"))
    (line,) = service.lifecycle.line_counts("MB-01").values()
    assert (line.shipped, line.returned) == (2, 1)
    assert service.item("MB-01").on_hand == 11  # 12 - 2 ordered + 1 back to stock


def test_a_refund_of_units_never_shipped_cancels_them(shop):
    service, sandbox = shop
    _, order = sandbox.place_order([{"sku": "MB-01", "qty": 3}])
    entity = str(order["entity_id"])
    deliver(service, {"delivery_id": "p1", "event": "sales_order_place_after", "order_id": entity})
    deliver(service, sandbox.refund_order(entity, {"MB-01": 2}, False, delivery_id="r1"))
    (line,) = service.lifecycle.line_counts("MB-01").values()
    assert (line.cancelled, line.returned) == (2, 0)
    assert service.item("MB-01").on_hand == 11


@pytest.mark.parametrize(("push", "words"), [
    ({"event": "order_cancel_after"}, "order_id: required for order_cancel_after"),
    ({"event": "sales_order_shipment_save_after", "order_id": 1}, "items: sales_order_shipment"),
    ({"event": "sales_order_shipment_save_after", "order_id": 1,
      "items": [{"sku": "A", "qty": 1.5}]}, "items.0.qty: 1.5 is not a whole number"),
    ({"event": "sales_order_creditmemo_save_after", "order_id": 1,
      "items": [{"sku": "A", "qty": 0}]}, "body field items.0.qty"),
])
def test_bad_lifecycle_pushes_name_the_field(magento_store, push, words):
    body = json.dumps({"delivery_id": "x", **push}).encode()
    with pytest.raises(WebhookRejected, match=words.replace(".", r"\.")):
        parse_push(magento_store, HEADERS, body)


def test_magento_order_command_reads_canceled_shipped_refunded(plugin_manager, magento_live,
                                                                 tmp_path):
    from click.testing import CliRunner

    from backorder.commands import main

    base_url, sandbox = magento_live
    _, order = sandbox.place_order([{"sku": "MB-01", "qty": 4}])
    entity = str(order["entity_id"])
    sandbox.ship_order(entity, {"MB-01": 1}, delivery_id="s")
    sandbox.refund_order(entity, {"MB-01": 1}, True, delivery_id="r")
    sandbox.cancel_order(entity, delivery_id="c")
    config = tmp_path / "backorder.toml"
    config.write_text(
        f'database = "sqlite:///{tmp_path}/m.db"\n[stores.mage]\nplatform = "magento"\n'
        f'[stores.mage.connection]\nbase_url = "{base_url}"\ntoken = "sandbox-token"\n',
        encoding="utf-8",
    )
    plugin_manager.add_commands(main)
    out = CliRunner().invoke(main, ["--config", str(config), "magento-order", entity])
    assert out.exit_code == 0, out.output
    assert "MB-01: ordered 4, canceled 3, shipped 1, refunded 1" in out.output
