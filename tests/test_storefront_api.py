"""The public storefront API: what shoppers' browsers are told, from the read model only."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from storefront_support import HOSTILE, ORIGIN, build_app

from backorder.engine import ItemEdit
from backorder.models import LineRequest, OrderIn
from backorder.storage.schema import items as items_table
from backorder.storage.schema import storefront_items
from backorder.storefront_api.api import MAX_KEYS, RateLimiter, storefront_routes

H = {"Origin": ORIGIN}


@pytest.fixture
def shop(tmp_path, plugin_manager):
    app, service = build_app(tmp_path, plugin_manager)
    yield TestClient(app), service
    service.db.dispose()


def by_sku(response) -> dict:
    assert response.status_code == 200, response.text
    return {item["sku"]: item for item in response.json()["items"]}


def test_each_state_tells_status_button_and_shipping(shop):
    client, _ = shop
    got = by_sku(client.get("/storefront/shop/items?sku=TENT,LAMP&sku=MUG-BLUE&sku=GONE",
                            headers=H))
    tent, lamp, mug, gone = got["TENT"], got["LAMP"], got["MUG-BLUE"], got["GONE"]
    assert tent["status"] == "in_stock" and tent["ships"] == {"when": "now", "date": None}
    assert tent["messages"]["inventory_description"] == "20 in stock"
    assert tent["messages"]["button_text"] == ""
    assert lamp["status"] == "low_stock"
    assert lamp["messages"]["inventory_description"] == "Only 2 left in stock"
    assert mug["status"] == "backorder" and mug["backorder"] and mug["purchasable"]
    assert mug["messages"]["inventory_description"] == "Out of stock: available on backorder"
    assert mug["messages"]["button_text"] == "Pre-order"
    assert mug["messages"]["button_color"] == "#b45309"
    assert mug["ships"] == {"when": "later", "date": "2031-05-20"}
    assert mug["max_qty"] == 10
    assert gone["status"] == "unavailable" and not gone["purchasable"]
    assert gone["ships"]["when"] == "never"
    for item in got.values():  # nothing internal
        assert "stock" not in item and "on_hand" not in item and "backordered" not in item


def test_product_and_variant_ids_find_items(shop):
    client, _ = shop
    assert set(by_sku(client.get("/storefront/shop/items?product_id=12", headers=H))) == {
        "MUG-BLUE", "MUG-RED"}
    assert set(by_sku(client.get("/storefront/shop/items?variant_id=121", headers=H))) == {
        "MUG-RED"}


def test_qty_brings_cart_alerts(shop):
    client, _ = shop
    red = by_sku(client.get("/storefront/shop/items?sku=MUG-RED&qty=7", headers=H))["MUG-RED"]
    assert red["messages"]["mixed_cart_alert"] == "7 added to your cart, 2 of them on backorder."
    assert red["ships"]["when"] == "later"
    over = by_sku(client.get("/storefront/shop/items?sku=MUG-RED&qty=16", headers=H))["MUG-RED"]
    assert over["messages"]["over_threshold_alert"] == "Sorry, only 15 can be bought."
    assert over["ships"]["when"] == "never"


def test_read_model_follows_every_commit(shop):
    client, service = shop
    service.place_order(OrderIn(order_id="o1", lines=[LineRequest(sku="TENT", qty=18)]))
    assert by_sku(client.get("/storefront/shop/items?sku=TENT", headers=H))["TENT"][
        "status"] == "low_stock"
    service.edit("TENT", ItemEdit(on_hand=0, threshold=5))
    tent = by_sku(client.get("/storefront/shop/items?sku=TENT", headers=H))["TENT"]
    assert tent["status"] == "backorder"


def test_an_edited_message_shows_in_the_next_answer(shop, monkeypatch):
    """Answers are reused per stored view, but never across the store's settings."""
    from starlette.applications import Starlette

    from backorder.engine import StoreService
    from backorder.storefront_api import api

    _, service = shop
    monkeypatch.setattr(api, "STORE_TTL", 0.0)  # the store looked up on every request
    current = {"shop": service}
    client = TestClient(Starlette(routes=storefront_routes(current.get)))
    mug = "/storefront/shop/items?sku=MUG-BLUE"
    assert by_sku(client.get(mug, headers=H))["MUG-BLUE"]["messages"]["button_text"] == (
        "Pre-order")
    storefront = service.store.storefront
    edited = type(storefront).model_validate(
        {**storefront.model_dump(), "button_text": "Reserve yours"})
    current["shop"] = StoreService(service.db, service.store.model_copy(
        update={"storefront": edited}))
    assert by_sku(client.get(mug, headers=H))["MUG-BLUE"]["messages"]["button_text"] == (
        "Reserve yours")


