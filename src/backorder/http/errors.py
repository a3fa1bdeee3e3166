"""The error a platform client raises: one base for every plugin's own exception class.

A plugin subclasses :class:`PlatformCallError` once (``BigCommerceError``, ``MagentoError``
...), sets :attr:`~PlatformCallError.PLATFORM` and :attr:`~PlatformCallError.LABEL`, and may
override :meth:`~PlatformCallError.detail` (how its error bodies say what went wrong) and
:meth:`~PlatformCallError.from_response` (to pick a narrower class for some answers). The
message always names the platform, the method, the URL (credentials masked) and the
status::

    BigCommerce GET https://api.bigcommerce.com/stores/abc/v3/catalog/products/7: HTTP 404: …
    Magento PUT http://shop.test/rest/default/V1/products/MB-01/stockItems/1: no response: …
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from backorder.errors import PlatformError

CREDENTIAL_PARAMS = frozenset(
    {"access_token", "api_key", "apikey", "key", "secret", "token", "password", "signature"}
)
"""Query parameters whose values never appear in an error or a log line."""


def safe_url(url: str | httpx.URL) -> str:
    """``url`` without its user info, credential query values masked."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = urlencode(
        [
            (name, "***" if name.lower() in CREDENTIAL_PARAMS else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[]:,*",
    )
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def response_body(response: httpx.Response) -> Any:
    """The answer's JSON, or its text when it is not JSON, or ``None`` when empty."""
    if not response.content:
        return None
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return response.text


class PlatformCallError(PlatformError):
    """A call to a platform's API failed: refused (4xx), failed (5xx) or unanswered.

    ``status`` is ``None`` when no answer came; ``body`` is the answer's JSON or text.
    """

    PLATFORM: ClassVar[str] = ""
    """The platform's registered name (``StoreConfig.platform``)."""
    LABEL: ClassVar[str] = ""
    """How messages name the platform ("BigCommerce")."""
    URL_SETTING: ClassVar[str] = "base_url"
    """The connection setting holding the API's address: what to check when none answers."""
    CREDENTIALS: ClassVar[tuple[str, ...]] = ()
    """The connection's secrets ("access_token"; each may be given as ``NAME_env``): what to
    check on a 401 or 403."""
    PERMISSIONS: ClassVar[str] = "their permissions"
    """What else a 401 or 403 may mean (the token's scopes)."""
    NOT_FOUND: ClassVar[str] = "the id asked for"
    """What to check on a 404; ``{name}`` is filled from the connection table."""

    def __init__(
        self,
        method: str,
        url: str | httpx.URL,
        status: int | None,
        detail: str,
        *,
        body: Any = None,
        attempts: int = 1,
    ) -> None:
        shown = safe_url(url)
        answer = "no response" if status is None else f"HTTP {status}"
        message = f"{self.LABEL or self.PLATFORM} {method} {shown}: {answer}: {detail}"
        if attempts > 1:
            message += f" (gave up after {attempts} attempts)"
        super().__init__(message, platform=self.PLATFORM, url=shown, status=status)
        self.method, self.body, self.attempts = method, body, attempts

    @classmethod
    def from_response(
        cls,
        method: str,
        url: str | httpx.URL,
        response: httpx.Response,
        *,
        attempts: int = 1,
        note: str = "",
    ) -> PlatformCallError:
        """The error for an answer the client does not retry (or no longer); ``note`` is
        added to the platform's own words."""
        body = response_body(response)
        detail = cls.detail(body, response) + note
        return cls(method, url, response.status_code, detail, body=body, attempts=attempts)

    def what_to_check(self, connection: Mapping[str, Any]) -> str:
        """What a user should check, by status, naming the settings of the store's
        ``connection`` table: its address (no answer), its credentials and their scopes (401,
        403), the id asked for (404); "" when the platform's own words must do."""
        status = self.status
        if status is None:
            name, value = self.URL_SETTING, connection.get(self.URL_SETTING)
            where = f"connection.{name} ({value})" if value else f"connection.{name} (not set)"
            return f"check {where} and that {self.LABEL or self.PLATFORM} is up"
        if status in (401, 403):
            secrets = " and ".join(secret_source(connection, key) for key in self.CREDENTIALS)
            return f"check {secrets or 'the credentials'}, and {self.PERMISSIONS}"
        if status == 404:
            fill = {key: value for key, value in connection.items() if isinstance(value, str)}
            try:
                return "check " + self.NOT_FOUND.format_map(fill)
            except KeyError:  # a setting the table does not have
                return "check " + self.NOT_FOUND
        if status == 429 or status >= 500:
            return f"{self.LABEL or self.PLATFORM} is busy or failing: try again later"
        return ""

    @staticmethod
    def detail(body: Any, response: httpx.Response) -> str:
        """What the platform said went wrong, short (override for a platform's error shape)."""
        if isinstance(body, dict):
            for key in ("title", "message", "error", "detail"):
                if body.get(key):
                    value = body[key]
                    return (value if isinstance(value, str) else json.dumps(value))[:300]
        if body is None:
            return response.reason_phrase or "empty answer"
        return (body if isinstance(body, str) else json.dumps(body))[:300]


def secret_source(connection: Mapping[str, Any], key: str) -> str:
    """Where the secret ``key`` comes from, as a user would look for it (never its value)."""
    env = connection.get(f"{key}_env")
    if env:
        unset = "" if os.environ.get(str(env)) else ", not set"
        return f"${env} (connection.{key}_env{unset})"
    if key in connection:
        return f"connection.{key}"
    return f"connection.{key}_env (not set)"
