"""``backorder serve`` as it runs in production (uvicorn, SQLite), under a burst and a
slow-headers attack (issue 20, items 2 and 6)."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest
import sqlalchemy as sa
from core_support import run_coroutine

from backorder.config import parse_config
from backorder.models import ItemInput
from backorder.plugins import make_manager
from backorder.server import create_app, pending_deliveries
from backorder.serving import uvicorn_options
from backorder.storage.schema import webhook_deliveries
from backorder.testing.browser import serve

BURST = 200
TOKEN = {"X-Backorder-Token": "s3cret"}


def serving(app, **options):
    """uvicorn with ``backorder serve``'s options in a thread; yields the base URL."""
    return serve(app, timeout=60, lifespan="auto", **{**uvicorn_options(), **options})


@pytest.fixture
def app(tmp_path):
    config = parse_config(
        {
            "database": f"sqlite:///{tmp_path}/burst.db",
            "stores": {"main": {"platform": "core", "connection": {"webhook_token": "s3cret"}}},
        }
    )
    app = create_app(config, pm=make_manager(load_entry_points=False), worker=False)
    service = app.state.worker.service("main")
    service.upsert_catalog(
        [ItemInput(sku=f"S{i}", on_hand=0, assigned=True) for i in range(BURST)]
    )
    return app


async def burst(url: str) -> list[int]:
    limits = httpx.Limits(max_connections=BURST + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=300) as client:

        async def one(i: int) -> int:
            body = {"kind": "stock", "delivery_id": f"d{i}", "sku": f"S{i}", "on_hand": i + 1}
            response = await client.post("/webhooks/main", json=body, headers=TOKEN)
            return response.status_code

        return await asyncio.gather(*(one(i) for i in range(BURST)))


def test_two_hundred_concurrent_deliveries_on_sqlite_all_succeed(app):
    """Every delivery is answered 202 and applied on its first attempt (before the fix,
    the 16th thread waited 30 s for a pool connection and the delivery failed with 500)."""
    service = app.state.worker.service("main")
    with serving(app) as url:
        statuses = run_coroutine(burst(url))
        assert statuses == [202] * BURST
        deadline = time.monotonic() + 120
        while pending_deliveries(service):  # applied right after each answer
            assert time.monotonic() < deadline, "deliveries were not applied"
            time.sleep(0.05)
    with service.db.read() as conn:
        rows = conn.execute(sa.select(webhook_deliveries)).all()
    assert len(rows) == BURST
    assert {row.attempts for row in rows} == {1}  # none failed and was retried
    assert all(row.outcome.startswith("stock S") for row in rows)
    assert [service.item(f"S{i}").on_hand for i in range(BURST)] == [
        i + 1 for i in range(BURST)
    ]


def test_a_connection_that_never_finishes_its_headers_is_closed(app):
    with serving(app, **uvicorn_options(header_timeout=0.5)) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"POST /webhooks/main HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            assert sock.recv(1024) == b""  # closed by the server, not by our 30 s timeout
        # a well-behaved client is still served on a kept-alive connection
        with httpx.Client(base_url=url) as client:
            assert client.get("/health").status_code == 200
            assert client.get("/health").status_code == 200


def test_serve_passes_the_timeouts_and_limits_to_uvicorn():
    options = uvicorn_options()
    assert options["timeout_keep_alive"] == 5
    assert options["limit_concurrency"] == 1000
    assert options["h11_max_incomplete_event_size"] == 16_384
    assert options["http"].header_timeout == 10.0