def test_answers_come_from_the_read_model_not_the_items(shop):
    client, service = shop
    with service.db.transaction() as conn:  # behind the engine's back: the API must not see it
        conn.execute(items_table.update().where(items_table.c.sku == "TENT").values(on_hand=0))
    assert by_sku(client.get("/storefront/shop/items?sku=TENT", headers=H))["TENT"][
        "status"] == "in_stock"
    with service.db.transaction() as conn:
        conn.execute(storefront_items.delete())
    assert client.get("/storefront/shop/items?sku=TENT", headers=H).status_code == 404


def test_stock_shown_only_when_the_store_allows(tmp_path, plugin_manager):
    app, service = build_app(tmp_path, plugin_manager, storefront={"show_stock": True})
    got = by_sku(TestClient(app).get("/storefront/shop/items?sku=TENT", headers=H))
    assert got["TENT"]["stock"] == 20
    service.db.dispose()


def test_cors_only_for_configured_origins(shop):
    client, _ = shop
    ok = client.get("/storefront/shop/items?sku=TENT", headers=H)
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in ok.headers["vary"]
    for headers in ({}, {"Origin": "https://evil.example"}, {"Origin": "null"}):
        refused = client.get("/storefront/shop/items?sku=TENT", headers=headers)
        assert refused.status_code == 403, headers
        assert "access-control-allow-origin" not in refused.headers
        assert "origin" in refused.json()["error"].lower()
    pre = client.options("/storefront/shop/items", headers=H)
    assert pre.status_code == 204 and pre.headers["access-control-allow-methods"] == "GET"


