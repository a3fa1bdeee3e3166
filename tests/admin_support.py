"""A store with a catalog, served by ``create_app``, and clients signed into its web app."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from backorder.admin.passwords import hash_password
from backorder.config import Config, parse_config
from backorder.engine import StoreService
from backorder.models import ItemInput, LineRequest, OrderIn
from backorder.plugins import PluginManager
from backorder.server import create_app
from backorder.storage.db import Database

PASSWORD = "correct horse battery"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
_HASH = hash_password(PASSWORD)  # once: argon2 is slow on purpose

CATALOG = [
    ItemInput(sku="MUG-BLUE", product_id="10", variant_id="101", name="Café mug", on_hand=2,
              assigned=False, category="Kitchen", brand="Acme"),
    ItemInput(sku="MUG-RED", product_id="10", variant_id="102", name="Café mug", on_hand=0,
              assigned=False, category="Kitchen", brand="Acme"),
    ItemInput(sku="TENT-2P", product_id="20", name="Two-person tent", on_hand=1,
              assigned=False, category="Outdoor", brand="Camp"),
    ItemInput(sku="STOVE", product_id="30", name="Camp stove", on_hand=12, assigned=False,
              category="Outdoor", brand="Camp"),
    ItemInput(sku="LAMP", product_id="40", name="Lantern", on_hand=5, assigned=False,
              category="Outdoor", brand="Lux"),
]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@dataclass
class Shop:
    config: Config
    db: Database
    pm: PluginManager
    app: Any

    def service(self, name: str = "shop") -> StoreService:
        store = self.app.state.web.stores.store(name)
        return StoreService(self.db, store, pm=self.pm)

    def client(self, **kwargs: Any) -> TestClient:
        return TestClient(self.app, follow_redirects=False, **kwargs)

    def signed_in(self, user: str = "alice", **kwargs: Any) -> TestClient:
        client = self.client(**kwargs)
        token = csrf_of(client.get("/admin/login").text)
        answer = client.post(
            "/admin/login", data={"username": user, "password": PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 303, answer.text
        return client

    def page(self, client: TestClient, path: str) -> tuple[str, str]:
        """A page's HTML and the CSRF token its forms carry."""
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.text, csrf_of(answer.text)


def build_shop(tmp_path, pm: PluginManager, monkeypatch, **admin: Any) -> Shop:
    monkeypatch.setenv("BACKORDER_ADMIN_KEY", "test-key-" + "x" * 40)
    db = Database(f"sqlite:///{tmp_path}/admin.db")
    config = parse_config({
        "database": db.url,
        "stores": {
            "shop": {"platform": "core", "settings": {"plan_limit": 3}},
            "other": {"platform": "core"},
        },
        "admin": {
            "users": {
                "alice": {"password_hash": _HASH, "stores": ["shop"]},
                "root": {"password_hash": _HASH, "stores": ["*"]},
            },
            **admin,
        },
    })
    for name in ("shop", "other"):
        service = StoreService(db, config.stores[name], pm=pm, clock=lambda: T0)
        service.upsert_catalog(CATALOG)
    shop = StoreService(db, config.stores["shop"], pm=pm, clock=lambda: T0)
    shop.assign([ItemInput(sku="TENT-2P", threshold=5)])
    shop.place_order(OrderIn(order_id="1001", lines=[LineRequest(sku="TENT-2P", qty=3)],
                             customer_email="pat@example.com", placed_at=T0))
    return Shop(config, db, pm, create_app(config, db, pm, worker=False))


@pytest.fixture
def shop(tmp_path, plugin_manager, monkeypatch) -> Shop:
    built = build_shop(tmp_path, plugin_manager, monkeypatch)
    yield built
    built.db.dispose()
