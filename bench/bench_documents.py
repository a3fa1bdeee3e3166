"""Benchmark: a batch pick list of 1,000 orders, against WeasyPrint alone on the same HTML.

    .venv/bin/python bench/bench_documents.py [--quick]  # BENCH_DOCUMENTS_ORDERS=200: smaller

Ours = read the orders (SQLAlchemy Core) + build the context + sandboxed Jinja2 render +
the ``backorder_render_document`` hook (WeasyPrint plugin). Baseline = WeasyPrint's
``HTML(string=...).write_pdf()`` on the very HTML ours produced, in the same process.
Runs alternate (baseline, ours, baseline, ours...) after a warm-up; the best of each is
compared. Target: ours within 10% of the baseline (pages per CPU second).

The verdict is on CPU time (``time.process_time``; both sides are single-threaded and in
this process), which other processes on the machine disturb less than wall time (they
still do: on 2 shared cores, runs of the *same* WeasyPrint call differed by up to 20 %
in CPU time, so judge a change by repeated runs). Wall time is printed too. The part of
ours that is not WeasyPrint (orders, context, template) is timed on its own as well.
WeasyPrint's own time also depends on how deep in the call stack it starts (the same
``write_pdf`` at 4 vs 10 extra frames: 0.76 vs 0.86 s CPU, steady over 4 runs; the hook
path is ~6 frames deeper than the baseline's call), which accounts for most of what ours
shows beyond its template time.
Exit status 1 when the target is missed, except with ``--quick`` (scaled down: prints,
does not judge), as ``python -m bench`` does.
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
TARGET = float(os.environ.get("BENCH_DOCUMENTS_TARGET", "0.10"))


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


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    orders = int(os.environ.get("BENCH_DOCUMENTS_ORDERS", "200" if quick else str(ORDERS)))
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
        _populate(StoreService(db, store), orders)
        print(f"set-up: {orders} orders placed in {time.perf_counter() - started:.1f} s")

        html_cpu: list[float] = []

        def ours() -> tuple[bytes, str]:
            began = time.process_time()
            with db.transaction() as conn:
                ids = all_order_ids(conn, store.name)
                html = render_html("pick-list", iter_orders(conn, store.name, ids), store)
            html_cpu.append(time.process_time() - began)
            return render_bytes(pm, html, "pdf"), html

        def baseline(html: str) -> bytes:
            return weasyprint.HTML(string=html).write_pdf()

        _, html = ours()  # warm-up: imports, fonts, template compilation
        baseline(html)
        html_cpu.clear()
        wall: dict[str, list[float]] = {"baseline": [], "ours": []}
        cpu: dict[str, list[float]] = {"baseline": [], "ours": []}
        pages = 0
        for _ in range(REPEATS):
            for name in ("baseline", "ours"):
                t, c = time.perf_counter(), time.process_time()
                if name == "baseline":
                    baseline(html)
                else:
                    pdf, html = ours()
                    pages = len(PdfReader(io.BytesIO(pdf)).pages)
                cpu[name].append(time.process_time() - c)
                wall[name].append(time.perf_counter() - t)
        db.dispose()

    print(f"pick list: {orders} orders, {pages} pages, {len(html) / 1e6:.2f} MB of HTML")
    for label, times in (("CPU", cpu), ("wall", wall)):
        for name in ("baseline", "ours"):
            best = min(times[name])
            runs = ", ".join(f"{v:.2f}" for v in times[name])
            print(f"  {name:8s} {label:4s} best {best:6.2f} s  {pages / best:6.2f} pages/s"
                  f"  (runs: {runs})")
    print(f"  ours before WeasyPrint (orders, context, template): CPU best {min(html_cpu):.2f} s")
    overhead = min(cpu["ours"]) / min(cpu["baseline"]) - 1
    wall_overhead = min(wall["ours"]) / min(wall["baseline"]) - 1
    verdict = "ok" if overhead <= TARGET else "OVER TARGET"
    print(f"overhead vs WeasyPrint alone: {overhead:+.1%} CPU (target <= {TARGET:.0%}): {verdict}"
          f"; wall {wall_overhead:+.1%} (not judged)")
    if quick:  # a scaled-down run prints; it does not judge
        return 0
    return 0 if overhead <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
