"""The web app in a real browser (headless Chromium), as a merchant uses it.

Sign in with the keyboard; assign a product with variants; edit a storefront message and
watch the preview follow; filter the report and download its CSV; upload an import with
errors and read each one by row. Every page is checked for labelled inputs and keyboard
reach, and a screenshot of each step is saved (``test-artifacts/screenshots``).
"""

from __future__ import annotations

import csv
import io

import pytest
from admin_support import PASSWORD, build_shop

from backorder.testing.browser import missing_browser, serve

if missing_browser() is None:
    from playwright.sync_api import expect

pytest_plugins = ["backorder.testing.browser"]

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.labels.length === 0 && !el.getAttribute('aria-label'))
  .map(el => el.name || el.id)"""


@pytest.fixture
def site(tmp_path, plugin_manager, monkeypatch):
    shop = build_shop(tmp_path, plugin_manager, monkeypatch)
    with serve(shop.app) as url:
        yield shop, url
    shop.db.dispose()


def sign_in_with_the_keyboard(page, url: str) -> None:
    page.goto(f"{url}/admin/shop/")
    assert page.evaluate("document.activeElement.id") == "f-username"  # autofocus
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Sign in"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/admin/shop/")


def check_labels(page) -> None:
    assert page.evaluate(UNLABELLED) == [], page.url


def test_sign_in_and_assign_a_product_with_its_variants(site, page, screenshots):
    shop, url = site
    page.goto(f"{url}/admin/login")
    check_labels(page)
    page.screenshot(path=screenshots / "01-sign-in.png")
    sign_in_with_the_keyboard(page, url)
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    page.screenshot(path=screenshots / "02-dashboard.png", full_page=True)

    page.get_by_role("navigation", name="Sections").get_by_role(
        "link", name="Assign products").click()
    page.get_by_label("Search name or SKU").fill("mug")
    page.get_by_role("button", name="Filter").click()
    page.get_by_label("Select MUG-RED").check()
    page.get_by_label("Stock", exact=True).fill("4")
    page.get_by_label("Backorder threshold").fill("5")
    page.get_by_role("button", name="Assign selected", exact=True).click()
    page.get_by_role("status").wait_for()
    assert "Assigned 1 item(s)" in page.get_by_role("status").inner_text()
    rows = page.locator("table.items tbody tr")
    assert rows.count() == 2 and page.locator("table.items .badge.status-in_stock").count() == 2
    check_labels(page)
    page.screenshot(path=screenshots / "03-assigned-variants.png", full_page=True)
    blue, red = shop.service().item("MUG-BLUE"), shop.service().item("MUG-RED")
    assert blue.assigned and red.assigned and red.on_hand == 4 and red.threshold == 5


def test_the_items_page_is_reachable_by_keyboard(site, page):
    _shop, url = site
    sign_in_with_the_keyboard(page, url)
    page.goto(f"{url}/admin/shop/items")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(page.evaluate(
            "document.activeElement.id || document.activeElement.textContent.trim()"))
    assert {"f-q", "f-category", "f-status", "f-stock", "f-back-in-stock", "sel-1",
            "Assign selected", "Unassign selected", "Filter"} <= reached


def test_editing_a_message_updates_the_preview(site, page, screenshots):
    _shop, url = site
    sign_in_with_the_keyboard(page, url)
    page.goto(f"{url}/admin/shop/settings")
    check_labels(page)
    preview = page.locator("#preview")
    assert "Out of stock: available on backorder" in preview.inner_text()
    page.screenshot(path=screenshots / "04-settings-before.png")
    page.get_by_label("Backorder description").fill("Only {salable_qty} left to order: {name}")
    preview.get_by_text("Only 3 left to order: Two-person tent").wait_for()
    page.get_by_label("Quantity in the cart").fill("9")
    preview.get_by_text("Sorry, only 3 can be bought.").wait_for()
    page.get_by_label("Add to Cart button text").fill("Reserve yours")
    preview.get_by_text("Reserve yours").wait_for()
    page.get_by_label("Button colour").fill("#0a7d33")
    expect(preview.locator(".sf-button")).to_have_css("background-color", "rgb(10, 125, 51)")
    page.screenshot(path=screenshots / "05-settings-preview.png")
    page.get_by_label("Mixed cart alert").fill("{qty} added, {oops}")
    preview.get_by_text("unknown token {oops}").wait_for()
    page.get_by_label("Mixed cart alert").fill("{qty} added, {backordered} later")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("status").wait_for()
    assert page.get_by_role("status").inner_text() == "Settings saved."


def test_the_report_with_filters_and_its_csv(site, page, screenshots):
    shop, url = site
    from backorder.models import ItemInput, LineRequest, OrderIn

    service = shop.service()
    service.assign([ItemInput(sku="LAMP", on_hand=0, threshold=10)])
    service.place_order(OrderIn(order_id="2001", lines=[LineRequest(sku="LAMP", qty=2)],
                                customer_email="sam@example.com"))
    sign_in_with_the_keyboard(page, url)
    page.get_by_role("link", name="Report").click()
    assert page.locator("table tbody tr").count() == 2
    page.get_by_label("Brand").select_option("Lux")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**brand=Lux**")
    assert page.locator("table tbody tr").count() == 1
    assert "sam@example.com" in page.locator("table tbody").inner_text()
    check_labels(page)
    page.screenshot(path=screenshots / "06-report.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert rows[0][0] == "Product name" and [r[4] for r in rows[1:]] == ["2001"]


def test_an_import_with_errors_lists_each_by_row(site, page, screenshots):
    shop, url = site
    sign_in_with_the_keyboard(page, url)
    page.get_by_role("link", name="Import & export").click()
    check_labels(page)
    body = "SKU,Stock,Backorder Threshold\r\nTENT-2P,5,lots\r\nSTOVE,x,\r\nLAMP,1,\r\n"
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "stock.csv", "mimeType": "text/csv", "buffer": body.encode()}])
    page.get_by_label("Update assigned products").check()  # every column box stays ticked
    page.get_by_role("button", name="Upload file").click()
    table = page.get_by_test_id("import-problems")
    table.wait_for()
    cells = [row.split("\t") for row in table.locator("tbody tr").all_inner_texts()]
    assert [c[0] for c in cells] == ["2", "3"]
    assert cells[0][1] == "Backorder Threshold" and cells[1][1] == "Stock"
    page.screenshot(path=screenshots / "07-import-errors.png", full_page=True)
    assert shop.service().item("TENT-2P").on_hand == -2  # nothing imported
