"""The CLI: the sandbox command, the CSV check, webhooks, and Lightspeed-native scenarios."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from .conftest import KEY, SECRET, write_config


def _main():
    """The CLI, imported late: plugin commands register at import, with this test's plugins."""
    from backorder.commands import main

    return main


def test_sandbox_command_is_registered():
    result = CliRunner().invoke(_main(), ["sandbox", "lightspeed_ecom", "--help"])
    assert result.exit_code == 0 and "--port" in result.output


def test_csv_check_names_the_row_and_exits_2(tmp_path):
    path = tmp_path / "import.csv"
    path.write_text("EN_Title_Short,Stock_Track,Stock_Disable_Sold_Out\nMug,Y,N\nTee,N,N\n")
    result = CliRunner().invoke(_main(), ["lightspeed-ecom", "import-csv", "--check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: row 3: columns Stock_Track, Stock_Disable_Sold_Out" in result.output


def test_simulate_accepts_lightspeed_native_items(tmp_path):
    scenario = {
        "platform": "lightspeed_ecom",
        "items": [
            {"sku": "TEE", "stockTracking": "indicator", "stockLevel": 1},
            {"sku": "MUG", "stockTracking": "enabled", "stockLevel": 1},
            {
                "SKU": "CAP",
                "EN_Title_Short": "Cap",
                "Stock_Track": "Y",
                "Stock_Disable_Sold_Out": "N",
                "Stock_Level": "0",
            },
        ],
        "events": [
            {"at": "2026-01-05T10:00:00Z", "type": "assign", "skus": ["TEE", "MUG", "CAP"]},
            {"at": "2026-01-05T11:00:00Z", "type": "order", "lines": [{"sku": "TEE", "qty": 4}]},
            {"at": "2026-01-05T11:00:00Z", "type": "order", "lines": [{"sku": "MUG", "qty": 2}]},
            {"at": "2026-01-05T11:00:00Z", "type": "order", "lines": [{"sku": "CAP", "qty": 2}]},
        ],
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario))
    result = CliRunner().invoke(_main(), ["simulate", str(path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    tee, mug, cap = out["results"][1:]
    assert (tee["lines"][0]["in_stock"], tee["lines"][0]["backordered"]) == (1, 3)
    assert mug["accepted"] is False and "out_of_stock" in mug["errors"][0]
    assert cap["lines"][0]["backordered"] == 2
    assert out["items"]["TEE"]["salable"] is None  # Lightspeed: no backorder limit


@pytest.mark.parametrize(
    ("connection", "backordered"), [({}, None), ({"allow_backorders_default": True}, 2)]
)
def test_simulate_takes_the_shop_default_from_the_scenarios_connection(
    tmp_path, connection, backordered
):
    """Seed 003: a new product's "Allow backorders" is the shop's default, off unless turned
    on; a scenario says so in its ``connection`` table, as a store's config does."""
    scenario = {
        "platform": "lightspeed_ecom",
        "connection": connection,
        "items": [{"SKU": "CAP", "EN_Title_Short": "Cap", "Stock_Track": "Y", "Stock_Level": "0"}],
        "events": [
            {"at": "2026-01-05T10:00:00Z", "type": "assign", "skus": ["CAP"]},
            {"at": "2026-01-05T11:00:00Z", "type": "order", "lines": [{"sku": "CAP", "qty": 2}]},
        ],
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario))
    result = CliRunner().invoke(_main(), ["simulate", str(path)])
    assert result.exit_code == 0, result.output
    order = json.loads(result.output)["results"][1]
    if backordered is None:
        assert order["accepted"] is False and "out_of_stock" in order["errors"][0]
    else:
        assert order["lines"][0]["backordered"] == backordered


def test_a_bad_shop_default_in_a_scenario_names_the_field(tmp_path):
    scenario = {
        "platform": "lightspeed_ecom",
        "connection": {"allow_backorders_default": "sometimes"},
        "items": [{"SKU": "CAP", "Stock_Track": "Y"}],
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario))
    result = CliRunner().invoke(_main(), ["simulate", str(path)])
    assert result.exit_code == 2
    assert "items[0]" in result.output and "connection.allow_backorders_default" in result.output


@pytest.fixture
def ls_config(tmp_path, ls_live):
    """A config file for the live sandbox's shop: ``ls_config(webhook_address=...)``."""
    url, _ = ls_live

    def write(**connection) -> str:
        return write_config(tmp_path, base_url=url, api_key=KEY, api_secret=SECRET, **connection)

    return write


def test_webhooks_command_registers_repairs_and_then_has_nothing_to_do(ls_config, ls_live):
    _, shop = ls_live
    address = "https://shop.example/webhooks/shop"
    config = ls_config(webhook_address=address)

    def run(*args):
        return CliRunner().invoke(
            _main(), ["--config", config, "lightspeed-ecom", "webhooks", *args]
        )

    missing = run()
    assert missing.exit_code == 1
    assert "variants: missing" in missing.output and "orders: missing" in missing.output
    assert shop.webhooks == []
    created = run("--ensure")
    assert created.exit_code == 0, created.output
    assert sorted(
        (h["itemGroup"], h["itemAction"], h["format"], h["isActive"], h["address"])
        for h in shop.webhooks
    ) == [
        ("orders", "*", "json", True, address),
        ("variants", "*", "json", True, address),
    ]
    by_group = {h["itemGroup"]: h for h in shop.webhooks}
    by_group["variants"]["isActive"] = False  # switched off in the back office, say
    by_group["orders"]["format"] = "xml"
    broken = run()
    assert broken.exit_code == 1
    assert "variants: inactive" in broken.output and "orders: not json" in broken.output
    repaired = run("--ensure")
    assert repaired.exit_code == 0, repaired.output
    assert "variants: inactive" in repaired.output and "reactivated" in repaired.output
    assert len(shop.webhooks) == 2 and all(
        h["isActive"] and h["format"] == "json" for h in shop.webhooks
    )
    calm = run()
    assert calm.exit_code == 0
    assert "variants: ok" in calm.output and "orders: ok" in calm.output


def test_webhooks_command_without_an_address_names_the_setting(ls_config):
    config = ls_config()
    result = CliRunner().invoke(_main(), ["--config", config, "lightspeed-ecom", "webhooks"])
    assert result.exit_code == 2
    assert "connection.webhook_address: not set" in result.output
    assert "lightspeed-ecom" in [c.name for c in _platform_commands()]


def _platform_commands():
    from backorder.plugins import make_manager

    return make_manager().platform("lightspeed_ecom").commands()
