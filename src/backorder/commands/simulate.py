"""``backorder simulate``: a what-if scenario on a throwaway database."""

from __future__ import annotations

import click

from backorder.commands.group import main
from backorder.commands.output import print_json


@main.command()
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False))
def simulate(scenario):
    """Run a what-if SCENARIO (YAML or JSON) on a throwaway database; print JSON."""
    from backorder.plugins import get_manager
    from backorder.simulate import load_scenario
    from backorder.simulate import simulate as run

    print_json(run(load_scenario(scenario), get_manager(), scenario))
