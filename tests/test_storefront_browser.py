"""backorder.js in a real browser (headless Chromium) on pages that mirror each theme.

A fixture shop (its own origin, a CSP without 'unsafe-inline' or 'unsafe-eval') serves
product pages with the markup of Cornerstone, Luma, Lightspeed's default theme and a
custom theme using data-backorder-* attributes; the script comes from a running
``backorder serve`` app on another origin. Screenshots go to test-artifacts/screenshots.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from string import Template

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.routing import Route
from storefront_support import HOSTILE, build_app

from backorder.storefront_api.api import SCRIPT
from backorder.testing.browser import free_port, serve

pytest_plugins = ["backorder.testing.browser"]

PAGES = Path(__file__).with_name("storefront_pages")
PRODUCTS = {  # product -> its variants (sku, variant id, label)
    "mug": ("12", "Mug", [("MUG-BLUE", "120", "Blue"), ("MUG-RED", "121", "Red")]),
    "tent": ("10", "Tent", [("TENT", "100", "One size")]),
    "lamp": ("11", "Lamp", [("LAMP", "110", "One size")]),
    "gone": ("13", "Gone", [("GONE", "130", "One size")]),
}
ORANGE = "rgb(180, 83, 9)"  # the default button colour, #b45309


def shop_app(api: str, store: str = "shop", script: str = "") -> Starlette:
    """The merchant's storefront: theme pages with a strict CSP, and their assets;
    ``script``: where the page loads backorder.js from (default: the API server)."""

    def page(request: Request) -> HTMLResponse:
        theme, product = request.path_params["theme"], request.path_params["product"]
        product_id, name, variants = PRODUCTS[product]
        chosen = request.query_params.get("variant")
        sku, variant_id, _ = next((v for v in variants if v[1] == chosen), variants[0])
        configurable = len(variants) > 1
        esc = html.escape
        values = {
            "api": api, "store": store, "script": script or f"{api}/storefront/backorder.js",
            "name": esc(name), "product_id": product_id,
            "sku": esc(product.upper() if configurable and theme == "luma" else sku),
            "variant_id": variant_id,
            "options": "" if not configurable else cornerstone_select(variants),
            "luma_options": "" if not configurable else (
                luma_dropdown(product_id, variants) if request.query_params.get("options")
                == "dropdown" else luma_swatches(product_id, variants)),
            "luma_bottom_open": '<div class="product-options-bottom">' if configurable else "",
            "luma_bottom_close": "</div>" if configurable else "",
            "variant_options": "".join(
                f'<option value="{v}"{" selected" if v == variant_id else ""}>{esc(label)}'
                "</option>" for _s, v, label in variants),
            "sku_options": "".join(f'<option value="{esc(s)}">{esc(label)}</option>'
                                   for s, _v, label in variants),
        }
        body = Template((PAGES / f"{theme}.html").read_text()).substitute(values)
        csp = (f"default-src 'none'; script-src 'self' {api}; connect-src 'self' {api}; "
               "style-src 'self'; img-src 'self'")
        return HTMLResponse(body, headers={"Content-Security-Policy": csp})

    async def product_attributes(request: Request) -> JSONResponse:
        """BigCommerce's /remote/v1/product-attributes/{id}: the variant the options pick."""
        form = await request.form()
        _, _, variants = next(p for p in PRODUCTS.values() if p[0] == request.path_params["id"])
        value = str(form.get("attribute[1]", ""))
        sku = next((s for s, v, _ in variants if attribute_value(v) == value), variants[0][0])
        return JSONResponse({"data": {"sku": sku, "purchasable": True}})

    def asset(request: Request) -> FileResponse:
        name = request.path_params["name"]
        if name == "backorder.js":  # a copy the shop keeps (a CDN, a cache)
            return FileResponse(SCRIPT)
        assert name in ("theme.js", "theme.css")
        return FileResponse(PAGES / name)

    return Starlette(routes=[Route("/assets/{name}", asset),
                             Route("/remote/v1/product-attributes/{id}", product_attributes,
                                   methods=["POST"]),
                             Route("/{theme}/{product}", page)])


