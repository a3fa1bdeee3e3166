"""Scenarios and catalog files are read as YAML 1.2: ``no`` is a word, not False."""

import math

import pytest

from backorder import yaml12
from backorder.simulate import load_scenario, simulate


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("no", "no"), ("No", "No"), ("off", "off"), ("yes", "yes"), ("y", "y"),
        ("true", True), ("False", False), ("null", None), ("~", None), ("", None),
        ("12", 12), ("-3", -3), ("0123", 123), ("0o17", 15), ("0x1F", 31),
        ("1:20", "1:20"), ("1_000", "1_000"), ("2.5", 2.5), ("1e3", 1000.0),
    ],
)
def test_scalars_follow_the_yaml_1_2_core_schema(text, value):
    assert yaml12.load(f"v: {text}") == {"v": value}


def test_infinity_and_nan():
    loaded = yaml12.load("a: .inf\nb: -.Inf\nc: .nan")
    assert loaded["a"] == math.inf and loaded["b"] == -math.inf and math.isnan(loaded["c"])


def test_a_scenario_item_named_no_keeps_its_name(tmp_path, plugin_manager):
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "platform: core\n"
        "items:\n"
        "  - {sku: NO, name: no, on_hand: 1, mode: off}\n"  # YAML 1.1: name False, mode False
        "events:\n"
        "  - {at: 2026-01-05T12:00:00Z, type: order, lines: [{sku: NO, qty: 1}]}\n"
    )
    out = simulate(load_scenario(path), plugin_manager)
    assert out["items"]["NO"]["mode"] == "off"  # YAML 1.1 refused the scenario outright
    assert out["results"][0]["accepted"]
