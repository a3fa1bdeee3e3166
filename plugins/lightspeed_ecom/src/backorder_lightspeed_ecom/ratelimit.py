"""Lightspeed's rate limits: three windows per API key plus 20 requests a second per shop.

Every response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` in the form ``a/b/c`` for the 5-minute, hourly and daily windows
(300 / 3,000 / 12,000 requests). ``Reset`` is read as seconds until that window resets
(*unconfirmed*: the public docs show the header, not its unit).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

WINDOWS = ("5 minutes", "hour", "day")
DEFAULT_LIMITS = (300, 3000, 12000)
PER_SHOP_PER_SECOND = 20


class RateLimitError(RuntimeError):
    """A window is used up for longer than the caller is willing to wait."""


def _triple(headers: Mapping[str, str], name: str) -> tuple[int, int, int] | None:
    raw = headers.get(name)
    if raw is None:
        return None
    parts = raw.split("/")
    if len(parts) != 3:
        raise ValueError(f"header {name}: expected a/b/c, got {raw!r}")
    try:
        a, b, c = (int(part.strip()) for part in parts)
    except ValueError:
        raise ValueError(f"header {name}: expected three integers, got {raw!r}") from None
    return a, b, c


@dataclass(frozen=True)
class RateWindows:
    """The three windows as the last response reported them."""

    limit: tuple[int, int, int]
    remaining: tuple[int, int, int]
    reset: tuple[int, int, int]

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateWindows | None:
        limit = _triple(headers, "X-RateLimit-Limit")
        remaining = _triple(headers, "X-RateLimit-Remaining")
        reset = _triple(headers, "X-RateLimit-Reset")
        if limit is None or remaining is None or reset is None:
            return None
        return cls(limit, remaining, reset)

    def exhausted(self) -> tuple[str, int] | None:
        """The used-up window that resets last, with its seconds to wait, or ``None``."""
        spent = [(self.reset[i], WINDOWS[i]) for i in range(3) if self.remaining[i] <= 0]
        if not spent:
            return None
        seconds, window = max(spent)
        return window, seconds


class ShopThrottle:
    """At most ``per_second`` requests in any one-second span (a sliding window).

    One throttle is shared by every client of the same shop in this process.
    """

    def __init__(
        self,
        per_second: int = PER_SHOP_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_second = per_second
        self.clock, self.sleep = clock, sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a free slot; returns the seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                now = self.clock()
                while self._sent and now - self._sent[0] >= 1.0:
                    self._sent.popleft()
                if len(self._sent) < self.per_second:
                    self._sent.append(now)
                    return waited
                pause = 1.0 - (now - self._sent[0])
                self.sleep(pause)
                waited += pause


_throttles: dict[str, ShopThrottle] = {}
_throttles_lock = threading.Lock()


def shop_throttle(shop_key: str) -> ShopThrottle:
    """The process-wide throttle of one shop (base URL + API key)."""
    with _throttles_lock:
        return _throttles.setdefault(shop_key, ShopThrottle())
