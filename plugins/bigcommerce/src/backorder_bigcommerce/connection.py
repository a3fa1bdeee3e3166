"""A store's BigCommerce connection options, and one paced client per store.

``StoreConfig.connection`` keys (secrets by environment variable)::

    store_hash = "abc123"
    api_url = "https://api.bigcommerce.com"      # or the sandbox's URL
    access_token_env = "BC_ACCESS_TOKEN"
    webhook_secret_env = "BC_WEBHOOK_SECRET"
    webhook_header = "X-Backorder-Secret"        # the custom header registered with hooks
    mode = "app"                                  # or "native" (beta native backorders)
    location_id = 1
    storefront_api_url = "https://backorder.example.com"   # for the storefront script
"""

from __future__ import annotations

import threading
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict

from backorder.config import StoreConfig
from backorder.http import Clock
from backorder_bigcommerce.client import BigCommerceClient

NAME = "bigcommerce"


class Connection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store_hash: str
    api_url: str = "https://api.bigcommerce.com"
    access_token: str | None = None
    access_token_env: str | None = None
    webhook_secret: str | None = None
    webhook_secret_env: str | None = None
    webhook_header: str = "X-Backorder-Secret"
    webhook_destination: str | None = None
    mode: Literal["app", "native"] = "app"
    location_id: int = 1
    storefront_api_url: str | None = None
    """The public https URL of ``backorder serve`` (serves /storefront/backorder.js and the
    storefront API); needed by ``backorder bigcommerce storefront install``."""

    @property
    def level_basis(self) -> Literal["absolute", "platform_count"]:
        """App mode turns BigCommerce's tracking off, so its count never drops with our sales:
        only its changes (an IMS update) are ours to apply. Native mode counts for itself."""
        return "platform_count" if self.mode == "app" else "absolute"


def connection(store: StoreConfig) -> Connection:
    return store.connection_as(Connection)


_transports: dict[str, tuple[httpx.BaseTransport, Clock | None]] = {}
_clients: dict[tuple[str, str, str], BigCommerceClient] = {}
_lock = threading.Lock()


def register_transport(api_url: str, transport: httpx.BaseTransport, clock: Clock | None = None):
    """Route calls for ``api_url`` through ``transport`` (an in-process sandbox, a cassette)."""
    with _lock:
        _transports[api_url.rstrip("/")] = (transport, clock)
        for key in [k for k in _clients if k[0] == api_url.rstrip("/")]:
            _clients.pop(key).close()


def transport_for(url: str) -> httpx.BaseTransport | None:
    """The transport registered for ``url`` (a sandbox in process), if any."""
    with _lock:
        return _transports.get(url.rstrip("/"), (None, None))[0]


def forget_clients() -> None:
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def client_for(store: StoreConfig) -> BigCommerceClient:
    """The store's client, kept between hook calls so it remembers the rate-limit window."""
    conn = connection(store)
    token = store.secret("access_token")
    if not token:
        from backorder.http.errors import secret_source

        raise ValueError(
            f"store {store.name!r}: connection.access_token_env names no set environment "
            f"variable: check {secret_source(store.connection, 'access_token')}"
        )
    api_url = conn.api_url.rstrip("/")
    key = (api_url, conn.store_hash, token)
    with _lock:
        client = _clients.get(key)
        if client is None:
            transport, clock = _transports.get(api_url, (None, None))
            client = BigCommerceClient(
                conn.store_hash, token, api_url=api_url, transport=transport, clock=clock
            )
            _clients[key] = client
        return client
