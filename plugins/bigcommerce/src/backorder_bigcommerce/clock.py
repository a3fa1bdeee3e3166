"""Clocks: the real one, and a simulated one the sandbox and the client share.

The benchmark and the tests run on :class:`SimClock`: ``sleep`` moves time forward
instead of waiting, so pacing under a 30-second rate-limit window costs no real time
while every wait is still measured.
"""

from __future__ import annotations

import time


class Clock:
    """Wall-clock seconds (monotonic) and a real sleep."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class SimClock(Clock):
    """Simulated seconds: ``sleep`` advances ``now`` and adds to ``slept``."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start
        self.slept = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.t += seconds
            self.slept += seconds
