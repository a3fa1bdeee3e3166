"""``backorder order``, ``cancel``, ``ship`` and ``return``: orders from the command line."""

from __future__ import annotations

import sys

import click

from backorder.commands.group import Context, main, pass_ctx
from backorder.commands.output import print_json
from backorder.commands.params import check_sku
from backorder.errors import InvalidInput
from backorder.lifecycle import OrderChange
from backorder.models import LineRequest, OrderIn


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
            raise click.BadParameter(f"{text[:40]!r}: write lines as SKU=QTY")
        requests.append(LineRequest(sku=check_sku(sku), qty=int(qty)))
    result = obj.service.place_order(
        OrderIn(order_id=order_id, lines=requests, customer_email=email)
    )
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


def _change_lines(order_id: str, texts: tuple[str, ...]) -> dict[str, int] | None:
    """``SKU=QTY`` arguments as ``{sku: qty}`` (None when none are given)."""
    if not texts:
        return None
    out: dict[str, int] = {}
    for text in texts:
        sku, _, qty = text.rpartition("=")
        try:
            units = int(qty)
        except ValueError:
            units = None
        if not sku or units is None:
            raise InvalidInput(f"order {order_id}: {text[:40]!r}: write lines as SKU=QTY")
        out[check_sku(sku)] = out.get(sku, 0) + units
    return out


def _show_change(change: OrderChange, as_json: bool) -> None:
    if as_json:
        print_json(change.model_dump(mode="json"))
        return
    done = {"cancel": "cancelled", "ship": "shipped", "return": "returned"}[change.kind]
    units = sum(line.changed for line in change.lines)
    again = " (already applied: the first answer)" if change.duplicate else ""
    click.echo(f"order {change.order_id}: {units} unit(s) {done}{again}")
    for line in change.lines:
        click.echo(
            f"  line {line.line_no} {line.sku}: ordered {line.ordered}, cancelled "
            f"{line.cancelled}, shipped {line.shipped}, returned {line.returned}; left: "
            f"{line.in_stock} in stock, {line.backordered} backordered ({line.status})"
        )


_LINES = click.argument("lines", nargs=-1, metavar="[SKU=QTY...]")
_KEY = click.option("--key", help="Idempotency key: the same key again changes nothing.")
_JSON = click.option("--json", "as_json", is_flag=True)


@main.command()
@click.argument("order_id")
@_LINES
@_KEY
@_JSON
@pass_ctx
def cancel(obj: Context, order_id, lines, key, as_json):
    """Cancel units of an order (no SKU=QTY: every unit not yet shipped); stock goes back."""
    change = obj.service.cancel(order_id, _change_lines(order_id, lines), key=key)
    _show_change(change, as_json)


@main.command()
@click.argument("order_id")
@_LINES
@_KEY
@_JSON
@pass_ctx
def ship(obj: Context, order_id, lines, key, as_json):
    """Ship units in stock or released (no SKU=QTY: all that can ship now)."""
    change = obj.service.ship(order_id, _change_lines(order_id, lines), key=key)
    _show_change(change, as_json)


@main.command("return")
@click.argument("order_id")
@click.argument("lines", nargs=-1, required=True, metavar="SKU=QTY...")
@click.option("--restock/--no-restock", required=True,
              help="Put the returned units back on hand, or not (damaged).")
@_KEY
@_JSON
@pass_ctx
def return_(obj: Context, order_id, lines, restock, key, as_json):
    """Take back shipped units of an order."""
    wanted = _change_lines(order_id, lines) or {}
    change = obj.service.return_items(order_id, wanted, restock=restock, key=key)
    _show_change(change, as_json)
