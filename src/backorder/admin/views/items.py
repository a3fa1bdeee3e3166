"""Assign products (seed 001 §1, §2, §4): search and filter the catalog, select products
or variants, assign them with stock, threshold, incoming stock and back-in-stock date,
unassign them, edit one item. Each action is one :class:`StoreService` call, as the
CLI's ``assign``, ``unassign``, ``edit``, ``enable`` and ``disable``."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from backorder.admin import queries
from backorder.admin.forms import (
    MODE_CHOICES,
    STATUS_CHOICES,
    AssignForm,
    ItemForm,
    ItemListQuery,
    StockFields,
    UnassignForm,
    parse,
)
from backorder.admin.pages import Page, forbidden, store_page
from backorder.engine import ItemEdit
from backorder.errors import BackorderError, NotFound, UnknownItem
from backorder.models import ItemInput
from backorder.storage import records
from backorder.storefront import storefront_messages


def _start_of(day: dt.date | None, page: Page) -> dt.datetime | None:
    """A back-in-stock day means the start of that day in the store's time zone."""
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=page.tz).astimezone(dt.UTC)


def stock_fields(form: StockFields, page: Page) -> dict[str, Any]:
    """The :class:`ItemInput` fields a bulk assign sets (blank fields are left alone)."""
    fields: dict[str, Any] = {}
    if form.stock is not None:
        fields["on_hand"] = form.stock
    if form.threshold == "unlimited":
        fields["threshold"] = None
    elif form.threshold != "default":
        fields["threshold"] = form.threshold
    if form.incoming is not None:
        fields["incoming_qty"] = form.incoming
    if form.back_in_stock is not None:
        fields["back_in_stock_date"] = _start_of(form.back_in_stock, page)
    return fields


def _return_to(page: Page, given: str) -> str:
    base = f"{page.base}/items"
    return given if given.startswith(base) and "//" not in given[1:] else base


async def _list(page: Page, *, status: int = 200, errors: dict[str, str] | None = None,
                values: dict[str, Any] | None = None) -> Response:
    query, query_errors = parse(ItemListQuery, page.request.query_params)
    if query is None:
        query = ItemListQuery()
    size = page.ui.web.config.admin.page_size
    where = queries.ItemFilter(query.q, query.category, query.brand, query.assigned,
                               query.status)

    filtered = any((query.q, query.category, query.brand, query.assigned, query.status))

    def read():
        with page.service.db.read() as conn:
            rows, total = queries.item_page(
                conn, page.store, page.service.settings, where,
                offset=(query.page - 1) * size, limit=size, count=not filtered,
            )
            return (rows, total, queries.facets(conn, page.store, "category"),
                    queries.facets(conn, page.store, "brand"))

    rows, total, categories, brands = await page.run(read)
    return await page.render(
        "items.html",
        status=422 if query_errors else status,
        query=query,
        query_errors=query_errors,
        rows=rows[:size],
        total=total,
        more=len(rows) > size if total is None else query.page * size < total,
        pages=max(math.ceil(total / size), 1) if total is not None else None,
        categories=categories,
        brands=brands,
        status_choices=STATUS_CHOICES,
        errors=errors or {},
        values=values or {},
        return_to=f"{page.base}/items" + (f"?{page.request.url.query}"
                                          if page.request.url.query else ""),
    )


@store_page
async def items(page: Page) -> Response:
    return await _list(page)


def _form_values(page: Page) -> dict[str, Any]:
    assert page.form is not None
    return {k: v for k, v in page.form.items() if isinstance(v, str)} | {
        "sku": page.form.getlist("sku")
    }


async def _bulk(page: Page, model, act, done) -> Response:
    """A bulk action on the selected items: the form checked, one service call, back to
    the list (or the list again with the errors, nothing changed)."""
    assert page.form is not None
    form, errors = parse(model, page.form, lists=("sku",))
    if form is None:
        return await _list(page, status=422, errors=errors, values=_form_values(page))
    try:
        result = await page.run(act, form)
    except BackorderError as exc:
        return await _list(page, status=422, errors={"form": str(exc)},
                           values=_form_values(page))
    return page.redirect(_return_to(page, form.return_to), flash=done(form, result))


