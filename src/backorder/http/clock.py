"""Time for platform clients: the real clock, and the fake one tests and benchmarks share.

A client never calls :func:`time.sleep` or :func:`time.monotonic` itself: it is handed a
:class:`Clock`. Under :class:`FakeClock` a wait moves time forward at once, so pacing under
a 30-second rate-limit window or a backoff before a retry costs no real time, and every
wait is still recorded for a test or a benchmark to check.
"""

from __future__ import annotations

import time


class Clock:
    """Monotonic seconds and a real sleep."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock(Clock):
    """Simulated seconds: :meth:`sleep` moves :meth:`now` forward and records the wait.

    Share one instance between a sandbox and the client under test so both see the same
    time (a rate-limit window resets when the client has waited it out).
    """

    def __init__(self, start: float = 0.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.t += seconds
            self.sleeps.append(seconds)

    @property
    def slept(self) -> float:
        """Seconds waited in all, through :meth:`sleep`."""
        return sum(self.sleeps)
