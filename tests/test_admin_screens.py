"""The merchant's screens do what the CLI does, and a wrong value changes nothing.

Each screen acts through the store's StoreService; each wrong value comes back with its
error beside its field (422), and the store is as it was.
"""

from __future__ import annotations

import csv
import html as htmllib
import io
import re

import sqlalchemy as sa

from backorder.storage.schema import stores as stores_table


def _error(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    assert found, f"no error shown for {field_id}"
    return found.group(1)


def test_dashboard_shows_status_counts_plan_use_and_waiting_work(shop):
    client = shop.signed_in()
    html = client.get("/admin/shop/").text
    assert re.search(r"<strong>1</strong> Backorder", html)
    assert re.search(r"<strong>2</strong> units on backorder", html)
    assert re.search(r'1 <span class="of">of 3</span>', html)
    assert "Pushes <strong>0</strong>" in html and "Webhooks <strong>0</strong>" in html
    assert "order backordered" in html and "1001" in html


def test_the_list_is_searched_filtered_and_paged_in_the_database(shop):
    client = shop.signed_in()
    html = client.get("/admin/shop/items?category=Outdoor&brand=Camp").text
    assert "STOVE" in html and "TENT-2P" in html and "LAMP" not in html and "MUG" not in html
    html = client.get("/admin/shop/items?assigned=yes&status=backorder").text
    assert "TENT-2P" in html and "STOVE" not in html
    html = client.get("/admin/shop/items?q=_").text  # a LIKE wildcard is searched literally
    assert "No product matches" in html
    shop.config.admin.page_size = 2
    first = client.get("/admin/shop/items").text
    assert "Page 1 of 3" in first and "5 items" in first
    assert "LAMP" in first and "STOVE" not in first  # by SKU
    bad = client.get("/admin/shop/items?status=sold&page=0")
    assert bad.status_code == 422
    assert _error(bad.text, "f-status") == "choose one of the options"


def test_assigning_a_variant_assigns_its_product_with_stock_and_threshold(shop):
    client = shop.signed_in()
    _html, token = shop.page(client, "/admin/shop/items")
    answer = client.post("/admin/shop/items/assign", data={
        "csrf_token": token, "sku": "MUG-RED", "stock": "4", "threshold": "unlimited",
        "incoming": "10", "back_in_stock": "2026-04-01", "return_to": "/admin/shop/items?q=mug",
    })
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/shop/items?q=mug"
    red, blue = shop.service().item("MUG-RED"), shop.service().item("MUG-BLUE")
    assert red.assigned and blue.assigned  # seed 001: a product's variants together
    assert red.on_hand == 4 and red.threshold is None and red.incoming_qty == 10
    assert red.back_in_stock_date.isoformat() == "2026-04-01T00:00:00+00:00"  # store day
    assert blue.on_hand == 2 and blue.threshold is None  # settings, not the stock
    assert "Assigned 1 item(s)" in client.get("/admin/shop/items?q=mug").text


def test_wrong_assign_values_are_shown_beside_their_fields_and_change_nothing(shop):
    client = shop.signed_in()
    _html, token = shop.page(client, "/admin/shop/items")
    before = shop.service().items()
    answer = client.post("/admin/shop/items/assign", data={
        "csrf_token": token, "sku": "STOVE", "stock": "many", "threshold": "-3",
        "back_in_stock": "2026-02-30",
    })
    assert answer.status_code == 422
    assert _error(answer.text, "f-stock") == "enter a whole number"
    assert "greater than or equal to 0" in _error(answer.text, "f-threshold")
    assert _error(answer.text, "f-back-in-stock") == "enter a date as YYYY-MM-DD"
    assert 'value="STOVE" id="sel-' in answer.text.replace('" checked', '"')
    nothing = client.post("/admin/shop/items/assign", data={"csrf_token": token})
    assert nothing.status_code == 422 and "Select at least one item" in nothing.text
    undated = client.post("/admin/shop/items/assign", data={
        "csrf_token": token, "sku": "STOVE", "back_in_stock": "2026-04-01"})
    assert "needs the incoming stock" in _error(undated.text, "f-back-in-stock")
    assert shop.service().items() == before


def test_the_plan_limit_refuses_a_bulk_assign_whole(shop):
    client = shop.signed_in()
    _html, token = shop.page(client, "/admin/shop/items")
    answer = client.post("/admin/shop/items/assign", data={
        "csrf_token": token, "sku": ["STOVE", "LAMP", "MUG-BLUE"]})
    assert answer.status_code == 422
    assert "plan limit: store 'shop' may assign 3 products" in htmllib.unescape(answer.text)
    assert not any(shop.service().item(s).assigned for s in ("STOVE", "LAMP", "MUG-BLUE"))


def test_bulk_unassign_with_the_platform_tracking_again(shop):
    client = shop.signed_in()
    _html, token = shop.page(client, "/admin/shop/items")
    client.post("/admin/shop/items/assign", data={"csrf_token": token, "sku": "STOVE"})
    answer = client.post("/admin/shop/items/unassign", data={
        "csrf_token": token, "sku": ["STOVE", "TENT-2P"], "action": "not_purchasable"})
    assert answer.status_code == 303
    tent = shop.service().item("TENT-2P")
    assert not tent.assigned and not tent.purchasable
    wrong = client.post("/admin/shop/items/unassign", data={
        "csrf_token": token, "sku": "STOVE", "action": "burn"})
    assert wrong.status_code == 422 and _error(wrong.text, "f-action")


def test_editing_one_item_and_switching_backorder_by_hand(shop):
    client = shop.signed_in()
    html, token = shop.page(client, "/admin/shop/items/TENT-2P")
    assert 'value="5"' in html  # its threshold override
    bad = client.post("/admin/shop/items/TENT-2P", data={
        "csrf_token": token, "stock": "", "threshold": "x", "incoming": "-1"})
    assert bad.status_code == 422
    assert _error(bad.text, "f-stock") and _error(bad.text, "f-threshold")
    assert _error(bad.text, "f-incoming")
    assert shop.service().item("TENT-2P").on_hand == -2
    ok = client.post("/admin/shop/items/TENT-2P", data={
        "csrf_token": token, "stock": "7", "threshold": "", "incoming": "0",
        "mode": "silent", "purchasable": "on"})
    assert ok.status_code == 303
    tent = shop.service().item("TENT-2P")
    assert tent.on_hand == 7 and tent.mode.value == "silent" and tent.threshold is None
    client.post("/admin/shop/items/TENT-2P", data={"csrf_token": token, "action": "disable"})
    assert shop.service().item("TENT-2P").state.value == "disabled"
    assert client.get("/admin/shop/items/NOPE").status_code == 404


def _settings_form(client, shop) -> tuple[dict, str]:
    html, token = shop.page(client, "/admin/shop/settings")
    data: dict = {}
    for name, value in re.findall(r'<input id="[^"]+" name="([^"]+)" type="(?:text|number)" '
                                  r'value="([^"]*)"', html):
        data[name] = value
    for name, value in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>',
                                  html):
        data[name] = value.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    data |= {"settings.over_threshold": "refuse", "settings.defaults.mode": "notify",
             "storefront.theme": "cornerstone", "csrf_token": token}
    return data, token


