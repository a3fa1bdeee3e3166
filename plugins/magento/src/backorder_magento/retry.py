"""When and how long :class:`~backorder_magento.client.MagentoClient` waits before a retry.

What is retried is the client's decision (see ``MagentoClient._call``); this module only
holds the numbers: how many retries, the capped exponential backoff for 5xx and lost
responses, and the capped wait a 429's ``Retry-After`` asks for.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Retries = Annotated[int, Field(ge=0, le=10)]
"""Retries after the first attempt (0 = one attempt only)."""

RETRY_STATUSES = frozenset({500, 502, 503, 504})
"""Server errors worth another try (501 and the like will not get better)."""


class RetryPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    retries: Retries = 3
    backoff: float = Field(default=0.5, ge=0)
    """The first wait after a 5xx or a lost response; doubled for each further retry."""
    max_backoff: float = Field(default=8.0, ge=0)
    max_retry_after: float = Field(default=30.0, ge=0)
    """A 429's ``Retry-After`` is honoured up to this many seconds."""

    def backoff_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        return min(self.backoff * 2**attempt, self.max_backoff)

    def retry_after_delay(self, header: str | None, attempt: int) -> float:
        """Seconds to wait after a 429: its ``Retry-After`` (seconds or HTTP date), capped."""
        wanted = _retry_after_seconds(header)
        if wanted is None:
            wanted = self.backoff_delay(attempt)
        return min(max(wanted, 0.0), self.max_retry_after)


def _retry_after_seconds(header: str | None) -> float | None:
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
