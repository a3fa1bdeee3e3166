"""``backorder demo``: the demo store, start to finish (on SQLite unless configured)."""

from __future__ import annotations

from pathlib import Path

import click

from backorder.commands.group import Context, main
from backorder.commands.output import print_items


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
    print_items(service.items(assigned=True), False, service.incoming.earliest())
