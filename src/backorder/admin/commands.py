"""``backorder admin ...``: the web app's users and keys, from the command line.

A built-in plugin (hook ``backorder_register_commands``), so the CLI module needs no
change; its imports are lazy, so ``backorder`` starts as fast without the web app.
"""

from __future__ import annotations

import sys

import click

from backorder.hookspecs import hookimpl


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group("admin")
def admin() -> None:
    """The web app's users and keys (see README: The web app)."""


@admin.command("hash-password")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def hash_password_command(password_stdin: bool) -> None:
    """Print an argon2 hash for the config's [admin.users.NAME] password_hash."""
    from backorder.admin.passwords import hash_password

    password = _read_password(password_stdin)
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="password")
    click.echo(hash_password(password))


@admin.command("add-user")
@click.argument("name")
@click.option("--store", "stores", multiple=True, required=True,
              help="A store the user may open (repeatable; '*' for all).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def add_user(ctx: click.Context, name: str, stores: tuple[str, ...], password_stdin: bool):
    """Add (or change) a user kept in the database."""
    from backorder.admin.users import Users
    from backorder.config import load_config
    from backorder.storage.db import Database

    obj = ctx.find_root().obj
    config = load_config(getattr(obj, "config_path", None))
    password = _read_password(password_stdin)
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="password")
    db = Database(getattr(obj, "db_url", None) or config.database)
    try:
        Users(config.admin, db).save(name, stores=stores, password=password)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    finally:
        db.dispose()
    click.echo(f"user {name!r} may open: {', '.join(sorted(stores))}")


@admin.command("new-secret-key")
def new_secret_key() -> None:
    """Print a key for BACKORDER_SECRET_KEY (installed stores' tokens at rest)."""
    from backorder.secretbox import new_key

    click.echo(new_key())


@hookimpl
def backorder_register_commands(cli: click.Group) -> None:
    cli.add_command(admin)
