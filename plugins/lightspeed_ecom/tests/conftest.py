"""Fixtures for the Lightspeed plugin's tests (all named ``ls_*``)."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from backorder_lightspeed_ecom.client import Connection, LightspeedClient
from backorder_lightspeed_ecom.ratelimit import ShopThrottle
from backorder_lightspeed_ecom.sandbox import SandboxShop, create_app, seed_demo

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.http import FakeClock, SyncASGITransport

KEY, SECRET = "test-key", "test-secret"


def write_config(directory, **connection) -> str:
    """A ``backorder.toml`` for one Lightspeed store, ``shop``, on a SQLite file in
    ``directory``; returns its path."""
    lines = [f'database = "sqlite:///{directory}/backorder.db"', "[stores.shop]"]
    lines += ['platform = "lightspeed_ecom"', "[stores.shop.connection]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in connection.items()]
    path = directory / "backorder.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(autouse=True)
def ls_plugins_under_test(monkeypatch):
    """Load only the core and this plugin: other plugins in the checkout are not under test."""
    monkeypatch.setenv("BACKORDER_PLUGINS", "core,lightspeed_ecom")


@pytest.fixture
def ls_time() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ls_shop() -> SandboxShop:
    return seed_demo(SandboxShop(KEY, SECRET))


@pytest.fixture
def ls_client(ls_shop, ls_time):
    """A client talking to a fresh in-process sandbox; sleeping only advances ``ls_time``."""
    clients: list[LightspeedClient] = []

    def make(secret: str = SECRET, **options) -> LightspeedClient:
        client = LightspeedClient(
            Connection(base_url="http://sandbox.test", **options),
            KEY,
            secret,
            transport=SyncASGITransport(create_app(ls_shop)),
            throttle=ShopThrottle(clock=ls_time),
            clock=ls_time,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class _Switch:
    """An ASGI app that forwards to whichever sandbox app the current test installed."""

    def __init__(self) -> None:
        self.app = create_app(seed_demo(SandboxShop(KEY, SECRET)))

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def ls_server():
    switch = _Switch()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(
        uvicorn.Config(switch, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield switch, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def ls_live(ls_server, ls_shop):
    """The demo shop served on 127.0.0.1 for this test: ``(base_url, shop)``."""
    switch, url = ls_server
    switch.app = create_app(ls_shop)
    return url, ls_shop


@pytest.fixture
def ls_store(ls_live) -> StoreConfig:
    url, _ = ls_live
    return StoreConfig(
        name="ls",
        platform="lightspeed_ecom",
        connection={"base_url": url, "language": "en", "api_key": KEY, "api_secret": SECRET},
    )


@pytest.fixture
def ls_service(backorder_db, ls_store, plugin_manager):
    """A store service for the live sandbox, with the plugin hooks wired."""

    def make(**connection) -> StoreService:
        store = ls_store.model_copy(update={"connection": {**ls_store.connection, **connection}})
        return StoreService(backorder_db, store, pm=plugin_manager)

    return make


@pytest.fixture
def ls_sandbox_http(ls_live):
    """Direct calls to the live sandbox's control endpoints (checkout, deliveries...)."""
    url, _ = ls_live
    with httpx.Client(base_url=url) as http:
        yield http
