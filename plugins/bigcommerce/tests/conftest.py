"""Fixtures for the BigCommerce plugin's tests (all prefixed ``bc_``)."""

from __future__ import annotations

import pytest
from backorder_bigcommerce.connection import forget_clients, register_transport
from backorder_bigcommerce.sandbox import Sandbox

from backorder.config import StoreConfig
from backorder.http import FakeClock
from backorder.models import StoreSettings

SECRET = "s3cret-webhook"
TOKEN = "sandbox-token"


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
