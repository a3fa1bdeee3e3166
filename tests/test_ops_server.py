"""The webhook app: authenticate, acknowledge, dedupe, apply through the ledger."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from backorder.config import parse_config
from backorder.engine import ItemEdit, StoreService
from backorder.hookspecs import hookimpl
from backorder.models import ItemInput, LineRequest, OrderIn
from backorder.platform import BasePlatform
from backorder.plugins import make_manager
from backorder.server import Worker, create_app, pending_deliveries
from backorder.webhooks import WebhookEvent, WebhookRejected

TOKEN = {"X-Backorder-Token": "s3cret"}


@pytest.fixture
def plugin_manager():
    return make_manager(load_entry_points=False)


class Shop(BasePlatform):
    """A throwaway platform: JSON bodies signed with a header, orders fetched from a dict."""

    name = "shop"

    def __init__(self) -> None:
        self.orders: dict[str, OrderIn] = {}
        self.fetch_failures = 0

    @hookimpl
    def backorder_platforms(self):
        return [self]

    def parse_webhook(self, store, headers, body):
        if headers.get("x-shop-signature") != "ok":
            raise WebhookRejected("header X-Shop-Signature: wrong")
        data = json.loads(body)
        return [WebhookEvent(**event) for event in data["events"]]

    def fetch_order(self, store, order_id):
        if self.fetch_failures:
            self.fetch_failures -= 1
            raise ConnectionError("shop API down")
        return self.orders[order_id]


@pytest.fixture
def setup(tmp_path, plugin_manager, register_plugin):
    shop = register_plugin(Shop())
    config = parse_config(
        {
            "database": f"sqlite:///{tmp_path}/hooks.db",
            "stores": {
                "main": {"platform": "core", "connection": {"webhook_token": "s3cret"}},
                "web": {"platform": "shop"},
            },
        }
    )
    app = create_app(config, pm=plugin_manager, worker=False)
    app.state.config = config
    worker: Worker = app.state.worker
    for svc in worker.services.values():
        svc.upsert_catalog(
            [
                ItemInput(sku="TENT", product_id="10", on_hand=2, assigned=False),
                ItemInput(sku="MUG", product_id="11", on_hand=0, assigned=False),
            ]
        )
        svc.assign(["TENT", "MUG"])
    return app, worker, shop


def stock(delivery: str, on_hand: int) -> bytes:
    body = {"kind": "stock", "delivery_id": delivery, "sku": "TENT", "on_hand": on_hand}
    return json.dumps(body).encode()


def test_core_webhook_is_authenticated_deduped_and_applied(setup):
    app, worker, _ = setup
    main: StoreService = worker.service("main")
    client = TestClient(app)
    refused = client.post("/webhooks/main", content=stock("d1", 9))
    assert refused.status_code == 401
    assert refused.json() == {"error": "header X-Backorder-Token: missing or wrong"}
    assert main.item("TENT").on_hand == 2

    first = client.post("/webhooks/main", content=stock("d1", 9), headers=TOKEN)
    assert first.status_code == 202 and first.json() == {"received": 1, "new": 1, "duplicates": 0}
    assert main.item("TENT").on_hand == 9
    main.place_order(OrderIn(order_id="o1", lines=[LineRequest(sku="TENT", qty=4)]))
    again = client.post("/webhooks/main", content=stock("d1", 9), headers=TOKEN)
    assert again.json() == {"received": 1, "new": 0, "duplicates": 1}
    assert main.item("TENT").on_hand == 5  # the replayed delivery did not reset the stock
    assert pending_deliveries(main) == []

    bad = client.post("/webhooks/main", content=b'{"kind": "stock"}', headers=TOKEN)
    # authenticated, then unreadable: 400 (401 is for a delivery that failed authentication)
    assert bad.status_code == 400 and "body field delivery_id" in bad.json()["error"]
    assert client.post("/webhooks/main", content=b"{not json", headers=TOKEN).status_code == 400
    assert client.post("/webhooks/main", content=b"{not json").status_code == 401  # auth first
    assert client.post("/webhooks/nowhere", content=b"{}").status_code == 404


def test_orders_and_tracking_changes_from_a_plugin_platform(setup):
    app, worker, shop = setup
    web: StoreService = worker.service("web")
    shop.orders["5001"] = OrderIn(
        order_id="5001", lines=[LineRequest(sku="MUG", qty=2)], customer_email="a@b.example"
    )
    events = {
        "events": [
            {"kind": "order", "delivery_id": "h-1", "order_id": "5001"},
            {"kind": "product", "delivery_id": "h-2", "product_id": "10", "tracking_enabled": True},
        ]
    }
    client = TestClient(app)
    signed = {"X-Shop-Signature": "ok"}
    response = client.post("/webhooks/web", content=json.dumps(events), headers=signed)
    assert response.status_code == 202 and response.json()["new"] == 2
    result = web.order("5001")
    assert result is not None and result.accepted and result.lines[0].backordered == 2
    assert web.item("MUG").on_hand == -2
    assert not web.item("TENT").assigned  # tracking enabled on the platform: unassigned
    assert client.post("/webhooks/web", content=b"{}").status_code == 401


def test_a_delivery_that_fails_to_apply_is_retried_by_the_worker(setup):
    app, worker, shop = setup
    web: StoreService = worker.service("web")
    shop.fetch_failures = 1
    shop.orders["6001"] = OrderIn(order_id="6001", lines=[LineRequest(sku="TENT", qty=1)])
    body = {"events": [{"kind": "order", "delivery_id": "h-9", "order_id": "6001"}]}
    response = TestClient(app).post(
        "/webhooks/web", content=json.dumps(body), headers={"X-Shop-Signature": "ok"}
    )
    assert response.status_code == 202  # acknowledged although applying failed
    assert web.order("6001") is None
    [pending] = pending_deliveries(web)
    assert pending["attempts"] == 1 and "shop API down" in pending["outcome"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert worker.run_once(now=later)["web"]["webhooks"] == 1
    assert web.order("6001").accepted and web.item("TENT").on_hand == 1
    assert pending_deliveries(web) == []


def test_the_app_mounts_inside_an_integrators_asgi_service(setup):
    app, worker, _ = setup
    outer = Starlette(routes=[Mount("/backorder", app=app)])
    client = TestClient(outer)
    response = client.post("/backorder/webhooks/main", content=stock("m1", 7), headers=TOKEN)
    assert response.status_code == 202
    assert worker.service("main").item("TENT").on_hand == 7
    assert client.get("/backorder/health").json() == {"ok": True, "stores": ["main", "web"]}


def test_serve_lifespan_runs_the_worker_loop(setup, plugin_manager):
    """The loop inside serve ticks the stores: a back-in-stock date that has come is received."""
    app, worker, _ = setup
    main = worker.service("main")
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    main.edit("MUG", ItemEdit(incoming_qty=6, back_in_stock_date=past))
    looping = create_app(app.state.config, main.db, plugin_manager, interval=0.05)
    with TestClient(looping):
        for _ in range(100):
            if main.item("MUG").on_hand == 6:
                break
            time.sleep(0.05)
    assert main.item("MUG").on_hand == 6