def attribute_value(variant_id: str) -> str:
    """A Cornerstone option value id (set-select.html: value="{{id}}", not the SKU)."""
    return f"7{variant_id}"


def swatch_option(variant_id: str) -> str:
    """The Luma swatch option id of a variant (attribute 93's option, as jsonConfig's index)."""
    return str(int(variant_id) - 70)


def cornerstone_select(variants) -> str:
    esc = html.escape
    return (
        '<div class="form-field" data-product-attribute="set-select">'
        '<label class="form-label form-label--alternate form-label--inlineSmall" '
        'for="attribute_select_1">Colour: <small>Required</small></label>'
        '<select class="form-select form-select--small" name="attribute[1]" '
        'id="attribute_select_1" required><option value="">Choose Options</option>'
        + "".join(f'<option data-product-attribute-value="{attribute_value(v)}" '
                  f'value="{attribute_value(v)}"{" selected data-default" if i == 0 else ""}>'
                  f"{esc(label)}</option>" for i, (_s, v, label) in enumerate(variants))
        + "</select></div>")


def luma_config(product_id: str, variants) -> dict:
    """A configurable's jsonConfig/spConfig as Magento renders it: attribute 93 (color)."""
    return {
        "attributes": {"93": {"id": "93", "code": "color", "label": "Color", "options": [
            {"id": swatch_option(v), "label": label, "products": [v]}
            for _s, v, label in variants]}},
        "index": {v: {"93": swatch_option(v)} for _s, v, _l in variants},
        "chooseText": "Choose an Option...",
        "productId": product_id}


def luma_dropdown(product_id: str, variants) -> str:
    """Magento_ConfigurableProduct product/view/type/options/configurable.phtml (bb340cc468c1):
    an empty select per attribute, filled by configurable.js from the spConfig."""
    config = {"#product_addtocart_form": {"configurable": {
        "spConfig": luma_config(product_id, variants), "gallerySwitchStrategy": "replace"}}}
    return ('<div class="product-options-wrapper" id="product-options-wrapper" '
            'data-hasrequired="* Required Fields"><div class="fieldset" tabindex="0">'
            '<div class="field configurable required"><label class="label" for="attribute93">'
            '<span>Color</span></label><div class="control"><select name="super_attribute[93]" '
            'data-selector="super_attribute[93]" data-validate="{required:true}" id="attribute93" '
            'class="super-attribute-select"><option value="">Choose an Option...</option>'
            '</select></div></div></div></div><script type="text/x-magento-init">'
            + json.dumps(config).replace("</", "<\\/") + "</script>")


def luma_swatches(product_id: str, variants) -> str:
    """Magento_Swatches renderer.phtml: an empty swatch box and the jsonConfig it draws from."""
    config = {"[data-role=swatch-options]": {"Magento_Swatches/js/swatch-renderer": {
        "jsonConfig": luma_config(product_id, variants),
        "jsonSwatchConfig": {"93": {swatch_option(v): {"type": 0, "value": label}
                                    for _s, v, label in variants}}}}}
    return ('<div class="product-options-wrapper" id="product-options-wrapper" '
            'data-hasrequired="* Required Fields"><div class="fieldset" tabindex="0">'
            '<div class="swatch-opt" data-role="swatch-options"></div></div></div>'
            '<script type="text/x-magento-init">'
            + json.dumps(config).replace("</", "<\\/") + "</script>")


@pytest.fixture
def stores(tmp_path, plugin_manager):
    """Start the shop and the API; yields ``open(theme, product, **storefront)``."""
    running = []

    def start(*, storefront: dict | None = None, api_up: bool = True):
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        app, service = build_app(tmp_path / str(len(running)), plugin_manager,
                                 storefront={"origins": [origin], **(storefront or {})})
        running.append(service)
        if api_up:
            api_ctx = serve(app)
            api = api_ctx.__enter__()
            running.append(api_ctx)
        else:
            api = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        script = "" if api_up else "/assets/backorder.js"
        shop_ctx = serve(shop_app(api, script=script), port=port)
        running.append(shop_ctx)
        return shop_ctx.__enter__(), service

    (tmp_path / "0").mkdir()
    for i in range(1, 3):
        (tmp_path / str(i)).mkdir()
    yield start
    for thing in reversed(running):
        if hasattr(thing, "__exit__"):
            thing.__exit__(None, None, None)
        else:
            thing.db.dispose()


