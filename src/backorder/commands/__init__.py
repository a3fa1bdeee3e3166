"""The ``backorder`` command line: one store at a time, chosen with ``--store``.

Each module of this package attaches its commands to :data:`main` (defined in
:mod:`backorder.commands.group`, which the modules import; none imports this package):

- ``items``: status, assign, unassign, edit, enable, disable
- ``orders``: order
- ``incoming``: receipt, fulfil-queue
- ``documents``: storefront, render
- ``operations``: import, export, report, serve, tick, sync
- ``plugins``: plugins, and the ``sandbox`` group platform plugins fill
- ``demo``, ``simulate``
- ``storefront_api``: storefront-rebuild

Plugins add their own commands through the plugin manager's ``add_commands``, called once below.
"""

from __future__ import annotations

import click

from backorder.commands import (  # noqa: F401  (each module attaches its commands to main)
    demo,
    documents,
    incoming,
    items,
    operations,
    orders,
    plugins,
    simulate,
    storefront_api,
)
from backorder.commands.group import main
from backorder.errors import PluginLoadError

__all__ = ["main"]


def _register_plugin_commands() -> None:
    from backorder.plugins import get_manager

    try:
        get_manager().add_commands(main)
    except PluginLoadError as exc:  # say so once; commands that need plugins fail clearly
        click.secho(f"warning: {exc}", fg="yellow", err=True)


_register_plugin_commands()
