"""``backorder storefront-rebuild``: refill the storefront read model of a store."""

from __future__ import annotations

import click

from backorder.commands.group import Context, main, pass_ctx


@main.command("storefront-rebuild")
@pass_ctx
def storefront_rebuild(obj: Context) -> None:
    """Rewrite the store's storefront read model (the public storefront API's data) from
    its items. Every change keeps it current; run this once after upgrading, and after
    changing store defaults (threshold, mode) that alter every item's state."""
    from backorder.storefront_api import readmodel

    service = obj.service
    with service.db.transaction() as conn:
        written = readmodel.rebuild(conn, service.name, service.settings, service.clock())
    click.echo(f"storefront read model of {service.name}: {written} item(s)")
