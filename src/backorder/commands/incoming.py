"""``backorder receipt`` and ``backorder fulfil-queue``: expected stock and who ships first."""

from __future__ import annotations

import datetime as dt
import json

import click

from backorder.commands.group import Context, main, pass_ctx
from backorder.commands.output import local
from backorder.commands.params import SKU, parse_date, store_tz
from backorder.models import MAX_QTY
from backorder.rules.allocation import Allocation


def _show(
    allocation: Allocation, sku: str, as_json: bool, tz: dt.tzinfo, counts: dict | None = None
) -> None:
    """``counts``: (order id, line no) -> the line's totals, for ``fulfil-queue``."""
    if as_json:
        data = allocation.model_dump(mode="json")
        for line in data["lines"]:
            found = (counts or {}).get((line["order_id"], line["line_no"]))
            if found is not None:
                line |= {"ordered": found.ordered, "cancelled": found.cancelled,
                         "shipped": found.shipped}
        click.echo(json.dumps(data, indent=2))
        return
    if not allocation.lines:
        click.echo(f"{sku}: no backordered order lines")
    for rank, line in enumerate(allocation.lines, start=1):
        when = {
            "released": "ready to ship",
            "no_date": "waiting, no receipt covers it yet",
        }.get(line.status.value) or f"waiting, expected {line.eta and local(line.eta, tz).date()}"
        found = (counts or {}).get((line.order_id, line.line_no))
        done = (
            f"ordered {found.ordered}, cancelled {found.cancelled}, shipped {found.shipped}; "
            if found is not None else ""
        )
        click.echo(
            f"{rank:>3}. order {line.order_id} line {line.line_no} "
            f"(placed {local(line.placed_at, tz).date().isoformat()}): {done}"
            f"{line.backordered} backordered, {line.released} released, "
            f"{line.waiting} waiting: {when}"
        )
    promised = ", ".join(f"{ref} {qty}" for ref, qty in allocation.promised.items())
    if promised:
        click.echo(f"promised from receipts: {promised}")
    nxt = local(allocation.next_eta, tz).date().isoformat() if allocation.next_eta else "no date"
    click.echo(f"a new backorder today would be expected: {nxt}")


@main.command("fulfil-queue")
@click.argument("sku", type=SKU)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def fulfil_queue(obj: Context, sku, as_json):
    """The order in which SKU's backordered lines ship (oldest first), and what still waits."""
    service = obj.reading()
    allocation = service.incoming.allocation(sku)
    _show(allocation, sku, as_json, store_tz(service), service.lifecycle.line_counts(sku))


@main.command()
@click.argument("sku", type=SKU)
@click.argument("ref")
@click.option(
    "--qty", type=click.IntRange(min=0, max=MAX_QTY), help="Units expected (or received)."
)
@click.option("--expected", help="Expected date (ISO 8601).")
@click.option("--arrived", is_flag=True, help="The receipt is here: book its units.")
@click.option("--cancel", is_flag=True, help="The receipt will not come.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def receipt(obj: Context, sku, ref, qty, expected, arrived, cancel, as_json):
    """Record an expected receipt REF of SKU (a purchase order), its arrival or cancellation."""
    incoming = obj.service.incoming
    if arrived and cancel:
        raise click.UsageError("--arrived and --cancel exclude each other")
    if arrived:
        allocation = incoming.arrive(sku, ref, qty)
    elif cancel:
        allocation = incoming.cancel(sku, ref)
    else:
        expected_at = parse_date(expected, store_tz(obj.service), "--expected")
        if qty is None or expected_at is None:
            raise click.UsageError("an expected receipt needs --qty and --expected")
        allocation = incoming.expect(sku, ref, qty, expected_at)
    _show(allocation, sku, as_json, store_tz(obj.service))
