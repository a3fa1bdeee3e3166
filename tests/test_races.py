"""Processes racing on the same rows (issue 20, items 7-9), on SQLite and PostgreSQL.

- the same order id placed by many processes at once: every caller gets the first
  answer (PostgreSQL raised ``psycopg.errors.UniqueViolation`` from the raw-cursor path);
- batches (``place_orders``) on overlapping SKUs, some order ids shared between them:
  nothing deadlocks or crashes, nothing is booked twice, the ledger balances;
- the retry itself: a deadlock or serialization failure is retried after a bounded,
  jittered wait; other errors pass through.
"""

from __future__ import annotations

import random
import uuid

import pytest

from backorder.config import StoreConfig
from backorder.engine import MAX_RETRIES, StoreService
from backorder.errors import RetriesExhausted
from backorder.models import ItemInput, LineRequest, OrderIn
from backorder.storage import races, records
from backorder.storage.db import Database
from backorder.testing.race import race_batches, race_imports, race_same_order_ids

STOCK = 100_000
SKUS = [f"SKU-{c}" for c in "ABCDEFGH"]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/races.db"
    return request.getfixturevalue("pg_url")


def make_store(url: str) -> tuple[StoreConfig, StoreService]:
    store = StoreConfig(name=f"race-{uuid.uuid4().hex[:8]}")
    service = StoreService(Database(url), store)
    service.upsert_catalog([ItemInput(sku=sku, on_hand=STOCK) for sku in SKUS])
    return store, service


def assert_ledger_balances(service: StoreService) -> None:
    with service.db.read() as conn:
        for sku in SKUS:
            assert records.ledger_balance(conn, service.name, sku) == service.item(sku).on_hand


def test_the_same_order_ids_placed_by_many_processes_all_get_the_first_answer(url):
    store, service = make_store(url)
    order_ids = [f"dup-{n}" for n in range(20)]
    answers = race_same_order_ids(url, store, "SKU-A", order_ids, workers=8)
    for i, order_id in enumerate(order_ids):
        per_caller = [worker[i] for worker in answers]
        assert sum(not a["duplicate"] for a in per_caller) == 1, order_id  # one placed it
        first = {k: v for k, v in per_caller[0].items() if k != "duplicate"}
        assert all({k: v for k, v in a.items() if k != "duplicate"} == first for a in per_caller)
    assert service.item("SKU-A").on_hand == STOCK - len(order_ids)  # each booked once
    assert_ledger_balances(service)


def random_batches(rng: random.Random, worker: int) -> list[list[tuple]]:
    """Five batches of ten orders, each on three SKUs in random order; a third of the
    order ids are shared with the other workers (same lines, so same answer)."""
    batches = []
    for b in range(5):
        batch = []
        for n in range(10):
            if n % 3 == 0:
                order_id = f"shared-{b}-{n}"
                lines = [(SKUS[(b + n + k) % len(SKUS)], 1) for k in range(3)]
            else:
                order_id = f"w{worker}-{b}-{n}"
                lines = [(sku, rng.randint(1, 3)) for sku in rng.sample(SKUS, 3)]
            batch.append((order_id, lines))
        batches.append(batch)
    return batches


def test_batches_on_overlapping_skus_neither_deadlock_nor_double_book(url):
    store, service = make_store(url)
    rng = random.Random(20)
    per_worker = [random_batches(rng, w) for w in range(6)]
    taken = race_batches(url, store, per_worker)
    on_hand = sum(service.item(sku).on_hand for sku in SKUS)
    assert on_hand == STOCK * len(SKUS) - sum(taken)  # every granted unit booked once
    shared = {oid for batches in per_worker for batch in batches for oid, _ in batch}
    for order_id in shared:
        assert service.order(order_id) is not None
    assert_ledger_balances(service)


# --------------------------------------------------------------------------- the retry
class Deadlock(Exception):
    sqlstate = "40P01"


class Serialization(Exception):
    sqlstate = "40001"


class UniqueViolation(Exception):
    sqlstate = "23505"


def test_a_lost_race_is_recognised_in_every_form_it_takes():
    psycopg_errors = pytest.importorskip("psycopg.errors")
    assert races.lost_race(psycopg_errors.UniqueViolation("dup")) == "conflict"
    assert races.lost_race(psycopg_errors.DeadlockDetected("dl")) == "contention"
    assert races.lost_race(psycopg_errors.SerializationFailure("sf")) == "contention"
    assert races.lost_race(records.VersionConflict("A")) == "conflict"
    assert races.lost_race(ValueError("not a race")) is None


def test_deadlocks_are_retried_after_a_jittered_bounded_wait(tmp_path, monkeypatch):
    _, service = make_store(f"sqlite:///{tmp_path}/retry.db")
    waits: list[int] = []
    monkeypatch.setattr(races, "wait", waits.append)
    failures = [Deadlock(), Serialization(), UniqueViolation()]

    def work(uow):
        if failures:
            raise failures.pop(0)
        return "done"

    assert service.transact(work, "test") == "done"
    assert waits == [0, 1]  # a wait after each contention, none after the unique violation
    rng = random.Random(1)
    delays = [races.backoff(n, rng) for n in range(MAX_RETRIES)]
    assert all(0 <= d <= races.BACKOFF_CAP for d in delays)
    assert len(set(delays)) == len(delays)  # jittered: workers do not retry in step


def test_retries_are_bounded_and_other_errors_pass_through(tmp_path, monkeypatch):
    _, service = make_store(f"sqlite:///{tmp_path}/bounded.db")
    monkeypatch.setattr(races, "wait", lambda attempt: None)
    calls = []

    def always_deadlocks(uow):
        calls.append(1)
        raise Deadlock()

    with pytest.raises(RetriesExhausted):
        service.transact(always_deadlocks, "test")
    assert len(calls) == MAX_RETRIES

    def broken(uow):
        raise KeyError("a bug, not a race")

    with pytest.raises(KeyError):
        service.transact(broken, "test")
    service.place_order(OrderIn(order_id="after", lines=[LineRequest(sku="SKU-A", qty=1)]))
    assert service.item("SKU-A").on_hand == STOCK - 1


def test_concurrent_imports_of_the_same_skus_in_different_orders(url):
    """Update imports of 2,000 SKUs (three IN-chunks) in shuffled row orders from four
    processes: before the locks were taken in SKU order, two such imports deadlocked."""
    store = StoreConfig(name=f"race-{uuid.uuid4().hex[:8]}")
    service = StoreService(Database(url), store)
    skus = [f"IMP-{n:05d}" for n in range(2_000)]
    service.upsert_catalog([ItemInput(sku=sku, on_hand=0) for sku in skus])
    service.assign(skus)
    rng = random.Random(8)
    header = "Product ID,Variant ID,SKU,Stock\n"
    files = []
    for worker in range(4):
        rounds = []
        for r in range(2):
            rows = [f",,{sku},{worker * 10 + r}" for sku in skus]
            rng.shuffle(rows)
            rounds.append((header + "\n".join(rows) + "\n").encode())
        files.append(rounds)
    assert race_imports(url, store, files) == [2, 2, 2, 2]
    final = {service.item(sku).on_hand for sku in skus}
    assert final <= {w * 10 + 1 for w in range(4)}  # each SKU ends on some worker's last file
    with service.db.read() as conn:
        for sku in skus[:50]:
            assert records.ledger_balance(conn, store.name, sku) == service.item(sku).on_hand