def test_settings_are_saved_and_used_by_the_next_request(shop):
    client = shop.signed_in()
    data, _token = _settings_form(client, shop)
    data |= {"settings.switch_condition": "2", "settings.over_threshold": "clamp",
             "notifications.recipients": "owner@shop.example\nops@shop.example",
             "notifications.events.order_backordered": "on",
             "storefront.backorder_description": "Only {salable_qty} more to order",
             "storefront.button_color": "#0a7d33"}
    answer = client.post("/admin/shop/settings", data=data)
    assert answer.status_code == 303, answer.text
    store = shop.app.state.web.stores.store("shop")
    assert store.settings.switch_condition == 2 and store.settings.over_threshold == "clamp"
    assert store.settings.plan_limit == 3  # from the config file, untouched
    assert store.notifications.recipients == ["owner@shop.example", "ops@shop.example"]
    assert store.storefront.backorder_description == "Only {salable_qty} more to order"
    html = client.get("/admin/shop/settings").text
    assert "Only {salable_qty} more to order" in html and "Settings saved." in html
    assert "Only 3 more to order" in html  # the preview: TENT-2P, -2 on hand + 5


def test_wrong_settings_name_their_field_and_nothing_is_saved(shop):
    client = shop.signed_in()
    data, _token = _settings_form(client, shop)
    data |= {"settings.switch_condition": "two", "settings.timezone": "Mars/Base",
             "notifications.recipients": "owner@shop.example\nnot-an-address",
             "storefront.cart_message": "Ships {when_we_feel_like_it}",
             "storefront.button_color": "orange"}
    answer = client.post("/admin/shop/settings", data=data)
    assert answer.status_code == 422
    assert _error(answer.text, "f-settings-switch-condition") == "enter a whole number"
    assert "not a time zone" in _error(answer.text, "f-settings-timezone")
    assert "not-an-address" in _error(answer.text, "f-notifications-recipients")
    assert "unknown token {when_we_feel_like_it}" in _error(
        answer.text, "f-storefront-cart-message")
    assert "should match pattern" in _error(answer.text, "f-storefront-button-color")
    assert "Ships {when_we_feel_like_it}" in answer.text  # what was typed stays
    with shop.db.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(stores_table)) == 0