@store_page
async def assign(page: Page) -> Response:
    def act(form: AssignForm):
        fields = stock_fields(form, page)
        entries = [ItemInput(sku=sku, **fields) for sku in form.sku] if fields else form.sku
        return page.service.assign(entries)

    return await _bulk(
        page, AssignForm, act,
        lambda form, views: f"Assigned {len(form.sku)} item(s); {len(views)} now managed "
        "(a product's variants are assigned together).",
    )


@store_page
async def unassign(page: Page) -> Response:
    return await _bulk(
        page, UnassignForm, lambda form: page.service.unassign(form.sku, form.action),
        lambda form, _views: f"Unassigned {len(form.sku)} item(s) and their products' variants.",
    )


# --------------------------------------------------------------------------- one item
def _item_values(view, state, page: Page) -> dict[str, Any]:
    """The edit form filled with the item as it is (overrides shown, defaults blank)."""
    overrides = state.overrides
    date = view.back_in_stock_date
    threshold = overrides.get("threshold", "default")
    return {
        "stock": str(view.on_hand),
        "threshold": "" if threshold == "default" else (
            "unlimited" if threshold is None else str(threshold)),
        "incoming": str(view.incoming_qty),
        "back_in_stock": page.local(date, with_time=False) if date else "",
        "purchasable": not state.purchasing_disabled,
        "mode": overrides.get("mode", "default"),
        "low_stock": str(overrides["low_stock_level"]) if "low_stock_level" in overrides else "",
    }


def _edit_of(form: ItemForm, page: Page) -> ItemEdit:
    changes: dict[str, Any] = {
        "on_hand": form.stock,
        "incoming_qty": form.incoming,
        "back_in_stock_date": _start_of(form.back_in_stock, page),
        "purchasing_disabled": not form.purchasable,
    }
    use_default = []
    if form.threshold == "default":
        use_default.append("threshold")
    else:
        changes["threshold"] = None if form.threshold == "unlimited" else form.threshold
    if form.mode == "default":
        use_default.append("mode")
    else:
        changes["mode"] = form.mode
    if form.low_stock == "default":
        use_default.append("low_stock_level")
    else:
        changes["low_stock_level"] = form.low_stock
    return ItemEdit(use_default=use_default, **changes)


@store_page
async def item(page: Page) -> Response:
    sku = page.request.path_params["sku"]
    errors: dict[str, str] = {}
    status = 200
    if page.form is not None:
        action = page.form.get("action")
        try:
            if action in ("enable", "disable"):
                await page.run(getattr(page.service, action), [sku])
                word = "on" if action == "enable" else "off"
                return page.redirect(f"{page.base}/items/{quote(sku, safe='')}",
                                     flash=f"Backorder switched {word} for {sku}.")
            form, errors = parse(ItemForm, page.form)
            if form is not None:
                await page.run(page.service.edit, sku, _edit_of(form, page))
                return page.redirect(f"{page.base}/items/{quote(sku, safe='')}",
                                     flash=f"Saved {sku}.")
            status = 422
        except UnknownItem:
            return forbidden(page.ui, page.request, f"no item {sku!r}", page.user.name, 404)
        except BackorderError as exc:
            errors, status = {"form": str(exc)}, 422

    def read():
        view = page.service.item(sku)
        with page.service.db.read() as conn:
            loaded = records.load_items(conn, page.store, skus=[sku])[sku]
        eta = page.service.incoming.next_eta(sku)
        messages = storefront_messages(
            view, page.service.store.storefront, timezone=page.service.settings.timezone,
            next_eta=eta,
        )
        return view, loaded.item, messages

    try:
        view, state, messages = await page.run(read)
    except (UnknownItem, NotFound, KeyError):
        return forbidden(page.ui, page.request, f"no item {sku!r}", page.user.name, 404)
    values = _item_values(view, state, page)
    if page.form is not None and errors:
        values = {k: v for k, v in page.form.items() if isinstance(v, str)}
        values["purchasable"] = page.form.get("purchasable") is not None
    return await page.render(
        "item.html", status=status, item=view, state=state, messages=messages, errors=errors,
        values=values, mode_choices=MODE_CHOICES,
    )
