"""Lightspeed's rate limits: three windows per API key plus 20 requests a second per shop.

Every response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` in the form ``a/b/c`` for the 5-minute, hourly and daily windows
(300 / 3,000 / 12,000 requests). ``Reset`` is read as seconds until that window resets
(*unconfirmed*: the public docs show the header, not its unit).

:class:`LightspeedPacer` is the client's :class:`~backorder.http.Pacer`: before each call it
waits out a used-up window (or raises :class:`RateLimitError` when that is longer than the
connection's ``max_rate_wait``) and takes a slot of the shop's 20-a-second throttle.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from backorder.errors import PlatformError
from backorder.http import Clock, Pacer

PLATFORM = "lightspeed_ecom"
WINDOWS = ("5 minutes", "hour", "day")
DEFAULT_LIMITS = (300, 3000, 12000)
PER_SHOP_PER_SECOND = 20


class RateLimitError(PlatformError):
    """A window is used up for longer than the caller is willing to wait."""

    def __init__(self, message: str) -> None:
        super().__init__(message, platform=PLATFORM)


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

    def __init__(self, per_second: int = PER_SHOP_PER_SECOND, clock: Clock | None = None) -> None:
        self.per_second = per_second
        self.clock = clock or Clock()
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for a free slot; returns the seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                now = self.clock.now()
                while self._sent and now - self._sent[0] >= 1.0:
                    self._sent.popleft()
                if len(self._sent) < self.per_second:
                    self._sent.append(now)
                    return waited
                pause = 1.0 - (now - self._sent[0])
                self.clock.sleep(pause)
                waited += pause


_throttles: dict[str, ShopThrottle] = {}
_throttles_lock = threading.Lock()


def shop_throttle(shop_key: str) -> ShopThrottle:
    """The process-wide throttle of one shop (base URL + API key)."""
    with _throttles_lock:
        return _throttles.setdefault(shop_key, ShopThrottle())


class LightspeedPacer(Pacer):
    """The three windows as the last answer reported them, and the shop's throttle."""

    def __init__(self, throttle: ShopThrottle, clock: Clock, max_wait: float) -> None:
        self.throttle, self.clock, self.max_wait = throttle, clock, max_wait
        self.windows: RateWindows | None = None

    def before_call(self) -> float:
        waited = 0.0
        spent = self.windows.exhausted() if self.windows else None
        if spent is not None:
            window, seconds = spent
            if seconds > self.max_wait:
                raise RateLimitError(
                    f"Lightspeed rate limit: the {window} window is used up; it resets in "
                    f"{seconds} s (more than max_rate_wait {self.max_wait:g} s)"
                )
            self.clock.sleep(seconds)
            waited, self.windows = float(seconds), None
        return waited + self.throttle.acquire()

    def after_call(self, response: httpx.Response) -> None:
        self.windows = RateWindows.from_headers(response.headers) or self.windows

    def wait_after_429(self, response: httpx.Response) -> float | None:
        if self.windows is not None and self.windows.exhausted() is not None:
            return 0.0  # before_call waits the window out
        return 1.0  # the per-shop 20/s limit, spent by another client: a second frees it

