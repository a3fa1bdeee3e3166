"""Fixtures for the BigCommerce plugin's tests (all prefixed ``bc_``)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.connection import client_for, forget_clients, register_transport
from backorder_bigcommerce.sandbox import Sandbox
from backorder_bigcommerce.webhooks import SCOPES

from backorder.config import Config, StoreConfig
from backorder.engine import StoreService
from backorder.http import FakeClock, SyncASGITransport
from backorder.models import StoreSettings
from backorder.server import create_app
from backorder.storage.db import Database

SPECS = Path(os.environ.get("BACKORDER_BC_SPECS", "/work/shared/specs/bigcommerce"))
if not SPECS.exists():  # the specs live beside the repo: ../shared/specs/bigcommerce
    SPECS = Path(__file__).resolve().parents[4] / "shared" / "specs" / "bigcommerce"
SECRET = "s3cret-webhook"
TOKEN = "sandbox-token"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
RECEIVER = "http://backorder.test"
ADDRESS = s.BillingAddressBase(
    first_name="Pat",
    last_name="Lee",
    street_1="1 Main St",
    city="Austin",
    state="Texas",
    zip="78701",
    country="United States",
    country_iso2="US",
    email="pat@example.com",
)


@pytest.fixture(scope="session")
def bc_specs_dir() -> Path:
    """BigCommerce's official OpenAPI files (``BACKORDER_BC_SPECS`` overrides the place)."""
    return SPECS


@pytest.fixture
def bc_secret() -> str:
    return SECRET


@pytest.fixture
def bc_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bc_sandbox(bc_clock, monkeypatch):
    """A demo-seeded in-process sandbox that the plugin's clients reach at its URL."""
    monkeypatch.setenv("BC_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("BC_TEST_SECRET", SECRET)
    sandbox = Sandbox(clock=bc_clock)
    sandbox.seed_demo()
    register_transport(sandbox.url, sandbox.transport, bc_clock)
    yield sandbox
    forget_clients()
    sandbox.close()


@pytest.fixture
def bc_store_config():
    """``bc_store_config(sandbox, mode="app", **settings)``: a store on that sandbox."""
    return store_config


def store_config(sandbox, mode: str = "app", **settings) -> StoreConfig:
    return StoreConfig(
        name="bc",
        platform="bigcommerce",
        settings=StoreSettings(**settings),
        connection={
            "store_hash": sandbox.state.store_hash,
            "api_url": sandbox.url,
            "access_token_env": "BC_TEST_TOKEN",
            "webhook_secret_env": "BC_TEST_SECRET",
            "mode": mode,
        },
    )


@pytest.fixture
def bc_store(bc_sandbox) -> StoreConfig:
    return store_config(bc_sandbox)


@pytest.fixture
def bc_shop_for(bc_sandbox, plugin_manager, tmp_path):
    """``bc_shop_for(mode)``: a synced store on the sandbox whose hooks deliver to the core's
    webhook server; returns ``(service, client, sandbox state)``."""
    dbs: list[Database] = []

    def make(mode: str = "app", **settings):
        bc_sandbox.state.native_backorders = mode == "native"
        store = store_config(bc_sandbox, mode, **settings)
        db = Database(f"sqlite:///{tmp_path}/bc-{mode}-{len(dbs)}.db")
        dbs.append(db)
        server = create_app(Config(database=db.url, stores={"bc": store}), db, plugin_manager)
        bc_sandbox.route_deliveries(RECEIVER, SyncASGITransport(server))
        client = client_for(store)
        client.ensure_hooks(SCOPES, f"{RECEIVER}/webhooks/bc", {"X-Backorder-Secret": SECRET})
        service = StoreService(db, store, pm=plugin_manager, clock=lambda: T0)
        service.sync_from_platform()
        return service, client, bc_sandbox.state

    yield make
    for db in dbs:
        db.dispose()


@pytest.fixture
def bc_address() -> s.BillingAddressBase:
    """A shopper's billing address for ``POST /v2/orders``."""
    return ADDRESS


@pytest.fixture
def bc_buy():
    """``bc_buy(client, product_id, qty, variant_id=None)``: a shopper's ``POST /v2/orders``."""

    def buy(client, product_id: int, qty: int, variant_id: int | None = None):
        line = s.OrderCatalogProductPost(product_id=product_id, variant_id=variant_id, quantity=qty)
        return client.create_order(s.OrderPost(billing_address=ADDRESS, products=[line]))

    return buy
