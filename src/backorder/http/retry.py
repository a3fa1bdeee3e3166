"""The one retry policy of platform clients: what is sent again, and after how long.

What is retried (the decision is :class:`~backorder.http.session.PlatformHttp`'s, by these
rules):

- a **429** was not processed, so any call is sent again, after the platform's own reset
  when its client knows it (its pacer), else the ``Retry-After`` it answered (capped at
  ``max_retry_after``), else the backoff;
- a connection that **never opened** (:data:`NOT_SENT`) sent nothing, so any call is sent
  again after the backoff;
- a **5xx** (:data:`RETRY_STATUSES`) or a **lost response** (a read timeout, a dropped
  connection) may have been applied: only *safe* calls are sent again — the idempotent
  methods (:data:`IDEMPOTENT_METHODS`) unless the plugin says otherwise, and any call the
  plugin marks safe. Any other call raises the plugin's ambiguous-write error for the
  caller to read the state back;
- the attempts are capped: ``retries`` after the first one, 429s included.

The backoff is exponential with full jitter: before retry ``n`` (0-based) the client waits
a random time in ``[0, min(backoff * 2**n, max_backoff)]`` drawn from an injected
:class:`random.Random`, so callers that retry together spread out, and a test can fix it.
"""

from __future__ import annotations

import datetime as dt
import random
from email.utils import parsedate_to_datetime
from typing import Annotated

import httpx
from pydantic import BaseModel, ConfigDict, Field

Retries = Annotated[int, Field(ge=0, le=10)]
"""Retries after the first attempt (0 = one attempt only)."""

RETRY_STATUSES = frozenset({500, 502, 503, 504})
"""Server errors worth another try (501 and the like will not get better)."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods whose second copy does no more than the first (RFC 9110, 9.2.2)."""

NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before the request left: repeating them can never apply it twice."""


class RetryPolicy(BaseModel):
    """The numbers of the retry rules above; one per client."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    retries: Retries = 3
    backoff: float = Field(default=0.5, ge=0)
    """The ceiling of the first backoff, in seconds; doubled for each further retry."""
    max_backoff: float = Field(default=8.0, ge=0)
    max_retry_after: float = Field(default=30.0, ge=0)
    """A 429's ``Retry-After`` is honoured up to this many seconds."""

    def backoff_ceiling(self, attempt: int) -> float:
        """The longest wait after failed attempt number ``attempt`` (0-based)."""
        return min(self.backoff * 2**attempt, self.max_backoff)

    def backoff_delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt ``attempt``: full jitter under the ceiling."""
        return rng.uniform(0, self.backoff_ceiling(attempt))

    def retry_after_delay(self, header: str | None) -> float | None:
        """Seconds a 429's ``Retry-After`` asks for (seconds or an HTTP date), capped;
        ``None`` when the header is missing or unreadable."""
        wanted = retry_after_seconds(header)
        if wanted is None:
            return None
        return min(max(wanted, 0.0), self.max_retry_after)


def is_safe(method: str, safe: bool | None) -> bool:
    """Whether a call that may have been applied can be sent again: as the plugin marked
    it, else by its method."""
    return method.upper() in IDEMPOTENT_METHODS if safe is None else safe


def retry_after_seconds(header: str | None) -> float | None:
    """``Retry-After`` in seconds from now (it may be in the past: negative)."""
    if not header:
        return None
    try:
        return float(header)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (when - dt.datetime.now(dt.UTC)).total_seconds()
