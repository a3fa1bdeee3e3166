"""The ``backorder`` command line: one store at a time, chosen with ``--store``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from backorder.config import ConfigError, load_config
from backorder.engine import ItemEdit, StoreService
from backorder.errors import BackorderError
from backorder.models import POLICY_FIELDS, ItemInput, ItemView, LineRequest, OrderIn
from backorder.plugins import PluginLoadError


class Context:
    def __init__(self, config_path: str | None, store: str | None, db_url: str | None):
        self.config_path, self.store_name, self.db_url = config_path, store, db_url
        self._service: StoreService | None = None

    @property
    def service(self) -> StoreService:
        if self._service is None:
            from backorder.plugins import get_manager
            from backorder.storage.db import Database

            config = load_config(self.config_path)
            store = config.store(self.store_name)
            self._service = StoreService(
                Database(self.db_url or config.database), store, pm=get_manager()
            )
        return self._service


pass_ctx = click.make_pass_decorator(Context)


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(2)


class Group(click.Group):
    """Turns the errors a user can fix into one clear line and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (BackorderError, ConfigError, ValueError, PluginLoadError) as exc:
            if isinstance(exc, ValidationError):
                exc = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            _fail(str(exc))


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _fmt_qty(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def _print_items(
    views: list[ItemView], as_json: bool, etas: dict[str, dt.datetime] | None = None
) -> None:
    """Items as a table (or JSON); ``etas`` is the next expected stock per SKU, if known."""
    etas = etas or {}
    if as_json:
        _json([
            v.model_dump(mode="json", exclude={"policy"})
            | {"eta": etas[v.sku].isoformat() if v.sku in etas else None}
            for v in views
        ])
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
            _eta(v, etas),
        )
        for v in views
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _eta(view: ItemView, etas: dict[str, dt.datetime]) -> str:
    """When stock is next expected: a receipt's date, else the item's back-in-stock date."""
    when = etas.get(view.sku) or (view.back_in_stock_date if view.incoming_qty else None)
    return when.date().isoformat() if when else "-"


def _threshold(value: str | None) -> int | None:
    if value is None or value.lower() == "unlimited":
        return None
    try:
        number = int(value)
    except ValueError:
        raise click.BadParameter("a whole number or 'unlimited'") from None
    if number < 0:
        raise click.BadParameter("must not be negative")
    return number


def _date(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


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


def _given(stock, threshold, incoming, back_in_stock, mode, low_stock) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if stock is not None:
        fields["on_hand"] = stock
    if threshold is not None:
        fields["threshold"] = _threshold(threshold)
    if incoming is not None:
        fields["incoming_qty"] = incoming
    if back_in_stock is not None:
        fields["back_in_stock_date"] = _date(back_in_stock)
    if mode is not None:
        fields["mode"] = mode
    if low_stock is not None:
        fields["low_stock_level"] = low_stock
    return fields


@click.group(cls=Group)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: backorder.toml, or $BACKORDER_CONFIG).",
)
@click.option("--store", help="Which configured store to work on.")
@click.option("--db", "db_url", help="Database URL, overriding the config.")
@click.version_option(package_name="backorder")
@click.pass_context
def main(ctx, config_path, store, db_url):
    """Keep selling when stock runs out, under rules you control."""
    ctx.obj = Context(config_path, store, db_url)


@main.command()
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False))
def simulate(scenario):
    """Run a what-if SCENARIO (YAML or JSON) on a throwaway database; print JSON."""
    from backorder.plugins import get_manager
    from backorder.simulate import load_scenario
    from backorder.simulate import simulate as run

    _json(run(load_scenario(scenario), get_manager(), scenario))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--all", "show_all", is_flag=True, help="Unassigned items too.")
@pass_ctx
def status(obj: Context, as_json, show_all):
    """List items with stock, threshold, salable qty, status and ETA; then what is pending."""
    views = obj.service.items(assigned=None if show_all else True)
    _print_items(views, as_json, obj.service.incoming.earliest())
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
    fields = _given(**opts)
    entries = [ItemInput(sku=sku, **fields) for sku in skus] if fields else list(skus)
    _print_items(obj.service.assign(entries), as_json)


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
    """Stop managing SKUS; the event carries their stock data."""
    _print_items(obj.service.unassign(skus, action.replace("-", "_")), as_json)


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
    fields = _given(**opts)
    if purchasable is not None:
        fields["purchasing_disabled"] = not purchasable
    if out_of_stock_threshold is not None:
        fields["out_of_stock_threshold"] = out_of_stock_threshold
    _print_items(
        [obj.service.edit(sku, ItemEdit(use_default=list(use_default), **fields))], as_json
    )


