"""Benchmark: bursts of concurrent webhook deliveries to ``backorder serve`` on SQLite.

    .venv/bin/python bench/bench_webhooks.py     # BENCH_WEBHOOK_BURST=200 BENCH_WEBHOOK_ROUNDS=3

The server is the one ``backorder serve`` runs: uvicorn with its options
(``backorder.serving.uvicorn_options``), the webhook app, SQLite in WAL mode. Each round
opens BURST connections at once, each posting one signed core stock delivery for its own
SKU; the round is timed until every delivery is answered and until every one is applied
(the background apply after each answer; no worker loop). Issue 20 item 2's target:
0 errors at 200 concurrent deliveries (before the fix, 13-25 of 40 failed with 500).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

BURST = int(os.environ.get("BENCH_WEBHOOK_BURST", "200"))
ROUNDS = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "3"))
TOKEN = "bench-token"


def serving(app):
    """The webhook app under uvicorn with ``backorder serve``'s options, in a thread."""
    from backorder.serving import uvicorn_options
    from backorder.testing.browser import serve

    return serve(app, timeout=60, lifespan="auto", **uvicorn_options())


async def burst(url: str, round_no: int) -> list[int]:
    import httpx

    limits = httpx.Limits(max_connections=BURST + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=300) as client:

        async def one(i: int) -> int:
            body = {
                "kind": "stock",
                "delivery_id": f"r{round_no}-d{i}",
                "sku": f"S{i}",
                "on_hand": round_no * 1000 + i,
            }
            try:
                response = await client.post(
                    "/webhooks/main", json=body, headers={"X-Backorder-Token": TOKEN}
                )
            except httpx.HTTPError:
                return 0
            return response.status_code

        return await asyncio.gather(*(one(i) for i in range(BURST)))


def main() -> int:
    from backorder.config import parse_config
    from backorder.models import ItemInput
    from backorder.plugins import make_manager
    from backorder.server import create_app, pending_deliveries

    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config(
            {
                "database": f"sqlite:///{Path(tmp) / 'burst.db'}",
                "stores": {"main": {"platform": "core", "connection": {"webhook_token": TOKEN}}},
            }
        )
        app = create_app(config, pm=make_manager(load_entry_points=False), worker=False)
        service = app.state.worker.service("main")
        service.upsert_catalog(
            [ItemInput(sku=f"S{i}", on_hand=0, assigned=True) for i in range(BURST)]
        )
        errors = 0
        answered, applied = [], []
        with serving(app) as url:
            for round_no in range(1, ROUNDS + 1):
                started = time.perf_counter()
                statuses = asyncio.run(burst(url, round_no))
                answered.append(time.perf_counter() - started)
                errors += sum(status != 202 for status in statuses)
                while pending_deliveries(service):
                    if time.perf_counter() - started > 300:
                        raise SystemExit("deliveries were not applied within 300 s")
                    time.sleep(0.01)
                applied.append(time.perf_counter() - started)
        wrong = sum(
            service.item(f"S{i}").on_hand != ROUNDS * 1000 + i for i in range(BURST)
        )
        service.db.dispose()
    best_answer, best_applied = min(answered), min(applied)
    print(
        f"webhooks: {ROUNDS} bursts of {BURST} concurrent deliveries, SQLite, uvicorn: "
        f"{errors} errors (target 0), {wrong} SKUs with a wrong final level; "
        f"best burst answered in {best_answer:.2f} s ({BURST / best_answer:.0f} deliveries/s), "
        f"applied in {best_applied:.2f} s ({BURST / best_applied:.0f} deliveries/s)"
    )
    return 0 if errors == 0 and wrong == 0 else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    raise SystemExit(main())
