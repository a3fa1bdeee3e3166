"""Settings (seed 000 §1, seed 001 §3 and §4.2): the switch condition, over-threshold
behaviour, store defaults, notifications and recipients; the storefront's theme and
every message, with a live preview rendered with an item's real tokens.

The form is checked whole by the same models the config file is (``StoreSettings``,
``StorefrontSettings``, ``NotificationSettings``); saved, the edited sections go to
:meth:`backorder.stores.StoreDirectory.save_sections` and the store's next request
runs with them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from backorder.admin import queries
from backorder.admin.forms import errors_of
from backorder.admin.pages import Page, store_page
from backorder.documents.templating import MessageTemplate, TemplateProblem
from backorder.errors import BackorderError, UnknownItem
from backorder.models import EventType, Mode, Status, StoreSettings
from backorder.notify.settings import DEFAULT_EVENTS, NotificationSettings
from backorder.storefront import (
    MESSAGE_FIELDS,
    THEMES,
    TOKENS,
    StorefrontSettings,
    storefront_messages,
)

MESSAGE_LABELS = {
    "in_stock_description": ("In-stock description", "Product page, while in stock."),
    "low_stock_description": ("Low-stock description", "Product page, at the low-stock level."),
    "backorder_description": ("Backorder description", "Product page, when out of stock."),
    "shipping_description": ("Shipping description", "Under the Add to Cart button."),
    "back_in_stock_text": ("Back-in-stock text", "Added to the shipping description."),
    "button_text": ("Add to Cart button text", "While the item is on backorder."),
    "mixed_cart_alert": ("Mixed cart alert", "Quantity above the stock."),
    "over_threshold_alert": ("Buying over threshold alert", "Quantity above salable qty."),
    "cart_message": ("Cart page message", "Cart lines on backorder."),
    "order_note": ("Backorder message (order note)", "Noted on the order."),
}
TOKEN_HELP = {
    "stock": "on hand now (never below 0)",
    "threshold": "the backorder threshold (empty when unlimited)",
    "salable_qty": "most a customer can add to the cart (empty when unlimited)",
    "incoming_qty": "incoming stock",
    "back_in_stock_date": "date the next backordered unit would get",
    "name": "product name",
    "sku": "SKU",
    "qty": "quantity added to the cart",
    "in_stock": "of those, from stock",
    "backordered": "of those, on backorder",
}
EVENT_LABELS = {
    EventType.ASSIGNED: "Product assigned",
    EventType.BACKORDER_ENABLED: "Backorder enabled",
    EventType.BACKORDER_DISABLED: "Backorder disabled",
    EventType.UNASSIGNED: "Product unassigned (stock data attached)",
    EventType.THRESHOLD_EXHAUSTED: "Threshold used up",
    EventType.ORDER_BACKORDERED: "Order with backordered items",
    EventType.ETA_CHANGED: "Promised date changed",
    EventType.ORDER_CANCELLED: "Order cancelled (some or all units)",
    EventType.ORDER_SHIPPED: "Order shipped (some or all units)",
    EventType.ORDER_RETURNED: "Order items returned",
}
MAX_MESSAGE = 2000


def _text(form: FormData, name: str, limit: int = MAX_MESSAGE) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _check(model: type[BaseModel], data: dict[str, Any], prefix: str, errors: dict[str, str]):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for name, message in errors_of(exc, prefix).items():
            errors.setdefault(name, message)
        return None


def read_storefront(
    form: FormData, current: StorefrontSettings, errors: dict[str, str]
) -> StorefrontSettings | None:
    """The storefront section as the form gives it; each message's token error on its field."""
    data = current.model_dump(mode="json")
    wrong = False
    for name in MESSAGE_FIELDS:
        text = _text(form, f"storefront.{name}")
        try:
            MessageTemplate(name, text, TOKENS)
        except TemplateProblem as exc:
            errors[f"storefront.{name}"] = exc.problem + (
                f" (line {exc.line})" if exc.line and "\n" in text else "")
            wrong = True
            continue  # the stored message stands in, so the other fields are checked too
        data[name] = text
    data["theme"] = _text(form, "storefront.theme", 64) or "other"
    data["button_color"] = _text(form, "storefront.button_color", 16).strip()
    data["date_format"] = _text(form, "storefront.date_format", 64) or "%Y-%m-%d"
    data["low_stock_level"] = _text(form, "storefront.low_stock_level", 16).strip() or None
    data["show_back_in_stock_date"] = form.get("storefront.show_back_in_stock_date") is not None
    data["publish"] = form.get("storefront.publish") is not None
    checked = _check(StorefrontSettings, data, "storefront.", errors)
    return None if wrong else checked


