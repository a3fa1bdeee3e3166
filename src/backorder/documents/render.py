"""Documents from orders: a context, a sandboxed Jinja2 HTML template, then a renderer plugin.

``render_html`` is pure (orders + store config in, HTML out). ``render_bytes`` hands the
HTML to the ``backorder_render_document`` hook, so WeasyPrint (the built-in plugin) can
be replaced by any other renderer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from backorder.documents.data import DocOrder, DocumentError
from backorder.documents.settings import PACKING_SLIP_TOKENS, PICK_LIST_TOKENS
from backorder.documents.templating import (
    MessageTemplate,
    document_environment,
    render_template,
)
from backorder.eta import promise_text

if TYPE_CHECKING:
    from backorder.config import StoreConfig
    from backorder.plugins import PluginManager

BUILTIN_TEMPLATES = Path(__file__).with_name("templates")
"""The top-level ``templates/`` folder: a symlink in a checkout, real files in a wheel."""

KINDS = {
    "packing-slip": ("packing_slip.html", "Packing slip"),
    "pick-list": ("pick_list.html", "Pick list"),
    "invoice": ("invoice.html", "Invoice"),
}


def _environment(store: StoreConfig):
    settings = store.templates
    search = [settings.directory] if settings.directory else []
    if settings.directory and not settings.directory.is_dir():
        raise DocumentError(f"templates.directory: {settings.directory} is not a folder")
    return document_environment([*search, BUILTIN_TEMPLATES], settings.files, BUILTIN_TEMPLATES)


def _expected(line, store: StoreConfig) -> str:
    """When the backordered units come: their promised date, or why there is none."""
    if not line.backordered:
        return ""
    zone = ZoneInfo(store.settings.timezone)
    return promise_text(line.eta, line.eta_status, zone, store.storefront.date_format)


def _line(line, pick: MessageTemplate, store: StoreConfig) -> dict[str, Any]:
    data = line.model_dump()
    data["message"] = ""
    data["note"] = ""
    data["expected"] = _expected(line, store)
    if line.backordered:
        data["message"] = pick.render(
            cataloginventoryItemQty=line.stock_now,
            orderItemQtyBackordered=line.backordered,
            orderItemQtyOrdered=line.requested,
            orderItemQtyInStock=line.in_stock,
            orderItemSku=line.sku,
            orderItemName=line.name,
        )
        data["note"] = store.storefront.render(  # the seed's backorder note on the order
            "order_note",
            {
                "qty": line.requested,
                "in_stock": line.in_stock,
                "backordered": line.backordered,
                "stock": line.stock_now,
                "name": line.name,
                "sku": line.sku,
            },
        )
    return data


def build_context(
    kind: str, orders: Iterable[DocOrder], store: StoreConfig, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Plain data for a document template (dicts and lists only: nothing to call)."""
    if kind not in KINDS:
        raise DocumentError(f"unknown document {kind!r}; choose one of {', '.join(KINDS)}")
    settings = store.templates
    tz = ZoneInfo(store.settings.timezone)
    pick = MessageTemplate(
        "pick_list_message", settings.pick_list_message, PICK_LIST_TOKENS, "bracket"
    )
    slip = MessageTemplate(
        "packing_slip_message", settings.packing_slip_message, PACKING_SLIP_TOKENS
    )
    rows = []
    for order in orders:
        lines = [_line(line, pick, store) for line in order.lines]
        totals = {
            key: sum(line[key] for line in lines)
            for key in ("requested", "in_stock", "backordered")
        }
        # The slip's notice speaks of units still waiting for stock: a backordered unit
        # already released (its stock arrived, "ready to ship") is not among them.
        waiting = sum(
            line.backordered for line in order.lines if line.eta_status != "released"
        )
        rows.append(
            {
                "order_id": order.order_id,
                "placed_at": order.placed_at.astimezone(tz),
                "customer_email": order.customer_email or "",
                "lines": lines,
                **totals,
                "message": slip.render(
                    order_id=order.order_id, **{**totals, "backordered": waiting}
                )
                if waiting
                else "",
            }
        )
    return {
        "kind": kind,
        "title": KINDS[kind][1],
        "store": {"name": store.name, "platform": store.platform},
        "generated_at": (now or dt.datetime.now(dt.UTC)).astimezone(tz),
        "date_format": settings.date_format,
        "orders": rows,
        "backordered": sum(row["backordered"] for row in rows),
    }


def render_html(
    kind: str, orders: Iterable[DocOrder], store: StoreConfig, now: dt.datetime | None = None
) -> str:
    """The document as a complete HTML page, from the store's (or the built-in) template."""
    context = build_context(kind, orders, store, now)
    return render_template(_environment(store), KINDS[kind][0], context)


def render_bytes(pm: PluginManager, html: str, fmt: str = "pdf") -> bytes:
    """Ask the renderer plugins for ``fmt``; the first that can make it answers."""
    result = pm.hook.backorder_render_document(html=html, fmt=fmt)
    if result is None:
        raise DocumentError(
            f"no renderer plugin makes {fmt!r} (the built-in 'weasyprint' makes 'pdf')"
        )
    return result
