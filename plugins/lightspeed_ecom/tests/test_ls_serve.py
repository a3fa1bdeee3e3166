"""End to end over HTTP: the sandbox POSTs its signed webhook deliveries to a real
``backorder serve`` (uvicorn in its own process on 127.0.0.1), which verifies the
signature, keeps each delivery once and applies it.

The hooks are registered by ``backorder lightspeed-ecom webhooks --ensure`` at the address
in the store's config. Deliveries are sent one at a time, each once the previous one is
applied, as Lightspeed's arrive spaced out in time (the order then its stock change).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest
from backorder_lightspeed_ecom.client import LightspeedClient
from backorder_lightspeed_ecom.sync import sync_catalog
from click.testing import CliRunner

from backorder.config import load_config
from backorder.engine import StoreService
from backorder.storage.db import Database
from backorder.webhooks import pending_deliveries

from .conftest import KEY, SECRET, write_config

DEADLINE = 60.0
SERVE = "from backorder.commands import main; main()"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(condition: Callable[[], bool], what: str, server: subprocess.Popen) -> None:
    """Poll until ``condition`` holds; fail naming ``what`` (with the server's output)."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if server.poll() is not None or time.monotonic() > deadline:
            server.terminate()
            output = server.communicate(timeout=10)[0].decode(errors="replace")
            pytest.fail(f"{what}: not within {DEADLINE:g} s; backorder serve said:\n{output}")
        time.sleep(0.05)


@pytest.fixture
def ls_serve(tmp_path, ls_live, monkeypatch):
    """``backorder serve`` for store ``shop`` on the live sandbox: ``(config, address, proc)``."""
    url, _ = ls_live
    port = _free_port()
    address = f"http://127.0.0.1:{port}/webhooks/shop"
    config = write_config(
        tmp_path,
        base_url=url,
        api_key_env="LS_SERVE_KEY",
        api_secret_env="LS_SERVE_SECRET",
        webhook_address=address,
    )
    monkeypatch.setenv("LS_SERVE_KEY", KEY)  # for the server and this process's CLI calls
    monkeypatch.setenv("LS_SERVE_SECRET", SECRET)
    args = ["--config", config, "serve", "--port", str(port), "--no-worker"]
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, *args],
        env=dict(os.environ),  # BACKORDER_PLUGINS=core,lightspeed_ecom (conftest) included
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    _wait_for(healthy, "backorder serve answering /health", server)
    yield config, address, server
    server.terminate()
    server.wait(timeout=10)


def test_sandbox_deliveries_reach_backorder_serve_signed_and_are_applied(
    ls_serve, ls_live, ls_sandbox_http, plugin_manager
):
    config_path, address, server = ls_serve
    _, shop = ls_live
    config = load_config(config_path)
    db = Database(config.database)
    service = StoreService(db, config.stores["shop"], pm=plugin_manager)
    with LightspeedClient.for_store(service.store) as client:
        sync_catalog(service, client)
    service.assign(["TEE-S"])  # 2 on hand, backorders on ("indicator")

    from backorder.commands import main  # late: plugin commands register at import

    ensured = CliRunner().invoke(
        main, ["--config", config_path, "lightspeed-ecom", "webhooks", "--ensure"]
    )
    assert ensured.exit_code == 0, ensured.output
    assert {(h["itemGroup"], h["address"]) for h in shop.webhooks} == {
        ("variants", address),
        ("orders", address),
    }

    small = next(v for v in shop.variants.values() if v["sku"] == "TEE-S")
    sold = ls_sandbox_http.post(
        "/__sandbox/checkout", json={"lines": [{"variant": small["id"], "quantity": 3}]}
    )
    order_id = str(sold.json()["order"]["id"])
    assert [d["group"] for d in shop.pending()] == ["orders", "variants"]
    while shop.pending():
        assert shop.deliver(limit=1) == 1  # answered 202 by backorder serve
        _wait_for(lambda: not pending_deliveries(service), "the delivery applied", server)

    order = service.order(order_id)
    assert order is not None
    assert (order.lines[0].in_stock, order.lines[0].backordered) == (2, 1)
    assert service.item("TEE-S").on_hand == -1 == small["stockLevel"]
    assert {d["status"] for d in shop.deliveries} == {202}  # our own pushes' echoes too

    # a forged delivery (a stock level nobody sent, signed with a wrong secret) is refused
    forged = json.dumps({"variant": {**small, "stockLevel": 50}}).encode()
    answer = httpx.post(address, content=forged, headers={"x-signature": "0" * 32})
    assert answer.status_code == 401 and "x-signature" in answer.json()["error"]
    assert service.item("TEE-S").on_hand == -1
    db.dispose()
