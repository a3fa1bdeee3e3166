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


@main.command("new-plugin")
@click.argument("name")
@click.option("--directory", "-d", type=click.Path(file_okay=False), default=".",
              show_default=True, help="where to create the package folder")
def new_plugin(name, directory):
    """Write a platform plugin package skeleton that passes its own tests.

    NAME is the platform's name (lowercase, e.g. woocommerce): the package is
    backorder-NAME with module backorder_NAME, an entry point, a fake platform,
    the conformance suite wired to it, and a README.
    """
    from pathlib import Path

    from backorder.scaffold import new_plugin as write

    written = write(name, Path(directory))
    root = written[0].parent
    click.echo(f"wrote {len(written)} files in {root}")
    click.echo(f"next: cd {root} && pip install -e '.[test]' && pytest")
