"""Stores installed at run time live in the database beside the config file's, and are
served alike: the server takes their webhooks, the worker finds their work, their
secrets are sealed at rest, and web-edited settings of a config store win over the file.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from backorder.config import parse_config
from backorder.errors import ConfigError, Conflict, InvalidInput, NotFound
from backorder.models import ItemInput
from backorder.secretbox import ENV_KEY, SecretBox, new_key
from backorder.server import create_app
from backorder.storage.schema import stores as stores_table
from backorder.stores import StoreDirectory
from backorder.webhooks import WebhookEvent, record_deliveries
from backorder.worker import Worker

TOKEN = "hook-token-for-the-installed-store"


@pytest.fixture
def directory(backorder_db, plugin_manager, monkeypatch):
    monkeypatch.setenv(ENV_KEY, new_key())
    config = parse_config({"database": backorder_db.url,
                           "stores": {"file": {"platform": "core"}}})
    return StoreDirectory(config, backorder_db, plugin_manager)


def test_an_installed_store_is_served_beside_the_config_stores(directory):
    store = directory.install("shop-7", "core", external_id="7", connection={},
                              secrets={"webhook_token": TOKEN})
    assert store.secret("webhook_token") == TOKEN
    assert sorted(directory) == ["file", "shop-7"] and len(directory) == 2
    assert "shop-7" in directory and "nope" not in directory
    service = directory["shop-7"]
    service.upsert_catalog([ItemInput(sku="A", on_hand=1, assigned=False)])
    assert service.item("A").on_hand == 1
    with directory.db.read() as conn:
        raw = conn.execute(sa.select(stores_table)).one()
    assert TOKEN not in str(raw.sections) and TOKEN not in raw.secrets  # sealed
    assert "webhook_token" not in repr(store)


def test_a_name_of_the_config_or_a_bad_name_cannot_be_installed(directory):
    with pytest.raises(Conflict, match="config file"):
        directory.install("file", "core", external_id="1", connection={}, secrets={})
    with pytest.raises(InvalidInput, match="lower-case"):
        directory.install("Bad Name!", "core", external_id="2", connection={}, secrets={})
    with pytest.raises(InvalidInput, match="connection"):
        directory.install("ok", "core", external_id="3", connection=[], secrets={})
    assert sorted(directory) == ["file"]


def test_secrets_cannot_be_opened_with_another_key(directory, backorder_db, monkeypatch):
    directory.install("shop-7", "core", external_id="7", connection={},
                      secrets={"webhook_token": TOKEN})
    other = StoreDirectory(directory.config, backorder_db, directory.pm,
                           box=SecretBox(new_key()))
    with pytest.raises(ConfigError, match=ENV_KEY) as caught:
        other.get("shop-7")
    assert TOKEN not in str(caught.value)
    with pytest.raises(ConfigError, match="not set"):
        SecretBox("").seal({"a": "b"})


def test_uninstall_erases_the_secrets_and_stops_serving(directory):
    directory.install("shop-7", "core", external_id="7", connection={},
                      secrets={"webhook_token": TOKEN})
    directory.uninstall("shop-7")
    assert directory.get("shop-7") is None and sorted(directory) == ["file"]
    with directory.db.read() as conn:
        assert conn.scalar(sa.select(stores_table.c.secrets)) is None
    with pytest.raises(NotFound):
        directory.uninstall("file")


def test_the_server_takes_webhooks_for_an_installed_store(directory, plugin_manager):
    directory.install("shop-7", "core", external_id="7", connection={},
                      secrets={"webhook_token": TOKEN})
    directory["shop-7"].upsert_catalog([ItemInput(sku="A", on_hand=1)])
    app = create_app(directory.config, directory.db, plugin_manager, worker=False)
    client = TestClient(app)
    body = {"kind": "stock", "delivery_id": "d1", "sku": "A", "on_hand": 9}
    refused = client.post("/webhooks/shop-7", json=body, headers={"X-Backorder-Token": "no"})
    assert refused.status_code == 401
    taken = client.post("/webhooks/shop-7", json=body, headers={"X-Backorder-Token": TOKEN})
    assert taken.status_code == 202
    assert directory["shop-7"].item("A").on_hand == 9
    assert client.post("/webhooks/gone", json=body).status_code == 404
    assert client.get("/health").json()["stores"] == ["file", "shop-7"]


def test_the_worker_visits_installed_stores_with_work_and_all_of_them_when_ticking(directory):
    for n in range(3):
        directory.install(f"s{n}", "core", external_id=str(n), connection={}, secrets={})
    due = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    directory["s1"].upsert_catalog([ItemInput(sku="A", on_hand=0, incoming_qty=4,
                                              back_in_stock_date=due)])
    directory["s1"].assign(["A"])
    assert [s.name for s in directory.due(ticking=False)] == ["file"]
    record_deliveries(directory["s2"], [WebhookEvent(kind="stock", delivery_id="d1", sku="A",
                                                     on_hand=5)])
    assert [s.name for s in directory.due(ticking=False)] == ["file", "s2"]  # work waits
    worker = Worker(directory, tick_every=3600)
    first = worker.run_once()  # the first pass ticks (now: after the due date)
    assert sorted(first) == ["file", "s0", "s1", "s2"]
    assert first["s1"]["tick_events"] >= 1 and directory["s1"].item("A").on_hand == 4
    assert first["s2"]["webhooks"] == 1
    assert sorted(worker.run_once()) == ["file"]  # nothing waits elsewhere


def test_web_edited_sections_are_laid_over_the_config_file(directory):
    saved = directory.save_sections("file", {"settings": {"switch_condition": 3},
                                             "storefront": {"button_text": "Order now"}})
    assert saved.settings.switch_condition == 3 and saved.storefront.button_text == "Order now"
    assert saved.settings.over_threshold == "refuse"  # the file's, kept
    assert directory["file"].settings.switch_condition == 3  # the service is rebuilt
    with pytest.raises(InvalidInput, match="switch_condition"):
        directory.save_sections("file", {"settings": {"switch_condition": "x"}})
    with pytest.raises(InvalidInput, match="editable"):
        directory.save_sections("file", {"connection": {"token": "x"}})
    assert directory["file"].settings.switch_condition == 3


def test_cron_ticks_installed_stores_too(directory, tmp_path):
    from click.testing import CliRunner

    from backorder.commands import main

    directory.install("shop-7", "core", external_id="7", connection={}, secrets={})
    config = tmp_path / "backorder.toml"
    config.write_text(f'database = "{directory.db.url}"\n[stores.file]\nplatform = "core"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "tick", "--all-stores"])
    assert result.exit_code == 0, result.output
    assert "file: 0 event(s)" in result.output and "shop-7: 0 event(s)" in result.output
