"""The storefront on BigCommerce: backorder.js installed with the Scripts API (idempotent,
CLI install|uninstall|status), and the availability text kept in step with the store's own
messages for themes without the script.

Scripts API fields: BigCommerce's scripts OpenAPI (``/v3/content/scripts``, script_Post:
kind, html with exactly one script tag, visibility, location, consent_category).
"""

from __future__ import annotations

import pytest
from backorder_bigcommerce import storefront
from backorder_bigcommerce.connection import client_for
from click.testing import CliRunner

from backorder.cli import main
from backorder.config import StoreConfig
from backorder.engine import ItemEdit
from backorder.errors import ConfigError
from backorder.storefront import StorefrontSettings

API = "https://backorder.example.com"


def with_api(store: StoreConfig, **storefront_settings) -> StoreConfig:
    return store.model_copy(update={
        "connection": {**store.connection, "storefront_api_url": API},
        "storefront": StorefrontSettings(**storefront_settings),
    })


def test_install_is_idempotent_and_uninstall_removes_it(bc_sandbox, bc_store):
    store, client = with_api(bc_store), client_for(bc_store)
    assert storefront.install(client, store, storefront.connection_of(store)) == "created"
    assert storefront.install(client, store, storefront.connection_of(store)) == "unchanged"
    [script] = bc_sandbox.state.scripts.values()
    assert script["kind"] == "script_tag" and script["visibility"] == "storefront"
    assert script["consent_category"] == "essential" and script["location"] == "footer"
    assert script["html"] == (
        f'<script src="{API}/storefront/backorder.js" data-store="bc" data-api="{API}" '
        'data-theme="cornerstone" defer></script>')
    moved = store.model_copy(update={
        "connection": {**store.connection, "storefront_api_url": "https://new.example.com"}})
    assert storefront.install(client, moved, storefront.connection_of(moved)) == "updated"
    [script] = bc_sandbox.state.scripts.values()
    assert "https://new.example.com/storefront/backorder.js" in script["html"]
    assert storefront.uninstall(client) == 1 and bc_sandbox.state.scripts == {}


def test_install_without_the_server_url_says_what_to_set(bc_sandbox, bc_store):
    with pytest.raises(ConfigError, match="storefront_api_url"):
        storefront.install(client_for(bc_store), bc_store, storefront.connection_of(bc_store))
    assert bc_sandbox.state.scripts == {}


def test_cli_install_status_uninstall(bc_sandbox, tmp_path):
    path = tmp_path / "backorder.toml"
    path.write_text(
        f'database = "sqlite:///{tmp_path}/cli.db"\n[stores.bc]\nplatform = "bigcommerce"\n'
        f'[stores.bc.connection]\nstore_hash = "{bc_sandbox.state.store_hash}"\n'
        f'api_url = "{bc_sandbox.url}"\naccess_token_env = "BC_TEST_TOKEN"\n'
        f'storefront_api_url = "{API}"\n', encoding="utf-8")
    cli = ["--config", str(path), "--store", "bc", "bigcommerce", "storefront"]
    run = CliRunner().invoke
    assert run(main, [*cli, "status"]).exit_code == 1
    installed = run(main, [*cli, "install"])
    assert installed.exit_code == 0 and "created" in installed.output
    assert "unchanged" in run(main, [*cli, "install"]).output
    status = run(main, [*cli, "status"])
    assert status.exit_code == 0 and "up to date" in status.output
    assert len(bc_sandbox.state.scripts) == 1
    assert "1 removed" in run(main, [*cli, "uninstall"]).output
    assert bc_sandbox.state.scripts == {}


def test_availability_text_follows_the_store_messages(bc_shop_for):
    service, _client, state = bc_shop_for()
    service.store = with_api(service.store, publish=True,
                             shipping_description="Ships in 2 weeks")
    service.assign(["TENT-2P"])
    service.edit("TENT-2P", ItemEdit(on_hand=0, threshold=5))
    tent = next(p for p in state.products.values() if p.sku == "TENT-2P")
    assert tent.availability_description == "Ships in 2 weeks"
    service.edit("TENT-2P", ItemEdit(on_hand=4))
    assert tent.availability_description == ""
