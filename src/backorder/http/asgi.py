"""Serve a synchronous httpx client from an ASGI app in process (a platform sandbox).

httpx's :class:`~httpx.ASGITransport` is async-only, while platform clients are sync (hooks
are plain calls). :class:`SyncASGITransport` runs that transport on an event loop in a
daemon helper thread, one loop per transport, and hands back the complete answer. Because
it drives the real ``ASGITransport``, vcrpy records and replays through it.

Sandbox faults: an app that did the work but wants "the answer never arrives" marks its
response with ``x-sandbox-fault: timeout`` (:data:`FAULT_HEADER`); the transport then raises
:class:`httpx.ReadTimeout`, as a real network would after a lost answer. Over real HTTP (a
sandbox served on a loopback port) the header is all a client sees.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

FAULT_HEADER = "x-sandbox-fault"
TIMEOUT_FAULT = "timeout"


class SyncASGITransport(httpx.BaseTransport):
    """``httpx.Client(transport=SyncASGITransport(app))`` calls ``app`` in process."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=_run, args=(loop,), name="asgi-bridge", daemon=True).start()
                self._loop = loop
            return self._loop

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        future = asyncio.run_coroutine_threadsafe(self._send(copy), self._ensure_loop())
        response = future.result()
        if response.headers.get(FAULT_HEADER) == TIMEOUT_FAULT:
            # the app did the work, but "the answer never arrived"
            raise httpx.ReadTimeout("sandbox fault: read timed out", request=request)
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.content,
            request=request,
        )  # fmt: skip

    def close(self) -> None:
        with self._lock:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._loop = None


def _run(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()