def read_sections(
    form: FormData, page: Page
) -> tuple[dict[str, dict[str, Any]] | None, dict[str, str]]:
    """Every section the form edits, validated; or the errors by field."""
    errors: dict[str, str] = {}
    store = page.service.store
    threshold = _text(form, "settings.defaults.threshold", 16).strip().lower()
    defaults = {
        **store.settings.defaults.model_dump(mode="json"),
        "mode": _text(form, "settings.defaults.mode", 16),
        "threshold": None if threshold in ("", "unlimited") else threshold,
        "low_stock_level": _text(form, "settings.defaults.low_stock_level", 16).strip() or 0,
    }
    settings = _check(StoreSettings, {
        **store.settings.model_dump(mode="json"),
        "switch_condition": _text(form, "settings.switch_condition", 16).strip(),
        "over_threshold": _text(form, "settings.over_threshold", 16),
        "timezone": _text(form, "settings.timezone", 64).strip(),
        "defaults": defaults,
    }, "settings.", errors)
    recipients = [
        line.strip() for line in _text(form, "notifications.recipients", 20_000)
        .replace(",", "\n").splitlines() if line.strip()
    ]
    bad = [r for r in recipients if r.count("@") != 1 or " " in r or r.startswith("@")
           or r.endswith("@")]
    if bad:
        errors["notifications.recipients"] = f"not an e-mail address: {bad[0]}"
    events = {e.value: form.get(f"notifications.events.{e.value}") is not None
              for e in EventType}
    notifications = _check(NotificationSettings, {
        **store.notifications.model_dump(mode="json"),
        "recipients": recipients, "events": events,
    }, "notifications.", errors)
    storefront = read_storefront(form, store.storefront, errors)
    if errors or settings is None or notifications is None or storefront is None:
        return None, errors
    edited_storefront = {"theme", "publish", "low_stock_level", "show_back_in_stock_date",
                         "button_color", "date_format", *MESSAGE_FIELDS}
    return {
        "settings": settings.model_dump(
            mode="json", include={"switch_condition", "over_threshold", "timezone", "defaults"}),
        "notifications": {"recipients": recipients, "events": events},
        "storefront": storefront.model_dump(mode="json", include=edited_storefront),
    }, {}


def form_values(page: Page, form: FormData | None) -> dict[str, Any]:
    """What the fields show: the submitted text after an error, else the store's settings."""
    if form is not None:
        values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        for name in ("storefront.show_back_in_stock_date", "storefront.publish",
                     *(f"notifications.events.{e.value}" for e in EventType)):
            values[name] = form.get(name) is not None
        return values
    store = page.service.store
    s, sf, n = store.settings, store.storefront, store.notifications
    values = {
        "settings.switch_condition": str(s.switch_condition),
        "settings.over_threshold": s.over_threshold,
        "settings.timezone": s.timezone,
        "settings.defaults.mode": s.defaults.mode.value,
        "settings.defaults.threshold": "unlimited" if s.defaults.threshold is None
        else str(s.defaults.threshold),
        "settings.defaults.low_stock_level": str(s.defaults.low_stock_level),
        "notifications.recipients": "\n".join(n.recipients),
        "storefront.theme": sf.theme,
        "storefront.button_color": sf.button_color,
        "storefront.date_format": sf.date_format,
        "storefront.low_stock_level": "" if sf.low_stock_level is None
        else str(sf.low_stock_level),
        "storefront.show_back_in_stock_date": sf.show_back_in_stock_date,
        "storefront.publish": sf.publish,
    }
    for name in MESSAGE_FIELDS:
        values[f"storefront.{name}"] = getattr(sf, name)
    for event in EventType:
        values[f"notifications.events.{event.value}"] = n.events.get(
            event, event in DEFAULT_EVENTS)
    return values


