"""``backorder demo``: the demo store, start to finish, in its own SQLite file (or --db)."""

from __future__ import annotations

from pathlib import Path

import click

from backorder.commands.group import Context, main
from backorder.commands.output import print_items
from backorder.commands.params import store_tz
from backorder.storage.db import shown_url

DEMO_DB = "backorder-demo.db"


@main.command()
@click.option("--fresh", is_flag=True, help="Start over with an empty demo database.")
@click.pass_context
def demo(ctx, fresh):
    """Run the demo store: assign, sell into backorder, use up a threshold, receive stock."""
    from backorder.config import StoreConfig
    from backorder.demo import run_demo
    from backorder.engine import StoreService
    from backorder.plugins import get_manager
    from backorder.storage.db import Database

    obj: Context = ctx.obj
    # Never the configured store: the demo's items and orders must not land in a
    # merchant's database. Its own SQLite file, unless --db names another database.
    url = obj.db_url or f"sqlite:///{DEMO_DB}"
    if fresh and obj.db_url is None:
        Path(DEMO_DB).unlink(missing_ok=True)
    service = StoreService(Database(url), StoreConfig(name="demo"), pm=get_manager())
    click.echo(f"demo store 'demo' in {shown_url(url)}")
    run_demo(service, click.echo)
    click.echo("")
    print_items(
        service.items(assigned=True), False, service.incoming.earliest(), tz=store_tz(service)
    )
    if obj.db_url is None:
        click.echo(f"\nsee it again: backorder --db sqlite:///{DEMO_DB} status")
