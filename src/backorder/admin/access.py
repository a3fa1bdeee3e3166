"""Who is asking, and may they: sessions, the trusted proxy's header, CSRF, sign-in limits.

Every admin request goes through :meth:`Access.identify`; every POST through
:meth:`Access.check_csrf`. A refusal is logged (method, path, address, user name, the
reason) and never with a cookie, token, password or form value.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from ipaddress import ip_address, ip_network

from starlette.requests import Request

from backorder.admin.ratelimit import LoginLimiter
from backorder.admin.sessions import Session, Sessions
from backorder.admin.settings import AdminSettings
from backorder.admin.users import User, Users
from backorder.storage.db import Database

log = logging.getLogger("backorder.admin")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _session_key(settings: AdminSettings) -> str:
    if settings.secret_key:
        return settings.secret_key
    key = os.environ.get(settings.secret_key_env) if settings.secret_key_env else None
    if key:
        return key
    log.warning(
        "admin: %s is not set; sessions are signed with a key made for this process "
        "(they end when it stops, and several processes cannot share them)",
        settings.secret_key_env,
    )
    return secrets.token_urlsafe(48)


def refuse(request: Request, reason: str, user: str | None = None) -> None:
    """Log a refused request: what, from where, who, why; nothing secret."""
    client = request.client.host if request.client else "-"
    log.warning(
        "refused %s %s from %s (user %s): %s",
        request.method, request.url.path, client, user or "-", reason,
    )


class Access:
    def __init__(self, settings: AdminSettings, db: Database) -> None:
        self.settings = settings
        self.users = Users(settings, db)
        self.sessions = Sessions(
            _session_key(settings), hours=settings.session_hours, secure=settings.cookie_secure
        )
        self.limiter = LoginLimiter(settings.login_attempts, settings.login_window_minutes * 60)
        self._proxies = [ip_network(net, strict=False) for net in settings.trusted_proxies]

    def _from_trusted_proxy(self, request: Request) -> bool:
        if request.client is None:
            return False
        try:
            address = ip_address(request.client.host)
        except ValueError:
            return False
        return any(address in net for net in self._proxies)

    def identify(self, request: Request) -> tuple[Session, User | None]:
        """The request's session and its user (``None``: not signed in, or the user is gone).

        With ``trusted_user_header`` set, a request from a trusted proxy that carries it is
        that user's; the header from anywhere else is ignored (and logged).
        """
        session = self.sessions.read(request)
        header = self.settings.trusted_user_header
        if header and header in request.headers:
            if self._from_trusted_proxy(request):
                user = self.users.get(request.headers[header])
                if user is None:
                    refuse(request, f"{header} names no known user", request.headers[header])
                return session, user
            refuse(request, f"{header} from an address that is not a trusted proxy")
        if session.user is None:
            return session, None
        return session, self.users.get(session.user)

    def check_csrf(self, request: Request, session: Session, given: str | None) -> bool:
        given = given or request.headers.get(CSRF_HEADER)
        if not session.stored or not given:
            return False
        return hmac.compare_digest(given.encode(), session.csrf.encode())

    def sign_in_keys(self, request: Request, name: str) -> tuple[str, str]:
        client = request.client.host if request.client else "-"
        return f"{client}|{name.lower()}", client


__all__ = ["CSRF_FIELD", "Access", "refuse"]
