"""The what-if simulator: README examples, the output contract, errors that name the place."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from backorder.commands import main
from backorder.hookspecs import hookimpl
from backorder.models import ItemInput
from backorder.platform import BasePlatform
from backorder.simulate import ScenarioError, load_scenario, parse_scenario, simulate

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture(autouse=True)
def only_core(monkeypatch):
    monkeypatch.setenv("BACKORDER_PLUGINS", "core")


def run(path):
    out = CliRunner().invoke(main, ["simulate", str(path)])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_readme_example_threshold():
    out = run(EXAMPLES / "threshold.yaml")
    first, over, last, tick = out["results"]
    assert first["lines"][0] | {"sku": "MUG-BLUE"} == first["lines"][0]
    assert (first["lines"][0]["in_stock"], first["lines"][0]["backordered"]) == (2, 1)
    assert [e["type"] for e in first["events"]] == ["order_backordered", "backorder_enabled"]
    assert not over["accepted"] and over["errors"] == [
        "line 1 (MUG-BLUE): over_threshold: only 2 can be bought"
    ]
    assert [e["type"] for e in last["events"]][-1] == "backorder_disabled"
    assert tick["type"] == "tick" and tick["accepted"]
    assert out["items"]["MUG-BLUE"] | {} == {
        **out["items"]["MUG-BLUE"], "on_hand": 17, "salable": 20, "status": "in_stock",
        "purchasable": True, "mode": "notify", "threshold": 3,
    }


def test_readme_example_defaults():
    out = run(EXAMPLES / "defaults.yaml")
    kettle_a1, toaster_a2, _edit, enable, toaster_a4, kettle_a3 = out["results"]
    assert kettle_a1["events"] == [{"type": "backorder_enabled", "sku": "KETTLE"}]  # 5 <= 5
    assert toaster_a2["lines"][0]["error"] == "clamped: 3 not sold"
    assert (toaster_a2["lines"][0]["in_stock"], toaster_a2["lines"][0]["backordered"]) == (1, 1)
    assert enable["events"] == [{"type": "backorder_enabled", "sku": "TOASTER"}]
    assert toaster_a4["lines"][0]["backordered"] == 2
    assert out["items"]["TOASTER"]["threshold"] == 4  # back on the store default
    assert (kettle_a3["lines"][0]["in_stock"], kettle_a3["lines"][0]["backordered"]) == (5, 4)
    assert out["items"]["KETTLE"]["status"] == "unavailable"


def test_json_scenarios_work_too(tmp_path):
    scenario = {"items": [{"sku": "A", "on_hand": 1}],
                "events": [{"at": "2026-01-01T00:00:00Z", "type": "order", "sku": "A", "qty": 2}]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    out = run(path)
    assert out["results"][0]["lines"][0]["backordered"] == 1
    assert out["items"]["A"]["on_hand"] == -1


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"events": [{"at": "soon", "type": "tick"}]}, "events[0].at"),
        ({"events": [{"at": "2026-01-01T00:00:00Z", "type": "explode"}]}, "events[0].type"),
        ({"items": [{"sku": "A", "threshold": -1}]}, "items[0].threshold"),
        ({"settings": {"over_threshold": "maybe"}}, "settings.over_threshold"),
        ({"platform": "nowhere", "items": [{"sku": "A"}]}, "platform"),
    ],
)
def test_bad_scenarios_name_the_field(plugin_manager, data, where):
    with pytest.raises(ScenarioError, match=re.escape(f"bad.yaml: {where}")):
        simulate(parse_scenario(data, "bad.yaml"), plugin_manager, "bad.yaml")


def test_bad_order_event_names_the_field(plugin_manager):
    data = {"items": [{"sku": "A"}],
            "events": [{"at": "2026-01-01T00:00:00Z", "type": "order",
                        "lines": [{"sku": "A", "qty": 0}]}]}
    with pytest.raises(ScenarioError, match=re.escape("events[0].lines[0].qty")):
        simulate(parse_scenario(data, "s.yaml"), plugin_manager, "s.yaml")


def test_unreadable_file_is_a_clear_cli_error(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("events: [unclosed")
    out = CliRunner().invoke(main, ["simulate", str(bad)])
    assert out.exit_code == 2 and "broken.yaml: not valid yaml" in out.output.lower()
    with pytest.raises(ScenarioError, match=r"broken\.yaml"):
        load_scenario(bad)


class PackPlatform(BasePlatform):
    """A platform whose items come in packs: its shop-wide pack size is a connection setting."""

    name = "packs"

    def translate_store_item(self, store, fields):
        fields = dict(fields)
        packs = fields.pop("packs", 0)
        return ItemInput(**fields, on_hand=packs * int(store.connection.get("pack_size", 1)))

    @hookimpl
    def backorder_platforms(self):
        return [self]


def test_a_scenarios_connection_reaches_the_platforms_translation(plugin_manager, register_plugin):
    """A scenario's ``connection`` is the simulated store's, as a config's would be: the
    platform reads its shop-wide settings from it when it translates items."""
    register_plugin(PackPlatform())
    data = {"platform": "packs", "connection": {"pack_size": 6}}
    data["items"] = [{"sku": "EGG", "packs": 2}]
    assert simulate(parse_scenario(data), plugin_manager)["items"]["EGG"]["on_hand"] == 12
    default = {"platform": "packs", "items": [{"sku": "EGG", "packs": 2}]}
    assert simulate(parse_scenario(default), plugin_manager)["items"]["EGG"]["on_hand"] == 2
