"""``backorder cancel|ship|return`` as a merchant runs them: what is left, clear refusals."""

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
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("- {sku: BOOT-42, product_id: '5', name: Boot, on_hand: 1}\n")
    (tmp_path / "backorder.toml").write_text(f"""
database = "sqlite:///{tmp_path}/shop.db"
[stores.shop]
platform = "core"
connection = {{ catalog_file = "{catalog}" }}
[stores.shop.settings.defaults]
threshold = 2
""", encoding="utf-8")
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    invoke("sync")
    invoke("assign", "BOOT-42")
    assert "1 in stock, 2 backordered" in invoke("order", "W1", "BOOT-42=3").output
    return invoke


def on_hand(cli):
    return json.loads(cli("status", "--json").output)[0]["on_hand"]


def test_cancel_ship_and_return_from_the_command_line(cli):
    out = cli("cancel", "W1", "BOOT-42=1", "--key", "c1")
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        "order W1: 1 unit(s) cancelled",
        "  line 1 BOOT-42: ordered 3, cancelled 1, shipped 0, returned 0; left: "
        "1 in stock, 1 backordered (open)",
    ]
    assert "already applied" in cli("cancel", "W1", "BOOT-42=1", "--key", "c1").output
    assert on_hand(cli) == -1
    shipped = json.loads(cli("ship", "W1", "--json").output)
    assert shipped["lines"][0]["shipped"] == 1 and shipped["lines"][0]["backordered"] == 1
    out = cli("return", "W1", "BOOT-42=1", "--restock")
    assert "1 unit(s) returned" in out.output and on_hand(cli) == 0


@pytest.mark.parametrize(("args", "words"), [
    (("cancel", "NOPE"), "no order 'NOPE'"),
    (("cancel", "W1", "OTHER=1"), "order W1: no line for SKU OTHER"),
    (("cancel", "W1", "BOOT-42=0"), "order W1 BOOT-42: quantity must be a whole number from 1"),
    (("cancel", "W1", "BOOT-42=-3"), "got -3"),
    (("cancel", "W1", "BOOT-42=99999999999"), "from 1 to 1000000"),
    (("cancel", "W1", "BOOT-42=4"), "order W1 BOOT-42: cannot cancel 4; 3 of 3 ordered"),
    (("cancel", "W1", "BOOT-42"), "write lines as SKU=QTY"),
    (("ship", "W1", "BOOT-42=2"), "order W1 BOOT-42: cannot ship 2; 1 of 3 ordered"),
    (("return", "W1", "BOOT-42=1", "--restock"), "cannot return 1; 0 of 3"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_changes(cli, tmp_path, args, words):
    before = on_hand(cli)
    out = cli(*args)
    assert out.exit_code == 2
    assert words in out.output and "Traceback" not in out.output
    assert len(out.output.strip().splitlines()) == 1
    assert on_hand(cli) == before
    whole = json.loads(cli("cancel", "W1", "--json").output)["lines"][0]
    assert (whole["changed"], whole["shipped"]) == (3, 0)  # every unit was still there
