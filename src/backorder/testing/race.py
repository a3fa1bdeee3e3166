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


# ------------------------------------------------------------- PostgreSQL race scenarios
# Issue 20 (items 7-9): the same order id placed by many processes at once, batches on
# overlapping SKUs, and both mixed. Every worker starts at a barrier so the transactions
# really overlap; a worker reports its answers or the exception it died of.


def _same_ids_worker(url, store_data: dict, order_ids, sku, start, out) -> None:
    store = StoreConfig.model_validate(store_data)
    db = Database(url, migrate=False)
    service = StoreService(db, store)
    answers = []
    try:
        start.wait()
        for order_id in order_ids:
            result = service.place_order(
                OrderIn(order_id=order_id, lines=[LineRequest(sku=sku, qty=1)])
            )
            answers.append(result.model_dump(mode="json"))
        out.put(("ok", answers))
    except Exception as exc:  # reported to the parent, which fails the test with it
        out.put(("error", f"{type(exc).__module__}.{type(exc).__name__}: {exc}"))
    finally:
        db.dispose()


def _batch_worker(url, store_data: dict, batches, start, out) -> None:
    store = StoreConfig.model_validate(store_data)
    db = Database(url, migrate=False)
    service = StoreService(db, store)
    taken = 0
    try:
        start.wait()
        for batch in batches:
            orders = [
                OrderIn(
                    order_id=order_id,
                    lines=[LineRequest(sku=sku, qty=qty) for sku, qty in lines],
                )
                for order_id, lines in batch
            ]
            for result in service.place_orders(orders):
                if result.accepted and not result.duplicate:
                    taken += sum(line.in_stock + line.backordered for line in result.lines)
        out.put(("ok", taken))
    except Exception as exc:
        out.put(("error", f"{type(exc).__module__}.{type(exc).__name__}: {exc}"))
    finally:
        db.dispose()


def _run(target, per_worker: list[tuple], timeout: float) -> list:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start = ctx.Barrier(len(per_worker))
    procs = [ctx.Process(target=target, args=(*args, start, out)) for args in per_worker]
    for proc in procs:
        proc.start()
    results = []
    try:
        for _ in procs:
            results.append(out.get(timeout=timeout))
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    errors = [detail for status, detail in results if status == "error"]
    if errors:
        raise RuntimeError(f"{len(errors)} of {len(procs)} workers failed: {errors[:3]}")
    return [detail for _, detail in results]


def race_same_order_ids(
    url: str, store: StoreConfig, sku: str, order_ids: list[str], *, workers: int,
    timeout: float = 300,
) -> list[list[dict]]:
    """Every worker places the same orders (one unit of ``sku`` each), at once; returns
    each worker's answers in order (``OrderResult`` as JSON)."""
    data = store.model_dump(mode="json")
    return _run(
        _same_ids_worker, [(url, data, order_ids, sku) for _ in range(workers)], timeout
    )


def race_batches(
    url: str, store: StoreConfig, batches_per_worker: list[list[list[tuple]]], *,
    timeout: float = 300,
) -> list[int]:
    """Each worker places its batches (``place_orders``); a batch is a list of
    ``(order_id, [(sku, qty), ...])``. Returns the units each worker was granted."""
    data = store.model_dump(mode="json")
    return _run(_batch_worker, [(url, data, b) for b in batches_per_worker], timeout)


def _import_worker(url, store_data: dict, files: list[bytes], start, out) -> None:
    from backorder.imports import import_csv

    store = StoreConfig.model_validate(store_data)
    db = Database(url, migrate=False)
    service = StoreService(db, store)
    try:
        start.wait()
        for data in files:
            import_csv(service, data, mode="update", columns=["stock"], name="race.csv")
        out.put(("ok", len(files)))
    except Exception as exc:
        out.put(("error", f"{type(exc).__module__}.{type(exc).__name__}: {exc}"))
    finally:
        db.dispose()


def race_imports(
    url: str, store: StoreConfig, files_per_worker: list[list[bytes]], *, timeout: float = 300
) -> list[int]:
    """Each worker imports its CSV files (``update`` mode, the stock column) at once with
    the others; returns how many files each imported."""
    data = store.model_dump(mode="json")
    return _run(_import_worker, [(url, data, f) for f in files_per_worker], timeout)
