"""Sign-in attempts, limited: a few failures per user name and address, then a wait.

Counted in the process's memory (a sliding window per key). Behind several server
processes each counts its own, so the limit a guesser meets is at most that many times
higher; put the proxy's own limit in front for more.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginLimiter:
    """``attempts`` failures per key within ``window`` seconds; then refused until the
    oldest failure leaves the window. A success clears the key."""

    def __init__(
        self, attempts: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def wait(self, *keys: str) -> float:
        """Seconds until a new attempt is allowed for all ``keys`` (0: allowed now)."""
        now = self.clock()
        with self._lock:
            waits = [
                failures[0] + self.window - now
                for key, limit in self._limits(keys)
                if len(failures := self._recent(key, now)) >= limit
            ]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key, _ in self._limits(keys):
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # forget idle keys
                self._failures = {k: v for k, v in self._failures.items() if v}

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys[:1]:  # the user+address key; the address keeps its count
                self._failures.pop(key, None)

    def _limits(self, keys: tuple[str, ...]) -> list[tuple[str, int]]:
        """The first key is (user, address); any further one (the address alone) allows
        four times as many failures, so one address cannot try many user names."""
        return [(key, self.attempts if i == 0 else self.attempts * 4) for i, key in enumerate(keys)]


__all__ = ["LoginLimiter"]
