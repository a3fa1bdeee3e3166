"""Benchmark: a batch pick list of 1,000 orders, against WeasyPrint alone on the same HTML.

    .venv/bin/python bench/bench_documents.py          # BENCH_DOCUMENTS_ORDERS=200 to scale down

Ours = read the orders (SQLAlchemy Core) + build the context + sandboxed Jinja2 render +
the ``backorder_render_document`` hook (WeasyPrint plugin). Baseline = WeasyPrint's
``HTML(string=...).write_pdf()`` on the very HTML ours produced, in the same process.
Runs alternate (baseline, ours, baseline, ours...) after a warm-up; the best of each is
compared. Target: ours within 10% of the baseline (pages per second).
"""

from __future__ import annotations

import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ORDERS = int(os.environ.get("BENCH_DOCUMENTS_ORDERS", "1000"))
REPEATS = int(os.environ.get("BENCH_DOCUMENTS_REPEATS", "2"))
TARGET = 0.10


def _populate(service, orders: int) -> None:
    from backorder.models import ItemInput, LineRequest, OrderIn

    rng = random.Random(6)
    names = ["Crème brûlée set", "Ørsted lamp", "Кофемолка", "Zoë's mug", "Straße sign", "Café"]
    items = [
        ItemInput(
            sku=f"SKU-{i:04d}", name=f"{names[i % len(names)]} {i}", on_hand=rng.randint(0, 40)
        )
        for i in range(120)
    ]
    service.upsert_catalog([item.model_copy(update={"assigned": False}) for item in items])
    service.assign([item.sku for item in items])
    for n in range(orders):
        lines = [
            LineRequest(sku=f"SKU-{rng.randrange(120):04d}", qty=rng.randint(1, 4))
            for _ in range(rng.randint(1, 4))
        ]
        service.place_order(
            OrderIn(order_id=str(100_000 + n), lines=lines, customer_email=f"c{n}@example.com")
        )


def main() -> int:
    import weasyprint
    from pypdf import PdfReader

    from backorder.config import StoreConfig
    from backorder.documents.data import all_order_ids, iter_orders
    from backorder.documents.render import render_bytes, render_html
    from backorder.engine import StoreService
    from backorder.models import StoreSettings
    from backorder.plugins import make_manager
    from backorder.storage.db import Database

    pm = make_manager()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store = StoreConfig(name="bench", settings=StoreSettings(defaults={"threshold": None}))
        started = time.perf_counter()
        _populate(StoreService(db, store), ORDERS)
        print(f"set-up: {ORDERS} orders placed in {time.perf_counter() - started:.1f} s")

        def ours() -> tuple[bytes, str]:
            with db.transaction() as conn:
                ids = all_order_ids(conn, store.name)
                html = render_html("pick-list", iter_orders(conn, store.name, ids), store)
            return render_bytes(pm, html, "pdf"), html

        def baseline(html: str) -> bytes:
            return weasyprint.HTML(string=html).write_pdf()

        _, html = ours()  # warm-up: imports, fonts, template compilation
        baseline(html)
        times = {"ours": [], "baseline": []}
        pages = 0
        for _ in range(REPEATS):
            t = time.perf_counter()
            baseline(html)
            times["baseline"].append(time.perf_counter() - t)
            t = time.perf_counter()
            pdf, html = ours()
            times["ours"].append(time.perf_counter() - t)
            pages = len(PdfReader(io.BytesIO(pdf)).pages)
        db.dispose()

    best = {name: min(values) for name, values in times.items()}
    overhead = best["ours"] / best["baseline"] - 1
    print(f"pick list: {ORDERS} orders, {pages} pages, {len(html) / 1e6:.2f} MB of HTML")
    for name in ("baseline", "ours"):
        runs = ", ".join(f"{v:.2f}" for v in times[name])
        rate = pages / best[name]
        print(f"  {name:8s} best {best[name]:6.2f} s  {rate:6.2f} pages/s  (runs: {runs})")
    verdict = "ok" if overhead <= TARGET else "OVER TARGET"
    print(f"overhead vs WeasyPrint alone: {overhead:+.1%} (target <= {TARGET:.0%}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
