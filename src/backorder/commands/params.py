"""Parsers for command-line values: dates, days and thresholds (bad ones: a usage error)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from backorder.errors import InvalidInput


def parse_date(
    value: str | None, tz: dt.tzinfo = dt.UTC, option: str | None = None
) -> dt.datetime | None:
    """An ISO 8601 date or time; without a time zone it is in ``tz`` (give the store's:
    a date without a time is the store's local day, as in a CSV import). A bad one is a
    usage error naming ``option``."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        problem = f"{value!r} is not an ISO 8601 date"
        raise click.BadParameter(problem, param_hint=option) from None
    # in UTC, as the ledger keeps every time (SQLite drops offsets)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(dt.UTC)


def store_tz(service) -> dt.tzinfo:
    """The store's time zone: every date a command takes or shows is in it."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(service.settings.timezone)


def parse_day(value: str | None, option: str | None = None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problem = f"{value!r} is not a date (YYYY-MM-DD)"
        raise click.BadParameter(problem, param_hint=option) from None


def parse_threshold(value: str | None) -> int | None:
    """A whole number of units, or ``unlimited`` (``None``)."""
    if value is None or value.lower() == "unlimited":
        return None
    try:
        number = int(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: a whole number or 'unlimited'", param_hint="--threshold"
        ) from None
    if number < 0:
        raise click.BadParameter(f"{value!r}: must not be negative", param_hint="--threshold")
    return number


def check_writable(path: str | None, option: str) -> None:
    """Refuse an output file that cannot be written, before the command changes anything.

    ``-`` (stdout) and ``None`` (not asked for) pass. The file itself is not created.
    """
    if path is None or path == "-":
        return
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    problem = None
    if target.is_dir():
        problem = "is a folder"
    elif not folder.is_dir():
        problem = f"folder {str(folder)!r} does not exist"
    elif target.exists() and not os.access(target, os.W_OK):
        problem = "the file may not be written"
    elif not target.exists() and not os.access(folder, os.W_OK | os.X_OK):
        problem = f"folder {str(folder)!r} may not be written"
    if problem:
        raise InvalidInput(f"{option} {path}: cannot write there: {problem}; nothing was changed")


def check_dialect(name: str | None) -> None:
    """Refuse a ``--dialect`` no installed plugin offers before the store is opened (the
    argument is wrong wherever the store is); the message is the export's own."""
    from backorder.errors import NotFound
    from backorder.imports.dialect import dialects
    from backorder.plugins import get_manager

    known = dialects(get_manager())
    if name is not None and name not in known:
        raise NotFound(
            f"--dialect: no CSV dialect {name!r}; choose one of {', '.join(sorted(known))}"
        )


def check_sku(sku: str) -> str:
    """A SKU as a user typed it, refused when no table could store it (longer than any
    platform allows): named by its start and length, never echoed whole."""
    from backorder.models import MAX_SKU

    if not sku:
        raise InvalidInput("SKU '': a SKU cannot be empty")
    if len(sku) > MAX_SKU:
        raise InvalidInput(
            f"SKU {sku[:20]!r}… ({len(sku):,} characters): longer than {MAX_SKU}, the most any "
            "platform allows"
        )
    return sku


class SkuType(click.ParamType):
    """A SKU argument, checked by :func:`check_sku` (one error line, not a usage screen)."""

    name = "sku"

    def convert(self, value, param, ctx):
        return check_sku(value)


SKU = SkuType()
