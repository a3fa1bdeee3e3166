"""Item commands: ``status``, ``assign``, ``unassign``, ``edit``, ``enable``, ``disable``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from backorder.commands.group import Context, main, pass_ctx
from backorder.commands.output import print_items
from backorder.commands.params import parse_date, parse_threshold, store_tz
from backorder.engine import ItemEdit
from backorder.models import POLICY_FIELDS, BackorderState, ItemInput


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
        fields["back_in_stock_date"] = parse_date(back_in_stock, tz)
    if mode is not None:
        fields["mode"] = mode
    if low_stock is not None:
        fields["low_stock_level"] = low_stock
    return fields


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--all", "show_all", is_flag=True, help="Unassigned items too.")
@pass_ctx
def status(obj: Context, as_json, show_all):
    """List items with stock, threshold, salable qty, status and ETA; then what is pending."""
    views = obj.service.items(assigned=None if show_all else True)
    print_items(views, as_json, obj.service.incoming.earliest(), tz=store_tz(obj.service))
    if as_json:
        return
    counts: dict[str, int] = {}
    for view in views:
        counts[view.status.value] = counts.get(view.status.value, 0) + 1
    summary = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in sorted(counts.items()))
    click.echo(f"\n{len(views)} item(s){': ' + summary if summary else ''}")
    backlog = {k: v for k, v in obj.service.outbox.backlog().items() if v}
    if backlog:
        pending = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in backlog.items())
        click.echo(f"pending: {pending}")


@main.command()
@click.argument("skus", nargs=-1, required=True)
@_settings_options
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def assign(obj: Context, skus, as_json, **opts):
    """Assign SKUS (with all variants of their products) to backorder."""
    fields = _given(store_tz(obj.service), **opts)
    entries = [ItemInput(sku=sku, **fields) for sku in skus] if fields else list(skus)
    print_items(obj.service.assign(entries), as_json, tz=store_tz(obj.service))


@main.command()
@click.argument("skus", nargs=-1, required=True)
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
@click.argument("sku")
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
@click.argument("skus", nargs=-1, required=True)
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
@click.argument("skus", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def disable(obj: Context, skus, as_json):
    """Switch backorder off for SKUS; they stay off until enabled by hand."""
    print_items(obj.service.disable(skus), as_json, tz=store_tz(obj.service))
