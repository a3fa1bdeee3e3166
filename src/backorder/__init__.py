# ruff: noqa: F401  (the names under TYPE_CHECKING are re-exported through __all__)
"""backorder: keep selling when stock runs out, under rules the merchant controls.

The names an integrator or a plugin author needs are importable from here::

    from backorder import Database, StoreService, OrderIn, LineRequest, load_config

Everything in :data:`__all__` is public and keeps its meaning within a major version;
anything imported from a submodule that is not re-exported here (or in that module's
own ``__all__``) may change. The names are loaded on first use (PEP 562), so
``import backorder`` stays cheap for the CLI and for plugins that need one name.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

# The installed distribution's version: pyproject.toml is its one source.
try:
    __version__ = version("backorder")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

_EXPORTS: dict[str, str] = {
    # building the services
    "Database": "backorder.storage.db",
    "StoreService": "backorder.engine",
    "ItemEdit": "backorder.engine",
    "Config": "backorder.config",
    "StoreConfig": "backorder.config",
    "load_config": "backorder.config",
    "parse_config": "backorder.config",
    "PluginManager": "backorder.plugins",
    "make_manager": "backorder.plugins",
    # plugins
    "hookimpl": "backorder.hookspecs",
    "BasePlatform": "backorder.platform",
    "Platform": "backorder.platform",
    "PLUGIN_API": "backorder.platform",
    "WebhookEvent": "backorder.webhooks",
    # data in and out
    "OrderIn": "backorder.models",
    "LineRequest": "backorder.models",
    "OrderResult": "backorder.models",
    "LineDecision": "backorder.models",
    "RefusalReason": "backorder.models",
    "ItemInput": "backorder.models",
    "ItemView": "backorder.models",
    "CatalogItem": "backorder.models",
    "StockLevel": "backorder.models",
    "StoreSettings": "backorder.models",
    "BackorderPolicy": "backorder.models",
    "DomainEvent": "backorder.models",
    "EventType": "backorder.models",
    "Mode": "backorder.models",
    "Status": "backorder.models",
    # errors, by kind
    "BackorderError": "backorder.errors",
    "InvalidInput": "backorder.errors",
    "ConfigError": "backorder.errors",
    "WebhookRejected": "backorder.errors",
    "NotFound": "backorder.errors",
    "UnknownItem": "backorder.errors",
    "Refused": "backorder.errors",
    "PlanLimitReached": "backorder.errors",
    "Conflict": "backorder.errors",
    "PlatformError": "backorder.errors",
    "PushIncomplete": "backorder.errors",
    "RetriesExhausted": "backorder.errors",
    "StorageError": "backorder.errors",
    "PluginLoadError": "backorder.errors",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # the same names, for type checkers and IDEs
    from backorder.config import Config, StoreConfig, load_config, parse_config
    from backorder.engine import ItemEdit, StoreService
    from backorder.errors import (
        BackorderError,
        ConfigError,
        Conflict,
        InvalidInput,
        NotFound,
        PlanLimitReached,
        PlatformError,
        PluginLoadError,
        PushIncomplete,
        Refused,
        RetriesExhausted,
        StorageError,
        UnknownItem,
        WebhookRejected,
    )
    from backorder.hookspecs import hookimpl
    from backorder.models import (
        BackorderPolicy,
        CatalogItem,
        DomainEvent,
        EventType,
        ItemInput,
        ItemView,
        LineDecision,
        LineRequest,
        Mode,
        OrderIn,
        OrderResult,
        RefusalReason,
        Status,
        StockLevel,
        StoreSettings,
    )
    from backorder.platform import PLUGIN_API, BasePlatform, Platform
    from backorder.plugins import PluginManager, make_manager
    from backorder.storage.db import Database
    from backorder.webhooks import WebhookEvent


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'backorder' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
