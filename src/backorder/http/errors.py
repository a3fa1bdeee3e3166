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
