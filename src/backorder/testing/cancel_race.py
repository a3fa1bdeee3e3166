"""Cancels racing new orders from several processes (the lifecycle concurrency test).

Placers place single-unit orders round-robin over the hot SKUs; cancellers each try to
cancel one unit of every order placed before the race (several cancellers per order, so
some must be refused). Spawned workers import this module, so it stays importable alone.
"""

from __future__ import annotations

import multiprocessing as mp

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.errors import Refused
from backorder.models import LineRequest, OrderIn
from backorder.storage.db import Database


def _placer(url, store_data, skus, worker, orders, out) -> None:
    service = StoreService(Database(url, migrate=False), StoreConfig.model_validate(store_data))
    granted: dict[str, int] = {}
    for n in range(orders):
        sku = skus[(n + worker) % len(skus)]
        result = service.place_order(
            OrderIn(order_id=f"p{worker}-{n}", lines=[LineRequest(sku=sku, qty=1)])
        )
        if result.accepted:
            granted[sku] = granted.get(sku, 0) + 1
    service.db.dispose()
    out.put(("placed", granted))


def _canceller(url, store_data, targets, worker, out) -> None:
    service = StoreService(Database(url, migrate=False), StoreConfig.model_validate(store_data))
    done: dict[str, int] = {}
    for order_id, sku in targets:
        try:
            service.cancel(order_id, {sku: 1}, key=f"c{worker}-{order_id}")
        except Refused:
            continue
        done[order_id] = done.get(order_id, 0) + 1
    service.db.dispose()
    out.put(("cancelled", done))


def race_cancels(
    url: str, store: StoreConfig, skus: list[str], targets: list[tuple[str, str]], *,
    placers: int, cancellers: int, orders_per_placer: int, timeout: float = 300,
) -> tuple[dict[str, int], dict[str, int]]:
    """Returns (units granted to new orders per SKU, units cancelled per target order)."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    data = store.model_dump(mode="json")
    procs = [ctx.Process(target=_placer, args=(url, data, skus, w, orders_per_placer, out))
             for w in range(placers)]
    procs += [ctx.Process(target=_canceller, args=(url, data, targets, w, out))
              for w in range(cancellers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout)
    if any(proc.exitcode != 0 for proc in procs):
        for proc in procs:
            proc.kill()
        raise RuntimeError("cancel race workers failed or timed out")
    granted: dict[str, int] = {}
    cancelled: dict[str, int] = {}
    for _ in procs:
        kind, counts = out.get(timeout=10)
        into = granted if kind == "placed" else cancelled
        for key, units in counts.items():
            into[key] = into.get(key, 0) + units
    return granted, cancelled
