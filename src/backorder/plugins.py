"""The plugin manager: built-in and third-party plugins load the same way.

Plugins come from the ``backorder`` entry-point group. ``BACKORDER_PLUGINS`` (a
comma-separated list of entry-point names) limits which load; empty loads none.
"""

from __future__ import annotations

import importlib.metadata
import os
from typing import Any

import pluggy

from backorder import hookspecs
from backorder.errors import PluginLoadError

BUILTIN_PLUGINS = ("core", "notify", "weasyprint")
"""Entry-point names of the plugins that ship with the core package."""

ENV_ALLOW = "BACKORDER_PLUGINS"


def _allowed() -> set[str] | None:
    raw = os.environ.get(ENV_ALLOW)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


_versions: dict[str, str] = {}


def make_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if load_entry_points:
        allowed = _allowed()
        for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT):
            if (allowed is None or ep.name in allowed) and pm.get_plugin(ep.name) is None:
                try:
                    plugin = ep.load()
                except Exception as exc:
                    raise PluginLoadError(
                        f"plugin {ep.name!r} ({ep.value}) failed to load: "
                        f"{type(exc).__name__}: {exc}; set {ENV_ALLOW} to skip it"
                    ) from exc
                pm.register(plugin, name=ep.name)
                if ep.dist is not None:
                    _versions[ep.name] = f"{ep.dist.name} {ep.dist.version}"
    return pm


_manager: pluggy.PluginManager | None = None


def get_manager() -> pluggy.PluginManager:
    """The process-wide manager, loaded on first use (CLI start-up stays fast)."""
    global _manager
    if _manager is None:
        _manager = make_manager()
    return _manager


def platforms(pm: pluggy.PluginManager) -> dict[str, str]:
    """Platform name -> the plugin that serves it."""
    served: dict[str, str] = {}
    for impl in pm.hook.backorder_platforms.get_hookimpls():
        for name in impl.function():
            served.setdefault(name, impl.plugin_name)
    return served


def describe(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """Loaded plugins with the hooks each implements (for ``backorder plugins``)."""
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda pair: pair[0]):
        hooks = sorted(impl.name for impl in pm.get_hookcallers(plugin) or [])
        rows.append({"name": name, "hooks": hooks, "distribution": _versions.get(name)})
    return rows
