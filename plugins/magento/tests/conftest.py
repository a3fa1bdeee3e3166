"""Fixtures for the Magento plugin's tests (names prefixed ``magento_`` to stay unique)."""

from __future__ import annotations

import pytest
from backorder_magento.sandbox import SandboxStore, ThreadedSandbox, create_app

from backorder.config import StoreConfig
from backorder.http import SyncASGITransport

TOKEN = "sandbox-token"


@pytest.fixture
def magento_sandbox() -> SandboxStore:
    return SandboxStore(token=TOKEN)


@pytest.fixture
def magento_store(magento_sandbox) -> StoreConfig:
    """A magento store talking to an in-process sandbox."""
    return StoreConfig(
        name="mage",
        platform="magento",
        connection={
            "base_url": "http://sandbox.test/rest/default",
            "token": TOKEN,
            "transport": SyncASGITransport(create_app(magento_sandbox)),
            "webhook_token": "push-token",
            "webhook_secret": "push-secret",
        },
    )


@pytest.fixture
def magento_live():
    """The sandbox served over real HTTP on 127.0.0.1 (for the CLI)."""
    sandbox = ThreadedSandbox(SandboxStore(token=TOKEN))
    with sandbox as base_url:
        yield base_url, sandbox.store