SELECTORS = {
    "cornerstone": ("#form-action-addToCart", "value"),
    "luma": ("#product-addtocart-button", "text"),
    "lightspeed": ("a.btn.cart", "text"),
    "generic": ("[data-backorder-button]", "text"),
}


SHIPPING_AFTER = {  # the element each theme's shipping text follows
    "cornerstone-6": ".add-to-cart-buttons",  # the button and the wallet buttons (6.x)
    "cornerstone-5": ".form-action",
    "luma": ".box-tocart .actions",
    "lightspeed": "#product_configure_form > .cart",
}


def wait_state(page, state: str) -> None:
    page.wait_for_selector(f'[data-backorder-state="{state}"]', state="attached")


def adapter(theme: str) -> str:
    """The backorder.js adapter a fixture page is for (cornerstone-5 and -6: cornerstone)."""
    return theme.split("-")[0]


def button(page, theme: str) -> tuple[str, str, bool]:
    selector, how = SELECTORS[adapter(theme)]
    el = page.locator(selector)
    label = el.input_value() if how == "value" else el.inner_text()
    colour = el.evaluate("e => getComputedStyle(e).backgroundColor")
    return label.strip(), colour, "backorder-button" in (el.get_attribute("class") or "")


def text_of(page, name: str) -> str:
    el = page.locator(f".backorder-{name}, [data-backorder-{name}]").first
    return el.text_content().strip() if el.is_visible() else ""


def choose_variant(page, theme: str, sku: str, variant_id: str) -> None:
    if adapter(theme) == "cornerstone":
        page.select_option("#attribute_select_1", attribute_value(variant_id))
    elif theme == "luma":
        page.click(f'.swatch-option[data-option-id="{swatch_option(variant_id)}"]')
    elif theme == "lightspeed":
        with page.expect_navigation():
            page.select_option("#product_configure_variants", variant_id)
    else:
        page.select_option("#variant", sku)


def set_qty(page, theme: str, qty: int) -> None:
    selector = {"cornerstone": "input[name='qty[]']", "luma": "#qty",
                "lightspeed": "input[name=quantity]", "generic": "[data-backorder-qty]"}
    page.fill(selector[adapter(theme)], str(qty))


# Cornerstone's two latest majors (6.21.0 and 5.7.1), Luma, Lightspeed's default theme, any theme
THEMES = ["cornerstone-6", "cornerstone-5", "luma", "lightspeed", "generic"]
NATIVE_STOCK = {"luma": ".product-info-stock-sku .stock", "lightspeed": "tr.availability"}
"""The theme's own availability line, which says "In stock" whatever the item's state."""


@pytest.mark.parametrize("theme", THEMES)
def test_backorder_variant_switch_and_quantity(stores, page, screenshots, theme):
    shop, _ = stores()
    page.goto(f"{shop}/{theme}/mug")
    if theme == "luma":  # a configurable shows nothing until a swatch is chosen
        page.wait_for_function("window.__backorder !== undefined")
        choose_variant(page, theme, "MUG-BLUE", "120")
    wait_state(page, "backorder")
    assert text_of(page, "description") == "Out of stock: available on backorder"
    assert text_of(page, "shipping") == "Ships as soon as it is back in stock."
    assert button(page, theme) == ("Pre-order", ORANGE, True)
    if theme in NATIVE_STOCK:  # the theme's own "In stock" never contradicts ours
        assert not page.is_visible(NATIVE_STOCK[theme])
    assert text_of(page, "alert") == ""  # all on backorder: no mixed-cart alert
    if theme in SHIPPING_AFTER:  # below the theme's add-to-cart block, not inside it
        assert page.evaluate("s => document.querySelector('.backorder-shipping')"
                             ".previousElementSibling.matches(s)", SHIPPING_AFTER[theme])
    page.screenshot(path=screenshots / f"storefront-{theme}-backorder.png", full_page=True)

    choose_variant(page, theme, "MUG-RED", "121")
    wait_state(page, "in_stock")
    assert text_of(page, "description") == "5 in stock"
    assert text_of(page, "shipping") == ""
    label, colour, restyled = button(page, theme)
    assert label != "Pre-order" and colour != ORANGE and not restyled

    set_qty(page, theme, 7)  # 5 from stock, 2 on backorder
    page.wait_for_function(
        "() => (document.querySelector('.backorder-alert, [data-backorder-alert]') || {})"
        ".textContent === '7 added to your cart, 2 of them on backorder.'")
    page.screenshot(path=screenshots / f"storefront-{theme}-mixed-cart.png", full_page=True)
    assert page.evaluate("window.__violations") == []  # strict CSP: nothing blocked


