"""BigCommerce's single-click app flow, played by the sandbox like BigCommerce plays it.

- **Install**: the control panel opens the app's auth callback in its iframe with
  ``code``, ``scope``, ``context=stores/{hash}`` and ``account_uuid``; the app POSTs them
  with its client id and secret to ``/oauth2/token`` (here, as at
  ``login.bigcommerce.com``) and gets the store's access token and the user. A code is
  good once; a wrong secret, code, redirect URI or context is refused as BigCommerce does
  (400/401 JSON).
- **Load, uninstall, remove_user**: BigCommerce sends ``GET {callback}?signed_payload_jwt=``
  with an HS256 JWT signed with the app's client secret, whose claims are those the docs
  list (``aud`` the client id, ``iss`` "bc", ``iat``/``nbf``, ``exp`` 24 h later, ``jti``,
  ``sub`` "stores/{hash}", ``user``, ``owner``, ``url``, ``channel_id``).

Sources: BigCommerce Dev Docs, "Single-Click App OAuth Flow" (apps guide: auth) and
"Single-Click App Callback Handlers" (apps guide: callbacks, payload claims table).
"""

from __future__ import annotations

import html
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt

from backorder_bigcommerce.sandbox.state import ApiError, SandboxState

ACCOUNT_UUID = "12345678-90ab-cdef-1234-567890abcdef"
OWNER_ID = 7654321
OWNER: dict[str, Any] = {"id": OWNER_ID, "username": "owner@example.com",
                         "email": "owner@example.com"}
DEFAULT_SCOPE = "store_v2_products store_v2_orders_read_only store_v2_information_read_only"
PAYLOAD_SECONDS = 24 * 3600  # "Currently, 24 hours after nbf."


@dataclass
class RegisteredApp:
    client_id: str
    client_secret: str
    app_url: str
    """Where the app's callbacks live: ``{app_url}/bigcommerce/auth`` and so on."""
    scope: str = DEFAULT_SCOPE
    users: dict[int, dict[str, Any]] = field(default_factory=lambda: {OWNER_ID: OWNER})

    def callback(self, name: str) -> str:
        return f"{self.app_url.rstrip('/')}/bigcommerce/{name}"


def _denied(status: int, message: str) -> ApiError:
    return ApiError(status, {"error": message})


class AppFlow:
    """The sandbox's app registry, authorization codes and signed payloads."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.apps: dict[str, RegisteredApp] = {}
        self._codes: dict[str, tuple[str, str]] = {}
        self.tokens_issued = 0

    def register(self, client_id: str, client_secret: str, app_url: str, **kw) -> RegisteredApp:
        self.apps[client_id] = RegisteredApp(client_id, client_secret, app_url, **kw)
        return self.apps[client_id]

    def add_user(self, client_id: str, user_id: int, email: str) -> dict[str, Any]:
        user = {"id": user_id, "username": email, "email": email}
        self.apps[client_id].users[user_id] = user
        return user

    # ------------------------------------------------------------------ install
    def authorize(self, client_id: str, user_id: int = OWNER_ID) -> str:
        """The merchant accepted the scopes: a one-time code for the auth callback."""
        code = secrets.token_urlsafe(12)
        self._codes[code] = (client_id, str(user_id))
        return code

    def auth_url(self, client_id: str, user_id: int = OWNER_ID) -> str:
        app = self.apps[client_id]
        query = urlencode({
            "account_uuid": ACCOUNT_UUID, "code": self.authorize(client_id, user_id),
            "context": f"stores/{self.state.store_hash}", "scope": app.scope,
        })
        return f"{app.callback('auth')}?{query}"

    def token(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /oauth2/token``: a code exchanged for the store's access token."""
        app = self.apps.get(str(body.get("client_id")))
        if app is None or not secrets.compare_digest(
            str(body.get("client_secret", "")), app.client_secret
        ):
            raise _denied(401, "Invalid client_id or client_secret")
        if body.get("grant_type") != "authorization_code":
            raise _denied(400, "grant_type must be authorization_code")
        if body.get("redirect_uri") != app.callback("auth"):
            raise _denied(400, "redirect_uri does not match the app's auth callback")
        if body.get("context") != f"stores/{self.state.store_hash}":
            raise _denied(400, "Invalid context")
        grant = self._codes.pop(str(body.get("code", "")), None)
        if grant is None or grant[0] != app.client_id:
            raise _denied(400, "The code is invalid or was used already")
        user = app.users.get(int(grant[1]), OWNER)
        self.tokens_issued += 1
        return {
            "access_token": self.state.token,
            "scope": app.scope,
            "user": user,
            "owner": OWNER,
            "context": f"stores/{self.state.store_hash}",
            "account_uuid": ACCOUNT_UUID,
        }

    # ---------------------------------------------------------- signed callbacks
    def signed_payload(
        self,
        client_id: str,
        user_id: int = OWNER_ID,
        *,
        issued: float | None = None,
        secret: str | None = None,
        audience: str | None = None,
        store_hash: str | None = None,
    ) -> str:
        """A ``signed_payload_jwt`` as BigCommerce sends it (``secret``/``audience``/
        ``store_hash`` overrides make forgeries for tests)."""
        app = self.apps[client_id]
        now = int(issued if issued is not None else time.time())
        user = app.users.get(user_id) or {"id": user_id, "email": f"user{user_id}@example.com"}
        claims = {
            "aud": audience or app.client_id,
            "iss": "bc",
            "iat": now,
            "nbf": now,
            "exp": now + PAYLOAD_SECONDS,
            "jti": str(uuid.uuid4()),
            "sub": f"stores/{store_hash or self.state.store_hash}",
            "user": {"id": user["id"], "email": user["email"], "locale": "en-US"},
            "owner": {"id": OWNER["id"], "email": OWNER["email"]},
            "url": "/",
            "channel_id": None,
        }
        return jwt.encode(claims, secret or app.client_secret, algorithm="HS256")

    def callback_url(self, client_id: str, name: str, user_id: int = OWNER_ID) -> str:
        """``{app}/bigcommerce/{load|uninstall|remove_user}?signed_payload_jwt=...``."""
        token = self.signed_payload(client_id, user_id)
        return f"{self.apps[client_id].callback(name)}?{urlencode({'signed_payload_jwt': token})}"

    # ------------------------------------------------------------ control panel
    def control_panel(self, title: str, frame_url: str) -> str:
        """A page standing in for the store's control panel, the app in its iframe."""
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} · Sandbox control panel</title>
<style>body{{margin:0;font-family:system-ui,sans-serif;background:#f0f2f7}}
header{{background:#0b0f1a;color:#fff;padding:.7rem 1.2rem;font-weight:700}}
iframe{{border:0;width:100%;height:calc(100vh - 46px);background:#fff}}</style></head>
<body><header>BigCommerce sandbox · store {html.escape(self.state.store_hash)} · Apps ›
{html.escape(title)}</header>
<iframe id="app" title="{html.escape(title)}" src="{html.escape(frame_url)}"></iframe>
</body></html>"""


__all__ = ["ACCOUNT_UUID", "OWNER", "AppFlow", "RegisteredApp"]
