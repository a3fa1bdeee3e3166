"""What several commands print: JSON, and the item table with its ETA column."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from backorder.models import ItemView


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _fmt_qty(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def _eta(view: ItemView, etas: dict[str, dt.datetime], tz: dt.tzinfo) -> str:
    """When stock is next expected, the store's day: a receipt's date, else the item's
    back-in-stock date."""
    when = etas.get(view.sku) or (view.back_in_stock_date if view.incoming_qty else None)
    return local(when, tz).date().isoformat() if when else "-"


def local(when: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """``when`` in the store's time zone (a naive time from the database is UTC)."""
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(tz)


def _json_item(view: ItemView, etas: dict[str, dt.datetime], tz: dt.tzinfo) -> dict[str, Any]:
    return view.model_dump(mode="json", exclude={"policy"}) | {
        "eta": local(etas[view.sku], tz).isoformat() if view.sku in etas else None,
        "back_in_stock_date": local(view.back_in_stock_date, tz).isoformat()
        if view.back_in_stock_date
        else None,
    }


def item_json(view: ItemView, etas: dict[str, dt.datetime], tz: dt.tzinfo) -> str:
    """One item as the JSON ``print_items`` gives it (indented as an element of a list)."""
    text = json.dumps(_json_item(view, etas, tz), indent=2, default=str, ensure_ascii=False)
    return "\n".join("  " + line for line in text.splitlines())


def print_items(
    views: list[ItemView],
    as_json: bool,
    etas: dict[str, dt.datetime] | None = None,
    *,
    tz: dt.tzinfo = dt.UTC,
) -> None:
    """Items as a table (or JSON); ``etas`` is the next expected stock per SKU, if known.
    Dates are shown in ``tz`` (the store's), in JSON as ISO 8601 with its offset."""
    etas = etas or {}
    if as_json:
        print_json([_json_item(v, etas, tz) for v in views])
        return
    header = ("SKU", "NAME", "ON HAND", "THRESHOLD", "SALABLE", "STATUS", "BUYABLE", "ETA")
    rows = [header] + [
        (
            v.sku,
            v.name[:28],
            str(v.on_hand),
            _fmt_qty(v.threshold),
            _fmt_qty(v.salable),
            v.status.value,
            "yes" if v.purchasable else "no",
            _eta(v, etas, tz),
        )
        for v in views
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
