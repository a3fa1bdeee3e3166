"""A stateful BigCommerce sandbox: in process (httpx) or on a loopback port (uvicorn).

The sandbox is the plugin's ``sandbox`` extra (``pip install 'backorder-bigcommerce[sandbox]'``):
a missing web package is reported with that command.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from backorder.http import Clock, SyncASGITransport, needs_extra
from backorder_bigcommerce.sandbox.apps import AppFlow
from backorder_bigcommerce.sandbox.state import Faults, SandboxState

with needs_extra("backorder-bigcommerce", "sandbox"):
    from backorder_bigcommerce.sandbox.app import build_app

__all__ = ["DEMO_CATALOG", "AppFlow", "Faults", "Sandbox", "SandboxState", "build_app"]

SANDBOX_URL = "http://bigcommerce.sandbox"

DEMO_CATALOG = [
    # name, sku, level, variants
    ("Two-person tent", "TENT-2P", 3, None),
    ("Café mug", "MUG", 0, [("MUG-BLUE", 2), ("MUG-RED", 0)]),
    ("Camp stove Ø 20 cm", "STOVE-X", 12, None),
    ("Lantern", "LAMP-01", 1, None),
]


class Sandbox:
    """State, ASGI app and an in-process transport, plus webhook delivery."""

    def __init__(self, clock: Clock | None = None, **options) -> None:
        self.state = SandboxState(clock=clock, **options)
        self.apps = AppFlow(self.state)
        """The single-click app flow (install, signed load/uninstall payloads)."""
        self.app = build_app(self.state, apps=self.apps)
        self.transport = SyncASGITransport(self.app)
        self.receivers: dict[str, httpx.BaseTransport] = {}

    @property
    def url(self) -> str:
        return SANDBOX_URL

    def seed_demo(self) -> None:
        for name, sku, level, variants in DEMO_CATALOG:
            self.state.add_product(name, sku, level, variants=variants)

    def route_deliveries(self, destination_prefix: str, transport: httpx.BaseTransport) -> None:
        """Deliver webhooks for URLs starting with the prefix through ``transport``."""
        self.receivers[destination_prefix] = transport

    def deliver(self) -> int:
        """Send pending webhook deliveries now; returns how many were accepted."""
        return self.state.deliver(self._post)

    def _post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        transport: httpx.BaseTransport | None = next(
            (t for prefix, t in self.receivers.items() if url.startswith(prefix)), None
        )
        with httpx.Client(transport=transport, timeout=10) as client:
            return client.post(url, headers=headers, content=body).status_code

    def close(self) -> None:
        self.transport.close()


def poster() -> Callable[[str, dict[str, str], bytes], int]:
    """Deliveries over real HTTP (the loopback server)."""

    def post(url: str, headers: dict[str, str], body: bytes) -> int:
        return httpx.post(url, headers=headers, content=body, timeout=10).status_code

    return post