@pytest.mark.parametrize("theme", ["cornerstone-6", "cornerstone-5"])
def test_cornerstone_in_stock_low_and_unavailable(stores, page, screenshots, theme):
    shop, _ = stores()
    expected = {"tent": ("in_stock", "20 in stock"), "lamp": ("low_stock", "Only 2 left in stock"),
                "gone": ("unavailable", "")}
    for product, (state, description) in expected.items():
        page.goto(f"{shop}/{theme}/{product}")
        wait_state(page, state)
        assert text_of(page, "description") == description
        assert button(page, theme)[0] == "Add to Cart"
        page.screenshot(path=screenshots / f"storefront-{theme}-{product}.png")


def test_quantity_buttons_and_over_threshold(stores, page):
    shop, _ = stores()
    page.goto(f"{shop}/cornerstone-6/mug")
    wait_state(page, "backorder")
    page.fill("input[name='qty[]']", "10")
    page.click("[data-action=inc]")  # the theme's own + button: 11 of at most 10
    page.wait_for_function(
        "() => document.querySelector('.backorder-alert').textContent"
        " === 'Sorry, only 10 can be bought.'")


def test_api_down_leaves_the_page_working(stores, page, screenshots):
    shop, _ = stores(api_up=False)  # the script loads (the shop's copy); its API is gone
    page.goto(f"{shop}/cornerstone-6/mug")
    wait_state(page, "offline")
    assert button(page, "cornerstone-6") == ("Add to Cart", "rgb(31, 41, 55)", False)
    assert text_of(page, "description") == "" and text_of(page, "shipping") == ""
    page.click("#form-action-addToCart")
    assert page.locator("#cart-count").text_content() == "1"  # the theme still adds to cart
    page.screenshot(path=screenshots / "storefront-api-down.png")
    page.goto(f"{shop}/luma/tent")
    wait_state(page, "offline")
    assert page.is_visible(NATIVE_STOCK["luma"])  # the theme's own stock line stays


def test_hostile_merchant_text_is_shown_as_text(stores, page, screenshots):
    shop, _ = stores(storefront={"backorder_description": HOSTILE,
                                 "button_text": "<script>window.__pwned=2</script>"})
    page.goto(f"{shop}/cornerstone-6/mug")
    wait_state(page, "backorder")
    assert text_of(page, "description") == HOSTILE
    assert button(page, "cornerstone-6")[0] == "<script>window.__pwned=2</script>"
    assert page.locator(".backorder-description img, .backorder-description b").count() == 0
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=screenshots / "storefront-hostile-text.png")


def test_luma_dropdown_options(stores, page):
    """A configurable with dropdowns (configurable.js fills selected_configurable_option and
    leaves it when the choice is taken back): the choice shown is the one in the select."""
    shop, _ = stores()
    page.goto(f"{shop}/luma/mug?options=dropdown")
    page.wait_for_function("window.__backorder !== undefined")
    page.select_option("#attribute93", swatch_option("121"))
    wait_state(page, "in_stock")
    assert text_of(page, "description") == "5 in stock"
    page.select_option("#attribute93", swatch_option("120"))
    wait_state(page, "backorder")
    assert button(page, "luma") == ("Pre-order", ORANGE, True)
    page.select_option("#attribute93", "")  # no colour chosen: nothing to say
    wait_state(page, "unknown")
    assert text_of(page, "description") == "" and button(page, "luma")[0] == "Add to Cart"
