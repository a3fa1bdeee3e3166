"""Day-to-day commands: ``import``, ``export``, ``report``, ``serve``, ``tick``, ``sync``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from backorder.commands.group import Context, main, pass_ctx
from backorder.commands.output import print_json
from backorder.commands.params import check_dialect, check_writable, parse_date, parse_day
from backorder.http.extras import needs_extra

PROGRESS_MIN_BYTES = 2_000_000
"""Files at least this big show a progress bar (on a terminal)."""


class _Bars:
    """``progress(stage, done, total)`` drawn as one click progress bar per stage."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}
        self.done: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.bars:
            for bar in self.bars.values():
                bar.render_finish()
            self.bars[stage] = click.progressbar(
                length=total, label=stage.ljust(9), file=sys.stderr
            )
            self.bars[stage].__enter__()
            self.done[stage] = 0
        self.bars[stage].update(done - self.done[stage])
        self.done[stage] = done

    def close(self) -> None:
        for bar in self.bars.values():
            bar.__exit__(None, None, None)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--mode",
    type=click.Choice(["assign", "update"]),
    required=True,
    help="assign: add items not assigned yet; update: change assigned items.",
)
@click.option(
    "--columns",
    help="Comma-separated columns to apply (the 'overwrite' boxes): "
    "stock,threshold,incoming,date,name,category,brand. Default: all in the file.",
)
@click.option("--dialect", help="A platform's CSV dialect (default: backorder's own).")
@click.option(
    "--changes",
    "changes_file",
    type=click.Path(dir_okay=False),
    help="Write a CSV of every change here.",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: big files).")
@click.option(
    "--escape-formulas/--keep-formulas",
    default=True,
    show_default=True,
    help="Write a cell a spreadsheet would run as a formula (=, +, -, @) with a leading '.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def import_(
    obj: Context, file, mode, columns, dialect, changes_file, progress, escape_formulas, as_json
):
    """Import FILE: validate every row first, then apply all of it or nothing."""
    from backorder.imports import ImportFailed, changes_csv, import_csv

    check_writable(changes_file, "--changes")
    if progress is None:
        progress = sys.stderr.isatty() and Path(file).stat().st_size >= PROGRESS_MIN_BYTES
    bars = _Bars() if progress else None
    wanted = [c for c in columns.split(",") if c.strip()] if columns else None
    try:
        report = import_csv(
            obj.service, file, mode=mode, columns=wanted, dialect=dialect, progress=bars
        )
    except ImportFailed as failed:
        if bars:
            bars.close()
        shown = failed.errors[:100]
        for line in shown:
            click.secho(f"error: {line}", fg="red", err=True)
        if len(failed.errors) > len(shown):
            click.secho(f"… and {len(failed.errors) - len(shown)} more", fg="red", err=True)
        click.secho(f"nothing was imported ({len(failed.errors)} problem(s))", fg="red", err=True)
        sys.exit(2)
    if bars:
        bars.close()
    if changes_file:
        with open(changes_file, "w", newline="", encoding="utf-8") as out:
            changes_csv(report, out, escape_formulas=escape_formulas)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    if report.already_imported:
        click.echo(f"{file}: already imported (import {report.import_id}); nothing changed")
        return
    click.echo(
        f"{file}: {report.rows} row(s): {report.created} created, {report.assigned} assigned, "
        f"{report.updated} changed, {report.unchanged} unchanged; stock moved "
        f"{report.stock_moved:+d}"
    )
    for kind, count in sorted(report.events.items()):
        click.echo(f"  {count} {kind}")
    for change in report.changes[:50]:
        parts = [f"{k} {v[0]} -> {v[1]}" for k, v in change.items() if k not in ("sku", "row")]
        click.echo(f"  {change['sku']}: " + ", ".join(parts))
    if len(report.changes) > 50:
        click.echo(f"  … {len(report.changes) - 50} more (see --changes FILE)")


