"""Benchmark: full sync and bulk assign of 20,000 variants against the BigCommerce sandbox.

Run: ``.venv/bin/python bench/bench_bigcommerce.py [--variants N]``

The sandbox and the plugin's client share a simulated clock (no real sleeping), with
BigCommerce's Standard/Plus limit of 150 requests per 30 s. For each job it prints

- calls made / fewest calls the API's limits allow (target 1.00): a full sync reads
  products with their variants, 250 products a page; a bulk assign turns tracking off
  with ``PUT /catalog/products``, 10 products a call (the variants are already
  purchasable, so nothing else needs sending);
- simulated wall time / the time the rate limit alone forces for that many calls
  (``(ceil(calls_min / 150) - 1) * 30 s``, target <= 1.1), both measured in this run.

The catalog: half the variants are simple products, half are products of 4 variants.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time

os.environ.setdefault("BACKORDER_PLUGINS", "core,bigcommerce")

from backorder_bigcommerce import limits
from backorder_bigcommerce.connection import client_for, register_transport
from backorder_bigcommerce.sandbox import Sandbox

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.http import FakeClock
from backorder.plugins import make_manager
from backorder.storage.db import Database

QUOTA, WINDOW = 150, 30.0


def forced_seconds(calls: int) -> float:
    return max(math.ceil(calls / QUOTA) - 1, 0) * WINDOW


def ratio(a: float, b: float) -> str:
    if b == 0:
        return "1.00 (none forced, none taken)" if a == 0 else f"inf ({a:.1f} s over 0)"
    return f"{a / b:.2f}"


def job(name, clock, client, minimum, run):
    clock.sleep(WINDOW)  # start each job on a fresh rate-limit window
    calls0, t0, real0 = client.stats.calls, clock.now(), time.perf_counter()
    run()
    calls, took = client.stats.calls - calls0, clock.now() - t0
    forced = forced_seconds(minimum)
    print(f"{name}")
    print(f"  API calls      {calls:>7} / minimum {minimum:>6}  = {ratio(calls, minimum)}")
    print(f"  simulated time {took:>7.1f} s / forced {forced:>6.1f} s = {ratio(took, forced)}")
    print(f"  429s {client.stats.throttled}, real time {time.perf_counter() - real0:.1f} s")
    return calls / minimum, (took / forced if forced else 1.0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=20_000)
    args = parser.parse_args(argv)
    simple = args.variants // 2
    multi = (args.variants - simple) // 4
    clock = FakeClock()
    sandbox = Sandbox(clock=clock, quota=QUOTA, window_ms=int(WINDOW * 1000))
    for n in range(simple):
        sandbox.state.add_product(f"Simple {n}", f"S{n}", n % 9)
    for n in range(multi):
        sandbox.state.add_product(
            f"Multi {n}", f"M{n}", variants=[(f"M{n}-{k}", k) for k in range(4)]
        )
    products = simple + multi
    variants = simple + 4 * multi
    register_transport(sandbox.url, sandbox.transport, clock)
    os.environ["BENCH_BC_TOKEN"] = sandbox.state.token
    store = StoreConfig(
        name="bench",
        platform="bigcommerce",
        connection={
            "store_hash": sandbox.state.store_hash,
            "api_url": sandbox.url,
            "access_token_env": "BENCH_BC_TOKEN",
        },
    )
    print(f"catalog: {products} products, {variants} variants; limit {QUOTA} per {WINDOW:.0f} s")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        service = StoreService(db, store, pm=make_manager())
        client = client_for(store)
        results = [
            job(
                "full sync (catalog + levels)",
                clock,
                client,
                math.ceil(products / limits.PAGE_LIMIT),
                service.sync_from_platform,
            ),
        ]
        skus = [item.sku for item in service.items(assigned=False)]
        results.append(
            job(
                "bulk assign (tracking off)",
                clock,
                client,
                math.ceil(products / limits.BATCH_PRODUCTS),
                lambda: service.assign(skus),
            )
        )
        untracked = sum(p.tracking == "none" for p in sandbox.state.products.values())
        assert untracked == products, f"{untracked} of {products} products untracked"
        db.dispose()
    sandbox.close()
    worst_calls = max(r[0] for r in results)
    worst_time = max(r[1] for r in results)
    print(f"worst: calls {worst_calls:.2f} (target 1.00), time {worst_time:.2f} (target <= 1.1)")
    return 0 if worst_calls <= 1.05 and worst_time <= 1.1 else 1


if __name__ == "__main__":
    sys.exit(main())
