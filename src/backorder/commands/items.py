"""Item commands: ``status``, ``assign``, ``unassign``, ``edit``, ``enable``, ``disable``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from backorder.commands.group import Context, main, pass_ctx
from backorder.commands.output import item_json, print_items
from backorder.commands.params import SKU, parse_date, parse_threshold, store_tz
from backorder.engine import ItemEdit
from backorder.models import POLICY_FIELDS, BackorderState, ItemInput, Status


def _settings_options(func: Callable) -> Callable:
    options = [
        click.option("--stock", type=int, help="On-hand stock."),
        click.option("--threshold", help="Most units on backorder, or 'unlimited'."),
        click.option("--incoming", type=int, help="Incoming stock quantity."),
        click.option("--back-in-stock", help="Back-in-stock date (ISO 8601)."),
        click.option("--mode", type=click.Choice(["off", "silent", "notify"])),
        click.option("--low-stock", type=int, help="Low-stock level."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _given(tz, stock, threshold, incoming, back_in_stock, mode, low_stock) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if stock is not None:
        fields["on_hand"] = stock
    if threshold is not None:
        fields["threshold"] = parse_threshold(threshold)
    if incoming is not None:
        fields["incoming_qty"] = incoming
    if back_in_stock is not None:
        fields["back_in_stock_date"] = parse_date(back_in_stock, tz, "--back-in-stock")
    if mode is not None:
        fields["mode"] = mode
    if low_stock is not None:
        fields["low_stock_level"] = low_stock
    return fields


JSON_PAGE = 1000
"""Items read per query while ``status --json`` streams every match."""


@main.command()
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output: every matching item (streamed), or --limit.")
@click.option("--all", "show_all", is_flag=True, help="Unassigned items too.")
@click.option("--limit", type=click.IntRange(min=1), help="Items shown (default: 50; JSON: all).")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many first.")
@click.option("--status", "only_status", type=click.Choice([s.value for s in Status]),
              help="Only items with this status.")
@click.option("--search", help="Only items whose SKU or name contains this.")
@pass_ctx
def status(obj: Context, as_json, show_all, limit, offset, only_status, search):
    """A summary by status, then items (by SKU) with stock, threshold, salable qty, status
    and ETA, a page at a time; then what is pending."""
    from backorder.admin.queries import ItemFilter, item_page, status_expr, totals

    service = obj.reading()
    tz = store_tz(service)
    where = ItemFilter(
        search=search or "", assigned="" if show_all else "yes", status=only_status or ""
    )
    etas = service.incoming.earliest()
    if as_json:
        _stream_json(service, where, offset, limit, etas, tz)
        return
    shown = limit or 50
    with service.db.read() as conn:
        status = status_expr(conn, service.name, service.settings)
        summary = totals(conn, service.name, service.settings, status)
        rows, matching = item_page(
            conn, service.name, service.settings, where, offset=offset, limit=shown,
            status=status,
        )
    counts = {k: n for k, n in sorted(summary.statuses.items()) if n}
    line = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())
    click.echo(f"{summary.assigned_items} item(s){': ' + line if line else ''}")
    print_items([row.view for row in rows], False, etas, tz=tz)
    matching = matching or 0
    if len(rows) == matching:
        click.echo(f"{matching} item(s) match")
    else:
        end = offset + len(rows)
        more = f"; next: --offset {end} (or --limit, --status, --search, --json)"
        shown_range = f"{offset + 1}-{end}" if rows else "none"
        click.echo(f"showing {shown_range} of {matching}{more if end < matching else ''}")
    backlog = {k: v for k, v in obj.service.outbox.backlog().items() if v}
    if backlog:
        pending = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in backlog.items())
        click.echo(f"pending: {pending}")


def _stream_json(service, where, offset, limit, etas, tz) -> None:
    """Every matching item as one JSON list, written a page at a time (never all in memory)."""
    from backorder.admin.queries import item_page, status_expr

    with service.db.read() as conn:
        status = status_expr(conn, service.name, service.settings)
    click.echo("[", nl=False)
    first, done = True, 0
    while limit is None or done < limit:
        size = JSON_PAGE if limit is None else min(JSON_PAGE, limit - done)
        with service.db.read() as conn:
            rows, _ = item_page(
                conn, service.name, service.settings, where,
                offset=offset + done, limit=size, count=False, status=status,
            )
        page = rows[:size]
        for row in page:
            click.echo(("\n" if first else ",\n") + item_json(row.view, etas, tz), nl=False)
            first = False
        done += len(page)
        if len(rows) <= size:
            break
    click.echo("\n]")


@main.command()
@click.argument("skus", nargs=-1, required=True, type=SKU)
@_settings_options
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def assign(obj: Context, skus, as_json, **opts):
    """Assign SKUS (with all variants of their products) to backorder."""
    fields = _given(store_tz(obj.service), **opts)
    entries = [ItemInput(sku=sku, **fields) for sku in skus] if fields else list(skus)
    print_items(obj.service.assign(entries), as_json, tz=store_tz(obj.service))


@main.command()
@click.argument("skus", nargs=-1, required=True, type=SKU)
@click.option(
    "--action",
    type=click.Choice(["keep", "track", "not-purchasable"]),
    default="keep",
    help="track: platform tracks stock again; not-purchasable: stop selling.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def unassign(obj: Context, skus, action, as_json):
    """Stop managing SKUS (with all variants of their products); the event carries their
    stock data. Lists every item unassigned, the named ones' sibling variants too."""
    views = obj.service.unassign(skus, action.replace("-", "_"))
    print_items(views, as_json, tz=store_tz(obj.service))
    siblings = [v.sku for v in views if v.sku not in skus]
    if siblings and not as_json:
        click.echo(f"also unassigned, as variants of the same product: {', '.join(siblings)}")


