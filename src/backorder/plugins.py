"""The plugin manager: built-in plugins by import, the others from entry points.

Built-in plugins (the ``core`` platform, the ``notify`` notifier, the ``weasyprint``
renderer, the web app's ``admin`` commands) are registered by import, as datasette
does, so they are always there.
Third-party plugins come from the ``backorder`` entry-point group through pluggy's own
loader; ``BACKORDER_PLUGINS`` (comma-separated entry-point names) allows only those, an
empty value none. ``BACKORDER_TRACE_HOOKS=1`` writes every hook call and platform call
to standard error.

:class:`PluginManager` is pluggy's manager with the lookups the core needs: a store's
:class:`~backorder.platform.Platform` by name, the notifiers, the CLI commands.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import pluggy
from pluggy import HookImpl, Result

from backorder import hookspecs
from backorder.errors import NotFound, PluginLoadError
from backorder.platform import PLUGIN_API, Platform

if TYPE_CHECKING:
    import click

    from backorder.config import StoreConfig
    from backorder.models import DomainEvent

__all__ = [
    "BUILTIN_PLUGINS",
    "ENV_ALLOW",
    "ENV_TRACE",
    "PluginManager",
    "describe",
    "get_manager",
    "make_manager",
]

BUILTIN_PLUGINS = {
    "core": "backorder.platforms.core",
    "notify": "backorder.notify.plugin",
    "weasyprint": "backorder.platforms.weasyprint_renderer",
    "admin": "backorder.admin.commands",
}
"""Plugins that ship with the core: name -> module, registered by import."""

ENV_ALLOW = "BACKORDER_PLUGINS"
ENV_TRACE = "BACKORDER_TRACE_HOOKS"


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, typed for backorder: platforms by name, notifiers, commands."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self._platforms: dict[str, tuple[Platform, str]] | None = None
        self.tracing = bool(os.environ.get(ENV_TRACE))
        """Hook and platform calls are written to standard error (decided once: the platform
        is asked for on every change, and reading the environment costs more than that)."""

    # registering invalidates the platform table
    def register(self, plugin: object, name: str | None = None) -> str | None:
        self._platforms = None
        return super().register(plugin, name)

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        self._platforms = None
        return super().unregister(plugin, name)

    def loaded(self) -> list[tuple[str, object]]:
        """``(name, plugin)`` of the registered plugins (blocked names left out)."""
        return [(name, plugin) for name, plugin in self.list_name_plugin() if plugin is not None]

    # ------------------------------------------------------------ platforms
    def _table(self) -> dict[str, tuple[Platform, str]]:
        if self._platforms is None:
            table: dict[str, tuple[Platform, str]] = {}
            for impl in self.hook.backorder_platforms.get_hookimpls():
                offered = cast("Sequence[object]", impl.function() or ())
                for offer in offered:
                    platform = _check_platform(offer, impl.plugin_name)
                    if platform.name in table:
                        raise PluginLoadError(
                            f"platform {platform.name!r} is served by two plugins: "
                            f"{table[platform.name][1]!r} and {impl.plugin_name!r}; "
                            f"set {ENV_ALLOW} to choose one"
                        )
                    table[platform.name] = (platform, impl.plugin_name)
            self._platforms = table
        return self._platforms

    def serves(self, name: str) -> bool:
        """Whether an installed plugin serves the platform ``name`` (asked on every change)."""
        return name in self._table()

    def platform_names(self) -> dict[str, str]:
        """Platform name -> the plugin that serves it."""
        return {name: plugin for name, (_, plugin) in sorted(self._table().items())}

    def platforms(self) -> list[Platform]:
        return [platform for platform, _ in self._table().values()]

    def platform(self, name: str) -> Platform:
        """The platform called ``name``.

        :raises backorder.errors.NotFound: no installed plugin serves it; the message lists
            the platforms that are installed.
        """
        found = self._table().get(name)
        if found is None:
            installed = ", ".join(sorted(self._table())) or "none"
            raise NotFound(f"no plugin serves platform {name!r}; installed platforms: {installed}")
        platform = found[0]
        return cast(Platform, _Traced(platform)) if self.tracing else platform

    # ------------------------------------------------------------ notifiers
    def notifiers(self) -> dict[str, Callable[..., Any]]:
        """Notifier name (its plugin's name) -> its ``backorder_notify`` implementation."""
        return {
            impl.plugin_name: impl.function
            for impl in reversed(self.hook.backorder_notify.get_hookimpls())
        }

    def subscriptions(self, store: StoreConfig) -> dict[str, Collection[str] | None]:
        """Notifier name -> the event types it wants for ``store`` (``None``: all)."""
        wanted: dict[str, Collection[str] | None] = dict.fromkeys(self.notifiers())
        for impl in self.hook.backorder_notify_subscriptions.get_hookimpls():
            if impl.plugin_name in wanted:
                _trace("backorder_notify_subscriptions", store, [impl.plugin_name])
                wanted[impl.plugin_name] = cast(
                    "Collection[str] | None", impl.function(store=store)
                )
        return wanted

    def notify(self, notifier: str, store: StoreConfig, event: DomainEvent) -> None:
        """Hand ``event`` to one notifier (each notifier's delivery is tracked apart)."""
        _trace("backorder_notify", store, [notifier])
        self.notifiers()[notifier](store=store, event=event)

    # ------------------------------------------------------------- commands
    def add_commands(self, cli: click.Group) -> None:
        """Every platform's commands and sandbox, then the ``backorder_register_commands`` hook."""
        import click

        sandbox = cli.commands.get("sandbox")
        for platform in self.platforms():
            for command in platform.commands():
                cli.commands.setdefault(command.name or "", command)
            runner = platform.sandbox()
            if runner is not None and isinstance(sandbox, click.Group):
                sandbox.commands.setdefault(platform.name, runner)
        self.hook.backorder_register_commands(cli=cli)


def _check_platform(platform: object, plugin: str) -> Platform:
    if isinstance(platform, str):
        raise PluginLoadError(
            f"plugin {plugin!r} names its platform {platform!r} as a string (plugin API 1); "
            f"this backorder speaks plugin API {PLUGIN_API}: register a Platform object "
            "(README: 'Migrating a plugin to API 2')"
        )
    if not isinstance(platform, Platform):
        raise PluginLoadError(
            f"plugin {plugin!r}: {platform!r} is not a backorder.platform.Platform"
        )
    if platform.api_version != PLUGIN_API:
        raise PluginLoadError(
            f"plugin {plugin!r}: platform {platform.name!r} was written for plugin API "
            f"{platform.api_version}; this backorder speaks {PLUGIN_API}"
        )
    return platform


class _Traced:
    """A platform whose every call is written to standard error (``BACKORDER_TRACE_HOOKS``)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._platform, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            print(f"backorder: platform {self._platform.name}.{name}", file=sys.stderr)
            return value(*args, **kwargs)

        return call


# ----------------------------------------------------------------- building one
def _allowed() -> set[str] | None:
    raw = os.environ.get(ENV_ALLOW)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=hookspecs.PROJECT))


def _trace(hook: str, store: StoreConfig | None, plugins: list[str]) -> None:
    """One line on standard error per hook call, when ``BACKORDER_TRACE_HOOKS`` is set."""
    if os.environ.get(ENV_TRACE):
        where = f" store={store.name}" if store is not None else ""
        print(f"backorder: hook {hook}{where} -> {','.join(plugins)}", file=sys.stderr)


def _monitor(pm: PluginManager) -> None:
    def before(name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
        _trace(name, kwargs.get("store"), [impl.plugin_name for impl in impls])

    def after(
        outcome: Result[Any], name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]
    ) -> None:
        return None

    pm.add_hookcall_monitoring(before, after)


def make_manager(load_entry_points: bool = True) -> PluginManager:
    """A manager with the built-in plugins and, unless told not to, the installed ones.

    :raises backorder.errors.PluginLoadError: a plugin failed to import, implements a
        hook that does not exist (a misspelling), or registers an unusable platform; the
        message names it.
    """
    pm = PluginManager()
    for name, module in BUILTIN_PLUGINS.items():
        pm.register(importlib.import_module(module), name=name)
    if load_entry_points:
        _load_entry_points(pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginLoadError(
            f"plugin {pm.get_name(exc.plugin)!r}: {exc}; set {ENV_ALLOW} to skip it"
        ) from None
    pm.platform_names()  # refuse unusable platforms now, not at first use
    if pm.tracing:
        _monitor(pm)
    return pm


def _load_entry_points(pm: PluginManager) -> None:
    allowed = _allowed()
    entry_points = [ep for ep in _entry_points() if ep.name not in BUILTIN_PLUGINS]
    if allowed is not None:
        for ep in entry_points:
            if ep.name not in allowed:
                pm.set_blocked(ep.name)
    try:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    except Exception as exc:
        for ep in entry_points:  # find which one: pluggy re-raises the plugin's own error
            if pm.is_blocked(ep.name) or pm.get_plugin(ep.name) is not None:
                continue
            try:
                ep.load()
            except Exception as own:
                raise PluginLoadError(
                    f"plugin {ep.name!r} ({ep.value}) failed to load: "
                    f"{type(own).__name__}: {own}; set {ENV_ALLOW} to skip it"
                ) from own
        raise PluginLoadError(f"a plugin failed to load: {type(exc).__name__}: {exc}") from exc


_manager: PluginManager | None = None


def get_manager() -> PluginManager:
    """The process-wide manager, loaded on first use (CLI start-up stays fast)."""
    global _manager
    if _manager is None:
        _manager = make_manager()
    return _manager


def describe(pm: PluginManager) -> list[dict[str, Any]]:
    """Loaded plugins with their hooks, platforms and distribution (``backorder plugins``)."""
    dists = {pm.get_name(plugin): f"{dist.project_name} {dist.version}"
             for plugin, dist in pm.list_plugin_distinfo()}
    served: dict[str, list[str]] = {}
    for platform, served_by in pm.platform_names().items():
        served.setdefault(served_by, []).append(platform)
    rows = []
    for name, plugin in sorted(pm.loaded(), key=lambda pair: str(pair[0])):
        hooks = sorted(impl.name for impl in pm.get_hookcallers(plugin) or [])
        rows.append({
            "name": name,
            "hooks": hooks,
            "platforms": served.get(name, []),
            "distribution": dists.get(name) or ("backorder (built in)" if name in BUILTIN_PLUGINS
                                                else None),
        })
    return rows