def test_etag_and_short_max_age(shop):
    client, service = shop
    first = client.get("/storefront/shop/items?sku=TENT", headers=H)
    assert first.headers["cache-control"] == "public, max-age=15"
    etag = first.headers["etag"]
    again = client.get("/storefront/shop/items?sku=TENT", headers={**H, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    service.edit("TENT", ItemEdit(on_hand=1))
    changed = client.get("/storefront/shop/items?sku=TENT", headers={**H, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


@pytest.mark.parametrize(("query", "status", "says"), [
    ("", 400, "at least one"),
    ("sku=", 400, "malformed sku"),
    ("sku=%01bad", 400, "malformed sku"),
    ("sku=" + "A" * 300, 400, "malformed sku"),
    ("product_id=1;drop", 400, "malformed product_id"),
    ("sku=TENT&qty=0", 400, "qty"),
    ("sku=TENT&qty=-1", 400, "qty"),
    ("sku=TENT&qty=abc", 400, "qty"),
    ("sku=TENT&qty=1&qty=2", 400, "qty"),
    ("sku=TENT&secret=1", 400, "unknown parameter"),
    ("sku=" + ",".join(f"S{i}" for i in range(MAX_KEYS + 1)), 400, f"at most {MAX_KEYS}"),
    ("sku=NOPE", 404, "no such item"),
])
def test_bad_input_is_a_clear_json_4xx(shop, query, status, says):
    client, _ = shop
    response = client.get(f"/storefront/shop/items?{query}", headers=H)
    assert response.status_code == status
    assert says in response.json()["error"]
    assert response.headers["content-type"] == "application/json"


def test_unknown_store_is_404_and_missing_skus_are_named(shop):
    client, _ = shop
    assert client.get("/storefront/nowhere/items?sku=TENT", headers=H).json() == {
        "error": "no such store"}
    assert client.get("/storefront/" + "x" * 300 + "/items?sku=T", headers=H).status_code == 404
    got = client.get("/storefront/shop/items?sku=TENT&sku=NOPE", headers=H).json()
    assert got["missing"] == ["NOPE"] and [i["sku"] for i in got["items"]] == ["TENT"]


def test_rate_limit_per_client(shop):
    _, service = shop
    from starlette.applications import Starlette

    now = [0.0]
    limiter = RateLimiter(rate=3, window=60, clock=lambda: now[0])
    app = Starlette(routes=storefront_routes(lambda name: service, limiter))
    client = TestClient(app)
    codes = [client.get("/storefront/shop/items?sku=TENT", headers=H).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/storefront/shop/items?sku=TENT", headers=H)
    assert "too many requests" in limited.json()["error"] and limited.headers["retry-after"]
    now[0] = 61.0
    assert client.get("/storefront/shop/items?sku=TENT", headers=H).status_code == 200


def test_hostile_text_is_data_not_markup(tmp_path, plugin_manager):
    app, service = build_app(tmp_path, plugin_manager,
                             storefront={"backorder_description": HOSTILE})
    got = by_sku(TestClient(app).get("/storefront/shop/items?sku=MUG-BLUE", headers=H))
    assert got["MUG-BLUE"]["messages"]["inventory_description"] == HOSTILE  # the script escapes
    service.db.dispose()


def test_script_is_served_as_javascript(shop):
    client, _ = shop
    js = client.get("/storefront/backorder.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.headers["x-content-type-options"] == "nosniff"
    assert "eval(" not in js.text and "innerHTML" not in js.text


def test_an_import_updates_the_read_model(shop):
    from backorder import imports

    client, service = shop
    data = b"SKU,Stock\nTENT,0\n"
    imports.import_csv(service, data, mode="update", name="in.csv")
    assert by_sku(client.get("/storefront/shop/items?sku=TENT", headers=H))["TENT"][
        "status"] != "in_stock"


def test_rebuild_command_refills_the_read_model(shop, tmp_path):
    from click.testing import CliRunner

    from backorder.cli import main

    client, service = shop
    with service.db.transaction() as conn:
        conn.execute(storefront_items.delete())
    config = tmp_path / "backorder.toml"
    config.write_text(
        f'database = "{service.db.url}"\n[stores.shop]\nplatform = "core"\n'
        f'storefront = {{ origins = ["{ORIGIN}"] }}\n'
        '[stores.shop.settings.defaults]\nlow_stock_level = 3\n'
    )
    result = CliRunner().invoke(main, ["--config", str(config), "--store", "shop",
                                       "storefront-rebuild"])
    assert result.exit_code == 0, result.output
    assert "5 item(s)" in result.output
    assert by_sku(client.get("/storefront/shop/items?sku=LAMP", headers=H))["LAMP"][
        "status"] == "low_stock"


@pytest.mark.postgres
def test_the_api_reads_the_read_model_on_postgresql(tmp_path, plugin_manager, pg_url):
    app, service = build_app(tmp_path, plugin_manager, database=pg_url)
    try:
        client = TestClient(app)
        got = by_sku(client.get("/storefront/shop/items?sku=MUG-BLUE&product_id=12&qty=7",
                                headers=H))
        assert set(got) == {"MUG-BLUE", "MUG-RED"}
        assert got["MUG-BLUE"]["ships"] == {"when": "later", "date": "2031-05-20"}
        assert got["MUG-RED"]["messages"]["mixed_cart_alert"].startswith("7 added")
    finally:
        service.db.dispose()


@pytest.mark.postgres
def test_kept_reader_on_postgresql_sees_commits_and_survives_a_lost_connection(
        tmp_path, plugin_manager, pg_url):
    app, service = build_app(tmp_path, plugin_manager, database=pg_url)
    try:
        client = TestClient(app)
        tent = "/storefront/shop/items?sku=TENT"
        assert by_sku(client.get(tent, headers=H))["TENT"]["status"] == "in_stock"
        service.place_order(OrderIn(order_id="o1", lines=[LineRequest(sku="TENT", qty=18)]))
        assert by_sku(client.get(tent, headers=H))["TENT"]["status"] == "low_stock"
        with service.db.engine.connect() as conn:  # the server drops the API's connection
            killed = conn.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                "datname = current_database() AND pid <> pg_backend_pid() "
                "AND query LIKE 'SELECT view%%FROM storefront_items%%'").scalar_one()
        assert killed >= 1
        assert by_sku(client.get(tent, headers=H))["TENT"]["status"] == "low_stock"
        # the kept connection, dropped by the server: replaced, the read retried
        from backorder.storefront_api import readmodel

        [view] = readmodel.readers.lookup(service.db.engine, "shop", skus=["TENT"])
        with service.db.engine.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                "datname = current_database() AND pid <> pg_backend_pid() "
                "AND query LIKE 'SELECT view%%FROM storefront_items%%'")
        [view] = readmodel.readers.lookup(service.db.engine, "shop", skus=["TENT"])
        assert view.status.value == "low_stock"
    finally:
        service.db.dispose()


def test_the_worker_refills_an_empty_or_outdated_read_model(shop):
    from backorder.engine import StoreService
    from backorder.storefront_api import readmodel
    from backorder.worker import worker_pass

    client, service = shop
    with service.db.transaction() as conn:  # as after the upgrade that added the table
        conn.execute(storefront_items.delete())
    readmodel._checked.clear()
    worker_pass(service, tick=False)
    assert by_sku(client.get("/storefront/shop/items?sku=TENT", headers=H))["TENT"][
        "status"] == "in_stock"
    # the store's default low-stock level is edited: every stored view is outdated
    settings = service.settings.model_copy(update={
        "defaults": service.settings.defaults.model_copy(update={"low_stock_level": 50})})
    edited = StoreService(service.db, service.store.model_copy(update={"settings": settings}))
    assert readmodel.ensure(edited) == 5
    assert readmodel.ensure(edited) == 0  # checked once per settings
    with service.db.read() as conn:
        [view] = readmodel.lookup(conn, "shop", skus=["TENT"])
    assert view.status.value == "low_stock"
