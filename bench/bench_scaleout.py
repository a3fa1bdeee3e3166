"""Benchmark: several ``backorder serve`` processes on one PostgreSQL database.

    .venv/bin/python bench/bench_scaleout.py [--quick] [--processes 4] [--stores 100]

Issue 19 item 5. 100 Magento stores (signed pushes, ``X-Backorder-Signature``; orders
fetched from the plugin's sandbox, served over real HTTP by this process) share one
PostgreSQL database (a fresh schema, dropped at the end). ``--processes`` servers are
started as a user starts them (``backorder --config FILE serve --port N --threads T``, worker loop
on, as real subprocesses); start-up is not timed. A client spreads the deliveries over
them with ``--concurrency`` requests in flight (order placements and stock saves, in a
shuffled order; about 5 % are delivered again to another process, half of them at once,
as a platform retrying a slow answer does), then waits until every delivery is applied.

Reported: deliveries accepted per second, p50/p99 of the ``202`` answer (client side),
the time to drain after the last answer, the servers' CPU seconds and the peak number of
database connections. Checked (exit 1 on any miss): every answer a ``202``; each delivery
stored once (the servers' ``new``/``duplicates`` counts); each applied exactly once (per
store, the orders placed are exactly those sent, with the units sent, and every stock
save made exactly one stock movement); no delivery refused or given up; no traceback in
the servers' logs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

PG_URL = os.environ.get("BACKORDER_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SANDBOX_TOKEN = "sandbox-token"
ORDER_PLACED = "sales_order_place_after"
STOCK_SAVE = "cataloginventory_stock_item_save_after"
IDLE = 5.0
"""Seconds the servers are watched idle before the run (their worker loops' own cost)."""
SKUS_PER_STORE = 4
"""Per store: this many SKUs take orders and as many others take stock saves (disjoint,
so every stock save sets a figure no order has touched: each makes one movement)."""


@dataclass
class Delivery:
    store: str
    body: bytes
    kind: str  # "order", "cancel" or "stock"
    process: int
    duplicate: bool = False


@dataclass
class Answers:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    new: int = 0
    duplicates: int = 0
    failures: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------- setup
def pg_schema() -> tuple[str, str]:
    """A fresh schema in the bench database and a URL whose tables live in it."""
    import sqlalchemy as sa

    schema = f"scaleout_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    separator = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"


def drop_schema(schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    engine.dispose()


def store_names(stores: int) -> list[str]:
    return [f"shop-{n:03d}" for n in range(stores)]


def write_config(path: Path, url: str, names: list[str], sandbox_url: str) -> None:
    lines = [f"database = {json.dumps(url)}", ""]
    for name in names:
        lines += [
            f'[stores."{name}"]',
            'platform = "magento"',
            f'[stores."{name}".connection]',
            f"base_url = {json.dumps(sandbox_url)}",
            f'token = "{SANDBOX_TOKEN}"',
            f'webhook_secret = "secret-{name}"',
            "",
        ]
    path.write_text("\n".join(lines))


def seed(url: str, names: list[str]) -> None:
    """Every store's SKUs, assigned (backorders on), with 2 units on hand."""
    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.models import ItemInput
    from backorder.storage.db import Database

    db = Database(url)  # migrates the fresh schema
    for name in names:
        store = StoreConfig.model_validate({"name": name, "platform": "magento"})
        service = StoreService(db, store)  # no plugin: no push to send for the seed
        service.upsert_catalog(
            [ItemInput(sku=sku, on_hand=2, assigned=True) for sku in skus(name)]
        )
    db.dispose()


def skus(name: str) -> list[str]:
    return [f"{name}-{kind}{k}" for kind in ("O", "S") for k in range(SKUS_PER_STORE)]


def workload(
    names: list[str], per_store: int, processes: int, sandbox, rng: random.Random
) -> tuple[list[Delivery], dict[str, dict]]:
    """The deliveries in sending order, and what each store must end with.

    A fifth of the orders are cancelled in Magento at once: the cancel's push is sent right
    behind its order's, to the next process (both in flight together: the cancel must not
    be applied before its order)."""
    expected: dict[str, dict] = {
        name: {"orders": {}, "stock": 0, "cancels": 0, "deliveries": 0} for name in names
    }
    plain: list[tuple[Delivery, Delivery | None]] = []
    value = 1000
    for name in names:
        for n in range(per_store):
            delivery_id = f"{name}-d{n}"
            cancel = None
            if n % 2 == 0:  # an order placed in Magento, then its push
                sku = f"{name}-O{rng.randrange(SKUS_PER_STORE)}"
                qty = rng.randint(1, 3)
                status, order = sandbox.place_order([{"sku": sku, "qty": qty}])
                assert status == 200, order
                order_id = str(order["entity_id"])
                expected[name]["orders"][order_id] = (sku, qty)
                push = {"delivery_id": delivery_id, "event": ORDER_PLACED, "order_id": order_id}
                kind = "order"
                if rng.random() < 0.2:
                    cancelled = sandbox.cancel_order(order_id, f"{delivery_id}-cancel")
                    cancel = Delivery(name, json.dumps(cancelled).encode(), "cancel", 0)
                    expected[name]["cancels"] += 1
                    expected[name]["deliveries"] += 1
            else:  # a stock item saved with a figure never set before
                value += 1
                sku = f"{name}-S{rng.randrange(SKUS_PER_STORE)}"
                push = {"delivery_id": delivery_id, "event": STOCK_SAVE, "sku": sku, "qty": value}
                expected[name]["stock"] += 1
                kind = "stock"
            expected[name]["deliveries"] += 1
            plain.append((Delivery(name, json.dumps(push).encode(), kind, 0), cancel))
    rng.shuffle(plain)
    sent: list[Delivery] = []
    for i, (delivery, cancel) in enumerate(plain):
        delivery.process = i % processes
        sent.append(delivery)
        if cancel is not None:
            cancel.process = (i + 1) % processes
            sent.append(cancel)
        if rng.random() < 0.05:  # delivered again, to another process
            shift = rng.randrange(1, processes) if processes > 1 else 0
            other = (delivery.process + shift) % processes
            again = Delivery(delivery.store, delivery.body, delivery.kind, other, duplicate=True)
            if rng.random() < 0.5:
                sent.append(again)  # at once: both in flight together
            else:
                sent.insert(rng.randrange(i, len(plain)), again)  # later
    return sent, expected


def sandbox_products(names: list[str]) -> list[dict]:
    return [
        {"sku": sku, "name": sku, "qty": 1_000_000, "is_in_stock": True}
        for name in names
        for sku in skus(name)
    ]


# ---------------------------------------------------------------------------- servers
def start_servers(
    config: Path, processes: int, threads: int, logs: Path
) -> list[tuple[subprocess.Popen, int]]:
    command = str(Path(sys.executable).with_name("backorder"))
    servers = []
    for n in range(processes):
        port = free_port()
        log = (logs / f"serve-{n}.log").open("w")
        proc = subprocess.Popen(
            [command, "--config", str(config), "serve", "--port", str(port),
             "--threads", str(threads)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        servers.append((proc, port))
    return servers


def wait_healthy(servers: list[tuple[subprocess.Popen, int]], timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    for proc, port in servers:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"backorder serve on port {port} exited with {proc.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"backorder serve on port {port}: not healthy in {timeout} s")
            time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_servers(servers: list[tuple[subprocess.Popen, int]]) -> None:
    for proc, _ in servers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc, _ in servers:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ----------------------------------------------------------------------------- client
async def send_all(deliveries: list[Delivery], ports: list[int], concurrency: int) -> Answers:
    import httpx

    answers = Answers()
    queue: asyncio.Queue[Delivery] = asyncio.Queue()
    for delivery in deliveries:
        queue.put_nowait(delivery)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def sender() -> None:
            while not queue.empty():
                d = queue.get_nowait()
                url = f"http://127.0.0.1:{ports[d.process]}/webhooks/{d.store}"
                headers = {"Content-Type": "application/json",
                           "X-Backorder-Signature": sign(f"secret-{d.store}", d.body)}
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=d.body, headers=headers)
                except httpx.HTTPError as exc:
                    answers.failures.append(f"{d.store}: {type(exc).__name__}: {exc}")
                    continue
                answers.latencies.append(time.perf_counter() - started)
                status = response.status_code
                answers.statuses[status] = answers.statuses.get(status, 0) + 1
                if status == 202:
                    answers.new += response.json()["new"]
                    answers.duplicates += response.json()["duplicates"]
                else:
                    answers.failures.append(f"{d.store}: {status} {response.text[:200]}")

        await asyncio.gather(*(sender() for _ in range(concurrency)))
    return answers


class ConnectionPeak:
    """The most connections to the bench database seen at once (sampled every 0.2 s)."""

    def __init__(self) -> None:
        import psycopg

        self.conn = psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"),
                                    autocommit=True)
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(0.2):
            count = self.conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            ).fetchone()
            self.peak = max(self.peak, count[0] if count else 0)

    def __enter__(self) -> ConnectionPeak:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.conn.close()


# ----------------------------------------------------------------------------- checks
def wait_drained(url: str, timeout: float) -> float:
    """Seconds until no delivery is left unapplied."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    started = time.perf_counter()
    try:
        while True:
            with engine.connect() as conn:
                left = conn.exec_driver_sql(
                    "SELECT count(*) FROM webhook_deliveries WHERE done_at IS NULL"
                ).scalar_one()
            if not left:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{left} deliveries not applied within {timeout:.0f} s")
            time.sleep(0.05)
    finally:
        engine.dispose()


def verify(url: str, expected: dict[str, dict]) -> dict:
    """Per store, what was applied against what was sent: lost and doubled deliveries."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)

    def q(conn, sql):
        return conn.execute(sa.text(sql))

    with engine.connect() as conn:
        stored = dict(q(conn,
            "SELECT store, count(*) FROM webhook_deliveries GROUP BY store").all())
        not_applied = q(conn,
            "SELECT store, delivery_id, outcome FROM webhook_deliveries WHERE done_at IS NULL"
            " OR outcome LIKE 'refused%' OR outcome LIKE 'gave up%' OR outcome IS NULL").all()
        retried = q(conn,
            "SELECT count(*) FROM webhook_deliveries WHERE attempts > 1").scalar_one()
        lines = q(conn,
            "SELECT o.store, o.order_id, l.sku, l.requested FROM orders o"
            " JOIN order_lines l ON l.order_pk = o.id").all()
        cancels = dict(q(conn,
            "SELECT store, count(*) FROM order_changes WHERE kind = 'cancel'"
            " GROUP BY store").all())
        moves = dict(q(conn,
            "SELECT store, count(*) FROM movements WHERE kind = 'sync' AND source = 'webhook'"
            " GROUP BY store").all())
    engine.dispose()
    placed: dict[str, dict[str, tuple[str, int]]] = {}
    for store, order_id, sku, qty in lines:
        placed.setdefault(store, {})
        if order_id in placed[store]:  # an order booked twice
            placed[store][order_id] = ("twice", 0)
        else:
            placed[store][order_id] = (sku, qty)
    lost = doubled = 0
    wrong: list[str] = []
    for store, want in expected.items():
        got = placed.get(store, {})
        lost += len(set(want["orders"]) - set(got))
        doubled += sum(1 for value in got.values() if value[0] == "twice")
        wrong += [f"{store} order {o}: {got[o]} != {want['orders'][o]}"
                  for o in set(want["orders"]) & set(got)
                  if got[o] != want["orders"][o] and got[o][0] != "twice"]
        done = cancels.get(store, 0)
        lost += max(want["cancels"] - done, 0)
        doubled += max(done - want["cancels"], 0)
        made = moves.get(store, 0)
        lost += max(want["stock"] - made, 0)
        doubled += max(made - want["stock"], 0)
        if stored.get(store, 0) != want["deliveries"]:
            wrong.append(f"{store}: {stored.get(store, 0)} deliveries stored, "
                         f"{want['deliveries']} sent")
    return {
        "lost": lost,
        "doubled": doubled,
        "wrong": wrong[:20],
        "not_applied": [f"{s} {d}: {o}" for s, d, o in not_applied][:20],
        "not_applied_count": len(not_applied),
        "retried": retried,
    }


def log_problems(logs: Path) -> list[str]:
    found = []
    for path in sorted(logs.glob("serve-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if "Traceback" in line or line.startswith("ERROR") or " ERROR " in line:
                found.append(f"{path.name}: {line[:200]}")
    return found


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# ------------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 deliveries per store")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--per-store", type=int, help="deliveries per store (default 20)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--threads", type=int, default=8,
                        help="each server's --threads (each keeps a database connection)")
    parser.add_argument("--keep", action="store_true", help="keep the schema and the logs")
    args = parser.parse_args()
    per_store = args.per_store or (6 if args.quick else 20)

    from backorder_magento.sandbox import SandboxStore, ThreadedSandbox

    try:
        schema, url = pg_schema()
    except Exception as exc:
        print(f"scaleout: PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}")
        return 1
    names = store_names(args.stores)
    rng = random.Random(19)
    sandbox = SandboxStore(sandbox_products(names), token=SANDBOX_TOKEN)
    deliveries, expected = workload(names, per_store, args.processes, sandbox, rng)
    tmp = Path(tempfile.mkdtemp(prefix="backorder-scaleout-"))
    servers: list[tuple[subprocess.Popen, int]] = []
    try:
        with ThreadedSandbox(sandbox) as sandbox_url:
            config = tmp / "backorder.toml"
            write_config(config, url, names, sandbox_url)
            seed(url, names)
            servers = start_servers(config, args.processes, args.threads, tmp)
            wait_healthy(servers)
            time.sleep(3)  # the first worker pass (a tick of every store) is start-up too
            idle_from = [cpu_seconds(proc.pid) for proc, _ in servers]
            time.sleep(IDLE)  # the worker loops with nothing to do
            cpu_before = [cpu_seconds(proc.pid) for proc, _ in servers]
            idle = sum(b - a for a, b in zip(idle_from, cpu_before, strict=True)) / IDLE
            with ConnectionPeak() as connections:
                started = time.perf_counter()
                answers = asyncio.run(
                    send_all(deliveries, [port for _, port in servers], args.concurrency)
                )
                answered = time.perf_counter() - started
                drain = wait_drained(url, timeout=600)
            cpu_used = sum(cpu_seconds(proc.pid) - before
                           for (proc, _), before in zip(servers, cpu_before, strict=True))
            stop_servers(servers)
            checked = verify(url, expected)
    finally:
        stop_servers(servers)
        if not args.keep:
            drop_schema(schema)
    problems = log_problems(tmp)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    distinct = sum(want["deliveries"] for want in expected.values())
    sent = len(deliveries)
    errors = len(answers.failures) + len(problems)
    dedupe_ok = answers.new == distinct and answers.duplicates == sent - distinct
    result = {
        "processes": args.processes,
        "stores": args.stores,
        "deliveries": distinct,
        "sent": sent,
        "duplicates_sent": sent - distinct,
        "concurrency": args.concurrency,
        "threads": args.threads,
        "accepted_per_s": round(sent / answered, 1),
        "answered_seconds": round(answered, 2),
        "p50_ms": round(1000 * pct(answers.latencies, 0.50), 1),
        "p99_ms": round(1000 * pct(answers.latencies, 0.99), 1),
        "drain_seconds": round(drain, 2),
        "applied_per_s": round(distinct / (answered + drain), 1),
        "server_cpu_seconds": round(cpu_used, 2),
        "server_cpu_ms_per_delivery": round(1000 * cpu_used / sent, 1),
        "idle_cpu_per_s": round(idle, 3),
        "peak_db_connections": connections.peak,
        "statuses": answers.statuses,
        "new": answers.new,
        "duplicates": answers.duplicates,
        **checked,
        "errors": errors,
        "error_samples": (answers.failures + problems)[:10],
    }
    failed = bool(errors or checked["lost"] or checked["doubled"] or checked["wrong"]
                  or checked["not_applied_count"] or not dedupe_ok)
    print(
        f"scaleout: {args.processes} x backorder serve, {args.stores} Magento stores, one "
        f"PostgreSQL: {sent:,} deliveries ({distinct:,} distinct + {sent - distinct} resent to "
        f"another process), {args.concurrency} in flight, serve --threads {args.threads}"
    )
    print(
        f"  accepted {result['accepted_per_s']:,.0f} webhooks/s ({answered:.1f} s); 202 answer "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms; drained {drain:.1f} s after the "
        f"last answer ({result['applied_per_s']:,.0f} applied/s overall); servers' CPU "
        f"{cpu_used:.1f} s ({result['server_cpu_ms_per_delivery']} ms per delivery; idle "
        f"{idle:.2f} CPU s/s); peak {connections.peak} database connections"
    )
    print(
        f"  lost {checked['lost']}, applied twice {checked['doubled']}, errors {errors}, "
        f"stored new/duplicate {answers.new}/{answers.duplicates} (want {distinct}/"
        f"{sent - distinct}), retried {checked['retried']} (target: 0 lost, 0 twice, 0 errors)"
        + ("  FAILED" if failed else "  meets target")
    )
    for line in result["error_samples"] + checked["wrong"] + checked["not_applied"]:
        print(f"    {line}")
    print("RESULT " + json.dumps(result))
    if args.keep:
        print(f"  kept: schema {schema}, logs in {tmp}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    raise SystemExit(main())
