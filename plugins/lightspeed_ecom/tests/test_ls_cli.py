"""The CLI: the sandbox command, the CSV check, and a Lightspeed-native simulate scenario."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner


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
