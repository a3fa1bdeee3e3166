"""Timed rules, for cron (``backorder tick``) and for the loop inside ``backorder serve``.

A pass applies back-in-stock dates that have come (``StoreService.tick``), then what
waits for a retry: platform pushes whose backoff has passed and notifications still
pending. Every step is idempotent (ledger keys, leased outbox rows), so cron, the serve
loop and several processes may all run it at once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from backorder.engine import StoreService
from backorder.models import DomainEvent


@dataclass
class TickResult:
    store: str
    events: list[DomainEvent] = field(default_factory=list)
    pushes: int = 0
    pushes_failed: int = 0
    notified: int = 0


def tick_store(service: StoreService, now: dt.datetime | None = None) -> TickResult:
    """One store's timed rules and retries (and today's promised dates for backorders)."""
    events = service.tick(now)
    events += service.incoming.refresh(at=now)  # promised dates after stock moved
    pushed, failed = service.outbox.deliver(now=now)
    return TickResult(service.name, events, pushed, failed, service.dispatch_events())


def tick_all(services: Iterable[StoreService], now: dt.datetime | None = None) -> list[TickResult]:
    return [tick_store(service, now) for service in services]


class Every:
    """Says a job is due at most once per ``seconds`` (monotonic clock); due at first ask."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: float | None = None

    def due(self) -> bool:
        now = time.monotonic()
        if self._last is None or now - self._last >= self.seconds:
            self._last = now
            return True
        return False
