"""Run an ASGI app (the sandbox) behind a synchronous httpx client, in process.

httpx's :class:`~httpx.ASGITransport` is async-only; the plugin's client is sync
(hooks are plain calls). :class:`SyncASGITransport` runs the ASGI transport on an
event loop in a daemon helper thread and hands back a complete
response. Because it drives the real ``ASGITransport``, vcrpy records and replays it.
"""

from __future__ import annotations

import asyncio
import threading

import httpx

FAULT_HEADER = "x-sandbox-fault"


class SyncASGITransport(httpx.BaseTransport):
    def __init__(self, app) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self._loop.run_forever, name="sandbox-asgi", daemon=True
                ).start()
            return self._loop

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = asyncio.run_coroutine_threadsafe(self._send(copy), self._ensure_loop()).result()
        if response.headers.get(FAULT_HEADER) == "timeout":
            # the sandbox did the work but "the response never arrived"
            raise httpx.ReadTimeout("sandbox fault: read timed out", request=request)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=response.content,
            request=request,
        )

    def close(self) -> None:
        with self._lock:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._loop = None
