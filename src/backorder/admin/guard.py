"""Headers on every answer of the web app, and a cap on what a request may send.

- ``Content-Security-Policy``: scripts, styles, images and form targets from the app
  itself only (no inline script or style, no ``eval``); ``frame-ancestors`` the app
  itself and the origins a platform plugin allows (BigCommerce's control panel).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
  ``Cross-Origin-Opener-Policy``, ``Permissions-Policy``, ``Cache-Control: no-store`` on
  pages (they show store data), ``Strict-Transport-Security`` over TLS.
- A request body over ``max_bytes`` (an oversized upload) is answered ``413`` before the
  app parses it, whether it announces its length or not.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("backorder.admin")


class BodyTooLarge(Exception):
    pass


def content_security_policy(frame_ancestors: Sequence[str]) -> str:
    ancestors = " ".join(["'self'", *frame_ancestors])
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        f"frame-ancestors {ancestors}",
    ])


class Guard:
    """ASGI middleware: security headers out, a body cap in."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, frame_ancestors: list[str]) -> None:
        self.app, self.max_bytes, self.frame_ancestors = app, max_bytes, frame_ancestors

    def _headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"content-security-policy", content_security_policy(self.frame_ancestors).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if not self.frame_ancestors:
            headers.append((b"x-frame-options", b"SAMEORIGIN"))
        if scope.get("scheme") == "https":
            headers.append((b"strict-transport-security", b"max-age=31536000"))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, send)
            return
        started = False
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {name for name, _ in message.get("headers", [])}
                extra = [h for h in self._headers(scope) if h[0] not in names]
                if b"cache-control" not in names and "/static/" not in scope.get("path", ""):
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except BodyTooLarge:
            if started:
                raise
            await self._too_large(scope, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        client = scope.get("client") or ("-",)
        log.warning(
            "refused %s %s from %s: body over %d bytes",
            scope.get("method"), scope.get("path"), client[0], self.max_bytes,
        )
        body = f"The upload is larger than {self.max_bytes:,} bytes.".encode()
        await send({
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"), *self._headers(scope)],
        })
        await send({"type": "http.response.body", "body": body})


__all__ = ["Guard", "content_security_policy"]
