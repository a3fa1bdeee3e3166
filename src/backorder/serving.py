"""How ``backorder serve`` runs uvicorn: the timeouts and limits a public endpoint needs.

uvicorn's defaults let a client hold a connection open for ever by sending its headers
slowly (its keep-alive timeout only runs between requests), and put no cap on the
number of connections. :func:`uvicorn_options` sets, with the figures the README's
security section states:

- :data:`HEADER_TIMEOUT`: a connection must complete its request headers within this
  many seconds of opening (or of its previous response), or it is closed
  (:func:`guarded_h11_protocol`);
- :data:`KEEP_ALIVE`: an idle keep-alive connection is closed after this many seconds;
- :data:`MAX_CONNECTIONS`: connections and requests in flight beyond this get ``503``;
- :data:`MAX_HEADER_BYTES`: request headers larger than this get ``400`` (h11);
- :data:`BACKLOG`: connections the kernel queues before the server accepts them.

The body's own limits (size, read time) are the webhook route's: ``backorder.server``
``MAX_BODY`` and ``BODY_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
from typing import Any

HEADER_TIMEOUT = 10.0
KEEP_ALIVE = 5
MAX_CONNECTIONS = 1000
MAX_HEADER_BYTES = 16_384
BACKLOG = 2048


def guarded_h11_protocol(header_timeout: float = HEADER_TIMEOUT) -> type:
    """uvicorn's h11 protocol, closing a connection whose request headers do not arrive
    within ``header_timeout`` seconds (a slow-headers attack holds no connection).

    Built on call: uvicorn is the ``server`` extra, and the core imports without it."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_header_timer()  # the next request's headers are timed too

        def connection_lost(self, exc: Exception | None) -> None:
            timer = getattr(self, "_header_timer", None)
            if timer is not None:
                timer.cancel()
            super().connection_lost(exc)

        def _arm_header_timer(self) -> None:
            timer = getattr(self, "_header_timer", None)
            if timer is not None:
                timer.cancel()
            waiting_after = self.cycle  # a request whose headers arrived starts a new cycle
            self._header_timer = self.loop.call_later(
                header_timeout, self._headers_overdue, waiting_after
            )

        def _headers_overdue(self, waiting_after: Any) -> None:
            if self.cycle is waiting_after and not self.transport.is_closing():
                self.transport.close()

    GuardedH11Protocol.header_timeout = header_timeout  # type: ignore[attr-defined]
    return GuardedH11Protocol


def uvicorn_options(*, header_timeout: float = HEADER_TIMEOUT) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` (besides app, host, port)."""
    return {
        "http": guarded_h11_protocol(header_timeout),
        "timeout_keep_alive": KEEP_ALIVE,
        "limit_concurrency": MAX_CONNECTIONS,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "backlog": BACKLOG,
    }
