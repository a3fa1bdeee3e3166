"""CLI: ``backorder sandbox lightspeed_ecom`` and ``backorder lightspeed-ecom ...``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from backorder.engine import ItemEdit
from backorder_lightspeed_ecom.client import LightspeedClient
from backorder_lightspeed_ecom.csv_dialect import read_csv, write_csv


@click.command("lightspeed_ecom")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8766, show_default=True, type=int)
@click.option("--key", default="sandbox-key", show_default=True, help="API key to accept.")
@click.option("--secret", default="sandbox-secret", show_default=True, help="API secret.")
def sandbox_command(host, port, key, secret):
    """Run a local Lightspeed eCom API with a demo shop (Basic auth KEY:SECRET)."""
    from backorder_lightspeed_ecom.sandbox import serve

    click.echo(f"Lightspeed eCom sandbox on http://{host}:{port}/en/variants.json")
    serve(host, port, key, secret)


@click.group("lightspeed-ecom")
def lightspeed_group():
    """Lightspeed eCom: catalog sync, orders, webhooks and the product CSV."""


@lightspeed_group.command("sync")
@click.pass_obj
def sync_command(obj):
    """Pull variants with their stockTracking; new ones take the shop default."""
    from backorder_lightspeed_ecom.sync import sync_catalog

    service = obj.service
    with LightspeedClient.for_store(service.store) as client:
        report = sync_catalog(service, client)
    click.echo(f"{report.new} new item(s), stock changed for {report.levels_changed}")
    for sku in report.defaulted:
        click.echo(f"  {sku}: new variant, backorders allowed by the shop default")


@lightspeed_group.command("webhooks")
@click.option("--ensure", is_flag=True, help="Register missing hooks, reactivate inactive ones.")
@click.option(
    "--address",
    help="Where Lightspeed delivers (default: connection.webhook_address), e.g. "
    "https://example.com/webhooks/shop.",
)
@click.pass_obj
def webhooks_command(obj, ensure, address):
    """List the shop's webhooks and check the ones backorder needs (variants, orders).

    Exits with status 1 when one is missing or inactive and --ensure was not given.
    """
    from backorder_lightspeed_ecom import hook_registration as hooks
    from backorder_lightspeed_ecom.client import connection_of

    store = obj.service.store
    address = address or connection_of(store).webhook_address
    if not address:
        raise ValueError(
            f"store {store.name!r}: connection.webhook_address: not set (the URL of backorder "
            "serve's /webhooks/STORE), and no --address given"
        )
    with LightspeedClient.for_store(store) as client:
        if ensure:
            checks = hooks.ensure(client, address)
        else:
            checks = hooks.check(client.webhooks(), address)
        registered = client.webhooks()
    for hook in registered:
        state = "active" if hook.isActive else "inactive"
        click.echo(
            f"hook {hook.id}: {hook.itemGroup} ({hook.itemAction}) {hook.format} {state} "
            f"-> {hook.address}"
        )
    for item in checks:
        where = f" (hook {item.hook.id})" if item.hook else ""
        done = f", {item.repaired}" if item.repaired else ""
        click.echo(f"{item.group}: {item.state}{where}{done}")
    if not ensure and any(item.state != "ok" for item in checks):
        click.echo("run again with --ensure to repair", err=True)
        raise SystemExit(1)


@lightspeed_group.command("order")
@click.argument("order_id")
@click.pass_obj
def order_command(obj, order_id):
    """Record a Lightspeed order through the rules (computes each line's backordered qty)."""
    from backorder_lightspeed_ecom.sync import record_order

    obj.stdout_is_data = True  # the recorded order as JSON: the store header goes to stderr
    with LightspeedClient.for_store(obj.service.store) as client:
        recorded = record_order(obj.service, client, order_id)
    out = recorded.result.model_dump(mode="json")
    for line in out["lines"]:
        line["expected_shipping"] = recorded.shipping.get(line["line_no"], "")
    click.echo(json.dumps(out, indent=2))


@lightspeed_group.command("export-csv")
@click.option("--language", default="EN", show_default=True)
@click.pass_obj
def export_command(obj, language):
    """Write the items as a Lightspeed product CSV to stdout."""
    from backorder_lightspeed_ecom.csv_dialect import LightspeedCsv

    obj.stdout_is_data = True  # the CSV: the store header goes to stderr
    click.echo(write_csv(obj.service.items(), LightspeedCsv(language)), nl=False)


@lightspeed_group.command("import-csv")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--check", is_flag=True, help="Only validate the file (e.g. before a Lightspeed import)."
)
@click.pass_obj
def import_command(obj, path, check):
    """Read a Lightspeed product CSV: new items are added, known ones edited. All or nothing."""
    items = read_csv(path.read_text(encoding="utf-8-sig"), name=str(path))
    if check:
        click.echo(f"{path}: {len(items)} row(s) OK")
        return
    added, edited = import_items(obj.service, items, str(path))
    click.echo(f"{added} new item(s), {edited} edited")


def import_items(service, items, name: str = "<csv>") -> tuple[int, int]:
    """Apply imported rows: unknown SKUs are added, known ones take the row's settings.

    Checked whole before anything is written: a row that would change an existing item's
    tracking is refused (the core cannot change tracking of a stored item), naming the row.
    """
    known = {view.sku: view for view in service.items()}
    for row_no, item in enumerate(items, start=2):
        view = known.get(item.sku)
        if view is not None and "tracked" in item.model_fields_set and item.tracked != view.tracked:
            raise ValueError(
                f"{name}: row {row_no}: column Stock_Track: changes tracking of {item.sku}, "
                "which backorder cannot change on a stored item"
            )
    fresh = [item for item in items if item.sku not in known]
    added = service.upsert_catalog(fresh) if fresh else 0
    edited = 0
    for item in items:
        if item.sku not in known:
            continue
        fields = item.model_fields_set & set(ItemEdit.model_fields)
        changes = ItemEdit(**item.model_dump(include=fields))
        if changes.model_fields_set:
            service.edit(item.sku, changes)
            edited += 1
    return added, edited
