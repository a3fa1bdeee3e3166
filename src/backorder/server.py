"""The webhook server (``backorder serve``) and the worker that applies what arrives.

``POST /webhooks/{store}`` hands the raw delivery to the store's platform plugin
(``backorder_parse_webhook``: authentication the platform's way), stores each event in
``webhook_deliveries`` (unique per store on its ``delivery_id``: a retried delivery is a
duplicate) and answers ``202`` at once. The events are applied right after the
response (a background task) and, should that fail or the process die, by the worker
loop, through the ledger with the delivery id as the idempotency key:

- ``stock``: the SKU's on-hand figure (``apply_levels``; unknown SKUs are skipped);
- ``order``: the order is fetched (``backorder_fetch_order``) and placed;
- ``product`` with ``tracking_enabled``: the platform tracks the product again, so its
  assigned items are unassigned (seed 001 FAQ);
- ``ignored``: recorded, nothing to do.

The same :class:`Worker` delivers the platform push outbox, retries pending
notifications and runs the scheduler's tick. Mount :func:`create_app` inside another
ASGI app (``Mount("/backorder", app=...)``); a mounted app's lifespan does not run, so
start :meth:`Worker.run` from your own lifespan, or run ``backorder tick`` from cron.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import pluggy
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from backorder import scheduler
from backorder.config import Config
from backorder.engine import BackorderError, StoreService
from backorder.models import StockLevel
from backorder.storage import ledger, work_queue
from backorder.storage.db import Database
from backorder.storage.schema import webhook_deliveries
from backorder.webhooks import WebhookEvent, WebhookRejected

log = logging.getLogger("backorder.server")

MAX_BODY = 1_000_000
MAX_ATTEMPTS = 12
"""A delivery that fails this often (about six hours of backoff) is given up on."""


# ----------------------------------------------------------------------------- intake
def record_deliveries(service: StoreService, events: Sequence[WebhookEvent]) -> tuple[int, int]:
    """Store parsed events, skipping delivery ids already seen; returns ``(new, duplicates)``."""
    now = service.clock()
    counts: dict[str, int] = {}
    rows = []
    for event in events:
        n = counts[event.delivery_id] = counts.get(event.delivery_id, 0) + 1
        key = event.delivery_id if n == 1 else f"{event.delivery_id}#{n}"
        rows.append(
            {
                "store": service.name,
                "delivery_id": key[:255],
                "kind": event.kind,
                "payload": event.model_dump(mode="json"),
                "received_at": now,
                "available_at": now,
            }
        )
    if service.db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    new = 0
    with service.db.transaction() as conn:
        for row in rows:
            stmt = insert(webhook_deliveries).values(**row)
            new += conn.execute(stmt.on_conflict_do_nothing()).rowcount
    return new, len(rows) - new


# ---------------------------------------------------------------------------- applying
def apply_deliveries(
    service: StoreService, *, limit: int = 100, now: dt.datetime | None = None
) -> tuple[int, int]:
    """Apply due deliveries of one store; returns ``(applied, failed)``. Safe from many workers."""
    token = uuid.uuid4().hex
    with service.db.transaction() as conn:
        rows = work_queue.claim(
            conn, webhook_deliveries, service.name, token, now=now or service.clock(), limit=limit
        )
    applied = failed = 0
    for row in rows:
        event = WebhookEvent.model_validate(row.payload)
        try:
            outcome = apply_event(service, event)
        except BackorderError as exc:  # the rules refuse it: retrying cannot help
            _finish(service, row, token, outcome=f"refused: {exc}")
            applied += 1
        except Exception as exc:
            log.warning("store %s: delivery %s failed: %s", service.name, event.delivery_id, exc)
            if row.attempts + 1 >= MAX_ATTEMPTS:
                _finish(service, row, token, outcome=f"gave up: {exc}")
            else:
                _finish(service, row, token, error=exc)
            failed += 1
        else:
            _finish(service, row, token, outcome=outcome)
            applied += 1
    return applied, failed


def _finish(service: StoreService, row, token: str, **result) -> None:
    with service.db.transaction() as conn:
        work_queue.finish(conn, webhook_deliveries, row, token, now=service.clock(), **result)


def apply_event(service: StoreService, event: WebhookEvent) -> str:
    """Apply one webhook event through the ledger; returns what happened, in words."""
    if event.kind == "stock":
        if event.sku is None or event.on_hand is None:
            return "ignored: a stock event needs sku and on_hand"
        level = StockLevel(
            sku=event.sku,
            on_hand=event.on_hand,
            source_ref=event.delivery_id,
            basis=event.basis,
            as_of=event.as_of,
        )
        changed = service.apply_levels([level], source="webhook")
        return f"stock {event.sku} = {event.on_hand}" + ("" if changed else " (no change)")
    if event.kind == "order":
        if not event.order_id:
            return "ignored: an order event needs order_id"
        if service.pm is None:
            raise BackorderError("no plugin manager: cannot fetch orders")
        order = service.pm.hook.backorder_fetch_order(store=service.store, order_id=event.order_id)
        if order is None:
            raise BackorderError(f"no plugin fetched order {event.order_id}")
        # The platform has taken this order already: record it whole, even past our limits
        # (a line beyond the threshold is noted on the line, and the item switches off).
        result = service.place_order(order, enforce=False)
        verdict = "accepted" if result.accepted else "refused: " + "; ".join(result.errors)
        return f"order {result.order_id} {'already placed' if result.duplicate else verdict}"
    if event.kind == "product" and event.tracking_enabled:
        skus = _assigned_skus(service, event)
        if skus:
            service.unassign(skus, "keep")
        return f"tracking enabled on the platform: unassigned {', '.join(skus) or 'nothing'}"
    return "ignored"


def _assigned_skus(service: StoreService, event: WebhookEvent) -> list[str]:
    with service.db.transaction() as conn:
        if event.product_id:
            found = ledger.load_items(
                conn, service.name, product_ids=[event.product_id], assigned=True
            )
        elif event.sku:
            found = ledger.load_items(conn, service.name, skus=[event.sku], assigned=True)
        else:
            found = {}
    return sorted(found)


# ------------------------------------------------------------------------------ worker
class Worker:
    """Everything that runs in the background, for every configured store.

    Any number of workers may run at once, in one process or many (on PostgreSQL):
    rows are claimed with a lease and every application is idempotent.
    """

    def __init__(
        self,
        config: Config,
        db: Database,
        pm: pluggy.PluginManager | None,
        *,
        stores: Sequence[str] | None = None,
        tick_every: float = 60.0,
    ) -> None:
        self.config, self.db, self.pm = config, db, pm
        names = list(stores) if stores else list(config.stores)
        self.services = {n: StoreService(db, config.store(n), pm=pm) for n in names}
        self.tick = scheduler.Every(tick_every)

    def service(self, name: str) -> StoreService | None:
        return self.services.get(name)

    def run_once(self, now: dt.datetime | None = None) -> dict[str, dict[str, int]]:
        """One pass: deliveries, pushes, pending notifications, and the tick when due."""
        ticking = self.tick.due()
        report: dict[str, dict[str, int]] = {}
        for name, service in self.services.items():
            applied, failed = apply_deliveries(service, now=now)
            pushed, push_failed = service.outbox.deliver(now=now)
            ticked = len(service.tick(now)) if ticking else 0
            notified = service.dispatch_events()
            report[name] = {
                "webhooks": applied,
                "webhooks_failed": failed,
                "pushes": pushed,
                "pushes_failed": push_failed,
                "tick_events": ticked,
                "notified": notified,
            }
        return report

    async def run(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        """Loop until ``stop`` is set; an error in one pass is logged and the loop goes on."""
        while not stop.is_set():
            try:
                await run_in_threadpool(self.run_once)
            except Exception:
                log.exception("worker pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


# --------------------------------------------------------------------------------- app
def create_app(
    config: Config,
    db: Database | None = None,
    pm: pluggy.PluginManager | None = None,
    *,
    worker: bool = True,
    interval: float = 2.0,
    tick_every: float = 60.0,
) -> Starlette:
    """The webhook app. With ``worker`` its lifespan runs the :class:`Worker` loop."""
    if db is None:
        db = Database(config.database)
    if pm is None:
        from backorder.plugins import get_manager

        pm = get_manager()
    work = Worker(config, db, pm, tick_every=tick_every)

    async def receive(request: Request) -> JSONResponse:
        service = work.service(request.path_params["store"])
        if service is None:
            return JSONResponse({"error": "no such store"}, status_code=404)
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": f"body over {MAX_BODY} bytes"}, status_code=413)
        try:
            events = await run_in_threadpool(
                pm.hook.backorder_parse_webhook,
                store=service.store,
                headers=request.headers,
                body=body,
            )
        except WebhookRejected as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        if events is None:
            error = f"no plugin serves platform {service.store.platform!r}"
            return JSONResponse({"error": error}, status_code=404)
        new, duplicates = await run_in_threadpool(record_deliveries, service, list(events))
        task = BackgroundTask(_apply_quietly, service) if new else None
        body_out = {"received": new + duplicates, "new": new, "duplicates": duplicates}
        return JSONResponse(body_out, status_code=202, background=task)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "stores": sorted(work.services)})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        stop = asyncio.Event()
        task = asyncio.create_task(work.run(stop, interval)) if worker else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task

    app = Starlette(
        routes=[
            Route("/webhooks/{store}", receive, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.worker = work
    return app


def _apply_quietly(service: StoreService) -> Any:
    """Apply right after the response; anything left is the worker loop's to retry."""
    try:
        apply_deliveries(service)
        service.outbox.deliver()
    except Exception:
        log.exception("store %s: applying deliveries failed; the worker retries", service.name)


def pending_deliveries(service: StoreService) -> list[dict[str, Any]]:
    """Deliveries not yet applied (for ``backorder status`` and tests)."""
    query = (
        sa.select(webhook_deliveries)
        .where(webhook_deliveries.c.store == service.name, webhook_deliveries.c.done_at.is_(None))
        .order_by(webhook_deliveries.c.id)
    )
    with service.db.transaction() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


__all__ = ["Worker", "apply_deliveries", "apply_event", "create_app", "record_deliveries"]
