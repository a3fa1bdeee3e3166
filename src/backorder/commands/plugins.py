"""``backorder plugins`` and the ``sandbox`` group that platform plugins add commands to."""

from __future__ import annotations

import click

from backorder.commands.group import main
from backorder.commands.output import print_json


@main.command()
@click.option("--json", "as_json", is_flag=True)
def plugins(as_json):
    """List loaded plugins, the platforms they serve and the hooks they implement."""
    from backorder.plugins import describe, get_manager

    rows = describe(get_manager())
    if as_json:
        print_json(rows)
        return
    for row in rows:
        origin = f" ({row['distribution']})" if row["distribution"] else ""
        serves = f" platforms: {', '.join(row['platforms'])};" if row["platforms"] else ""
        click.echo(f"{row['name']}{origin}:{serves} hooks: {', '.join(row['hooks'])}")


@main.group()
def sandbox():
    """Run a platform sandbox (a local stand-in for a platform's API)."""
