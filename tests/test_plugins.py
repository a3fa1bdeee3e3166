"""Plugins load through entry points, built-in or not, and the allow-list chooses which."""

import importlib.metadata

import pytest

from backorder.hookspecs import hookimpl
from backorder.plugins import BUILTIN_PLUGINS, PluginLoadError, make_manager, platforms


def test_builtin_plugins_are_entry_points_like_any_other():
    names = {ep.name for ep in importlib.metadata.entry_points(group="backorder")}
    assert set(BUILTIN_PLUGINS) <= names


def test_allow_list_limits_loading(monkeypatch):
    monkeypatch.setenv("BACKORDER_PLUGINS", "core")
    assert [name for name, _ in make_manager().list_name_plugin()] == ["core"]
    monkeypatch.setenv("BACKORDER_PLUGINS", "")
    assert make_manager().list_name_plugin() == []


def test_core_platform_is_served(monkeypatch):
    monkeypatch.setenv("BACKORDER_PLUGINS", "core")
    assert platforms(make_manager()) == {"core": "core"}


def test_a_broken_plugin_is_named_in_the_error(monkeypatch):
    broken = importlib.metadata.EntryPoint(
        name="broken", value="backorder_no_such_module", group="backorder"
    )
    monkeypatch.delenv("BACKORDER_PLUGINS", raising=False)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [broken])
    with pytest.raises(PluginLoadError, match=r"plugin 'broken'.*BACKORDER_PLUGINS"):
        make_manager()


def test_a_throwaway_plugin_serves_a_platform(monkeypatch, register_plugin, plugin_manager):
    class Acme:
        @hookimpl
        def backorder_platforms(self):
            return ["acme"]

    register_plugin(Acme(), name="acme")
    assert platforms(plugin_manager)["acme"] == "acme"
