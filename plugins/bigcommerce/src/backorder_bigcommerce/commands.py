"""``backorder bigcommerce ...``: the platform's own commands, one click group.

Add a command with ``@bigcommerce_group.command(...)`` and read its store with
:func:`bigcommerce_store` (the store ``--store`` names, checked to be on BigCommerce).
"""

from __future__ import annotations

import click

from backorder.config import StoreConfig, load_config
from backorder.errors import ConfigError
from backorder_bigcommerce.connection import NAME, client_for, connection
from backorder_bigcommerce.webhooks import SCOPES


@click.group(NAME)
def bigcommerce_group() -> None:
    """BigCommerce: the store's webhooks."""


def bigcommerce_store(ctx: click.Context) -> StoreConfig:
    """The store the root ``--config``/``--store`` options name; it must be on BigCommerce."""
    root = ctx.find_root().obj
    store = load_config(getattr(root, "config_path", None)).store(getattr(root, "store_name", None))
    if store.platform != NAME:
        raise ConfigError(f"store {store.name!r} is on platform {store.platform!r}, not {NAME}")
    return store


@bigcommerce_group.command("hooks")
@click.option("--ensure", is_flag=True, help="Create missing hooks and reactivate inactive ones.")
@click.option(
    "--destination",
    help="The webhook URL (default: the store's connection.webhook_destination).",
)
@click.pass_context
def hooks_command(ctx: click.Context, ensure: bool, destination: str | None) -> None:
    """List the store's hooks for backorder's scopes; with --ensure, repair them.

    BigCommerce deactivates a hook whose deliveries keep failing for 48 hours, and then
    order and stock events stop arriving. Exits 1 when a hook needs repair and --ensure
    was not given.
    """
    store = bigcommerce_store(ctx)
    conn = connection(store)
    url = destination or conn.webhook_destination
    if not url:
        raise ConfigError(
            f"store {store.name!r}: connection.webhook_destination is not set "
            "(the URL of backorder serve's /webhooks/<store>); or pass --destination"
        )
    secret = store.secret("webhook_secret")
    if not secret:
        raise ConfigError(
            f"store {store.name!r}: connection.webhook_secret_env names no set environment variable"
        )
    client = client_for(store)
    headers = {conn.webhook_header: secret}
    checks = client.check_hooks(SCOPES, url, headers)
    click.echo(f"hooks of store {store.name!r} for {url}:")
    for check in checks:
        hook = f"hook {check.hook.id}" if check.hook else "no hook"
        click.echo(f"  {check.scope}: {hook}, {check.problem or 'active'}")
    needing = [c for c in checks if c.problem]
    if not needing:
        return
    if not ensure:
        click.echo(f"{len(needing)} hook(s) need repair: run with --ensure")
        ctx.exit(1)
    for repair in client.ensure_hooks(SCOPES, url, headers):
        hook_id = repair.hook.id if repair.hook else "?"
        click.echo(f"  {repair.scope}: {repair.action} (hook {hook_id})")


@bigcommerce_group.group("storefront")
def storefront_group() -> None:
    """The storefront script (backorder.js) on the store's pages, via the Scripts API."""


@storefront_group.command("install")
@click.pass_context
def storefront_install(ctx: click.Context) -> None:
    """Install backorder.js on every storefront page (again: changes nothing)."""
    from backorder_bigcommerce import storefront

    store = bigcommerce_store(ctx)
    done = storefront.install(client_for(store), store, connection(store))
    click.echo(f"storefront script of store {store.name!r}: {done}")


@storefront_group.command("uninstall")
@click.pass_context
def storefront_uninstall(ctx: click.Context) -> None:
    """Remove backorder.js from the store's pages."""
    from backorder_bigcommerce import storefront

    store = bigcommerce_store(ctx)
    gone = storefront.uninstall(client_for(store))
    click.echo(f"storefront script of store {store.name!r}: {gone} removed")


@storefront_group.command("status")
@click.pass_context
def storefront_status(ctx: click.Context) -> None:
    """Say whether backorder.js is installed, and as configured; exits 1 when not."""
    from backorder_bigcommerce import storefront

    store = bigcommerce_store(ctx)
    found = storefront.ours(client_for(store))
    if not found:
        click.echo(f"storefront script of store {store.name!r}: not installed")
        ctx.exit(1)
    wanted = storefront.script_body(store, connection(store))
    current = all(found[0].get(k) == v for k, v in wanted.items())
    click.echo(
        f"storefront script of store {store.name!r}: installed ({found[0].get('uuid')}), "
        + ("up to date" if current else "outdated: run install")
    )
