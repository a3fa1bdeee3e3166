"""Fixtures for testing backorder and its plugins (registered via the ``pytest11`` entry point)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import StoreSettings
from backorder.plugins import PluginManager, make_manager
from backorder.storage.db import Database


@pytest.fixture
def plugin_manager() -> PluginManager:
    """A fresh manager with the installed plugins (honours ``BACKORDER_PLUGINS``)."""
    return make_manager()


@pytest.fixture
def register_plugin(plugin_manager) -> Iterator[Callable[[Any], Any]]:
    """Register a throwaway plugin for one test; it is always unregistered afterwards."""
    registered: list[Any] = []

    def register(plugin: Any, name: str | None = None) -> Any:
        plugin_manager.register(plugin, name=name)
        registered.append(plugin)
        return plugin

    yield register
    for plugin in registered:
        plugin_manager.unregister(plugin)


@pytest.fixture
def backorder_db(tmp_path) -> Iterator[Database]:
    """A migrated SQLite database in the test's temporary directory."""
    db = Database(f"sqlite:///{tmp_path}/backorder.db")
    yield db
    db.dispose()


@pytest.fixture
def store_service(backorder_db) -> Callable[..., StoreService]:
    """Build a :class:`StoreService` on the test database: ``store_service(switch_condition=0)``.

    ``connection`` is the store's connection table (a plugin's credentials and shop
    settings, as ``[stores.NAME.connection]`` in a config file); other keyword arguments
    are store settings.
    """

    def build(
        name: str = "test",
        platform: str = "core",
        pm: PluginManager | None = None,
        clock=None,
        connection: Mapping[str, Any] | None = None,
        **settings: Any,
    ) -> StoreService:
        store = StoreConfig(
            name=name, platform=platform, settings=StoreSettings(**settings),
            connection=dict(connection or {}),
        )
        kwargs = {"clock": clock} if clock else {}
        return StoreService(backorder_db, store, pm=pm, **kwargs)

    return build
