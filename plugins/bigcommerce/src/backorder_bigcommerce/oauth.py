"""BigCommerce's single-click app: the app's credentials, the code exchange, the JWT check.

- The auth callback's ``code`` is exchanged for the store's access token with a JSON
  ``POST {login_url}/oauth2/token`` carrying ``client_id``, ``client_secret``, ``code``,
  ``context``, ``scope``, ``grant_type=authorization_code`` and ``redirect_uri`` (the
  auth callback as registered); the answer holds ``access_token``, ``scope``, ``user``,
  ``context`` and ``account_uuid``. (BigCommerce Dev Docs, "Single-Click App OAuth
  Flow": requesting and receiving the access_token.)
- The load, uninstall and remove_user callbacks carry ``signed_payload_jwt``: an HS256
  JWT signed with the app's client secret, ``aud`` the client id, ``iss`` ``bc``,
  ``sub`` ``stores/{hash}``, valid from ``nbf`` to ``exp`` (24 hours). It is verified
  with PyJWT; any other algorithm, a wrong signature, audience or issuer, an expired or
  not-yet-valid token, or a missing claim is refused. (Dev Docs, "Single-Click App
  Callback Handlers": decode and verify signed_payload_jwt, payload claims.)

Neither the client secret nor an access token is ever logged or put in an error message.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backorder.errors import ConfigError, InvalidInput, PlatformError, first_problem
from backorder_bigcommerce.connection import NAME, transport_for

STORE_CONTEXT = re.compile(r"^stores/([a-z0-9]{1,64})$")
LEEWAY_SECONDS = 60
"""Clock difference tolerated between BigCommerce and this server."""


class PayloadRejected(InvalidInput):
    """A ``signed_payload_jwt`` (or auth callback) that is not BigCommerce's: refused."""


class AppSettings(BaseModel):
    """The config's ``[plugins.bigcommerce]`` table (the app's profile in the Dev Portal)."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1)
    client_secret: str | None = Field(default=None, repr=False)
    client_secret_env: str | None = "BIGCOMMERCE_CLIENT_SECRET"
    app_url: str = Field(min_length=1)
    """This server's public base URL: ``{app_url}/bigcommerce/auth`` is the auth callback
    registered in the Dev Portal, and webhooks are delivered to ``{app_url}/webhooks/..``."""
    login_url: str = "https://login.bigcommerce.com"
    api_url: str = "https://api.bigcommerce.com"
    control_panel: list[str] = Field(
        default_factory=lambda: ["https://*.bigcommerce.com", "https://*.mybigcommerce.com"]
    )
    """Origins that show the app in their iframe (CSP ``frame-ancestors``)."""
    webhook_header: str = "X-Backorder-Secret"
    store: dict[str, Any] = Field(default_factory=dict)
    """Sections given to every store installed (``settings``, ``storefront``...), e.g.
    ``store.settings.plan_limit``."""

    @property
    def redirect_uri(self) -> str:
        return f"{self.app_url.rstrip('/')}/bigcommerce/auth"

    def secret(self) -> str:
        import os

        value = self.client_secret or (
            os.environ.get(self.client_secret_env) if self.client_secret_env else None
        )
        if not value:
            raise ConfigError(
                f"[plugins.{NAME}]: no client secret (set {self.client_secret_env})"
            )
        return value


def app_settings(options: dict[str, Any]) -> AppSettings | None:
    """The app's settings, or ``None`` when the config has no ``[plugins.bigcommerce]``."""
    if not options:
        return None
    try:
        return AppSettings.model_validate(options)
    except ValidationError as exc:
        where, problem = first_problem(exc)
        raise ConfigError(f"[plugins.{NAME}] {where}: {problem}") from None


class BigCommerceUser(BaseModel):
    """A user as the token response and the signed payloads name them."""

    model_config = ConfigDict(extra="ignore")

    id: int
    username: str = ""
    email: str = ""
    locale: str = ""


class TokenResponse(BaseModel):
    """The answer of ``POST /oauth2/token``."""

    model_config = ConfigDict(extra="ignore")

    access_token: str = Field(min_length=1, repr=False)
    scope: str = ""
    user: BigCommerceUser
    owner: BigCommerceUser | None = None
    context: str
    account_uuid: str = ""

    @property
    def store_hash(self) -> str:
        found = STORE_CONTEXT.match(self.context)
        if not found:
            raise PlatformError("token response: context is not stores/{hash}", platform=NAME)
        return found.group(1)


def exchange_code(app: AppSettings, *, code: str, scope: str, context: str) -> TokenResponse:
    """The auth callback's code exchanged for the store's access token.

    :raises backorder.errors.PlatformError: BigCommerce refused or failed (the status and
        its error title; never the secret).
    """
    url = f"{app.login_url.rstrip('/')}/oauth2/token"
    body = {
        "client_id": app.client_id,
        "client_secret": app.secret(),
        "code": code,
        "context": context,
        "scope": scope,
        "grant_type": "authorization_code",
        "redirect_uri": app.redirect_uri,
    }
    with httpx.Client(transport=transport_for(app.login_url), timeout=30) as http:
        try:
            answer = http.post(url, json=body, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise PlatformError(
                f"BigCommerce token endpoint unreachable: {type(exc).__name__}",
                platform=NAME, url=url,
            ) from None
    if answer.status_code != 200:
        try:
            reason = str(answer.json().get("error") or answer.json().get("title") or "")[:200]
        except ValueError:
            reason = ""
        raise PlatformError(
            f"BigCommerce refused the install code: HTTP {answer.status_code} {reason}".strip(),
            platform=NAME, url=url, status=answer.status_code,
        )
    try:
        return TokenResponse.model_validate(answer.json())
    except (ValueError, ValidationError):
        raise PlatformError("BigCommerce's token response is not what its docs describe",
                            platform=NAME, url=url) from None


class Claims(BaseModel):
    """The claims of a verified ``signed_payload_jwt``."""

    model_config = ConfigDict(extra="ignore")

    sub: str
    user: BigCommerceUser
    owner: BigCommerceUser
    url: str = "/"
    channel_id: int | None = None

    @property
    def store_hash(self) -> str:
        found = STORE_CONTEXT.match(self.sub)
        if not found:
            raise PayloadRejected("signed_payload_jwt: sub is not stores/{hash}")
        return found.group(1)


def verify_payload(app: AppSettings, token: str | None) -> Claims:
    """A ``signed_payload_jwt`` verified with the client secret, or :class:`PayloadRejected`
    saying why (never echoing the token)."""
    if not token or len(token) > 8192:
        raise PayloadRejected("signed_payload_jwt: missing")
    try:
        data = jwt.decode(
            token,
            app.secret(),
            algorithms=["HS256"],
            audience=app.client_id,
            issuer="bc",
            leeway=LEEWAY_SECONDS,
            options={"require": ["aud", "iss", "iat", "nbf", "exp", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise PayloadRejected("signed_payload_jwt: expired") from None
    except jwt.InvalidTokenError as exc:
        raise PayloadRejected(f"signed_payload_jwt: {type(exc).__name__}") from None
    try:
        return Claims.model_validate(data)
    except ValidationError as exc:
        where, problem = first_problem(exc)
        raise PayloadRejected(f"signed_payload_jwt: claim {where}: {problem}") from None


__all__ = [
    "AppSettings",
    "Claims",
    "PayloadRejected",
    "TokenResponse",
    "app_settings",
    "exchange_code",
    "verify_payload",
]
