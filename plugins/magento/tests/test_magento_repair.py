"""``backorder magento-repair-stock-status``: the seed's stuck ``is_in_stock = 0`` case."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from backorder.commands import main


@pytest.fixture
def cli(plugin_manager):
    plugin_manager.add_commands(main)
    return main


def _config(tmp_path, base_url: str) -> str:
    path = tmp_path / "backorder.toml"
    path.write_text(
        f'[stores.mage]\nplatform = "magento"\n[stores.mage.connection]\n'
        f'base_url = "{base_url}"\ntoken = "sandbox-token"\n',
        encoding="utf-8",
    )
    return str(path)


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_dry_run_lists_and_changes_nothing_then_apply_repairs(cli, magento_live, tmp_path):
    base_url, sandbox = magento_live
    config, out = _config(tmp_path, base_url), tmp_path / "fix.csv"
    dry = CliRunner().invoke(cli, ["--config", config, "magento-repair-stock-status",
                                   "--csv", str(out)])  # fmt: skip
    assert dry.exit_code == 0, dry.output
    assert "MB-03: qty 0, is_in_stock 0 -> 1 (would set in stock)" in dry.output
    assert "MB-04" not in dry.output  # backorders off: rightly out of stock
    assert "dry run, nothing changed" in dry.output
    assert not sandbox.items["MB-03"].is_in_stock
    assert [(r["sku"], r["is_in_stock"], r["backorders"]) for r in _rows(out)] == [
        ("MB-03", "1", "1")
    ]

    applied = CliRunner().invoke(
        cli, ["--config", config, "magento-repair-stock-status", "--apply"]
    )
    assert applied.exit_code == 0, applied.output
    assert "MB-03: qty 0, is_in_stock 0 -> 1 (set in stock)" in applied.output
    assert sandbox.items["MB-03"].is_in_stock
    again = CliRunner().invoke(cli, ["--config", config, "magento-repair-stock-status"])
    assert "0 item(s) stuck" in again.output


def test_offline_from_a_product_csv_export(cli, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(
        "sku,qty,is_in_stock,allow_backorders,use_config_backorders,out_of_stock_qty,"
        "use_config_min_qty,manage_stock,use_config_manage_stock\n"
        "A,0,0,1,0,0,1,1,1\n"  # stuck
        "B,0,0,0,0,0,1,1,1\n"  # no backorders: rightly out
        "C,-5,0,2,0,-5,0,1,1\n",  # limit of 5 used up: rightly out
        encoding="utf-8",
    )
    config, out = _config(tmp_path, "http://unused.invalid/rest/default"), tmp_path / "fix.csv"
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            config,
            "magento-repair-stock-status",
            "--input",
            str(export),
            "--csv",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert [r["sku"] for r in _rows(out)] == ["A"]
    assert _rows(out)[0]["is_in_stock"] == "1"


def test_bad_export_row_is_named(cli, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("sku,qty,allow_backorders\nA,0,9\n", encoding="utf-8")
    config = _config(tmp_path, "http://unused.invalid/rest/default")
    result = CliRunner().invoke(
        cli, ["--config", config, "magento-repair-stock-status", "--input", str(export)]
    )
    assert result.exit_code == 2
    assert "row 2: column allow_backorders: '9'" in result.output


def test_other_platform_store_is_refused(cli, tmp_path):
    path = tmp_path / "backorder.toml"
    path.write_text('[stores.shop]\nplatform = "core"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "magento-repair-stock-status"])
    assert result.exit_code == 2 and "not magento" in result.output
