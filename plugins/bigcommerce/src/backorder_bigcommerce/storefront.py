"""The storefront script on BigCommerce, installed with the Scripts API, and the product
availability text kept in step with the store's storefront messages.

Scripts API (``/v3/content/scripts``; BigCommerce's scripts OpenAPI, ``script_Post``):
``kind: script_tag`` with ``html`` holding exactly one ``<script>`` tag (at most 65,536
characters), ``visibility: storefront`` (every storefront page; ``all_pages`` would need
the checkout scope), ``location: footer``, ``load_method: default`` (the tag's own
``defer`` applies), ``consent_category: essential`` (the shopper is told what they can
buy: it runs whatever their cookie consent), ``auto_uninstall: true`` (removed with the
app). A ``script_tag`` lets the tag carry ``data-store`` for backorder.js.

:func:`install` is idempotent: our script is found by its ``name``; a second install
changes nothing, a changed URL or store updates it in place, duplicates are deleted.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from backorder.config import StoreConfig
from backorder.errors import ConfigError
from backorder.models import ItemView
from backorder.storefront import storefront_messages
from backorder_bigcommerce import unconfirmed as u
from backorder_bigcommerce.client import BigCommerceClient
from backorder_bigcommerce.connection import Connection

SCRIPT_NAME = "backorder storefront messages"
PATH = "/v3/content/scripts"


def script_body(store: StoreConfig, conn: Connection) -> dict[str, Any]:
    """The script as BigCommerce stores it (POST and PUT take the same body)."""
    if not conn.storefront_api_url:
        raise ConfigError(
            f"store {store.name!r}: connection.storefront_api_url is not set (the public "
            "https URL of backorder serve, which serves /storefront/backorder.js)"
        )
    base = conn.storefront_api_url.rstrip("/")
    tag = (
        f'<script src="{html.escape(base)}/storefront/backorder.js" '
        f'data-store="{html.escape(store.name)}" data-api="{html.escape(base)}" '
        f'data-theme="{html.escape(_theme(store))}" defer></script>'
    )
    return {
        "name": SCRIPT_NAME,
        "description": "Backorder messages on product pages (backorder.js)",
        "html": tag,
        "kind": "script_tag",
        "load_method": "default",
        "location": "footer",
        "visibility": "storefront",
        "consent_category": "essential",
        "auto_uninstall": True,
        "enabled": True,
    }


def _theme(store: StoreConfig) -> str:
    return "cornerstone" if store.storefront.theme == "cornerstone" else ""


def ours(client: BigCommerceClient) -> list[dict[str, Any]]:
    """Our scripts on the store (normally one), found by name."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.request("GET", PATH, params={"page": page, "limit": u.SCRIPTS_PAGE_LIMIT})
        found += [s for s in body.get("data") or [] if s.get("name") == SCRIPT_NAME]
        pages = ((body.get("meta") or {}).get("pagination") or {}).get("total_pages") or 1
        if not body.get("data") or page >= pages:
            return found
        page += 1


def install(client: BigCommerceClient, store: StoreConfig, conn: Connection) -> str:
    """Create or update our script; ``created``, ``updated`` or ``unchanged``."""
    wanted = script_body(store, conn)
    found = ours(client)
    for extra in found[1:]:
        client.request("DELETE", f"{PATH}/{extra['uuid']}")
    if not found:
        client.request("POST", PATH, json=wanted)
        return "created"
    current = found[0]
    if all(current.get(k) == v for k, v in wanted.items()):
        return "unchanged"
    client.request("PUT", f"{PATH}/{current['uuid']}", json=wanted)
    return "updated"


def uninstall(client: BigCommerceClient) -> int:
    """Delete our script(s); returns how many."""
    found = ours(client)
    for script in found:
        client.request("DELETE", f"{PATH}/{script['uuid']}")
    return len(found)


def availability_texts(store: StoreConfig, views: list[ItemView]) -> Mapping[str, str]:
    """Each item's availability text from the store's own messages, for shoppers on themes
    without the script: the shipping description while on backorder (with the expected
    back-in-stock text when a date is known), else nothing."""
    # the text is all a theme without the script shows: the date, when known, always goes in
    settings = store.storefront.model_copy(update={"show_back_in_stock_date": True})
    texts = {}
    for view in views:
        messages = storefront_messages(view, settings, timezone=store.settings.timezone)
        on_backorder = bool(messages["button_text"] or messages["shipping_description"])
        text = messages["shipping_description"] or messages["inventory_description"]
        texts[view.sku] = text[:255] if on_backorder else ""
    return texts


def connection_of(store: StoreConfig) -> Connection:
    from backorder_bigcommerce.connection import connection

    return connection(store)
