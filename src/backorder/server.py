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
import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from backorder.config import DEFAULT_DATABASE, Config
from backorder.engine import StoreService
from backorder.errors import MalformedDelivery, NotFound, PlatformError, first_problem
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
"""A delivery's largest body in bytes; a larger one is refused with ``413`` after at
most this many bytes were read (a ``Content-Length`` over it: before reading any)."""

BODY_TIMEOUT = 30.0
"""Seconds a client may take to send a delivery's body; a slower one gets ``408``."""


# --------------------------------------------------------------------------------- app
def create_app(
    config: Config | None = None,
    db: Database | None = None,
    pm: PluginManager | None = None,
    *,
    services: Mapping[str, StoreService] | None = None,
    worker: bool = True,
    interval: float = 2.0,
    tick_every: float = 60.0,
    threads: int | None = None,
) -> Starlette:
    """The webhook app. With ``worker`` its lifespan runs the :class:`Worker` loop.

    An embedding application passes what it has built already: its ``db`` (no second
    engine, no second migration run), its ``pm`` and its ``services`` (name -> the
    :class:`StoreService` it uses itself; their stores join the config's, and ``config``
    may be left out). Mounted in another app, this app's lifespan does not run: use
    ``async with app.state.worker.running(interval):`` in your own lifespan (README:
    "Embedding backorder").

    ``threads`` caps the threads that parse, store and apply deliveries at once (anyio's
    default limiter, 40 when not given). Each such thread keeps its own database
    connection, so on PostgreSQL one process holds up to about ``threads`` + the pool's
    5 connections: several processes must fit ``max_connections`` (README: "Running
    several processes").
    """
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    given = dict(services or {})
    if db is None and given:
        db = next(iter(given.values())).db
    if config is None:
        config = Config(database=db.url if db is not None else DEFAULT_DATABASE)
    if given:
        config = config.model_copy(
            update={"stores": {**config.stores, **{n: s.store for n, s in given.items()}}}
        )
    if db is None:
        db = Database(config.database)
    if pm is None:
        from backorder.plugins import get_manager

        pm = get_manager()
    from backorder.admin.app import web_routes
    from backorder.storefront_api.api import storefront_routes
    from backorder.stores import StoreDirectory

    stores = StoreDirectory(config, db, pm, services=given)  # config-file and installed stores
    work = Worker(stores, tick_every=tick_every)
    web, app_context = web_routes(config, db, pm, stores)  # plugins' routes, /admin

    async def receive(request: Request) -> JSONResponse:
        service = work.service(request.path_params["store"])
        if service is None:
            return JSONResponse({"error": "no such store"}, status_code=404)
        try:
            platform = service.platform
        except NotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        declared = request.headers.get("content-length")
        if declared is not None and not declared.isdigit():
            return JSONResponse({"error": "header Content-Length: not a number"}, status_code=400)
        if declared is not None and int(declared) > MAX_BODY:
            return JSONResponse({"error": f"body over {MAX_BODY} bytes"}, status_code=413)
        # What the headers alone can prove wrong is refused before a byte of the body is read.
        check_headers = getattr(platform, "authenticate_headers", None)
        if check_headers is not None:
            try:
                check_headers(service.store, request.headers)
            except WebhookRejected as exc:
                return JSONResponse({"error": str(exc)}, status_code=401)
        try:
            async with asyncio.timeout(BODY_TIMEOUT):
                body = await _read_body(request, MAX_BODY)
        except TimeoutError:
            return JSONResponse(
                {"error": f"body not received within {BODY_TIMEOUT:g} s"}, status_code=408
            )
        if body is None:
            return JSONResponse({"error": f"body over {MAX_BODY} bytes"}, status_code=413)
        try:
            events = await run_in_threadpool(
                platform.parse_webhook, service.store, request.headers, body
            )
        except MalformedDelivery as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except WebhookRejected as exc:  # 401: not authenticated; 400: authenticated, unreadable
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except ValidationError as exc:  # a plugin built an event the core cannot take
            return JSONResponse({"error": _validation_message(exc)}, status_code=400)
        except RecursionError:
            return JSONResponse({"error": "body: nested too deep"}, status_code=400)
        except PlatformError as exc:  # re-reading the resource failed: the platform retries
            log.warning("store %s: webhook re-read failed: %s", service.name, exc)
            return JSONResponse(
                {"error": f"platform: {exc}"}, status_code=503, headers={"Retry-After": "30"}
            )
        new, duplicates = await run_in_threadpool(record_deliveries, service, list(events))
        task = BackgroundTask(_apply_quietly, service) if new else None
        body_out = {"received": new + duplicates, "new": new, "duplicates": duplicates}
        return JSONResponse(body_out, status_code=202, background=task)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "stores": sorted(work.services)})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if threads is not None:
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        if not worker:
            yield
            return
        async with work.running(interval):
            yield

    app = Starlette(
        routes=[
            Route("/webhooks/{store}", receive, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            *storefront_routes(work.service),
            *web,
        ],
        lifespan=lifespan,
    )
    app.state.worker = work
    app.state.web = app_context
    return app


async def _read_body(request: Any, limit: int) -> bytes | None:
    """The request body, or ``None`` as soon as more than ``limit`` bytes arrived: a
    chunked upload with no ``Content-Length`` is counted as it streams, never held whole."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _validation_message(exc: ValidationError) -> str:
    where, problem = first_problem(exc)
    return f"body field {where or '(body)'}: {problem}"


class _Drain:
    """One applying pass per store at a time (a burst of deliveries would otherwise start
    a pass per delivery, all queueing for the same write lock): a delivery arriving
    while a pass runs asks for another round of it instead of starting its own."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requested = False


_drains: weakref.WeakKeyDictionary[StoreService, _Drain] = weakref.WeakKeyDictionary()
_drains_lock = threading.Lock()


def _apply_quietly(service: StoreService) -> Any:
    """Apply right after the response; anything left is the worker loop's to retry."""
    with _drains_lock:
        drain = _drains.setdefault(service, _Drain())
    drain.requested = True
    while drain.requested:
        if not drain.lock.acquire(blocking=False):
            return  # the pass running now sees the request and goes round again
        try:
            drain.requested = False
            while sum(apply_deliveries(service)):
                pass
            service.outbox.deliver()
        except Exception:
            log.exception("store %s: applying deliveries failed; the worker retries", service.name)
        finally:
            drain.lock.release()


__all__ = ["Worker", "create_app", "pending_deliveries"]
