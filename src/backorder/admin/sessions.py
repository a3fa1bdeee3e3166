"""Signed session cookies (itsdangerous, the signer behind Starlette's own sessions).

The cookie holds only who signed in, the stores a platform's sign-in is limited to, the
CSRF token and when it was issued; it is signed with the admin key and expires after
``session_hours``. It is ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` over TLS; a
session opened inside a platform's control-panel frame (BigCommerce) is
``SameSite=None; Secure; Partitioned`` over TLS, the only way a browser sends a cookie
to a framed third-party app (CHIPS).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "backorder_admin"


@dataclass(frozen=True)
class Session:
    user: str | None = None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    stores: tuple[str, ...] | None = None
    """Set by a platform's sign-in: this session opens only these stores."""
    embedded: bool = False
    issued: float = field(default_factory=time.time)
    stored: bool = False
    """Read from a valid cookie (False: new, a response must set it)."""

    def may_open(self, store: str) -> bool:
        return self.stores is None or store in self.stores


class Sessions:
    def __init__(
        self, key: str, *, hours: int, secure: Literal["auto", "always", "never"] = "auto"
    ) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="backorder-admin-session")
        self.max_age = hours * 3600
        self.secure = secure

    def read(self, request: Request) -> Session:
        """The request's session, or a new anonymous one (bad, forged or expired cookie)."""
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data = self._serializer.loads(raw, max_age=self.max_age)
                stores = data.get("s")
                return Session(
                    user=data.get("u"), csrf=data["c"], embedded=bool(data.get("e")),
                    stores=tuple(stores) if stores is not None else None,
                    issued=float(data.get("i", 0)), stored=True,
                )
            except (BadSignature, KeyError, TypeError, ValueError):
                pass
        return Session()

    def signed_in(
        self, user: str, *, stores: tuple[str, ...] | None = None, embedded: bool = False
    ) -> Session:
        """A fresh session for ``user`` (new CSRF token: nothing carries over from before)."""
        return Session(user=user, stores=stores, embedded=embedded)

    def write(self, response: Response, request: Request, session: Session) -> None:
        value = self._serializer.dumps({
            "u": session.user, "c": session.csrf, "e": session.embedded,
            "s": list(session.stores) if session.stores is not None else None,
            "i": session.issued,
        })
        tls = request.url.scheme == "https"
        secure = self.secure == "always" or (self.secure == "auto" and tls)
        framed = session.embedded and secure
        response.set_cookie(
            COOKIE, value, max_age=self.max_age, path="/", httponly=True, secure=secure,
            samesite="none" if framed else "lax", partitioned=framed,
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/")

    def rotated(self, session: Session) -> Session:
        return replace(session, csrf=secrets.token_urlsafe(32), stored=False)


__all__ = ["COOKIE", "Session", "Sessions"]