@main.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option("--dialect", help="A platform's CSV dialect (default: backorder's own).")
@click.option("--all", "everything", is_flag=True, help="Unassigned items too.")
@click.option(
    "--escape-formulas/--keep-formulas",
    default=True,
    show_default=True,
    help="Write a cell a spreadsheet would run as a formula (=, +, -, @) with a leading '.",
)
@pass_ctx
def export(obj: Context, file, dialect, everything, escape_formulas):
    """Write the import template of the assigned items to FILE (default: stdout)."""
    from backorder.imports import export_csv

    check_writable(file, "export")
    check_dialect(dialect)
    obj.stdout_is_data = file == "-"
    assigned = None if everything else True
    options = {"dialect": dialect, "assigned": assigned, "escape_formulas": escape_formulas}
    service = obj.reading()
    if file == "-":
        export_csv(service, sys.stdout, **options)
        return
    with open(file, "w", newline="", encoding="utf-8") as out:
        count = export_csv(service, out, **options)
    click.echo(f"{count} item(s) written to {file}", err=True)


@main.command("report")
@click.option("--search", help="Product name or SKU contains this.")
@click.option("--from", "date_from", help="Orders on or after this day (YYYY-MM-DD, store time).")
@click.option("--to", "date_to", help="Orders on or before this day.")
@click.option("--category")
@click.option("--brand")
@click.option("--status", type=click.Choice(["open", "shipped", "cancelled", "all"]),
              default="open", show_default=True,
              help="Lines with units left to ship, shipped, cancelled, or all.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--escape-formulas/--keep-formulas",
    default=True,
    show_default=True,
    help="Write a cell a spreadsheet would run as a formula (=, +, -, @) with a leading '.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def report(
    obj: Context, search, date_from, date_to, category, brand, status, csv_file,
    escape_formulas, as_json,
):
    """Backordered order lines, one per line, with order dates in the store's time zone."""
    from backorder import report as reporting

    check_writable(csv_file, "--csv")
    obj.stdout_is_data = csv_file == "-"
    records = reporting.backorder_report(
        obj.reading(),
        search=search,
        date_from=parse_day(date_from, "--from"),
        date_to=parse_day(date_to, "--to"),
        category=category,
        brand=brand,
        status=status,
    )
    if csv_file == "-":
        reporting.write_csv(records, sys.stdout, escape_formulas=escape_formulas)
    elif csv_file:
        with open(csv_file, "w", newline="", encoding="utf-8") as out:
            reporting.write_csv(records, out, escape_formulas=escape_formulas)
        click.echo(f"{len(records)} record(s) written to {csv_file}", err=True)
    elif as_json:
        print_json([r.model_dump(mode="json") for r in records])
    else:
        for line in reporting.table(records):
            click.echo(line)
        click.echo(f"{len(records)} backordered line(s)")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--interval", default=2.0, show_default=True, help="Seconds between worker passes.")
@click.option("--tick-every", default=60.0, show_default=True, help="Seconds between ticks.")
@click.option("--no-worker", is_flag=True, help="Only receive; let other processes apply.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads handling deliveries at once (default 40); each keeps a database "
              "connection.")
@pass_ctx
def serve(obj: Context, host, port, interval, tick_every, no_worker, threads):
    """Receive platform webhooks at /webhooks/STORE and run the background worker."""
    with needs_extra("backorder", "server"):
        import starlette  # noqa: F401  (create_app imports it when called)
        import uvicorn

    from backorder.plugins import get_manager
    from backorder.server import create_app
    from backorder.storage.db import Database, shown_url

    config = obj.config
    db = Database(obj.db_url or config.database)
    app = create_app(
        config, db, get_manager(), worker=not no_worker, interval=interval, tick_every=tick_every,
        threads=threads,
    )
    click.echo(
        f"webhooks: http://{host}:{port}/webhooks/<store> for {sorted(config.stores)} "
        f"in {shown_url(db.url)}"
    )
    from backorder.serving import uvicorn_options  # timeouts and limits (README: Security)

    uvicorn.run(app, host=host, port=port, log_level="info", **uvicorn_options())


@main.command("tick")
@click.option("--now", help="Pretend it is this time (ISO 8601).")
@click.option("--all-stores", is_flag=True,
              help="Every store (the config file's and installed ones), not just --store.")