def test_the_preview_renders_a_message_as_it_is_typed_with_real_tokens(shop):
    client = shop.signed_in()
    data, _token = _settings_form(client, shop)
    data |= {"preview_sku": "TENT-2P", "preview_qty": "2",
             "storefront.backorder_description": "{name}: {salable_qty} left to order",
             "storefront.mixed_cart_alert": "{qty} in cart, {backordered} later"}
    answer = client.post("/admin/shop/settings/preview", data=data)
    assert answer.status_code == 200
    assert "Two-person tent: 3 left to order" in answer.text
    assert "2 in cart, 2 later" in answer.text
    data["storefront.backorder_description"] = "Back soon ({stock} now)"
    again = client.post("/admin/shop/settings/preview", data=data)
    assert "Back soon (0 now)" in again.text and "left to order" not in again.text
    data["preview_qty"] = "9"
    over = client.post("/admin/shop/settings/preview", data=data)
    assert "Sorry, only 3 can be bought." in over.text
    data["storefront.backorder_description"] = "{nope}"
    wrong = client.post("/admin/shop/settings/preview", data=data)
    assert "unknown token {nope}" in wrong.text
    assert shop.app.state.web.stores.store("shop").storefront.backorder_description == (
        "Out of stock: available on backorder")  # a preview saves nothing


def test_the_report_is_filtered_paged_and_downloads_as_csv(shop):
    service = shop.service()
    from backorder.models import ItemInput, LineRequest, OrderIn

    service.assign([ItemInput(sku="LAMP", on_hand=0, threshold=10)])
    for n in range(3):
        service.place_order(OrderIn(order_id=f"20{n}", lines=[LineRequest(sku="LAMP", qty=1)],
                                    customer_email=f"c{n}@example.com"))
    client = shop.signed_in()
    html = client.get("/admin/shop/report?q=tent").text
    assert "1001" in html and "pat@example.com" in html and "200" not in html
    brand = client.get("/admin/shop/report?brand=Lux").text
    assert "c0@example.com" in brand and "1001" not in brand
    early = client.get("/admin/shop/report?to=2026-03-02").text
    assert "1001" in early and "c0@example.com" not in early
    bad = client.get("/admin/shop/report?from=2026-05-01&to=2026-04-01")
    assert bad.status_code == 422
    assert "before the start date" in _error(bad.text, "f-to")
    shop.config.admin.page_size = 2
    paged = client.get("/admin/shop/report").text
    assert "Page 1" in paged and 'rel="next"' in paged
    last = client.get("/admin/shop/report?page=2").text
    assert 'rel="next"' not in last and last.count('<td class="num">') == 10  # 2 rows
    download = client.get("/admin/shop/report.csv?brand=Lux")
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0][:4] == ["Product name", "SKU", "Purchased qty", "Backordered qty"]
    assert sorted(r[4] for r in rows[1:]) == ["200", "201", "202"]


