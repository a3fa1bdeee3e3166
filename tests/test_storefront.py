"""Storefront messages (seed 001 §4.2): what a customer reads for each item state."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from backorder import rules
from backorder.config import ConfigError, StoreConfig, parse_config
from backorder.documents.templating import MessageTemplate, TemplateProblem
from backorder.hookspecs import hookimpl
from backorder.models import (
    BackorderPolicy,
    BackorderState,
    ItemInput,
    ItemState,
    LineRequest,
    Mode,
    OrderIn,
    StoreSettings,
)
from backorder.platform import BasePlatform
from backorder.plugins import make_manager
from backorder.storefront import StorefrontSettings, storefront_messages

SETTINGS = StoreSettings(defaults=BackorderPolicy(threshold=10, low_stock_level=3))


def view(settings: StoreSettings = SETTINGS, **fields):
    item = ItemState(sku="MUG", name="Zoë's mug", assigned=True, **fields)
    return rules.view(item, settings)


def test_in_stock_description_shows_the_stock():
    messages = storefront_messages(view(on_hand=12), StorefrontSettings())
    assert messages["inventory_description"] == "12 in stock"
    assert messages["button_text"] == messages["shipping_description"] == ""
    assert messages["cart_message"] == ""


def test_low_stock_shows_once_stock_drops_below_the_item_or_storefront_level():
    """Seed 001 §4.2.1: below the low-stock level (3 for the item), not at it."""
    def inventory(on_hand: int, settings: StorefrontSettings) -> str:
        return storefront_messages(view(on_hand=on_hand), settings)["inventory_description"]

    assert inventory(2, StorefrontSettings()) == "Only 2 left in stock"
    assert inventory(3, StorefrontSettings()) == "3 in stock"
    own_level = StorefrontSettings(low_stock_level=8, low_stock_description="Hurry, {stock} left")
    assert inventory(7, own_level) == "Hurry, 7 left"
    assert inventory(8, own_level) == "8 in stock"


def test_backorder_description_threshold_and_salable_qty_tokens():
    settings = StorefrontSettings(
        backorder_description="On backorder: up to {threshold} more, {salable_qty} can be bought"
    )
    backorder = view(on_hand=-2, state=BackorderState.ENABLED)
    assert backorder.salable == 8
    messages = storefront_messages(backorder, settings)
    assert messages["inventory_description"] == "On backorder: up to 10 more, 8 can be bought"
    assert messages["button_text"] == "Pre-order"
    assert messages["button_color"] == "#b45309"
    assert messages["over_threshold_alert"] == "Sorry, only 8 can be bought."


def test_unlimited_threshold_renders_the_tokens_empty():
    unlimited = StoreSettings(defaults=BackorderPolicy(threshold=None))
    settings = StorefrontSettings(backorder_description="Limit [{threshold}/{salable_qty}]")
    messages = storefront_messages(view(unlimited, state=BackorderState.ENABLED), settings)
    assert messages["inventory_description"] == "Limit [/]"
    assert messages["over_threshold_alert"] == ""  # nothing to exceed


def test_shipping_description_with_back_in_stock_date_in_store_time_zone():
    date = dt.datetime(2025, 11, 30, 23, 30, tzinfo=dt.UTC)  # 1 December in Amsterdam
    item = view(on_hand=0, state=BackorderState.ENABLED, back_in_stock_date=date)
    ticked = StorefrontSettings(show_back_in_stock_date=True, date_format="%d %B %Y")
    shipping = storefront_messages(item, ticked, timezone="Europe/Amsterdam")
    assert shipping["shipping_description"] == (
        "Ships as soon as it is back in stock. Expected back in stock on 01 December 2025."
    )
    plain = storefront_messages(item, StorefrontSettings())["shipping_description"]
    assert plain == "Ships as soon as it is back in stock."


def test_mixed_cart_alert_and_buying_over_threshold():
    item = view(on_hand=2)  # 2 on hand, threshold 10: salable 12; backorder armed
    mixed = storefront_messages(item, StorefrontSettings(), qty=5)
    assert mixed["mixed_cart_alert"] == "5 added to your cart, 3 of them on backorder."
    assert mixed["order_note"] == "3 × Zoë's mug on backorder"
    assert mixed["over_threshold_alert"] == ""
    within_stock = storefront_messages(item, StorefrontSettings(), qty=2)
    assert within_stock["mixed_cart_alert"] == within_stock["cart_message"] == ""
    over = storefront_messages(item, StorefrontSettings(), qty=13)
    assert over["over_threshold_alert"] == "Sorry, only 12 can be bought."
    assert over["mixed_cart_alert"] == ""


def test_silent_mode_never_mentions_backorder():
    silent = StoreSettings(defaults=BackorderPolicy(mode=Mode.SILENT, threshold=10))
    messages = storefront_messages(
        view(silent, on_hand=-1, state=BackorderState.ENABLED), StorefrontSettings(), qty=2
    )
    assert messages["inventory_description"] == messages["button_text"] == ""
    assert messages["mixed_cart_alert"] == messages["cart_message"] == ""


def test_an_emptied_setting_shows_nothing():
    settings = StorefrontSettings(backorder_description="", cart_message="")
    messages = storefront_messages(view(on_hand=0, state=BackorderState.ENABLED), settings)
    assert messages["inventory_description"] == messages["cart_message"] == ""
    assert messages["shipping_description"] != ""


@pytest.mark.parametrize(
    ("field", "text", "where", "token", "known"),
    [
        ("cart_message", "Hello\nOnly {stok} left", "cart_message line 2", "{stok}", "{stock}"),
        # the notify notice takes its own tokens, checked when the config loads too
        ("backorder_notice", "{count} will follow", "backorder_notice line 1", "{count}",
         "{backordered}"),
    ],
)  # fmt: skip
def test_an_unknown_token_is_an_error_naming_the_field_and_line(field, text, where, token, known):
    with pytest.raises(ConfigError) as error:
        parse_config({"stores": {"shop": {"storefront": {field: text}}}}, "shop.toml")
    message = str(error.value)
    assert "shop.toml" in message and where in message
    assert f"unknown token {token}" in message and known in message


def test_template_injection_in_a_message_is_refused():
    for attack in ("{{ ''.__class__.__mro__ }}", "{% for x in range(9) %}x{% endfor %}"):
        with pytest.raises(ValueError, match="not allowed in a message"):
            StorefrontSettings(backorder_description=attack)
    with pytest.raises(TemplateProblem, match=r"m line 1: unknown token \{config\}"):
        MessageTemplate("m", "{config}", {"stock"})
    # Tokens are looked up, never formatted or evaluated: attribute syntax is not a token.
    literal = MessageTemplate("m", "{stock.__class__} {0} {stock}", {"stock"})
    assert literal.render(stock=3) == "{stock.__class__} {0} 3"


def test_publishing_hands_messages_to_the_platform_after_an_order(store_service):
    published = []

    class Shop(BasePlatform):
        name = "shop-platform"

        def publish_storefront(self, store, sku, messages):
            published.append((sku, dict(messages)))

    class Plugin:
        @hookimpl
        def backorder_platforms(self):
            return [Shop()]

    pm = make_manager(load_entry_points=False)
    pm.register(Plugin())
    service = store_service(pm=pm, defaults={"threshold": 5})
    service.store = service.store.model_copy(
        update={"platform": "shop-platform", "storefront": StorefrontSettings(publish=True)}
    )
    service.upsert_catalog([ItemInput(sku="MUG", name="Mug", on_hand=1, assigned=False)])
    service.assign(["MUG"])
    published.clear()
    service.place_order(OrderIn(order_id="1", lines=[LineRequest(sku="MUG", qty=3)]))
    assert [sku for sku, _ in published] == ["MUG"]
    assert published[0][1]["inventory_description"] == "Out of stock: available on backorder"
    assert published[0][1]["over_threshold_alert"] == "Sorry, only 3 can be bought."


@pytest.fixture
def cli_store(tmp_path, backorder_db):
    from backorder.engine import StoreService

    config = tmp_path / "backorder.toml"
    config.write_text(
        f'database = "{backorder_db.url}"\n'
        "[stores.shop.settings.defaults]\nthreshold = 4\n"
        '[stores.shop.storefront]\nbutton_text = "Backorder now"\n',
        encoding="utf-8",
    )
    store = StoreConfig(name="shop", settings=StoreSettings(defaults={"threshold": 4}))
    service = StoreService(backorder_db, store)
    service.upsert_catalog([ItemInput(sku="LAMP", name="Ørsted lamp", on_hand=0, assigned=False)])
    service.assign(["LAMP"])
    return config


def test_cli_prints_the_messages_as_text_and_json(cli_store):
    from backorder.commands import main

    runner = CliRunner()
    text = runner.invoke(main, ["--config", str(cli_store), "storefront", "LAMP", "--qty", "2"])
    assert text.exit_code == 0, text.output
    assert "Backorder now" in text.stdout
    assert "2 added to your cart, 2 of them on backorder." in text.stdout
    as_json = runner.invoke(main, ["--config", str(cli_store), "storefront", "LAMP", "--json"])
    data = json.loads(as_json.stdout)
    assert data["status"] == "backorder"
    assert data["messages"]["button_text"] == "Backorder now"
    assert data["messages"]["over_threshold_alert"] == "Sorry, only 4 can be bought."
    missing = runner.invoke(main, ["--config", str(cli_store), "storefront", "NOPE"])
    assert missing.exit_code == 2 and "NOPE" in missing.output
