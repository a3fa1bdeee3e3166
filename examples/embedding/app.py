"""Embedding backorder in an async web service (Starlette; FastAPI is the same).

The recipe (README: "Embedding backorder"):

1. Build ONE :class:`backorder.Database` (it runs the migrations once) with a pool sized
   for the threads that will call it, ONE plugin manager, and ONE
   :class:`backorder.StoreService` per store. A service is safe to share across threads:
   every call is its own transaction.
2. The services are synchronous. From ``async def`` call them through
   ``anyio.to_thread.run_sync`` with a bounded :class:`anyio.CapacityLimiter` (no more
   threads than the pool has connections), never directly: a direct call blocks the
   event loop for every other request.
3. Catch errors by kind (:mod:`backorder.errors`), never by message.
4. Mount backorder's own app (webhooks, ``/admin``) with the SAME database and services,
   and run its worker from your lifespan: ``async with app.state.worker.running():``.

Run it: ``python examples/embedding/app.py`` (``BACKORDER_DATABASE`` names the database),
or ``uvicorn --factory examples.embedding.app:app_from_environment``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping

import anyio
import anyio.to_thread
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from backorder import (
    Conflict,
    Database,
    InvalidInput,
    NotFound,
    OrderIn,
    PluginManager,
    RetriesExhausted,
    StorageError,
    StoreConfig,
    StoreService,
    make_manager,
)
from backorder.server import create_app

THREADS = 8
"""Threads that may run backorder calls at once: at most the pool's connections."""


def build_services(
    db: Database, stores: Mapping[str, StoreConfig], pm: PluginManager
) -> dict[str, StoreService]:
    """One service per store, shared by every request and thread."""
    return {name: StoreService(db, store, pm=pm) for name, store in stores.items()}


def create_service_app(
    db: Database, services: Mapping[str, StoreService], pm: PluginManager, *,
    threads: int = THREADS, worker_interval: float = 1.0,
) -> Starlette:
    """The integrator's own API, with backorder's app mounted at ``/backorder``."""
    limiter = anyio.CapacityLimiter(threads)
    backorder_app = create_app(db=db, pm=pm, services=services)  # same db, same services

    def service_of(request: Request) -> StoreService:
        service = services.get(request.path_params["store"])
        if service is None:
            raise NotFound(f"no store {request.path_params['store']!r}")
        return service

    async def place_order(request: Request) -> JSONResponse:
        service = service_of(request)
        try:
            order = OrderIn.model_validate(await request.json())
        except (ValidationError, ValueError) as exc:
            raise InvalidInput(f"order body: {exc}") from None
        result = await anyio.to_thread.run_sync(service.place_order, order, limiter=limiter)
        # a refused order is an answer, not an error: every line says why (line.reason)
        return JSONResponse(result.model_dump(mode="json"))

    async def item(request: Request) -> JSONResponse:
        service = service_of(request)
        view = await anyio.to_thread.run_sync(
            service.item, request.path_params["sku"], limiter=limiter
        )
        return JSONResponse(view.model_dump(mode="json"))

    async def error(request: Request, exc: Exception) -> JSONResponse:
        status = {InvalidInput: 422, NotFound: 404, Conflict: 409, StorageError: 503,
                  RetriesExhausted: 503}
        code = next((code for kind, code in status.items() if isinstance(exc, kind)), 500)
        return JSONResponse({"error": str(exc), "kind": type(exc).__name__}, status_code=code)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # a mounted app's lifespan does not run: start backorder's worker from ours
        async with backorder_app.state.worker.running(worker_interval):
            yield

    return Starlette(
        routes=[
            Route("/orders/{store}", place_order, methods=["POST"]),
            Route("/items/{store}/{sku}", item, methods=["GET"]),
            Mount("/backorder", app=backorder_app),
        ],
        exception_handlers={InvalidInput: error, NotFound: error, Conflict: error,
                            StorageError: error, RetriesExhausted: error},
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """``BACKORDER_DATABASE`` (default ``sqlite:///backorder.db``), one ``core`` store ``shop``."""
    url = os.environ.get("BACKORDER_DATABASE", "sqlite:///backorder.db")
    pool = {} if url.startswith("sqlite") else {"pool_size": THREADS, "max_overflow": 2}
    db = Database(url, **pool)
    pm = make_manager()
    services = build_services(db, {"shop": StoreConfig(name="shop", platform="core")}, pm)
    return create_service_app(db, services, pm)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app_from_environment(), host="127.0.0.1", port=8000)
