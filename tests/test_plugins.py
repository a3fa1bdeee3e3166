"""The plugin manager: built-ins by import, the rest by entry point, platforms by name."""

import importlib.metadata

import pytest

from backorder.errors import NotFound
from backorder.hookspecs import hookimpl
from backorder.platform import PLUGIN_API, BasePlatform
from backorder.plugins import BUILTIN_PLUGINS, PluginLoadError, make_manager


class Acme(BasePlatform):
    name = "acme"


class AcmePlugin:
    @hookimpl
    def backorder_platforms(self):
        return [Acme()]


def test_builtin_plugins_are_there_even_when_the_allow_list_is_empty(monkeypatch):
    monkeypatch.setenv("BACKORDER_PLUGINS", "")
    pm = make_manager()
    assert sorted(name for name, _ in pm.loaded()) == sorted(BUILTIN_PLUGINS)
    assert pm.platform_names() == {"core": "core"}


def test_allow_list_blocks_the_entry_points_it_does_not_name(monkeypatch):
    installed = {ep.name for ep in importlib.metadata.entry_points(group="backorder")}
    third_party = sorted(installed - set(BUILTIN_PLUGINS))
    if not third_party:
        pytest.skip("no platform plugin installed")
    monkeypatch.setenv("BACKORDER_PLUGINS", third_party[0])
    loaded = {name for name, _ in make_manager().loaded()}
    assert loaded == set(BUILTIN_PLUGINS) | {third_party[0]}


def test_a_broken_plugin_is_named_in_the_error(monkeypatch):
    broken = importlib.metadata.EntryPoint(
        name="broken", value="backorder_no_such_module", group="backorder"
    )
    class Dist:  # what pluggy's entry-point loader walks
        entry_points = (broken,)

    monkeypatch.delenv("BACKORDER_PLUGINS", raising=False)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_: [broken])
    monkeypatch.setattr(importlib.metadata, "distributions", lambda: [Dist()])
    with pytest.raises(PluginLoadError, match=r"plugin 'broken'.*BACKORDER_PLUGINS"):
        make_manager()


def test_a_misspelled_hook_fails_loudly(monkeypatch):
    class Typo:
        @hookimpl
        def backorder_notfy(self, store, event):  # not a hook: would never be called
            pass

    import backorder.plugins as plugins

    original = plugins._load_entry_points
    monkeypatch.setattr(plugins, "_load_entry_points", lambda pm: pm.register(Typo(), "typo"))
    with pytest.raises(PluginLoadError, match=r"'typo'.*backorder_notfy"):
        make_manager()
    monkeypatch.setattr(plugins, "_load_entry_points", original)


def test_a_throwaway_plugin_serves_a_platform(register_plugin, plugin_manager):
    register_plugin(AcmePlugin(), name="acme")
    assert plugin_manager.platform_names()["acme"] == "acme"
    platform = plugin_manager.platform("acme")
    assert isinstance(platform, Acme) and platform.api_version == PLUGIN_API
    assert not platform.pushes  # BasePlatform.apply_items not overridden: nothing queued


def test_an_unknown_platform_lists_the_installed_ones(plugin_manager):
    with pytest.raises(NotFound, match=r"no plugin serves platform 'woo'.*core"):
        plugin_manager.platform("woo")


def test_a_plugin_api_1_platform_name_is_refused_with_the_migration_hint(register_plugin):
    class Old:
        @hookimpl
        def backorder_platforms(self):
            return ["oldshop"]

    pm = make_manager(load_entry_points=False)
    pm.register(Old(), name="old")
    with pytest.raises(PluginLoadError, match=r"plugin API 1.*Migrating a plugin to API 2"):
        pm.platform_names()


def test_a_platform_written_for_another_api_version_is_refused():
    class Future(BasePlatform):
        name = "future"
        api_version = PLUGIN_API + 1

    class Plugin:
        @hookimpl
        def backorder_platforms(self):
            return [Future()]

    pm = make_manager(load_entry_points=False)
    pm.register(Plugin(), name="future")
    with pytest.raises(PluginLoadError, match=r"written for plugin API"):
        pm.platform("future")


def test_two_plugins_serving_one_platform_are_refused():
    pm = make_manager(load_entry_points=False)
    pm.register(AcmePlugin(), name="one")
    pm.register(AcmePlugin(), name="two")
    with pytest.raises(PluginLoadError, match=r"'acme' is served by two plugins"):
        pm.platform("acme")


def test_trace_env_var_writes_hook_and_platform_calls(monkeypatch, capsys):
    from backorder.config import StoreConfig

    monkeypatch.setenv("BACKORDER_TRACE_HOOKS", "1")
    pm = make_manager(load_entry_points=False)
    store = StoreConfig(name="shop")
    pm.subscriptions(store)
    pm.platform("core").fetch_catalog(store)
    err = capsys.readouterr().err
    assert "hook backorder_notify_subscriptions store=shop -> notify" in err
    assert "platform core.fetch_catalog" in err
    pm.hook.backorder_render_document(html="<p>x</p>", fmt="txt")
    assert "hook backorder_render_document -> weasyprint" in capsys.readouterr().err
