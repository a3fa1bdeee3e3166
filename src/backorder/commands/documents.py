"""Storefront messages and documents: ``backorder storefront`` and ``backorder render``."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from backorder.commands.group import Context, main, pass_ctx
from backorder.commands.params import SKU, check_writable
from backorder.documents.render import KINDS
from backorder.models import MAX_QTY

# WeasyPrint reports "Step 5 - Creating layout - Page N" on this logger while it lays out.
_PROGRESS_LOGGER = "weasyprint.progress"


@main.command()
@click.argument("sku", type=SKU)
@click.option(
    "--qty", type=click.IntRange(min=1, max=MAX_QTY), help="Units a customer adds to the cart."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--publish", is_flag=True, help="Also hand them to the platform (backorder_publish_storefront)."
)
@pass_ctx
def storefront(obj: Context, sku, qty, as_json, publish):
    """Print the storefront messages of SKU (descriptions, button, cart alerts)."""
    from backorder.storefront import storefront_messages

    service = obj.reading()
    view = service.item(sku)
    messages = storefront_messages(
        view, service.store.storefront, qty=qty, timezone=service.settings.timezone,
        next_eta=service.incoming.next_eta(sku) if view.assigned else None,
    )
    if publish:
        service.platform.publish_storefront(service.store, sku, messages)
    if as_json:
        data = {"sku": sku, "status": view.status.value, "qty": qty, "messages": messages}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"{sku} ({view.status.value}{f', qty {qty}' if qty else ''})")
    width = max(len(name) for name in messages)
    for name, text in messages.items():
        if name == "over_threshold_alert" and text and qty is None:
            # the text a platform shows when too many are added: without --qty none are
            text = f"(when more than {view.salable} are added) {text}"
        click.echo(f"  {name.ljust(width)}  {text or '-'}")


class _PageCounter(logging.Handler):
    def __init__(self, bar) -> None:
        super().__init__(logging.INFO)
        self.bar = bar

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if record.msg.startswith("Step 5 - Creating layout - Page") and isinstance(args, tuple):
            page = int(str(args[0]))
            if page > self.bar.pos:
                self.bar.update(page - self.bar.pos)


@contextmanager
def _page_progress() -> Iterator[None]:
    """A progress bar counting pages as the renderer lays them out (total unknown till done)."""
    logger = logging.getLogger(_PROGRESS_LOGGER)
    # A generator has no length hint: the bar shows "Page 3", never "3/0" (an empty
    # tuple's iterator hints a length of 0).
    nothing: tuple[int, ...] = ()
    pages: Iterator[int] = (page for page in nothing)
    with click.progressbar(
        pages, label="Laying out pages", show_pos=True, file=sys.stderr
    ) as bar:
        handler, level = _PageCounter(bar), logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)


def _todays_promises(service, orders) -> None:
    """Give each backordered line the date promised today, worked out (not stored): the
    stored one may be older than the stock and receipts it depends on."""
    from backorder.errors import NotFound

    skus = {line.sku for order in orders for line in order.lines if line.backordered}
    allocations = {}
    for sku in sorted(skus):
        try:
            allocations[sku] = service.incoming.allocation(sku)
        except NotFound:  # no longer in the catalog: the stored date stands
            continue
    for order in orders:
        for line in order.lines:
            found = allocations.get(line.sku)
            if found is None:
                continue
            for dated in found.lines:
                if (dated.order_id, dated.line_no) == (order.order_id, line.line_no):
                    line.eta, line.eta_status = dated.eta, dated.status.value


@main.command()
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("order_ids", nargs=-1, metavar="ORDER_ID...")
@click.option("--all", "all_orders", is_flag=True, help="Every order of the store, oldest first.")
@click.option("--pdf", "pdf_out", type=click.Path(dir_okay=False), help="Write a PDF to this file.")
@click.option(
    "--html", "html_out", type=click.Path(dir_okay=False), help="Write the HTML to this file."
)
@pass_ctx
def render(obj: Context, kind, order_ids, all_orders, pdf_out, html_out):
    """Render a packing slip, pick list or invoice for ORDER_IDs (HTML on stdout, or --pdf).

    Many orders make one document: a batch pick list, or one slip or invoice per order.
    """
    from backorder.documents.data import all_order_ids, iter_orders
    from backorder.documents.render import render_bytes, render_html
    from backorder.plugins import get_manager

    if not order_ids and not all_orders:
        raise click.UsageError("name at least one ORDER_ID, or use --all")
    check_writable(pdf_out, "--pdf")
    check_writable(html_out, "--html")
    obj.stdout_is_data = not (pdf_out or html_out)  # the HTML itself on stdout
    service = obj.reading()
    with service.db.read() as conn:  # a command that shows things never writes
        ids = list(dict.fromkeys(order_ids)) + (
            all_order_ids(conn, service.name) if all_orders else []
        )
        if not ids:
            raise click.UsageError(f"store {service.name!r} has no orders to render")
        with click.progressbar(length=len(ids), label="Reading orders", file=sys.stderr) as bar:
            orders = list(iter_orders(conn, service.name, ids, progress=bar.update))
    _todays_promises(service, orders)
    html = render_html(kind, orders, service.store)
    backordered = sum(order.backordered for order in orders)
    what = f"{KINDS[kind][1].lower()} for {len(orders)} order(s), {backordered} unit(s) backordered"
    if html_out:
        Path(html_out).write_text(html, encoding="utf-8")
        click.echo(f"wrote {html_out}: {what}")
    if pdf_out:
        with _page_progress():
            pdf = render_bytes(service.pm or get_manager(), html, "pdf")
        Path(pdf_out).write_bytes(pdf)
        click.echo(f"wrote {pdf_out}: {what}")
    elif not html_out:
        click.echo(html)
