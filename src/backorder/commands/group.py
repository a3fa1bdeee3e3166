"""The ``backorder`` click group every command module attaches to, and its context.

A command module imports ``main`` and ``pass_ctx`` from here (never from the
``backorder.commands`` package, which imports the command modules).
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING

import click
from pydantic import ValidationError

from backorder import __version__
from backorder.engine import StoreService
from backorder.errors import BackorderError
from backorder.http.errors import PlatformCallError

if TYPE_CHECKING:
    from backorder.config import Config


class Context:
    """The global options, and the store service they open on first use."""

    def __init__(self, config_path: str | None, store: str | None, db_url: str | None):
        self.config_path, self.store_name, self.db_url = config_path, store, db_url
        self._service: StoreService | None = None
        self.stdout_is_data = False
        """Set by a command whose stdout is a document (CSV, HTML, JSON) before it opens
        the store: the store header then goes to stderr."""

    @functools.cached_property
    def config(self) -> Config:
        from backorder.config import load_config

        return load_config(self.config_path)

    @property
    def service(self) -> StoreService:
        if self._service is None:
            from backorder.plugins import get_manager
            from backorder.storage.db import Database

            store = self.config.store(self.store_name)
            self._service = StoreService(
                Database(self.db_url or self.config.database), store, pm=get_manager()
            )
            self._header(self._service)
        return self._service

    def reading(self) -> StoreService:
        """The store service for a command that only shows things: a SQLite file that does
        not exist yet is an error (opening it would create an empty store and show nothing),
        naming the demo's database, which is where a new user's items usually are."""
        from pathlib import Path

        import sqlalchemy as sa

        from backorder.errors import NotFound

        if self._service is None:
            self.config.store(self.store_name)
            url = self.db_url or self.config.database
            try:
                parsed = sa.engine.make_url(url)
            except (sa.exc.ArgumentError, ValueError):
                parsed = None  # the service names what is wrong with it
            if (
                parsed is not None
                and parsed.get_backend_name() == "sqlite"
                and parsed.database not in (None, "", ":memory:")
                and not Path(str(parsed.database)).exists()
            ):
                raise NotFound(
                    f"no database at {parsed.database} yet, so nothing to show (the demo's "
                    "store is in backorder-demo.db: backorder --db sqlite:///backorder-demo.db "
                    "status)"
                )
        return self.service

    def _header(self, service: StoreService) -> None:
        """One line naming the store and database a command works on, printed when it first
        opens the store, so an empty table says where it looked (``backorder.db`` is not the
        demo's). Never with ``--json``; on stderr when stdout is a document."""
        from backorder.storage.db import shown_url

        command = click.get_current_context(silent=True)
        if command is not None and command.params.get("as_json"):
            return
        line = f"store {service.name!r} in {shown_url(service.db.url)}"
        click.echo(line, err=self.stdout_is_data)


pass_ctx = click.make_pass_decorator(Context)


def fail(message: str) -> None:
    """One red line on stderr and exit status 2: what a user can fix was wrong. A message
    that spans lines (a library's) is joined into one."""
    message = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(2)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush into the closed pipe
    does not print "Exception ignored ... BrokenPipeError" on the way out."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test runner's): nothing to flush
        pass


def _connection(obj: Context | None) -> dict:
    """The ``connection`` table of the store the command worked on (empty if unknown)."""
    if obj is None:
        return {}
    if obj._service is not None:
        return dict(obj._service.store.connection)
    try:
        return dict(obj.config.store(obj.store_name).connection)
    except (BackorderError, ValueError, OSError):
        return {}


class Group(click.Group):
    """Turns the errors a user can fix into one clear line and exit status 2.

    Command names are listed with dashes (``lightspeed-ecom``, ``fulfil-queue``) and answer
    to underscores too: a platform's name is ``lightspeed_ecom`` in a config, and a user who
    types it that way (``backorder lightspeed_ecom order``, ``backorder sandbox
    lightspeed_ecom``) gets the command, not "No such command".
    """

    group_class = type  # subgroups (``sandbox``) list and find their commands the same way

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        for spelling in (cmd_name.replace("_", "-"), cmd_name.replace("-", "_")):
            if found is not None:
                break
            found = super().get_command(ctx, spelling)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({name.replace("_", "-") for name in super().list_commands(ctx)})

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PlatformCallError as exc:
            check = exc.what_to_check(_connection(ctx.obj))
            fail(f"{exc}; {check}" if check else str(exc))
        except (BackorderError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                exc = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            fail(str(exc))
        except BrokenPipeError:  # the reader left (``| head``): not an error of the user's
            _quiet_stdout()
            sys.exit(141)  # as a command killed by SIGPIPE, the shells' 128 + 13
        except OSError as exc:  # a file the command reads or writes (disk full, no access)
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}")


@click.group(cls=Group)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: backorder.toml, or $BACKORDER_CONFIG).",
)
@click.option("--store", help="Which configured store to work on.")
@click.option("--db", "db_url", help="Database URL, overriding the config.")
@click.version_option(__version__, prog_name="backorder")
@click.pass_context
def main(ctx, config_path, store, db_url):
    """Keep selling when stock runs out, under rules you control."""
    ctx.obj = Context(config_path, store, db_url)
