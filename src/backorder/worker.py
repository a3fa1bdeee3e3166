"""The worker pass: everything that happens after and between requests, in one function.

``backorder tick`` (cron) and the loop inside ``backorder serve`` run the same
:func:`worker_pass` per store: apply webhook deliveries that arrived, receive stock whose
back-in-stock date has come (when the tick is due), refresh the promised dates of
backordered lines, send platform pushes whose backoff has passed and hand pending events
to the notifiers. Every step is idempotent (ledger keys, leased rows), so cron, the serve
loop and several processes may all run it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backorder.engine import StoreService
from backorder.models import DomainEvent
from backorder.storefront_api import readmodel
from backorder.webhooks import apply_deliveries

if TYPE_CHECKING:
    from backorder.stores import StoreDirectory

__all__ = ["Every", "PassReport", "Worker", "worker_pass"]

log = logging.getLogger("backorder.worker")


@dataclass
class PassReport:
    """What one pass did for one store."""

    store: str
    webhooks: int = 0
    webhooks_failed: int = 0
    events: list[DomainEvent] = field(default_factory=list)
    """Events of the tick and of the promised-date refresh."""
    pushes: int = 0
    pushes_failed: int = 0
    notified: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "webhooks": self.webhooks,
            "webhooks_failed": self.webhooks_failed,
            "tick_events": len(self.events),
            "pushes": self.pushes,
            "pushes_failed": self.pushes_failed,
            "notified": self.notified,
        }


def worker_pass(
    service: StoreService,
    now: dt.datetime | None = None,
    *,
    tick: bool = True,
    budget: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> PassReport:
    """One store's pass: deliveries, the tick and promised dates (when ``tick``), pushes,
    notifications.

    Without ``budget`` pushes and notifications go one batch each (the serve loop comes
    back in seconds). With ``budget`` (seconds) batches are repeated until nothing due is
    left or the time is up: a backlog (a big import's events and pushes) drains in one
    ``backorder tick`` instead of one batch per run. ``progress`` is told how many pushes
    or events each batch finished (``backorder tick``'s progress bar).
    """
    report = PassReport(service.name)
    readmodel.ensure(service)  # after an upgrade or a settings edit: once per process
    deadline = None if budget is None else time.monotonic() + budget
    report.webhooks, report.webhooks_failed = apply_deliveries(service, now=now)
    if tick:
        report.events = service.tick(now)
        report.events += service.incoming.refresh(at=now)
    while True:
        sent, failed = service.outbox.deliver(now=now)
        report.pushes += sent
        report.pushes_failed += failed
        if progress is not None:
            progress(sent + failed)
        if not sent + failed or deadline is None or time.monotonic() >= deadline:
            break
    while True:
        done = service.dispatch_events()
        report.notified += done
        if progress is not None:
            progress(done)
        if not done or deadline is None or time.monotonic() >= deadline:
            break
    return report


def worker_passes(
    services: Iterable[StoreService],
    now: dt.datetime | None = None,
    *,
    tick: bool = True,
    budget: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[PassReport]:
    return [
        worker_pass(service, now, tick=tick, budget=budget, progress=progress)
        for service in services
    ]


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


class Worker:
    """The serve loop: a worker pass for every store, the tick at most every ``tick_every``.

    Any number of workers may run at once, in one process or many (on PostgreSQL): rows
    are claimed with a lease and every step is idempotent.

    :param services: the stores, by name: a fixed mapping, or a
        :class:`~backorder.stores.StoreDirectory` (config-file stores and stores installed
        at run time), which a pass asks for the stores with work waiting.
    """

    def __init__(
        self,
        services: Mapping[str, StoreService] | StoreDirectory,
        *,
        tick_every: float = 60.0,
    ):
        from backorder.stores import StoreDirectory

        self.services = services if isinstance(services, StoreDirectory) else dict(services)
        self.tick = Every(tick_every)

    def service(self, name: str) -> StoreService | None:
        return self.services.get(name)

    def _due(self, ticking: bool) -> Iterable[StoreService]:
        due = getattr(self.services, "due", None)
        return due(ticking) if due is not None else self.services.values()

    def run_once(self, now: dt.datetime | None = None) -> dict[str, dict[str, int]]:
        """One pass over the stores with work; returns each visited store's counts."""
        ticking = self.tick.due()
        return {
            service.name: worker_pass(service, now, tick=ticking).counts()
            for service in self._due(ticking)
        }

    @contextlib.asynccontextmanager
    async def running(self, interval: float = 2.0) -> AsyncIterator[Worker]:
        """Run the loop in the background for the duration of an ``async with`` block (an
        embedding application's lifespan); leaving the block stops it after its pass."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop, interval))
        try:
            yield self
        finally:
            stop.set()
            await task

    async def run(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        """Loop until ``stop`` is set; an error in one pass is logged and the loop goes on."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("worker pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
