"""The CLI as a merchant runs it: the demo store, status, assign/order/tick, clear errors."""

import json

import pytest
from click.testing import CliRunner

from backorder.commands import main


@pytest.fixture(autouse=True)
def only_core(monkeypatch):
    monkeypatch.setenv("BACKORDER_PLUGINS", "core")


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def test_demo_tells_the_story_and_ends_with_the_status_table(cli):
    out = cli("demo", "--fresh")
    assert out.exit_code == 0, out.output
    refused = "order D-1003: refused: TENT-2P refused (over_threshold: only 1 can be bought)"
    assert refused in out.output
    assert "day 9: TENT-2P is unavailable (on hand -2, threshold_used_up)" in out.output
    assert "day 10: back-in-stock date: TENT-2P received 10, on hand 8, in_stock" in out.output
    assert "Café mug — red" in out.output
    again = cli("demo")
    assert "has run before" in again.output


def test_status_json_after_the_demo(cli):
    cli("demo", "--fresh")
    out = cli("--db", "sqlite:///backorder-demo.db", "status", "--json")
    rows = {row["sku"]: row for row in json.loads(out.output)}
    assert rows["LAMP-01"]["salable"] is None and rows["LAMP-01"]["status"] == "backorder"
    assert rows["MUG-RED"]["threshold"] == 5  # took the settings its sibling was assigned with


def write_config(tmp_path, body):
    path = tmp_path / "backorder.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_configured_store_from_assign_to_tick(cli, tmp_path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("- {sku: BOOT-42, product_id: '5', name: Boot, on_hand: 1}\n")
    write_config(tmp_path, f"""
database = "sqlite:///{tmp_path}/shop.db"
[stores.shop]
platform = "core"
connection = {{ catalog_file = "{catalog}" }}
[stores.shop.settings.defaults]
threshold = 2
""")
    assert cli("sync").output.splitlines()[1].startswith("1 new item(s)")
    out = cli("assign", "BOOT-42", "--incoming", 5, "--back-in-stock", "2026-01-10")
    assert "BOOT-42" in out.output and "2026-01-10" in out.output
    out = cli("order", "W1", "BOOT-42=2", "--email", "a@example.com")
    assert "1 in stock, 1 backordered" in out.output
    refused = cli("order", "W2", "BOOT-42=5")
    assert refused.exit_code == 1 and "over_threshold" in refused.output
    ticked = cli("tick", "--now", "2026-01-10").output
    assert "backorder_disabled BOOT-42 back_in_stock_date" in ticked
    status = json.loads(cli("status", "--json").output)[0]
    assert status["on_hand"] == 4 and status["status"] == "in_stock"


def test_config_errors_name_the_file_and_field(cli, tmp_path):
    write_config(tmp_path, '[stores.shop.settings]\nover_threshold = "sometimes"\n')
    out = cli("status")
    assert out.exit_code == 2
    assert "backorder.toml: stores.shop.settings.over_threshold" in out.output


def test_broken_toml_is_a_clear_error(cli, tmp_path):
    write_config(tmp_path, "[stores.shop\n")
    out = cli("status")
    assert out.exit_code == 2 and "backorder.toml:" in out.output


def test_unknown_store_and_sku(cli, tmp_path):
    write_config(tmp_path, f'database = "sqlite:///{tmp_path}/x.db"\n[stores.a]\n[stores.b]\n')
    assert "several stores are configured" in cli("status").output
    assert "no store 'c'" in cli("--store", "c", "status").output
    out = cli("--store", "a", "assign", "NOPE")
    assert out.exit_code == 2 and "no such item in store 'a': NOPE" in out.output


def test_bad_threshold_option(cli):
    out = cli("assign", "X", "--threshold", "lots")
    assert out.exit_code == 2 and "unlimited" in out.output


def test_edit_out_of_stock_threshold_keeps_units_back(cli, tmp_path):
    """With backorders off, ``--out-of-stock-threshold 2`` keeps 2 of 5 units back (Magento's
    positive min_qty); ``--use-default`` gives them back."""
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("- {sku: MUG, product_id: '7', name: Mug, on_hand: 5}\n")
    write_config(tmp_path, f"""
database = "sqlite:///{tmp_path}/shop.db"
[stores.shop]
platform = "core"
connection = {{ catalog_file = "{catalog}" }}
""")
    cli("sync")
    out = cli("edit", "MUG", "--out-of-stock-threshold", 2, "--json")
    assert json.loads(out.output)[0]["salable"] == 3
    refused = cli("order", "W1", "MUG=4")
    assert refused.exit_code == 1 and "only 3 can be bought" in refused.output
    out = cli("edit", "MUG", "--use-default", "out_of_stock_threshold", "--json")
    assert json.loads(out.output)[0]["salable"] == 5
    bad = CliRunner().invoke(main, ["edit", "MUG", "--out-of-stock-threshold", "-1"])
    assert bad.exit_code == 2 and "--out-of-stock-threshold" in bad.output