@main.command()
@click.argument("skus", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def enable(obj: Context, skus, as_json):
    """Switch backorder on for SKUS by hand."""
    _print_items(obj.service.enable(skus), as_json)


@main.command()
@click.argument("skus", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def disable(obj: Context, skus, as_json):
    """Switch backorder off for SKUS; they stay off until enabled by hand."""
    _print_items(obj.service.disable(skus), as_json)


@main.command()
@click.argument("order_id")
@click.argument("lines", nargs=-1, required=True, metavar="SKU=QTY...")
@click.option("--email", help="Customer e-mail.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def order(obj: Context, order_id, lines, email, as_json):
    """Place an order: each line split into in-stock and backordered units."""
    requests = []
    for text in lines:
        sku, _, qty = text.rpartition("=")
        if not sku or not qty.isdigit():
            raise click.BadParameter(f"{text!r}: write lines as SKU=QTY")
        requests.append(LineRequest(sku=sku, qty=int(qty)))
    result = obj.service.place_order(
        OrderIn(order_id=order_id, lines=requests, customer_email=email)
    )
    if as_json:
        _json(result.model_dump(mode="json"))
    else:
        verdict = "accepted" if result.accepted else "refused"
        click.echo(f"order {order_id}: {verdict}{' (already placed)' if result.duplicate else ''}")
        for line in result.lines:
            click.echo(
                f"  {line.sku}: {line.requested} requested, {line.in_stock} in stock, "
                f"{line.backordered} backordered" + (f"  [{line.error}]" if line.error else "")
            )
    if not result.accepted:
        sys.exit(1)


@main.command()
@click.option("--now", help="Pretend it is this time (ISO 8601).")
@pass_ctx
def tick(obj: Context, now):
    """Apply timed rules (back-in-stock dates); safe to run from cron."""
    events = obj.service.tick(_date(now))
    click.echo(f"{len(events)} event(s)")
    for event in events:
        click.echo(f"  {event.type.value} {event.sku or ''} {event.reason or ''}".rstrip())


@main.command()
@click.option("--json", "as_json", is_flag=True)
def plugins(as_json):
    """List loaded plugins, the platforms they serve and the hooks they implement."""
    from backorder.plugins import describe, get_manager

    rows = describe(get_manager())
    if as_json:
        _json(rows)
        return
    for row in rows:
        origin = f" ({row['distribution']})" if row["distribution"] else ""
        serves = f" platforms: {', '.join(row['platforms'])};" if row["platforms"] else ""
        click.echo(f"{row['name']}{origin}:{serves} hooks: {', '.join(row['hooks'])}")


@main.command()
@click.option("--fresh", is_flag=True, help="Start over with an empty demo database.")
@click.pass_context
def demo(ctx, fresh):
    """Run the demo store: assign, sell into backorder, use up a threshold, receive stock."""
    from backorder.demo import run_demo

    obj: Context = ctx.obj
    if obj.db_url is None and obj.config_path is None and not Path("backorder.toml").exists():
        obj.db_url = "sqlite:///backorder-demo.db"
        if fresh:
            Path("backorder-demo.db").unlink(missing_ok=True)
    run_demo(obj.service, click.echo)
    click.echo("")
    service = obj.service
    _print_items(service.items(assigned=True), False, service.incoming.earliest())


# Commands that live in their own modules register here, one line each.
import backorder.cli_documents  # noqa: E402  (storefront, render)
import backorder.cli_incoming  # noqa: E402  (receipt, fulfil-queue)
import backorder.cli_operations  # noqa: E402,F401  (import, export, report, serve, tick)


@main.command()
@pass_ctx
def sync(obj: Context):
    """Pull the platform's catalog and stock levels into the ledger (platform -> us)."""
    new, changed = obj.service.sync_from_platform()
    click.echo(f"{new} new item(s), stock changed for {changed}")


@main.group()
def sandbox():
    """Run a platform sandbox (a local stand-in for a platform's API)."""


def _register_plugin_commands() -> None:
    from backorder.plugins import PluginLoadError, get_manager

    try:
        get_manager().add_commands(main)
    except PluginLoadError as exc:  # say so once; commands that need plugins fail clearly
        click.secho(f"warning: {exc}", fg="yellow", err=True)


_register_plugin_commands()
