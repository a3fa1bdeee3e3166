"""Place orders from several processes at once (the concurrency test and benchmark use it).

Each worker process opens its own database connection and places single-line orders
round-robin over the hot SKUs, reporting the units it was granted and the orders it
placed. Spawned workers import this module, so it must stay importable on its own.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import LineRequest, OrderIn
from backorder.storage.db import Database


@dataclass(frozen=True)
class RaceResult:
    units_taken: int
    orders_placed: int
    orders_accepted: int
    seconds: float


def _worker(url, store_data: dict, skus, worker, orders, qty, out) -> None:
    store = StoreConfig.model_validate(store_data)
    db = Database(url, migrate=False)
    service = StoreService(db, store)
    taken = accepted = 0
    for n in range(orders):
        result = service.place_order(OrderIn(
            order_id=f"{store.name}-w{worker}-{n}",
            lines=[LineRequest(sku=skus[(n + worker) % len(skus)], qty=qty)],
        ))
        if result.accepted:
            accepted += 1
            taken += sum(line.in_stock + line.backordered for line in result.lines)
    db.dispose()
    out.put((taken, accepted))


def race(
    url: str, store: StoreConfig, skus: list[str], *, workers: int, orders_per_worker: int,
    qty: int = 1, timeout: float = 300,
) -> RaceResult:
    """Run ``workers`` processes placing ``orders_per_worker`` orders each; wait for all."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(url, store.model_dump(mode="json"), skus, w, orders_per_worker, qty, out),
        )
        for w in range(workers)
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    deadline = started + timeout
    for proc in procs:
        proc.join(max(deadline - time.perf_counter(), 0))
    elapsed = time.perf_counter() - started
    failed = [proc.exitcode for proc in procs if proc.exitcode != 0]
    if failed:
        for proc in procs:
            proc.kill()
        raise RuntimeError(f"race workers failed or timed out: exit codes {failed}")
    results = [out.get(timeout=10) for _ in procs]
    return RaceResult(
        units_taken=sum(t for t, _ in results),
        orders_placed=workers * orders_per_worker,
        orders_accepted=sum(a for _, a in results),
        seconds=elapsed,
    )
