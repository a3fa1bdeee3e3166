"""``backorder cancel|ship|return`` as a merchant runs them: what is left, clear refusals."""

import json
from pathlib import Path

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


def test_cancel_ship_and_return_from_the_command_line(cli, tmp_path):
    out = cli("cancel", "W1", "BOOT-42=1", "--key", "c1")
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        f"store 'shop' in sqlite:///{tmp_path}/shop.db",
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
    (("cancel", "W1", "BOOT-42=4"), "order W1 BOOT-42: cannot cancel 4: 3 of the 3 ordered"),
    (("cancel", "W1", "BOOT-42"), "write lines as SKU=QTY"),
    (("ship", "W1", "BOOT-42=2"), "order W1 BOOT-42: cannot ship 2: 1 of the 3 ordered"),
    (("return", "W1", "BOOT-42=1", "--restock"), "cannot return 1: 0 of the 3 ordered"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_changes(cli, tmp_path, args, words):
    before = on_hand(cli)
    out = cli(*args)
    assert out.exit_code == 2
    assert words in out.output and "Traceback" not in out.output
    assert len(out.stderr.strip().splitlines()) == 1  # the error; stdout: the store header
    assert out.stdout.splitlines() == [f"store 'shop' in sqlite:///{tmp_path}/shop.db"]
    assert on_hand(cli) == before
    whole = json.loads(cli("cancel", "W1", "--json").output)["lines"][0]
    assert (whole["changed"], whole["shipped"]) == (3, 0)  # every unit was still there


EXAMPLES = Path(__file__).parents[1] / "examples"


def test_simulate_cancel_ship_return_example():
    out = CliRunner().invoke(main, ["simulate", str(EXAMPLES / "lifecycle.yaml")])
    assert out.exit_code == 0, out.output
    _order, refused, cancel, again, _stock, ship, early, back = json.loads(out.output)["results"]
    assert not refused["accepted"]  # the threshold was used up
    assert next((e["type"], e.get("reason")) for e in cancel["events"]) == (
        "backorder_enabled", "threshold_freed"
    )
    assert again["accepted"] and again["lines"][0]["backordered"] == 1
    assert ship["lines"][0]["changed"] == 2  # 1 in stock + 1 released by the delivery
    assert early["errors"] == ["order 1003 LAMP: cannot ship 1: 0 of the 1 ordered can be shipped"]
    released = [e for e in back["events"] if e["type"] == "eta_changed"]
    assert [(e["order_id"], e["status"]) for e in released] == [("1003", "released")]


@pytest.mark.parametrize(("event", "words"), [
    ({"type": "cancel"}, "events[1].order_id: give the order's id"),
    ({"type": "ship", "order_id": "1", "lines": "A=1"}, "events[1].lines: a list"),
    ({"type": "cancel", "order_id": "1", "lines": [{"sku": "A"}]}, "events[1].lines[0]"),
    ({"type": "return", "order_id": "1", "lines": [{"sku": "A", "qty": 1}]}, "restock"),
])
def test_simulate_names_a_bad_lifecycle_event(event, words):
    from backorder.plugins import get_manager
    from backorder.simulate import ScenarioError, parse_scenario, simulate

    scenario = parse_scenario({
        "items": [{"sku": "A", "on_hand": 1}],
        "events": [
            {"at": "2026-11-02T09:00:00Z", "type": "order", "order_id": "1", "sku": "A"},
            {"at": "2026-11-02T10:00:00Z", **event},
        ],
    })
    with pytest.raises(ScenarioError, match=words.replace("[", r"\[").replace("]", r"\]")):
        simulate(scenario, get_manager())


def test_fulfil_queue_and_report_show_what_became_of_each_line(cli):
    cli("cancel", "W1", "BOOT-42=1")
    cli("ship", "W1")
    queue = cli("fulfil-queue", "BOOT-42").output
    assert "1. order W1 line 1" in queue
    assert "ordered 3, cancelled 1, shipped 1; 1 backordered, 0 released, 1 waiting" in queue
    assert json.loads(cli("fulfil-queue", "BOOT-42", "--json").output)["lines"][0]["cancelled"] == 1
    report = cli("report").output.splitlines()[1:]  # after the store and database line
    assert "Cancelled qty" in report[0] and "Waiting qty" in report[0]
    assert report[1].split()[2:7] == ["3", "2", "1", "1", "1"]  # purchased ... waiting
    cli("cancel", "W1")
    assert cli("report").output.splitlines()[-1] == "0 backordered line(s)"
    assert "W1" in cli("report", "--status", "shipped").output  # 1 shipped, the rest cancelled
    assert "W1" not in cli("report", "--status", "cancelled").output
    assert cli("report", "--status", "bogus").exit_code == 2
