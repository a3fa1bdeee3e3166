"""The plugin's hooks replayed from vcrpy cassettes recorded against the local sandbox.

The core convention (:func:`backorder.testing.cassettes.recorder`): replay needs no server,
the requests must match the recording (method, path, query, body);
``BACKORDER_RECORD_CASSETTES=1`` records again from the sandbox served on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backorder.config import StoreConfig
from backorder.models import BackorderState, ItemView, Mode, Status, StoreSettings
from backorder.testing.cassettes import recorder, recording

cassettes = recorder(Path(__file__).with_name("cassettes"))
REPLAY_BASE = "http://lightspeed.replay"


@pytest.fixture
def ls_recorded_store(request):
    """Replay: a store at an address nothing serves. Recording: the live sandbox."""
    connection = {"base_url": REPLAY_BASE, "api_key": "test-key", "api_secret": "test-secret"}
    if recording():
        url, _ = request.getfixturevalue("ls_live")
        connection["base_url"] = url
    return StoreConfig(name="ls", platform="lightspeed_ecom", connection=connection)


def test_hooks_replay_from_cassette(plugin_manager, ls_recorded_store):
    platform, store = plugin_manager.platform("lightspeed_ecom"), ls_recorded_store
    with cassettes.use_cassette("ls_hooks.yaml") as cassette:
        catalog = platform.fetch_catalog(store)
        by_sku = {item.sku: item for item in catalog}
        assert by_sku["TEE-S"].on_hand == 2 and by_sku["TEE-S"].name == "Organic tee - Small"
        assert by_sku["MUG"].tracked and not by_sku["lightspeed-1008"].tracked
        levels = platform.fetch_levels(store, ["TEE-M", "MUG"])
        assert {(lvl.sku, lvl.on_hand) for lvl in levels} == {("TEE-M", 5), ("MUG", 10)}
        view = ItemView(
            sku="MUG",
            product_id=by_sku["MUG"].product_id,
            variant_id=by_sku["MUG"].variant_id,
            assigned=True,
            tracked=True,
            on_hand=0,
            salable=None,
            status=Status.BACKORDER,
            purchasable=True,
            mode=Mode.NOTIFY,
            threshold=None,
            backordered=0,
            state=BackorderState.ENABLED,
            policy=StoreSettings().defaults,
        )
        platform.apply_items(store, [view], "edit")
        order = platform.fetch_order(store, "1009")
        assert [(line.sku, line.qty) for line in order.lines] == [("TEE-S", 1)]
        assert order.customer_email == "first@example.com"
    puts = [r for r in cassette.requests if r.method == "PUT"]
    assert [r.path for r in puts] == [f"/en/variants/{view.variant_id}.json"]
    assert json.loads(puts[0].body) == {"variant": {"stockTracking": "indicator", "stockLevel": 0}}
    assert all("authorization" not in {k.lower() for k in r.headers} for r in cassette.requests)
