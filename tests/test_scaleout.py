"""Several workers (threads or processes) applying one store's webhook deliveries at once.

Each worker claims its own rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL); a delivery
about an order must not overtake an earlier one about the same order, or a cancel
applied before its order finds nothing and is closed as refused (lost).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os

import sqlalchemy as sa
from core_support import T0

from backorder.config import parse_config
from backorder.engine import StoreService
from backorder.hookspecs import hookimpl
from backorder.models import ItemInput, LineRequest, OrderIn
from backorder.platform import BasePlatform
from backorder.plugins import make_manager
from backorder.storage import order_changes, work_queue
from backorder.storage.db import Database
from backorder.storage.schema import movements, webhook_deliveries
from backorder.webhooks import WebhookEvent, apply_deliveries, pending_deliveries, record_deliveries

SKUS = ["A", "B", "C"]


class Shop(BasePlatform):
    """Orders fetched from the platform: ``O-<sku>-<qty>-<n>`` is one line of qty of sku."""

    name = "shop"

    @hookimpl
    def backorder_platforms(self):
        return [self]

    def fetch_order(self, store, order_id):
        _, sku, qty, _ = order_id.split("-")
        return OrderIn(order_id=order_id, lines=[LineRequest(sku=sku, qty=int(qty))])


def cancelled(service: StoreService, order_id: str) -> int | None:
    """Units of the order cancelled so far (None: no such order)."""
    with service.db.read() as conn:
        stored = order_changes.load(conn, service.name, order_id)
    return None if stored is None else sum(c.cancelled for _, c in stored.lines.values())


def open_store(url: str, name: str = "main") -> StoreService:
    pm = make_manager(load_entry_points=False)
    pm.register(Shop())
    store = parse_config({"stores": {name: {"platform": "shop"}}}).stores[name]
    return StoreService(Database(url), store, pm=pm, clock=lambda: T0)


def seed(service: StoreService) -> None:
    service.upsert_catalog([ItemInput(sku=sku, on_hand=5, assigned=True) for sku in SKUS])


def order_and_cancel(n: int) -> list[WebhookEvent]:
    order_id = f"O-{SKUS[n % 3]}-{1 + n % 4}-{n}"
    return [
        WebhookEvent(kind="order", delivery_id=f"place-{n}", order_id=order_id),
        WebhookEvent(kind="order_change", delivery_id=f"cancel-{n}", order_id=order_id,
                     change="cancel"),
    ]


def test_a_cancel_waits_for_its_order_claimed_by_another_worker(tmp_path):
    service = open_store(f"sqlite:///{tmp_path}/w.db")
    seed(service)
    record_deliveries(service, order_and_cancel(1))
    order_row = pending_deliveries(service)[0]
    with service.db.transaction() as conn:  # another worker holds the order's delivery
        work_queue.claim(conn, webhook_deliveries, "main", "other", now=T0, ids=[order_row["id"]])

    assert apply_deliveries(service, now=T0) == (0, 0)  # the cancel is not taken meanwhile
    waiting = [row for row in pending_deliveries(service) if row["kind"] == "order_change"]
    assert waiting[0]["outcome"] is None and waiting[0]["attempts"] == 0

    later = T0 + work_queue.LEASE * 2  # the other worker died: its lease ran out
    # the order, then in the same call (one cron tick) the cancel that waited for it
    assert apply_deliveries(service, now=later) == (2, 0)
    assert cancelled(service, "O-B-2-1") == 2
    assert pending_deliveries(service) == []


def _apply_until_done(url: str, name: str, results) -> None:
    """A worker process: claim one delivery at a time until none is left."""
    service = open_store(url, name)
    applied = failed = 0
    idle = 0
    while idle < 50:
        done, errors = apply_deliveries(service, limit=1)
        applied, failed = applied + done, failed + errors
        idle = 0 if done + errors else idle + 1
        if not done + errors and not pending_deliveries(service):
            break
    service.db.dispose()
    results.put((os.getpid(), applied, failed))


def test_four_processes_on_postgresql_apply_each_delivery_once(pg_url):
    """4 processes drain 300 deliveries (orders, their cancels, stock figures, resent
    duplicates) from one PostgreSQL store: each applied by exactly one worker, none lost."""
    service = open_store(pg_url, "multi")
    seed(service)
    events: list[WebhookEvent] = []
    for n in range(80):
        events += order_and_cancel(n)
    stock = [
        WebhookEvent(kind="stock", delivery_id=f"stock-{n}", sku=SKUS[n % 3], on_hand=100 + n)
        for n in range(140)
    ]
    events += stock
    new = dup = 0
    for event in events:
        added, again = record_deliveries(service, [event])
        new, dup = new + added, dup + again
    for event in events[::10]:  # a platform resends some
        added, again = record_deliveries(service, [event])
        new, dup = new + added, dup + again
    assert (new, dup) == (300, 30)

    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    workers = [ctx.Process(target=_apply_until_done, args=(pg_url, "multi", results))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)

    assert sum(applied for _, applied, _ in reports) == 300  # no row applied by two workers
    assert sum(failed for _, _, failed in reports) == 0
    assert sum(1 for _, applied, _ in reports if applied) >= 2  # they did share the work
    assert pending_deliveries(service) == []
    for n in range(80):
        order_id = order_and_cancel(n)[0].order_id
        assert cancelled(service, order_id or "") == 1 + n % 4, order_id  # none lost
    with service.db.read() as conn:
        keys = conn.execute(
            sa.select(movements.c.idempotency_key).where(movements.c.store == "multi")
        ).scalars().all()
    stock_moves = [key for key in keys if "stock-" in key]
    assert len(stock_moves) == len(set(stock_moves)) == 140


def test_a_cancel_that_arrives_before_its_order_is_applied_after_it(tmp_path):
    """Platforms deliver in parallel: the cancel may be stored before its order. It is
    retried, not refused, and applied once the order is in; an order that never comes
    refuses it after the last try."""
    service = open_store(f"sqlite:///{tmp_path}/w.db")
    seed(service)
    order, cancel = order_and_cancel(2)
    record_deliveries(service, [cancel])
    assert apply_deliveries(service, now=T0) == (0, 1)  # no order yet: try again later
    (waiting,) = pending_deliveries(service)
    assert waiting["outcome"].startswith("NotFound") and waiting["attempts"] == 1

    record_deliveries(service, [order])
    later = T0 + dt.timedelta(minutes=1)
    assert apply_deliveries(service, now=later) == (2, 0)  # the order, then the cancel
    assert pending_deliveries(service) == [] and cancelled(service, "O-C-3-2") == 3

    _, lonely = order_and_cancel(3)  # its order never arrives
    record_deliveries(service, [lonely])
    for hour in range(1, 20):  # about 6 hours of backoff
        apply_deliveries(service, now=T0 + dt.timedelta(hours=hour))
    with service.db.read() as conn:
        outcome = conn.execute(
            sa.select(webhook_deliveries.c.outcome)
            .where(webhook_deliveries.c.delivery_id == "cancel-3")
        ).scalar_one()
    assert outcome.startswith("refused: no order")