def test_the_report_filters_by_status_like_the_cli(shop):
    service = shop.service()
    from backorder.models import ItemInput, LineRequest, OrderIn

    service.assign([ItemInput(sku="LAMP", on_hand=0, threshold=10)])
    for n in range(2):
        service.place_order(OrderIn(order_id=f"30{n}", lines=[LineRequest(sku="LAMP", qty=2)]))
    service.cancel("300")
    client = shop.signed_in()
    open_lines = client.get("/admin/shop/report").text
    assert "301" in open_lines and "300" not in open_lines  # open by default, as the CLI
    cancelled = client.get("/admin/shop/report?status=cancelled").text
    assert "300" in cancelled and "301" not in cancelled
    assert re.search(r'<td class="num">2</td><td class="num">0</td><td class="num">0</td>'
                     r"<td>cancelled</td><td>300</td>", cancelled)
    everything = client.get("/admin/shop/report?status=all").text
    assert "300" in everything and "301" in everything
    rows = list(csv.reader(io.StringIO(client.get("/admin/shop/report.csv?status=cancelled").text)))
    assert [r[4] for r in rows[1:]] == ["300"]
    bad = client.get("/admin/shop/report?status=lost")
    assert bad.status_code == 422
    assert _error(bad.text, "f-status") == "choose one of the options"


def test_an_import_with_errors_lists_each_by_row_and_changes_nothing(shop):
    client = shop.signed_in()
    _html, token = shop.page(client, "/admin/shop/import")
    template = client.get("/admin/shop/export.csv")
    assert template.text.splitlines()[0].startswith("Product ID,Variant ID,SKU")
    assert "TENT-2P" in template.text
    before = shop.service().items()
    body = ("SKU,Stock,Backorder Threshold,Back in stock date\r\n"
            "TENT-2P,5,lots,\r\n"
            "STOVE,x,,\r\n"
            "LAMP,3,,31/02/2026\r\n")
    answer = client.post(
        "/admin/shop/import",
        data={"csrf_token": token, "mode": "update", "columns": ["stock", "threshold", "date"]},
        files={"file": ("stock.csv", body.encode(), "text/csv")},
    )
    assert answer.status_code == 422
    rows = re.findall(r"<tr><td>(\d*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", answer.text)
    by_row = {(row, column) for row, column, _ in rows}
    assert {("2", "Backorder Threshold"), ("3", "Stock"), ("4", "Back in stock date")} <= by_row
    assert ("3", "SKU") in by_row or any(r == "3" for r, _c in by_row)
    assert "Nothing was imported" in answer.text
    assert shop.service().items() == before


def test_a_good_import_applies_and_a_missing_file_or_box_is_named(shop):
    client = shop.signed_in()
    _html, token = shop.page(client, "/admin/shop/import")
    missing = client.post("/admin/shop/import", data={"csrf_token": token, "mode": "update",
                                                       "columns": ["stock"]})
    assert missing.status_code == 422 and _error(missing.text, "f-file")
    no_box = client.post(
        "/admin/shop/import", data={"csrf_token": token, "mode": "update"},
        files={"file": ("s.csv", b"SKU,Stock\r\nTENT-2P,9\r\n", "text/csv")})
    assert no_box.status_code == 422 and "Tick at least one column" in no_box.text
    ok = client.post(
        "/admin/shop/import", data={"csrf_token": token, "mode": "update", "columns": ["stock"]},
        files={"file": ("s.csv", b"SKU,Stock\r\nTENT-2P,9\r\n", "text/csv")})
    assert ok.status_code == 200 and "1 changed" in ok.text
    assert shop.service().item("TENT-2P").on_hand == 9


def test_an_oversized_upload_is_refused_before_it_is_read(shop, caplog):
    shop.config.admin.max_upload_bytes = 5_000
    from backorder.server import create_app

    app = create_app(shop.config, shop.db, shop.pm, worker=False)
    shop.app = app
    client = shop.signed_in()
    _html, token = shop.page(client, "/admin/shop/import")
    body = "SKU,Stock\r\n" + "TENT-2P,1\r\n" * 2000
    answer = client.post(
        "/admin/shop/import", data={"csrf_token": token, "mode": "update", "columns": ["stock"]},
        files={"file": ("big.csv", body.encode(), "text/csv")})
    assert answer.status_code == 413
    assert shop.service().item("TENT-2P").on_hand == -2
    assert "body over 5000 bytes" in caplog.text
