"""CLI commands: ``backorder sandbox magento``, ``backorder magento-repair-stock-status`` and
``backorder magento-order``."""

from __future__ import annotations

import click

from backorder_magento import PLATFORM


@click.command("magento")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8089, show_default=True, type=int)
@click.option("--token", default="sandbox-token", show_default=True, help="Bearer token.")
@click.option("--integration-as-bearer/--no-integration-as-bearer", default=True,
              show_default=True,
              help="oauth/consumer/enable_integration_as_bearer (off: the token gets 401).")
def sandbox_magento(host: str, port: int, token: str, integration_as_bearer: bool) -> None:
    """Serve a Magento 2 REST sandbox (REST root http://HOST:PORT/rest/default)."""
    from backorder.http import needs_extra

    with needs_extra("backorder-magento", "sandbox"):
        import uvicorn

    from backorder_magento.sandbox import SandboxStore, create_app

    click.echo(f"Magento sandbox: http://{host}:{port}/rest/default  (Bearer {token})")
    sandbox = SandboxStore(token=token, integration_as_bearer=integration_as_bearer)
    uvicorn.run(create_app(sandbox), host=host, port=port, log_level="warning")


@click.command("magento-repair-stock-status")
@click.option("--apply", is_flag=True, help="Set the stuck items in stock (default: dry run).")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, writable=True),
              help="Write the Magento import CSV of what is (or would be) changed.")  # fmt: skip
@click.option("--input", "csv_in", type=click.Path(exists=True, dir_okay=False),
              help="Read a Magento product CSV export instead of calling the API.")  # fmt: skip
@click.pass_context
def repair_stock_status(ctx, apply: bool, csv_out: str | None, csv_in: str | None) -> None:
    """Find items stuck at is_in_stock = 0 while backorders are allowed, and repair them."""
    from backorder.commands.params import check_writable
    from backorder.config import load_config
    from backorder_magento.connection import client_for, item_options
    from backorder_magento.repair import repair_from_csv, repair_via_api, write_csv

    check_writable(csv_out, "--csv")  # before --apply changes anything in Magento
    obj = ctx.find_root().obj
    store = load_config(getattr(obj, "config_path", None)).store(getattr(obj, "store_name", None))
    if store.platform != PLATFORM:
        raise click.UsageError(
            f"store {store.name!r} is on platform {store.platform!r}, not magento"
        )
    config = item_options(store)
    if csv_in:
        if apply:
            raise click.UsageError("--apply works on the API; with --input, import the --csv file")
        repairs = repair_from_csv(csv_in, config)
    else:
        with client_for(store) as client:
            repairs = repair_via_api(client, config, apply=apply)
    verb = "set in stock" if apply else "would set in stock"
    for repair in repairs:
        item = repair.item
        click.echo(f"{item.sku}: qty {float(item.qty or 0):g}, is_in_stock 0 -> 1 ({verb})")
    dry = "" if apply or csv_in else "; dry run, nothing changed (use --apply)"
    click.echo(f"{len(repairs)} item(s) stuck out of stock with backorders allowed{dry}")
    if csv_out:
        write_csv(repairs, csv_out)
        click.echo(f"wrote {csv_out}")


@click.command("magento-order")
@click.argument("order_id")
@click.pass_context
def magento_order(ctx, order_id: str) -> None:
    """Show a Magento order's items: qty ordered, canceled, shipped and refunded (Magento's
    own figures, ``GET /V1/orders/{id}``), beside what the core has booked for each line."""
    from backorder.config import load_config
    from backorder_magento.connection import client_for

    obj = ctx.find_root().obj
    store = load_config(getattr(obj, "config_path", None)).store(getattr(obj, "store_name", None))
    if store.platform != PLATFORM:
        raise click.UsageError(
            f"store {store.name!r} is on platform {store.platform!r}, not magento"
        )
    with client_for(store) as client:
        order = client.order(order_id)
    ours = {}
    try:
        service = obj.service
        with service.db.read() as conn:
            from backorder.storage import order_changes

            stored = order_changes.load(conn, service.name, str(order.get("entity_id", order_id)))
        if stored is not None:
            for _, counts in stored.lines.values():
                ours[counts.sku] = counts
    except Exception:  # no database configured: Magento's figures alone
        ours = {}
    click.echo(f"order {order.get('increment_id') or order_id} (entity {order.get('entity_id')})")
    for item in order.get("items", []):
        if item.get("parent_item_id"):
            continue
        figures = ", ".join(
            f"{name} {float(item.get(f'qty_{name}') or 0):g}"
            for name in ("ordered", "canceled", "shipped", "refunded")
        )
        line = f"  {item['sku']}: {figures}"
        mine = ours.get(item["sku"])
        if mine is not None:
            line += (f"; booked here: cancelled {mine.cancelled}, shipped {mine.shipped}, "
                     f"returned {mine.returned}")
        click.echo(line)
