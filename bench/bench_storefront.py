"""Benchmark: the public storefront API at 100,000 items against a static JSON document.

    .venv/bin/python bench/bench_storefront.py      # BENCH_STOREFRONT_ITEMS=10000 to scale down

A store (SQLite, the default database) gets ``BENCH_STOREFRONT_ITEMS`` assigned items by an
assign import (which fills the storefront read model in the same transaction); a
``backorder serve`` app runs under uvicorn on a loopback port in its own process, with one
extra route that answers a fixed JSON document of an answer's size (pre-encoded bytes: the
fastest a Starlette route can be). One client (httpx, keep-alive) asks both endpoints in
turn, ``BENCH_STOREFRONT_REQUESTS`` times each, for a random SKU (with a quantity on every
other call); then ``BENCH_STOREFRONT_THREADS`` clients at once give the requests per
second. Printed: p50 / p99 latency and req/s of both, and their ratio. Target: the API
within 2x of the static document.
"""

from __future__ import annotations

import io
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ITEMS = int(os.environ.get("BENCH_STOREFRONT_ITEMS", "100000"))
REQUESTS = int(os.environ.get("BENCH_STOREFRONT_REQUESTS", "2000"))
THREADS = int(os.environ.get("BENCH_STOREFRONT_THREADS", "4"))
TARGET = 2.0
ORIGIN = "https://shop.example.com"


def catalog(items: int) -> bytes:
    out = io.StringIO()
    out.write("Product ID,Variant ID,SKU,Name,Stock,Backorder Threshold\r\n")
    for n in range(items):
        stock = (0, 2, 40)[n % 3]
        out.write(f"{n // 2},{n},SKU-{n:07d},Item {n},{stock},10\r\n")
    return out.getvalue().encode()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(client, urls: list[str]) -> list[float]:
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code, response.text[:200])
    return times


def throughput(base: str, urls: list[str], threads: int) -> float:
    import httpx

    chunks = [urls[i::threads] for i in range(threads)]
    clients = [httpx.Client(base_url=base, headers={"Origin": ORIGIN}) for _ in chunks]
    workers = [
        threading.Thread(target=run, args=(c, chunk))
        for c, chunk in zip(clients, chunks, strict=True)
    ]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    for c in clients:
        c.close()
    return len(urls) / elapsed


def config_for(db_path: str):
    from backorder.config import parse_config

    return parse_config({
        "database": f"sqlite:///{db_path}",
        "stores": {"bench": {"platform": "core", "storefront": {"origins": [ORIGIN]}}},
    })


def serve_forever(db_path: str, port: int) -> None:
    """The server process: ``backorder serve``'s app plus /static.json, under uvicorn."""
    import json

    import uvicorn
    from starlette.responses import Response
    from starlette.routing import Route

    from backorder.server import create_app
    from backorder.storefront_api import api as storefront_api

    storefront_api.RATE = 10**9  # one client address: the limit is not what is measured
    app = create_app(config_for(db_path), worker=False)
    service = app.state.worker.service("bench")
    asked = {"sku": ["SKU-0000000"], "product_ids": [], "variant_ids": [], "qty": 3}
    view = storefront_api._lookup(service, asked)[0]
    document = json.dumps({"items": [storefront_api.item_answer(view, service, 3)],
                           "missing": []}, separators=(",", ":")).encode()
    static = Response(document, media_type="application/json")

    async def static_json(request):
        return static

    app.router.routes.insert(0, Route("/static.json", static_json))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def main() -> int:
    import subprocess

    import httpx

    from backorder import imports
    from backorder.server import create_app
    from backorder.testing.browser import free_port

    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = str(Path(tmp) / "bench.db")
        app = create_app(config_for(db_path), worker=False)
        service = app.state.worker.service("bench")
        start = time.perf_counter()
        imports.import_csv(service, catalog(ITEMS), mode="assign", name="bench.csv")
        print(f"{ITEMS:,} items imported (read model included) in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        service.db.dispose()
        port = free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", db_path, str(port)])
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/static.json", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            skus = [f"SKU-{rng.randrange(ITEMS):07d}" for _ in range(REQUESTS)]
            api_urls = [f"/storefront/bench/items?sku={sku}" + ("&qty=3" if i % 2 else "")
                        for i, sku in enumerate(skus)]
            static_urls = ["/static.json"] * REQUESTS
            with httpx.Client(base_url=base, headers={"Origin": ORIGIN}) as client:
                sample = client.get(api_urls[0]).content
                run(client, api_urls[:200] + static_urls[:200])  # warm-up
                api_times: list[float] = []
                static_times: list[float] = []
                for i in range(0, REQUESTS, 100):  # interleaved: both meet the same load
                    api_times += run(client, api_urls[i : i + 100])
                    static_times += run(client, static_urls[i : i + 100])
            api_rps = throughput(base, api_urls, THREADS)
            static_rps = throughput(base, static_urls, THREADS)
        finally:
            server.terminate()
            server.wait()

    def line(name, times, rps):
        print(f"  {name:<18} p50 {percentile(times, 50) * 1000:6.2f} ms   "
              f"p99 {percentile(times, 99) * 1000:6.2f} ms   "
              f"mean {statistics.fmean(times) * 1000:6.2f} ms   {rps:7.0f} req/s")

    print(f"{REQUESTS:,} requests each, answer {len(sample)} bytes, "
          f"{THREADS} client threads for req/s:")
    line("storefront API", api_times, api_rps)
    line("static JSON", static_times, static_rps)
    ratio = {
        "p50": percentile(api_times, 50) / percentile(static_times, 50),
        "p99": percentile(api_times, 99) / percentile(static_times, 99),
        "req/s": static_rps / api_rps,
    }
    print("  ratio (API / static): " + ", ".join(f"{k} {v:.2f}x" for k, v in ratio.items()))
    ok = all(v <= TARGET for v in ratio.values())
    print(f"target: within {TARGET:g}x: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve_forever(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(main())