@click.option("--budget", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds to spend draining a backlog of pushes and notifications.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: on a terminal, with a backlog to drain).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def tick(obj: Context, now, all_stores, budget, progress, as_json):
    """One worker pass: webhooks received, back-in-stock dates, promised dates, pushes and
    notifications due; safe to run from cron."""
    from backorder.plugins import get_manager
    from backorder.storage.db import Database, shown_url
    from backorder.stores import StoreDirectory
    from backorder.worker import worker_passes

    if all_stores:
        config = obj.config
        db = Database(obj.db_url or config.database)
        services = list(StoreDirectory(config, db, get_manager()).values())
        if not as_json:
            names = ", ".join(repr(service.name) for service in services) or "(none)"
            click.echo(f"stores {names} in {shown_url(db.url)}")
    else:
        services = [obj.service]
    at = parse_date(now, option="--now")
    due = {s.name: _due_units(s, at) for s in services}
    waiting = sum(_backlog_size(service) for service in services)
    if progress is None:
        progress = sys.stderr.isatty() and waiting > BACKLOG_BAR_MIN
    if progress:
        with click.progressbar(
            length=max(waiting, 1), label="Draining backlog", show_pos=True, file=sys.stderr
        ) as bar:
            results = worker_passes(services, at, budget=budget, progress=_advance(bar))
    else:
        results = worker_passes(services, at, budget=budget)
    if as_json:
        print_json(
            [
                {
                    "store": r.store,
                    "events": [e.model_dump(mode="json") for e in r.events],
                    "pushes": r.pushes,
                    "pushes_failed": r.pushes_failed,
                    "notified": r.notified,
                    "received": due.get(r.store, (0, 0))[0],
                }
                for r in results
            ]
        )
        return
    for result in results:
        prefix = f"{result.store}: " if all_stores else ""
        click.echo(f"{prefix}{len(result.events)} event(s)")
        units, count = due.get(result.store, (0, 0))
        if units:
            click.echo(f"  received {units} unit(s) of incoming stock for {count} item(s)")
        for event in result.events:
            click.echo(f"  {event.type.value} {event.sku or ''} {event.reason or ''}".rstrip())
        if result.pushes or result.pushes_failed:
            click.echo(f"  {result.pushes} push(es) delivered, {result.pushes_failed} failed")
        if result.notified:
            click.echo(f"  {result.notified} event(s) handed to notifiers")
    left = {
        service.name: {k: v for k, v in service.outbox.backlog().items() if v}
        for service in services
    }
    for name, backlog in left.items():
        if backlog:
            pending = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in backlog.items())
            click.echo(f"{name}: still pending after --budget {budget:g}s: {pending}")


BACKLOG_BAR_MIN = 100
"""``tick`` shows its progress bar (on a terminal) when more than this many pushes and
events wait: more than one batch (a pass hands out 100 pushes, 500 events at a time)."""


def _backlog_size(service) -> int:
    """Pushes and events waiting to be sent: what ``tick``'s progress bar counts down."""
    backlog = service.outbox.backlog()
    return backlog["pushes_pending"] + backlog["events_pending"]


def _advance(bar):
    """A worker pass's ``progress`` callback moving ``bar`` (never beyond its end: the tick
    itself may add events to the backlog counted before it)."""

    def advance(done: int) -> None:
        bar.update(min(done, bar.length - bar.pos))

    return advance


def _due_units(service, at) -> tuple[int, int]:
    """Units (and items) whose back-in-stock date has come by ``at``: what a tick receives."""
    import datetime as dt

    import sqlalchemy as sa

    from backorder.storage.schema import items

    when = at or service.clock()
    units = sa.func.coalesce(sa.func.sum(items.c.incoming_qty), 0)
    query = sa.select(units, sa.func.count()).where(
        items.c.store == service.name,
        items.c.assigned.is_(True),
        items.c.incoming_qty > 0,
        items.c.back_in_stock_date <= when.astimezone(dt.UTC),
    )
    with service.db.read() as conn:
        units, count = conn.execute(query).one()
    return int(units), int(count)


@main.command()
@pass_ctx
def sync(obj: Context):
    """Pull the platform's catalog and stock levels into the ledger (platform -> us)."""
    new, changed = obj.service.sync_from_platform()
    click.echo(f"{new} new item(s), stock changed for {changed}")
