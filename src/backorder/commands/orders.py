"""``backorder order``: place an order from the command line."""

from __future__ import annotations

import sys

import click

from backorder.commands.group import Context, main, pass_ctx
from backorder.commands.output import print_json
from backorder.errors import Conflict
from backorder.models import LineRequest, OrderIn


def _same_lines_or_refuse(order_id: str, requests: list[LineRequest], result) -> None:
    """An order id already placed with other lines is a mistake, not a replay: refuse it,
    naming the difference (the stored order is unchanged either way)."""
    asked: dict[str, int] = {}
    for line in requests:
        asked[line.sku] = asked.get(line.sku, 0) + line.qty
    stored: dict[str, int] = {}
    for done in result.lines:
        stored[done.sku] = stored.get(done.sku, 0) + done.requested
    if asked == stored:
        return
    diff = ", ".join(
        f"{sku} {stored.get(sku, 0)} placed, {asked.get(sku, 0)} now"
        for sku in sorted(set(asked) | set(stored))
        if asked.get(sku, 0) != stored.get(sku, 0)
    )
    raise Conflict(
        f"order {order_id}: this id was already placed with other lines ({diff}); "
        "nothing changed (use a new order id)"
    )


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
    if result.duplicate:
        _same_lines_or_refuse(order_id, requests, result)
    if as_json:
        print_json(result.model_dump(mode="json"))
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
