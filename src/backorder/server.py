"""The web server (``backorder serve``): webhook intake, the web app, the worker loop.

``POST /webhooks/{store}`` hands the raw delivery to the store's platform
(``Platform.parse_webhook``: authentication the platform's way), stores each event once
per ``delivery_id`` (:func:`backorder.webhooks.record_deliveries`) and answers ``202`` at
once; the events are applied right after the response (a background task) and, should
that fail or the process die, by the worker pass (:mod:`backorder.worker`).

The merchant's web app is mounted at ``/admin`` (:mod:`backorder.admin`), and plugins
add their routes (hook ``backorder_web_routes``: BigCommerce's app callbacks). Stores
come from the config file and from the database (installed at run time):
:class:`backorder.stores.StoreDirectory`.

Mount :func:`create_app` inside another ASGI app (``Mount("/backorder", app=...)``); a
mounted app's lifespan does not run, so start :meth:`Worker.run` from your own lifespan,
or run ``backorder tick`` from cron.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from backorder.config import Config
from backorder.engine import StoreService
from backorder.errors import NotFound
from backorder.plugins import PluginManager
from backorder.storage.db import Database
from backorder.webhooks import (
    WebhookRejected,
    apply_deliveries,
    pending_deliveries,
    record_deliveries,
)
from backorder.worker import Worker

if TYPE_CHECKING:
    from starlette.applications import Starlette

log = logging.getLogger("backorder.server")

MAX_BODY = 1_000_000


# --------------------------------------------------------------------------------- app
def create_app(
    config: Config,
    db: Database | None = None,
    pm: PluginManager | None = None,
    *,
    worker: bool = True,
    interval: float = 2.0,
    tick_every: float = 60.0,
) -> Starlette:
    """The webhook app. With ``worker`` its lifespan runs the :class:`Worker` loop."""
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    if db is None:
        db = Database(config.database)
    if pm is None:
        from backorder.plugins import get_manager

        pm = get_manager()
    from backorder.admin.app import web_routes
    from backorder.stores import StoreDirectory

    stores = StoreDirectory(config, db, pm)  # config-file stores and installed ones
    work = Worker(stores, tick_every=tick_every)
    web, app_context = web_routes(config, db, pm, stores)  # plugins' routes, /admin

    async def receive(request: Request) -> JSONResponse:
        service = work.service(request.path_params["store"])
        if service is None:
            return JSONResponse({"error": "no such store"}, status_code=404)
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": f"body over {MAX_BODY} bytes"}, status_code=413)
        try:
            platform = service.platform
        except NotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        try:
            events = await run_in_threadpool(
                platform.parse_webhook, service.store, request.headers, body
            )
        except WebhookRejected as exc:  # 401: not authenticated; 400: authenticated, unreadable
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
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
            *web,
        ],
        lifespan=lifespan,
    )
    app.state.worker = work
    app.state.web = app_context
    return app


def _apply_quietly(service: StoreService) -> Any:
    """Apply right after the response; anything left is the worker loop's to retry."""
    try:
        apply_deliveries(service)
        service.outbox.deliver()
    except Exception:
        log.exception("store %s: applying deliveries failed; the worker retries", service.name)


__all__ = ["Worker", "create_app", "pending_deliveries"]
