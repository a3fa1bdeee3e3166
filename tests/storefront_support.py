"""A store for the storefront API and script tests: items in every state a shopper meets."""

from __future__ import annotations

import datetime as dt

from backorder.config import parse_config
from backorder.engine import ItemEdit
from backorder.models import ItemInput
from backorder.server import create_app

ORIGIN = "https://shop.example.com"
HOSTILE = '<img src=x onerror="window.__pwned=1">Ships <b>soon</b>'


def build_app(tmp_path, plugin_manager, *, storefront: dict | None = None, items=None,
              database: str | None = None):
    """The serve app with store ``shop``: TENT in stock, LAMP low, MUG on backorder (two
    variants, MUG-RED in stock), GONE unavailable, UNTRACKED never counted."""
    config = parse_config({
        "database": database or f"sqlite:///{tmp_path}/storefront.db",
        "stores": {"shop": {
            "platform": "core",
            "settings": {"defaults": {"low_stock_level": 3}},
            "storefront": {"origins": [ORIGIN], **(storefront or {})},
        }},
    })
    app = create_app(config, pm=plugin_manager, worker=False)
    service = app.state.worker.service("shop")
    back = dt.datetime(2031, 5, 20, 12, tzinfo=dt.UTC)
    service.upsert_catalog(items or [
        ItemInput(sku="TENT", product_id="10", variant_id="100", name="Tent", on_hand=20,
                  assigned=False),
        ItemInput(sku="LAMP", product_id="11", variant_id="110", name="Lamp", on_hand=2,
                  assigned=False),
        ItemInput(sku="MUG-BLUE", product_id="12", variant_id="120", name="Mug blue",
                  on_hand=0, assigned=False, back_in_stock_date=back),
        ItemInput(sku="MUG-RED", product_id="12", variant_id="121", name="Mug red",
                  on_hand=5, assigned=False),
        ItemInput(sku="GONE", product_id="13", variant_id="130", name="Gone", on_hand=0,
                  assigned=False),
    ])
    service.assign(["TENT", "LAMP", "MUG-BLUE", "MUG-RED", "GONE"])
    service.edit("MUG-BLUE", ItemEdit(threshold=10))
    service.edit("MUG-RED", ItemEdit(threshold=10))
    service.edit("GONE", ItemEdit(threshold=0))
    return app, service

