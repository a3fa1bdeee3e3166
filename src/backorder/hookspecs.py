"""The hook specifications a platform plugin implements.

A plugin is any module or object with functions named like these and decorated with
:data:`hookimpl`; it is found through the ``backorder`` entry-point group. Every hook
that concerns one store receives its :class:`~backorder.config.StoreConfig`; a plugin
answers only for the platforms it serves (``store.platform``) and returns ``None``
otherwise, so several platform plugins live side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from backorder.config import StoreConfig
    from backorder.dialects import CsvDialect
    from backorder.models import (
        CatalogItem,
        DomainEvent,
        ItemInput,
        ItemView,
        OrderIn,
        StockLevel,
    )
    from backorder.webhooks import WebhookEvent

__all__ = [
    "PROJECT",
    "backorder_apply_items",
    "backorder_csv_dialects",
    "backorder_fetch_catalog",
    "backorder_fetch_levels",
    "backorder_fetch_order",
    "backorder_notify",
    "backorder_parse_webhook",
    "backorder_platforms",
    "backorder_publish_storefront",
    "backorder_register_commands",
    "backorder_render_document",
    "backorder_translate_item",
    "hookimpl",
    "hookspec",
]

PROJECT = "backorder"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def backorder_platforms() -> Sequence[str]:
    """Name the platforms this plugin serves (the ``platform`` of a store's config).

    :return: platform names, e.g. ``["bigcommerce"]``.
    """


@hookspec(firstresult=True)
def backorder_translate_item(platform: str, fields: Mapping[str, Any]) -> ItemInput | None:
    """Turn an item described in a platform's own words into the core's :class:`ItemInput`.

    Used by ``simulate`` scenarios and imports, so the same scenario shape tests every
    platform (Magento ``backorders``/``min_qty``/``use_config_*``, Lightspeed ``Stock_Track``...).

    :param platform: the platform the fields belong to.
    :param fields: the item's fields as given; core fields may be mixed in.
    :return: the item, or ``None`` when ``platform`` is not this plugin's.
    :raises ValueError: the fields are contradictory; the message names the field.
    """


@hookspec(firstresult=True)
def backorder_fetch_catalog(store: StoreConfig) -> Sequence[CatalogItem] | None:
    """List every product and variant of the store's catalog.

    :param store: the store to read.
    :return: one :class:`CatalogItem` per SKU, or ``None`` when not this plugin's platform.
    """


@hookspec(firstresult=True)
def backorder_fetch_levels(store: StoreConfig, skus: Sequence[str]) -> Sequence[StockLevel] | None:
    """Read the platform's current stock for some SKUs (one-way sync into our ledger).

    :param store: the store to read.
    :param skus: the SKUs wanted; an empty sequence means all tracked SKUs.
    :return: the levels, or ``None`` when not this plugin's platform.
    """


@hookspec
def backorder_apply_items(store: StoreConfig, items: Sequence[ItemView], reason: str) -> None:
    """Push our decisions back to the platform: tracking, purchasability, limits, messages.

    Called after a change commits, with the items it changed.

    :param store: the store to update; ignore stores of other platforms.
    :param items: the items' computed state after the change.
    :param reason: what changed them: ``assign``, ``unassign``, ``unassign:track``,
        ``unassign:not_purchasable``, ``edit``, ``enable``, ``disable``, ``order``,
        ``stock``, ``tick``, ``catalog``.
    """


@hookspec(firstresult=True)
def backorder_fetch_order(store: StoreConfig, order_id: str) -> OrderIn | None:
    """Fetch one order with its lines from the platform.

    :param store: the store to read.
    :param order_id: the platform's order id.
    :return: the order, or ``None`` when not this plugin's platform.
    """


@hookspec(firstresult=True)
def backorder_parse_webhook(
    store: StoreConfig, headers: Mapping[str, str], body: bytes
) -> Sequence[WebhookEvent] | None:
    """Authenticate and parse one webhook delivery.

    :param store: the store the delivery is addressed to.
    :param headers: the HTTP headers as received (case-insensitive mapping).
    :param body: the raw request body.
    :return: what the delivery asks of us, or ``None`` when not this plugin's platform.
    :raises backorder.webhooks.WebhookRejected: authentication failed or the body is malformed;
        the message says which field.
    """


@hookspec
def backorder_publish_storefront(store: StoreConfig, sku: str, messages: Mapping[str, str]) -> None:
    """Publish the storefront messages of one item (availability text, button, cart notes).

    :param store: the store to update; ignore stores of other platforms.
    :param sku: the item.
    :param messages: message name to rendered text.
    """


@hookspec(firstresult=True)
def backorder_render_document(html: str, fmt: str) -> bytes | None:
    """Render a document's HTML into ``fmt`` (``"pdf"``...).

    :param html: the complete HTML document.
    :param fmt: the output format wanted.
    :return: the rendered bytes, or ``None`` when this renderer cannot make ``fmt``.
    """


@hookspec
def backorder_notify(store: StoreConfig, event: DomainEvent) -> None:
    """Deliver a domain event (assigned, backorder_enabled...) to people or systems.

    Called once per event after it commits; an exception leaves the event pending in the
    outbox to be retried.

    :param store: the store the event happened in.
    :param event: the event.
    """


@hookspec
def backorder_csv_dialects() -> Sequence[CsvDialect]:
    """Offer CSV dialects for import and export (a platform's own product CSV).

    :return: the dialects this plugin provides.
    """


@hookspec
def backorder_register_commands(cli: click.Group) -> None:
    """Add commands to the ``backorder`` CLI (e.g. ``backorder sandbox bigcommerce``).

    :param cli: the top-level click group; add commands or subgroups to it. The group
        ``cli.commands["sandbox"]`` holds one command per platform sandbox.
    """