# ------------------------------------------------------------------------- preview
def preview_context(page: Page, form: FormData | None) -> dict[str, Any]:
    """The preview of the storefront messages for the chosen item and quantity."""
    service = page.service
    errors: dict[str, str] = {}
    storefront = (read_storefront(form, service.store.storefront, errors) if form is not None
                  else service.store.storefront)
    sku = (_text(form, "preview_sku", 255).strip() if form is not None else "") or None
    qty_text = _text(form, "preview_qty", 12).strip() if form is not None else ""
    qty = 1
    if qty_text:
        if not qty_text.isdigit() or not 1 <= int(qty_text) <= 1_000_000:
            errors["preview_qty"] = "enter a whole number from 1"
        else:
            qty = int(qty_text)
    if sku is None:
        with service.db.read() as conn:
            choices = queries.skus_for_preview(conn, page.store, "")
            sku = queries.first_with_status(conn, page.store, Status.BACKORDER.value) or (
                choices[0] if choices else None)
    else:
        with service.db.read() as conn:
            choices = queries.skus_for_preview(conn, page.store, "")
    context: dict[str, Any] = {
        "preview_sku": sku or "", "preview_qty": qty, "preview_errors": errors,
        "preview_choices": choices, "view": None, "messages": None,
    }
    if sku is None or storefront is None or "preview_qty" in errors:
        return context
    try:
        view = service.item(sku)
    except UnknownItem:
        errors["preview_sku"] = f"no item {sku!r} in this store"
        return context
    eta = service.incoming.next_eta(sku)
    messages = storefront_messages(
        view, storefront, qty=qty, timezone=service.settings.timezone, next_eta=eta
    )
    context.update(view=view, messages=messages, eta=page.local(eta, with_time=False) if eta
                   else "")
    return context


@store_page
async def preview(page: Page) -> Response:
    """The preview fragment, for the page's script (the form as it is being edited)."""
    context = await page.run(preview_context, page, page.form)
    return page.ui.render(page.request, "_preview.html", {
        **context, "page": page, "settings": page.service.settings,
    })


@store_page
async def settings(page: Page) -> Response:
    errors: dict[str, str] = {}
    if page.form is not None:
        sections, errors = read_sections(page.form, page)
        if sections is not None:
            try:
                await page.run(page.ui.web.stores.save_sections, page.store, sections)
            except BackorderError as exc:
                errors = {"form": str(exc)}
            else:
                return page.redirect(f"{page.base}/settings", flash="Settings saved.")
    context = await page.run(preview_context, page, page.form if errors else None)
    return await page.render(
        "settings.html",
        status=422 if errors else 200,
        errors=errors,
        values=form_values(page, page.form if errors else None),
        message_fields=[(name, *MESSAGE_LABELS[name]) for name in MESSAGE_FIELDS],
        tokens=TOKEN_HELP,
        themes=[(t, t.title()) for t in THEMES] + (
            [] if page.service.store.storefront.theme in THEMES
            else [(page.service.store.storefront.theme,) * 2]),
        modes=[m.value for m in Mode],
        events=[(e.value, EVENT_LABELS[e]) for e in EventType],
        installed=await page.run(page.ui.web.stores.is_installed, page.store),
        **context,
    )