@main.command()
@click.argument("sku", type=SKU)
@_settings_options
@click.option("--purchasable/--not-purchasable", default=None)
@click.option(
    "--out-of-stock-threshold",
    type=click.IntRange(min=0),
    help="With backorders off, units kept back: salable = stock - this.",
)
@click.option(
    "--use-default",
    multiple=True,
    type=click.Choice(POLICY_FIELDS),
    help="Let this setting follow the store default again (repeatable).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def edit(obj: Context, sku, purchasable, out_of_stock_threshold, use_default, as_json, **opts):
    """Change one item's stock, dates, purchasability or settings."""
    fields = _given(store_tz(obj.service), **opts)
    if purchasable is not None:
        fields["purchasing_disabled"] = not purchasable
    if out_of_stock_threshold is not None:
        fields["out_of_stock_threshold"] = out_of_stock_threshold
    print_items(
        [obj.service.edit(sku, ItemEdit(use_default=list(use_default), **fields))],
        as_json,
        tz=store_tz(obj.service),
    )


@main.command()
@click.argument("skus", nargs=-1, required=True, type=SKU)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def enable(obj: Context, skus, as_json):
    """Switch backorder on for SKUS by hand."""
    service = obj.service
    before = {sku: service.item(sku) for sku in skus}
    views = service.enable(skus)
    print_items(views, as_json, tz=store_tz(service))
    if as_json:
        return
    switch = service.settings.switch_condition
    for view in views:
        was = before[view.sku]
        if view.state is not was.state:
            continue
        if view.state is BackorderState.ENABLED:
            click.echo(f"{view.sku}: backorder was already on; nothing changed")
        elif view.on_hand > switch:
            click.echo(
                f"{view.sku}: nothing changed: on hand {view.on_hand} is above the store's "
                f"switch condition {switch}; backorder switches on by itself when it falls to it"
            )


@main.command()
@click.argument("skus", nargs=-1, required=True, type=SKU)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def disable(obj: Context, skus, as_json):
    """Switch backorder off for SKUS; they stay off until enabled by hand."""
    print_items(obj.service.disable(skus), as_json, tz=store_tz(obj.service))
