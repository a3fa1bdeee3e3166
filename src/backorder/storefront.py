"""What a customer is told about an item (seed 001 §4.2): descriptions, button, cart alerts.

:func:`storefront_messages` is pure: an :class:`~backorder.models.ItemView`, the store's
:class:`StorefrontSettings` and optionally the quantity a customer adds to the cart give
the messages by name. Every message is a merchant-edited text with ``{token}``
placeholders (see :mod:`backorder.documents.templating`); an empty text shows nothing,
and a token whose value is unlimited or unknown renders empty, as the seed says.

With ``publish = true`` (the default) in a store's storefront settings, the messages of every item a
change touched are handed to the store's platform (``Platform.publish_storefront``) after
the change commits, through the push outbox (:func:`publish`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PrivateAttr, model_validator

from backorder.documents.templating import MessageTemplate
from backorder.models import ItemView, Mode, Status
from backorder.rules.availability import below_low_stock
from backorder.rules.ordering import NOTICE_TOKENS

if TYPE_CHECKING:
    from backorder.config import StoreConfig
    from backorder.platform import Platform

TOKENS = (
    "stock",  # on hand now, never below 0; empty for untracked items
    "threshold",  # most units on backorder; empty when unlimited
    "salable_qty",  # most units a customer can add to the cart; empty when unlimited
    "incoming_qty",
    "back_in_stock_date",  # formatted with date_format in the store's time zone
    "name",
    "sku",
    "qty",  # units the customer adds to the cart (cart messages)
    "in_stock",  # of those, served from stock
    "backordered",  # of those, on backorder
)

MESSAGE_FIELDS = (
    "in_stock_description",
    "low_stock_description",
    "backorder_description",
    "shipping_description",
    "back_in_stock_text",
    "button_text",
    "mixed_cart_alert",
    "over_threshold_alert",
    "cart_message",
    "order_note",
)


ORIGIN_PATTERN = r"^https?://[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?$"
"""A web origin as a browser sends it: scheme, host, optional port; no path."""

THEMES = ("cornerstone", "other")
"""Themes the web app offers (seed 001 §3: the store's theme, or "Other"); any name is kept."""


class StorefrontSettings(BaseModel):
    """The storefront template of seed 001 §4.2 (``[stores.NAME.storefront]`` in the config)."""

    model_config = ConfigDict(extra="forbid")

    theme: str = Field(default="cornerstone", max_length=64)
    """The storefront theme the store runs (seed 001 §3), for plugins placing messages."""
    publish: bool = True
    """Hand the messages of assigned items to the platform after every change (through the
    push outbox), where its plugin takes them; false keeps them to the storefront API."""
    in_stock_description: str = "{stock} in stock"
    low_stock_level: NonNegativeInt | None = None
    """Show the low-stock description when the stock drops below this (seed 001 §4.2.1);
    unset: the item's low-stock status."""
    low_stock_description: str = "Only {stock} left in stock"
    backorder_description: str = "Out of stock: available on backorder"
    shipping_description: str = "Ships as soon as it is back in stock."
    show_back_in_stock_date: bool = False
    """Append ``back_in_stock_text`` to the shipping description when a date is set."""
    back_in_stock_text: str = "Expected back in stock on {back_in_stock_date}."
    button_text: str = "Pre-order"
    button_color: str = Field(default="#b45309", pattern=r"^#(?:[0-9a-fA-F]{3}){1,2}$")
    mixed_cart_alert: str = "{qty} added to your cart, {backordered} of them on backorder."
    over_threshold_alert: str = "Sorry, only {salable_qty} can be bought."
    cart_message: str = "This item is on backorder and will ship as soon as it is back in stock."
    order_note: str = "{backordered} × {name} on backorder"
    backorder_notice: str | None = None
    """The message of a ``notify`` order line with units on backorder (tokens ``{name}``
    ``{sku}`` ``{qty}`` ``{in_stock}`` ``{backordered}``); unset: the platform's wording."""
    date_format: str = "%Y-%m-%d"
    show_stock: bool = False
    """The public storefront API tells the on-hand count (``stock``); off: it never does."""
    origins: list[Annotated[str, Field(pattern=ORIGIN_PATTERN)]] = Field(
        default_factory=list, max_length=50
    )
    """The storefront's web origins (``https://shop.example.com``) allowed to call the
    public storefront API from a browser (CORS); none: no browser may."""

    _templates: dict[str, MessageTemplate] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_tokens(self) -> StorefrontSettings:
        self._templates = {
            name: MessageTemplate(name, getattr(self, name), TOKENS) for name in MESSAGE_FIELDS
        }
        if self.backorder_notice is not None:
            self._templates["backorder_notice"] = MessageTemplate(
                "backorder_notice", self.backorder_notice, NOTICE_TOKENS
            )
        return self

    def render(self, name: str, values: Mapping[str, Any]) -> str:
        """Message ``name`` with its tokens filled in (an empty token leaves no stray space)."""
        return self._templates[name].render(values).strip()


def cart_split(view: ItemView, qty: int) -> tuple[int, int]:
    """Units of ``qty`` served from stock and on backorder (the order rule of the README)."""
    in_stock = min(qty, max(view.on_hand, 0)) if view.tracked else qty
    return in_stock, qty - in_stock


def _values(view: ItemView, settings: StorefrontSettings, tz: str, qty: int | None,
            next_eta: dt.datetime | None = None):
    when = next_eta or view.back_in_stock_date
    date = None if when is None else when.astimezone(ZoneInfo(tz)).strftime(settings.date_format)
    values: dict[str, Any] = {
        "stock": max(view.on_hand, 0) if view.tracked else None,
        "threshold": view.threshold,
        "salable_qty": view.salable,
        "incoming_qty": view.incoming_qty or None,
        "back_in_stock_date": date,
        "name": view.name or view.sku,
        "sku": view.sku,
    }
    if qty is not None:
        values["qty"] = qty
        values["in_stock"], values["backordered"] = cart_split(view, qty)
    return values


def storefront_messages(
    view: ItemView,
    settings: StorefrontSettings,
    *,
    qty: int | None = None,
    timezone: str = "UTC",
    next_eta: dt.datetime | None = None,
) -> dict[str, str]:
    """The messages for one item, by name; ``""`` means show nothing (clears a stale one).

    Always: ``inventory_description`` (in stock, low stock or backorder, by state),
    ``shipping_description``, ``button_text``, ``button_color``, ``cart_message``,
    ``order_note``, ``over_threshold_alert``. With ``qty``, also ``mixed_cart_alert``,
    and the cart messages only when ``qty`` puts units on backorder. Items in ``silent``
    mode never mention backorder (Magento's "do not tell customers").

    ``next_eta`` is the date a new backordered unit would get from the expected receipts
    (``StoreService.incoming.next_eta``); given, it is the ``{back_in_stock_date}`` shown,
    in place of the item's single back-in-stock date.
    """
    values = _values(view, settings, timezone, qty, next_eta)
    told = view.mode is Mode.NOTIFY and view.purchasable
    on_backorder = told and view.status is Status.BACKORDER
    if qty is not None:
        backordered = values["backordered"]
        within = view.salable is None or qty <= view.salable
        cart_backorder = told and view.assigned and backordered > 0 and within
    else:
        cart_backorder = on_backorder

    def say(name: str, when: bool = True) -> str:
        return settings.render(name, values) if when else ""

    messages = {
        "inventory_description": _inventory(view, settings, on_backorder, say),
        "shipping_description": _shipping(view, settings, values, on_backorder),
        "button_text": say("button_text", on_backorder),
        "button_color": settings.button_color if on_backorder else "",
        "cart_message": say("cart_message", cart_backorder),
        "order_note": say("order_note", cart_backorder and qty is not None),
        "over_threshold_alert": say(
            "over_threshold_alert",
            view.salable is not None and (qty is None or qty > view.salable),
        ),
    }
    if qty is not None:
        messages["mixed_cart_alert"] = say("mixed_cart_alert", cart_backorder)
    return messages


def _inventory(view, settings, on_backorder, say) -> str:
    if not view.purchasable:
        return ""
    if on_backorder:
        return say("backorder_description")
    if view.status is Status.BACKORDER or (view.tracked and view.on_hand <= 0):
        return ""  # silent mode: neither "on backorder" nor "0 in stock"
    if settings.low_stock_level is not None:
        low = view.tracked and below_low_stock(view.on_hand, settings.low_stock_level)
    else:
        low = view.status is Status.LOW_STOCK
    return say("low_stock_description" if low else "in_stock_description")


def _shipping(view, settings, values, on_backorder) -> str:
    if not on_backorder:
        return ""
    parts = [settings.render("shipping_description", values)]
    if settings.show_back_in_stock_date and values["back_in_stock_date"] is not None:
        parts.append(settings.render("back_in_stock_text", values))
    return " ".join(part for part in parts if part)


def publish(
    platform: Platform, store: StoreConfig, views: Sequence[ItemView], reason: str = ""
) -> dict[str, dict[str, str]]:
    """Compute and publish the messages of ``views`` through the store's platform.

    After a change only assigned items are published, and items an unassign just let go
    (their backorder messages are cleared).
    """
    leaving = reason.startswith("unassign")
    published = {}
    for view in views:
        if reason and not (view.assigned or leaving):
            continue
        messages = storefront_messages(view, store.storefront, timezone=store.settings.timezone)
        platform.publish_storefront(store, view.sku, messages)
        published[view.sku] = messages
    return published


__all__ = [
    "MESSAGE_FIELDS",
    "THEMES",
    "TOKENS",
    "StorefrontSettings",
    "cart_split",
    "publish",
    "storefront_messages",
]
