"""Core benchmarks: the engine against a floor issuing the same statements, in the same run.

Each *step* (prepare, ours, floor...) runs in its own process (``python -m bench.bench_core
BENCH STEP DIR``, driven by ``python -m bench``) and prints one JSON line with its wall
time and its peak RSS (``ru_maxrss``), so memory is measured per step.

- ``orders``: order lines over SKUs through ``StoreService.place_order`` (one transaction per
  order) and ``place_orders`` (one transaction for all), against raw ``sqlite3`` issuing the
  same statements (same tables, rows and indexes; checked: both databases end up identical).
- ``tick``: the back-in-stock receipt over a store of items of which 10% are due, against
  one raw set-based ``UPDATE`` (the issue's floor) and against the same statements raw.
- ``import``: a CSV import (``backorder.imports``) against ``csv`` + ``executemany``.
- ``race``: worker processes placing orders on 10 hot SKUs on PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import resource
import shutil
import sqlite3
import sys
import time
from pathlib import Path

AT = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
STORE = "bench"
PG_URL = os.environ.get("BACKORDER_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def scale(quick: bool) -> dict:
    """Sizes of the full run (the issue's) and of ``--quick``."""
    if os.environ.get("BENCH_LINES"):  # the growth table (python -m bench --growth)
        n = int(os.environ["BENCH_LINES"])
        return {"lines": n, "skus": max(n // 10, 10), "items": n, "rows": n, "race_orders": 0}
    if os.environ.get("BENCH_TINY"):  # developing the benchmark itself
        return {"lines": 1_000, "skus": 100, "items": 10_000, "rows": 10_000, "race_orders": 20}
    if quick:
        return {
            "lines": 10_000,
            "skus": 1_000,
            "items": 100_000,
            "rows": 100_000,
            "race_orders": 150,
        }
    return {
        "lines": 100_000,
        "skus": 10_000,
        "items": 1_000_000,
        "rows": 1_000_000,
        "race_orders": 600,
    }


def _stamp(value: dt.datetime) -> str:
    """A datetime as SQLAlchemy's SQLite dialect stores it."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _raw(path: Path) -> sqlite3.Connection:
    """A raw connection set up as backorder's (WAL, synchronous=NORMAL, explicit BEGIN)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


THRESHOLD = 16
"""The bench store's backorder threshold: with 30 % of the SKUs starting at 0 and about 20
units asked of each, about 10 % of the orders meet a line past it and are refused."""


def _config(path: Path, platform: str = "core", extra: str = "", url: str = "") -> Path:
    """The store's config file, as a merchant writes it (``backorder.toml``)."""
    config = path.with_suffix(".toml")
    config.write_text(
        f'database = "{url or f"sqlite:///{path}"}"\n\n'
        f"[stores.{STORE}]\nplatform = \"{platform}\"\n{extra}\n"
        f"[stores.{STORE}.settings.defaults]\nthreshold = {THRESHOLD}\nmode = \"notify\"\n",
        encoding="utf-8",
    )
    return config


def _memory(field: str) -> float:
    """``VmRSS`` or ``VmHWM`` (peak) of this process in MB. Not ``ru_maxrss``: Linux keeps
    that across ``fork`` and ``exec``, so a step would report its parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


BASELINE: list[float] = []
"""The step's resident memory when its measured work began (modules loaded, service built)."""


CPU_START: list[float] = []
"""The process's CPU time when its measured work began."""


def _start() -> float:
    """Start the measured work: note the memory in use now and the CPU time used so far;
    returns the clock."""
    BASELINE[:] = [_memory("VmRSS")]
    CPU_START[:] = [time.process_time()]
    return time.perf_counter()


LOADED: list[str] = []
"""The plugins the step's service loaded (reported in its RESULT line)."""


def _service(path: Path, platform: str = "core", extra: str = "", url: str = ""):
    """The service exactly as the CLI builds it (``commands.group.Context.service``): the
    config file read, the plugin manager made with every installed plugin, the store's
    database opened; only the clock is fixed, so runs write the same rows."""
    from backorder.config import load_config
    from backorder.engine import StoreService
    from backorder.plugins import get_manager
    from backorder.storage.db import Database

    config = load_config(_config(path, platform, extra, url))
    pm = get_manager()
    LOADED[:] = sorted(str(name) for name, _ in pm.loaded())
    return StoreService(Database(config.database), config.store(STORE), pm=pm, clock=lambda: AT)


def _copy_db(src: Path, *targets: Path) -> None:
    conn = _raw(src)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for target in targets:
        shutil.copyfile(src, target)


def _dump(path: Path, tables: list[str]) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    out = {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables}
    conn.close()
    return out


# ------------------------------------------------------------------------------ orders
ORDER_TABLES = ["items", "movements", "orders", "order_lines", "events", "storefront_items"]


def order_workload(size: dict) -> list[tuple[str, list[tuple[str, int]]]]:
    """Orders of 1-4 lines (qty 1-3) over the SKUs, ``size['lines']`` lines in all."""
    rng = random.Random(8)
    orders, lines = [], 0
    while lines < size["lines"]:
        n = min(rng.randint(1, 4), size["lines"] - lines)
        picked = [(f"SKU-{rng.randrange(size['skus']):06d}", rng.randint(1, 3)) for _ in range(n)]
        orders.append((f"O{len(orders):07d}", picked))
        lines += n
    return orders


def _catalog(service, skus: int) -> None:
    """``skus`` items: 30% start with no stock (every line on them is backordered, and
    past the threshold refused), 70% with plenty."""
    from backorder.models import ItemInput

    rng = random.Random(3)
    service.upsert_catalog(
        [
            ItemInput(
                sku=f"SKU-{i:06d}",
                name=f"Item {i}",
                product_id=str(i),
                on_hand=0 if rng.random() < 0.3 else 100_000,
            )
            for i in range(skus)
        ],
        at=AT,
    )
    service.db.dispose()


def orders_prepare(work: Path, size: dict) -> dict:
    _catalog(_service(work / "orders.db"), size["skus"])
    _copy_db(
        work / "orders.db",
        *(work / f"orders-{s}.db" for s in ("ours", "floor", "ours_batch", "floor_batch")),
    )
    workload = order_workload(size)
    return {"orders": len(workload), "lines": sum(len(lines) for _, lines in workload)}


def _orders_in(workload):
    from backorder.models import LineRequest, OrderIn

    for order_id, lines in workload:
        yield OrderIn(
            order_id=order_id,
            placed_at=AT,
            lines=[LineRequest(sku=sku, qty=qty) for sku, qty in lines],
        )


def orders_ours(work: Path, size: dict) -> float:
    service = _service(work / "orders-ours.db")
    orders = list(_orders_in(order_workload(size)))  # the input, as the floor's is made first
    started = _start()
    for order in orders:
        service.place_order(order)
    return time.perf_counter() - started


def orders_ours_batch(work: Path, size: dict) -> float:
    service = _service(work / "orders-ours_batch.db")
    orders = list(_orders_in(order_workload(size)))  # the input, as the floor's is made first
    started = _start()
    service.place_orders(orders)
    return time.perf_counter() - started


_MESSAGE = (
    "We don't have as many \"{name}\" as you requested, but we'll back order the remaining {n}."
)


def _raw_line(sku: str, qty: int, on_hand: int, state: str) -> tuple[int, int, str | None]:
    """The rules of the bench catalog for one line (notify mode, threshold ``THRESHOLD``,
    over-threshold ``refuse``, switch condition 0): ``(in stock, backordered, error)``."""
    allowed = state != "disabled"
    salable = max(on_hand + THRESHOLD, 0) if allowed else max(on_hand, 0)
    if qty > salable:
        over = "over_threshold" if allowed else "out_of_stock"
        return 0, 0, f"{over}: only {salable} can be bought"
    in_stock = min(qty, max(on_hand, 0))
    return in_stock, qty - in_stock, None


def _raw_settle(sku: str, on_hand: int, state: str, at: str, events: list) -> tuple:
    """The switching rules as orders meet them (stock only falls): ``(state, reason)``;
    their events appended as stored (dispatched: no notifier listens)."""
    reason = None
    if state == "idle" and on_hand <= 0:
        state = "enabled"
        events.append((STORE, "backorder_enabled", sku, None, "{}", at, at))
    if state == "enabled" and on_hand + THRESHOLD <= 0:
        data = json.dumps({"threshold": THRESHOLD})
        events.append((STORE, "threshold_exhausted", sku, None, data, at, at))
        events.append((STORE, "backorder_disabled", sku, "threshold_used_up", "{}", at, at))
        state, reason = "disabled", "threshold_used_up"
    return state, reason


_REFUSED_WHOLE = "order_refused: another line of the order was refused"

_POLICY = (
    '{"mode":"%s",' f'"threshold":{THRESHOLD},"low_stock_level":0,"min_sale_qty":1,'
    '"max_sale_qty":null,"qty_increments":1,"out_of_stock_threshold":0}'
)
_UPSERT_VIEW = (
    "INSERT INTO storefront_items (store, sku, product_id, variant_id, view, basis, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store, sku) DO UPDATE SET "
    "product_id = excluded.product_id, variant_id = excluded.variant_id, view = excluded.view, "
    "basis = excluded.basis, updated_at = excluded.updated_at"
)


def _raw_view(
    sku, product_id, name, on_hand, state, reason, basis, at, incoming=0, date=None, mode="notify"
):
    """The storefront read model row of a bench item (assigned, tracked, no override but
    the ``mode``; ``date``: its back-in-stock date as the view spells it), its view worked
    out and spelt as JSON by hand."""
    allowed = state != "disabled" and mode != "off"
    salable = max(on_hand + THRESHOLD, 0) if allowed else max(on_hand, 0)
    status = "unavailable" if not salable else "backorder" if state == "enabled" else "in_stock"
    view = (
        f'{{"sku":{json.dumps(sku)},"product_id":{json.dumps(product_id)},"variant_id":null,'
        f'"name":{json.dumps(name)},"assigned":true,"tracked":true,"on_hand":{on_hand},'
        f'"salable":{salable},"status":"{status}","purchasable":{"true" if salable else "false"},'
        f'"mode":"{mode}","threshold":{THRESHOLD},"backordered":{max(-on_hand, 0)},'
        f'"state":"{state}","disabled_reason":{json.dumps(reason)},"incoming_qty":{incoming},'
        f'"back_in_stock_date":{json.dumps(date)},"policy":{_POLICY % mode}}}'
    )
    return (STORE, sku, product_id, None, view, basis, at)


def _raw_basis(conn) -> str:
    """The digest of the store's settings its read model rows carry (read before the
    measured work: it is a constant of the store's config)."""
    query = "SELECT basis FROM storefront_items WHERE store = ? LIMIT 1"
    return conn.execute(query, (STORE,)).fetchone()[0]


def _raw_decide(order_id, lines, on_hand, state, names, at):
    """One order against ``on_hand``/``state`` (left as they are): ``(accepted, line rows
    without the order's key, errors, after)`` with ``after`` the accepted order's new stock."""
    current: dict[str, int] = {}
    decided, errors = [], []
    for line_no, (sku, qty) in enumerate(lines, start=1):
        level = current.get(sku, on_hand[sku])
        in_stock, back, error = _raw_line(sku, qty, level, state[sku])
        if error is None:
            current[sku] = level - qty
            message = _MESSAGE.format(name=names[sku] or sku, n=back) if back else None
        else:
            errors.append(f"line {line_no} ({sku}): {error}")
            message = None
        decided.append(
            (names[sku], line_no, sku, qty, in_stock, back, error is None, error, message)
        )
    if errors:  # booked whole or not at all: the lines the rules passed are refused too
        decided = [
            row if not row[6] else (*row[:4], 0, 0, False, _REFUSED_WHOLE, None)
            for row in decided
        ]
    return not errors, decided, errors, current


def _raw_effects(order_id, decided, on_hand, at, moves, events) -> None:
    """An accepted order's ledger rows and ``order_backordered`` events."""
    level = dict(on_hand)
    for _name, line_no, sku, qty, _in_stock, back, _ok, _error, _message in decided:
        level[sku] -= qty
        moves.append(
            (
                STORE, sku, -qty, level[sku], "order", f"order {order_id} line {line_no}",
                f"order:{order_id}:{line_no}", at,
            )
        )
        if back:
            data = {"order_id": order_id, "line_no": line_no, "requested": qty, "backordered": back}
            events.append((STORE, "order_backordered", sku, None, json.dumps(data), at, at))


_INSERT_LINES = (
    "INSERT INTO order_lines (name, line_no, sku, requested, in_stock, backordered, accepted, "
    "error, message, order_pk) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_MOVES = (
    "INSERT INTO movements (store, sku, delta, on_hand_after, kind, source, idempotency_key, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_EVENTS = (
    "INSERT INTO events (store, type, sku, reason, data, at, dispatched_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE_ITEM = (
    "UPDATE items SET on_hand=?, state=?, disabled_reason=?, version=?, updated_at=? "
    "WHERE items.id = ? AND items.version = ?"
)


class _LostRace(Exception):
    """A conditional item write matched no row: another writer committed first."""


def _raw_orders(conn: sqlite3.Connection, workload, basis: str | None = None) -> None:
    """The engine's statements for these orders, one transaction each, issued by hand;
    with ``basis``, the storefront read model rows of the items each order changed too."""
    at = _stamp(AT)
    for order_id, lines in workload:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "SELECT id FROM orders WHERE store = ? AND order_id = ?", (STORE, order_id)
        ).fetchone()
        skus = sorted({sku for sku, _ in lines})
        rows = conn.execute(
            "SELECT id, version, on_hand, state, name, disabled_reason, product_id FROM items "
            f"WHERE store = ? AND sku IN ({', '.join('?' * len(skus))}) ORDER BY sku",
            (STORE, *skus),
        ).fetchall()
        loaded = dict(zip(skus, rows, strict=True))
        on_hand = {sku: row[2] for sku, row in loaded.items()}
        state = {sku: row[3] for sku, row in loaded.items()}
        names = {sku: row[4] for sku, row in loaded.items()}
        accepted, decided, errors, after = _raw_decide(order_id, lines, on_hand, state, names, at)
        order_pk = conn.execute(
            "INSERT INTO orders (store, order_id, placed_at, customer_email, accepted, errors) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (STORE, order_id, at, None, accepted, json.dumps(errors)),
        ).fetchone()[0]
        conn.executemany(_INSERT_LINES, [(*row, order_pk) for row in decided])
        if accepted:
            moves: list[tuple] = []
            events: list[tuple] = []
            _raw_effects(order_id, decided, on_hand, at, moves, events)
            conn.executemany(_INSERT_MOVES, moves)
            views = []
            for sku, (row_id, version, _h, was, name, why, product_id) in loaded.items():
                now, reason = _raw_settle(sku, after[sku], was, at, events)
                reason = reason if now != was else why
                values = (after[sku], now, reason, version + 1, at, row_id, version)
                if basis is not None:
                    views.append(
                        _raw_view(sku, product_id, name, after[sku], now, reason, basis, at)
                    )
                if conn.execute(_UPDATE_ITEM, values).rowcount != 1:
                    raise _LostRace(sku)  # another process wrote it since (the race floor)
            if events:
                conn.executemany(_INSERT_EVENTS, events)
            if views:
                conn.executemany(_UPSERT_VIEW, views)
        conn.execute("COMMIT")


def orders_floor(work: Path, size: dict) -> float:
    conn = _raw(work / "orders-floor.db")
    workload = order_workload(size)
    basis = _raw_basis(conn)
    started = _start()
    _raw_orders(conn, workload, basis)
    return time.perf_counter() - started


def _raw_orders_batch(conn: sqlite3.Connection, workload, basis: str) -> None:
    """``place_orders``' statements by hand: orders and items read in chunks, decisions in
    memory, then one multi-row insert per 1,000 orders (RETURNING ids), one executemany
    each for lines (their search index set-based, as ours from 1,000 lines), movements and
    events, one UPDATE per item changed and its storefront read model row."""
    at = _stamp(AT)
    conn.execute("BEGIN IMMEDIATE")
    ids = [order_id for order_id, _ in workload]
    for i in range(0, len(ids), 5000):
        chunk = ids[i : i + 5000]
        conn.execute(
            f"SELECT order_id FROM orders WHERE store = ? AND order_id IN "
            f"({', '.join('?' * len(chunk))})",
            (STORE, *chunk),
        ).fetchall()
    skus = sorted({sku for _, lines in workload for sku, _ in lines})
    loaded = {}
    for i in range(0, len(skus), 5000):
        chunk = skus[i : i + 5000]
        for row in conn.execute(
            "SELECT id, version, on_hand, state, name, disabled_reason, sku, product_id FROM items "
            f"WHERE store = ? AND sku IN ({', '.join('?' * len(chunk))}) ORDER BY sku",
            (STORE, *chunk),
        ):
            loaded[row[6]] = row
    on_hand = {sku: row[2] for sku, row in loaded.items()}
    state = {sku: row[3] for sku, row in loaded.items()}
    reason = {sku: row[5] for sku, row in loaded.items()}
    names = {sku: row[4] for sku, row in loaded.items()}
    placed, moves, events = [], [], []
    for order_id, lines in workload:
        accepted, decided, errors, after = _raw_decide(order_id, lines, on_hand, state, names, at)
        placed.append((order_id, accepted, errors, decided))
        if not accepted:
            continue
        _raw_effects(order_id, decided, on_hand, at, moves, events)
        for sku in sorted(after):
            was = state[sku]
            state[sku], why = _raw_settle(sku, after[sku], was, at, events)
            if state[sku] != was:
                reason[sku] = why
            on_hand[sku] = after[sku]
    rows = []
    for i in range(0, len(placed), 1000):
        chunk = placed[i : i + 1000]
        pks = conn.execute(
            "INSERT INTO orders (store, order_id, placed_at, customer_email, accepted, errors) "
            f"VALUES {', '.join(['(?, ?, ?, NULL, ?, ?)'] * len(chunk))} RETURNING id",
            [
                v
                for order_id, accepted, errors, _ in chunk
                for v in (STORE, order_id, at, accepted, json.dumps(errors))
            ],
        ).fetchall()
        rows += [
            (*line, pk) for (pk,), (*_, decided) in zip(pks, chunk, strict=True) for line in decided
        ]
    if len(rows) < 1000:
        conn.executemany(_INSERT_LINES, rows)
    else:  # the lines' search index: triggers set aside, one INSERT ... SELECT, triggers back
        triggers = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
            "('order_lines_search_insert', 'order_lines_search_update')"
        ).fetchall()
        for (sql,) in triggers:
            conn.execute("DROP TRIGGER " + sql.split()[2])
        before = conn.execute("SELECT coalesce(max(id), 0) FROM order_lines").fetchone()[0]
        conn.executemany(_INSERT_LINES, rows)
        conn.execute(
            "INSERT INTO order_lines_search(rowid, name, sku) SELECT id, name, sku "
            "FROM order_lines WHERE id > ?",
            (before,),
        )
        for (sql,) in triggers:
            conn.execute(sql)
    conn.executemany(_INSERT_MOVES, moves)
    changed = [
        (sku, row) for sku, row in loaded.items() if (on_hand[sku], state[sku]) != (row[2], row[3])
    ]
    conn.executemany(
        _UPDATE_ITEM,
        [
            (on_hand[sku], state[sku], reason[sku], row[1] + 1, at, row[0], row[1])
            for sku, row in changed
        ],
    )
    conn.executemany(_INSERT_EVENTS, events)
    conn.executemany(
        _UPSERT_VIEW,
        [
            _raw_view(sku, row[7], row[4], on_hand[sku], state[sku], reason[sku], basis, at)
            for sku, row in changed
        ],
    )
    conn.execute("COMMIT")


def orders_floor_batch(work: Path, size: dict) -> float:
    conn = _raw(work / "orders-floor_batch.db")
    workload = order_workload(size)
    basis = _raw_basis(conn)
    started = _start()
    _raw_orders_batch(conn, workload, basis)
    return time.perf_counter() - started


def orders_check(work: Path, size: dict) -> dict:
    """The floor must have written exactly what the engine wrote (else it is not a floor)."""
    ours, floor = (
        _dump(work / "orders-ours.db", ORDER_TABLES),
        _dump(work / "orders-floor.db", ORDER_TABLES),
    )
    mismatched = [t for t in ORDER_TABLES if ours[t] != floor[t]]
    batch = _dump(work / "orders-ours_batch.db", ORDER_TABLES)
    floor_batch = _dump(work / "orders-floor_batch.db", ORDER_TABLES)
    mismatched += [f"batch {t}" for t in ORDER_TABLES if batch[t] != floor_batch[t]]

    # the batch writes each item once (version + 1 per batch, not per order): compare the rest
    def unversioned(dump):
        return {**dump, "items": [row[:15] + row[16:] for row in dump["items"]]}  # 15: version

    mismatched += [
        f"batch vs per-order {t}"
        for t in ORDER_TABLES
        if unversioned(batch)[t] != unversioned(ours)[t]
    ]
    lines = ours["order_lines"]
    backordered = sum(1 for line in lines if line[7] > 0) / max(len(lines), 1)
    if mismatched:
        raise SystemExit(f"orders: floor and engine wrote different rows in {mismatched}")
    refused = sum(1 for order in ours["orders"] if not order[5]) / max(len(ours["orders"]), 1)
    return {
        "identical_tables": ORDER_TABLES,
        "backordered_fraction": round(backordered, 3),
        "refused_fraction": round(refused, 3),
    }


# ------------------------------------------------------------------ PostgreSQL orders
def _pg_reachable() -> str | None:
    """Why PostgreSQL cannot be used (``None``: it can)."""
    import sqlalchemy as sa

    try:
        probe = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(sa.text("select 1"))
        probe.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"
    return None


def _pg_size(size: dict) -> dict:
    """One process's orders on PostgreSQL: a fifth of the SQLite run's lines."""
    return {"lines": size["lines"] // 5, "skus": size["skus"] // 5}


PG_RUNS = int(os.environ.get("BENCH_REPEATS", "3"))
"""Runs of ours and of the floor, alternated, each on a store of its own: one run's
commits can wait twice as long as the next's for the disk on a shared machine."""


def _use_store(work: Path, kind: str) -> None:
    """Run the step on the store the prepare step made for ``kind`` (ours, floor) and this
    run (``BENCH_PG_RUN``, from 0)."""
    global STORE
    run = int(os.environ.get("BENCH_PG_RUN", "0"))
    STORE = f"{(work / 'pg-run').read_text().strip()}-{kind}" + (f"-{run}" if run else "")


def pgorders_prepare(work: Path, size: dict) -> dict:
    """Stores with the same catalog on PostgreSQL, one per run of the engine and of the
    floor: names unique per run, so a shared database is never cleared."""
    import uuid

    if reason := _pg_reachable():
        raise SystemExit(reason)
    (work / "pg-run").write_text(f"bench-{uuid.uuid4().hex[:8]}")
    pg = _pg_size(size)
    for run in range(PG_RUNS):
        os.environ["BENCH_PG_RUN"] = str(run)
        for kind in ("ours", "floor"):
            _use_store(work, kind)
            _catalog(_service(work / f"pg-{kind}.db", url=PG_URL), pg["skus"])
    workload = order_workload(pg)
    return {"orders": len(workload), "lines": sum(len(lines) for _, lines in workload),
            "runs": PG_RUNS}


def pgorders_ours(work: Path, size: dict) -> float:
    _use_store(work, "ours")
    service = _service(work / "pg-ours.db", url=PG_URL)
    orders = list(_orders_in(order_workload(_pg_size(size))))
    started = _start()
    for order in orders:
        service.place_order(order)
    return time.perf_counter() - started


class _Psycopg:
    """The raw floor's connection on PostgreSQL: psycopg itself, one connection, no
    pre-ping, explicit BEGIN/COMMIT; the SQLite floor's statements with ``%s`` marks."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"),
                                    autocommit=True)

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("BEGIN IMMEDIATE", "BEGIN").replace("?", "%s")

    def execute(self, sql: str, params=()):
        return self.conn.execute(self._sql(sql), params)

    def executemany(self, sql: str, rows) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self._sql(sql), rows)


def pgorders_floor(work: Path, size: dict) -> float:
    _use_store(work, "floor")
    conn = _Psycopg(PG_URL)
    workload = order_workload(_pg_size(size))
    basis = _raw_basis(conn)
    started = _start()
    _raw_orders(conn, workload, basis)  # type: ignore[arg-type]
    return time.perf_counter() - started


def pgorders_check(work: Path, size: dict) -> dict:
    """Both stores end with the same rows (ids and store names aside)."""
    import psycopg

    conn = psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"))
    run = (work / "pg-run").read_text().strip()
    queries = {
        "items": "SELECT sku, on_hand, state, disabled_reason, version FROM items "
        "WHERE store = %s ORDER BY sku",
        "orders": "SELECT order_id, accepted, errors::text FROM orders WHERE store = %s "
        "ORDER BY id",
        "movements": "SELECT sku, delta, on_hand_after, idempotency_key FROM movements "
        "WHERE store = %s ORDER BY id",
        "events": "SELECT type, sku, reason, data::text, dispatched_at IS NULL FROM events "
        "WHERE store = %s ORDER BY id",
        "storefront_items": "SELECT sku, view::jsonb, basis FROM storefront_items "
        "WHERE store = %s ORDER BY sku",
    }
    mismatched = [
        table
        for table, query in queries.items()
        if conn.execute(query, (f"{run}-ours",)).fetchall()
        != conn.execute(query, (f"{run}-floor",)).fetchall()
    ]
    refused = conn.execute(
        "SELECT avg((NOT accepted)::int) FROM orders WHERE store = %s", (f"{run}-ours",)
    ).fetchone()[0]
    conn.close()
    if mismatched:
        raise SystemExit(f"pgorders: floor and engine wrote different rows in {mismatched}")
    return {"identical_tables": list(queries), "refused_fraction": round(float(refused), 3)}


# ---------------------------------------------------------------- a BigCommerce store
def bcorders_run(work: Path, size: dict) -> dict:
    """``place_order`` on a BigCommerce store in app mode, over the plugin's in-process
    sandbox (its transport, a simulated clock: no real sleeping on the rate limit): every
    order's items are pushed through the outbox right after its commit, as the CLI and the
    server do. Set up in the same process (the sandbox lives in memory): the catalog
    synced from the sandbox and assigned (tracking turned off), not timed. Then the same
    orders through the raw floor on a core store with the same items, for the ratio."""
    from backorder_bigcommerce.connection import client_for, register_transport
    from backorder_bigcommerce.sandbox import Sandbox

    from backorder.http import FakeClock
    from backorder.storage.schema import push_outbox

    bc = {"lines": size["lines"] // 10, "skus": size["skus"] // 10}
    clock = FakeClock()
    sandbox = Sandbox(clock=clock)
    rng = random.Random(3)
    for i in range(bc["skus"]):
        sandbox.state.add_product(f"Item {i}", f"SKU-{i:06d}", 0 if rng.random() < 0.3 else 100_000)
    register_transport(sandbox.url, sandbox.transport, clock)
    os.environ["BENCH_BC_TOKEN"] = sandbox.state.token
    connection = (
        f"\n[stores.{STORE}.connection]\nstore_hash = \"{sandbox.state.store_hash}\"\n"
        f"api_url = \"{sandbox.url}\"\naccess_token_env = \"BENCH_BC_TOKEN\"\nmode = \"app\"\n"
    )
    service = _service(work / "bc.db", platform="bigcommerce", extra=connection)
    service.sync_from_platform()
    service.assign([item.sku for item in service.items(assigned=False)])
    client = client_for(service.store)
    calls_before = client.stats.calls
    orders = list(_orders_in(order_workload(bc)))
    started = _start()
    for order in orders:
        service.place_order(order)
    seconds = time.perf_counter() - started
    backlog = service.outbox.backlog()
    with service.db.read() as conn:
        pushes = conn.execute(sa_count(push_outbox)).scalar_one()
    calls = client.stats.calls - calls_before
    service.db.dispose()
    sandbox.close()
    # the floor: the same orders, raw, on a core store holding the same items
    _catalog(_service(work / "bc-floor.db"), bc["skus"])
    conn = _raw(work / "bc-floor.db")
    floor_started = time.perf_counter()
    _raw_orders(conn, order_workload(bc))
    floor = time.perf_counter() - floor_started
    return {
        "seconds": seconds,
        "floor_seconds": floor,
        "orders": len(orders),
        "pushes": pushes,
        "pushes_pending": backlog["pushes_pending"],
        "api_calls": calls,
        "plugins": LOADED,
    }


def sa_count(table):
    import sqlalchemy as sa

    return sa.select(sa.func.count()).select_from(table)


# -------------------------------------------------------------------------------- tick
TICK_TABLES = ["items", "movements", "events", "storefront_items"]
DUE_FRACTION = 0.10
TICK_NOW = AT + dt.timedelta(days=30)


def tick_prepare(work: Path, size: dict) -> dict:
    """``size['items']`` assigned items; 10% have a back-in-stock date that has come, 20% one
    still ahead, the rest none. Loaded with executemany (the set-up is not measured)."""
    from backorder.storage.db import Database

    Database(f"sqlite:///{work / 'tick.db'}").dispose()  # migrated schema
    rng = random.Random(5)
    conn = _raw(work / "tick.db")
    conn.execute("BEGIN")
    stamp = _stamp(AT)
    due, ahead = _stamp(TICK_NOW - dt.timedelta(days=1)), _stamp(TICK_NOW + dt.timedelta(days=9))
    rows = []
    for i in range(size["items"]):
        on_hand = rng.randint(-5, 40)
        roll = rng.random()
        date = due if roll < DUE_FRACTION else ahead if roll < DUE_FRACTION + 0.2 else None
        state = "enabled" if on_hand <= 0 else "idle"
        reason = None
        if rng.random() < 0.05:
            state, reason = "disabled", rng.choice(["manual", "threshold_used_up"])
        overrides = '{"mode": "off"}' if rng.random() < 0.05 else "{}"
        rows.append(
            (
                STORE,
                f"SKU-{i:07d}",
                str(i),
                on_hand,
                rng.randint(1, 60) if date else 0,
                date,
                state,
                reason,
                overrides,
                stamp,
            )
        )
        if len(rows) == 50_000:
            _insert_items(conn, rows)
            rows = []
    _insert_items(conn, rows)
    conn.execute("COMMIT")
    conn.close()
    from backorder.storefront_api import readmodel

    service = _service(work / "tick.db")  # the store's read model, as it has one
    with service.db.transaction() as tx:
        readmodel.rebuild(tx, STORE, service.settings, AT)
    service.db.dispose()
    _copy_db(work / "tick.db", *(work / f"tick-{s}.db" for s in ("ours", "items", "floor", "same")))
    return {"items": size["items"], "due_fraction": DUE_FRACTION}


def _insert_items(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    conn.executemany(
        "INSERT INTO items (store, sku, product_id, name, assigned, tracked, on_hand, "
        "incoming_qty, back_in_stock_date, state, disabled_reason, purchasing_disabled, "
        "overrides, version, updated_at) VALUES (?, ?, ?, '', 1, 1, ?, ?, ?, ?, ?, 0, ?, 0, ?)",
        rows,
    )


def _tick_service(path: Path, bulk: bool):
    service = _service(path)
    service.bulk_tick = bulk
    return service


def tick_ours(work: Path, size: dict) -> dict:
    service = _tick_service(work / "tick-ours.db", True)
    started = _start()
    events = service.tick(TICK_NOW)
    return {"seconds": time.perf_counter() - started, "events": len(events)}


def tick_items(work: Path, size: dict) -> dict:
    service = _tick_service(work / "tick-items.db", False)
    started = _start()
    events = service.tick(TICK_NOW)
    return {"seconds": time.perf_counter() - started, "events": len(events)}


def tick_floor(work: Path, size: dict) -> float:
    """The issue's floor: one raw set-based UPDATE receiving every due item."""
    conn = _raw(work / "tick-floor.db")
    started = _start()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "UPDATE items SET on_hand = on_hand + incoming_qty, incoming_qty = 0, "
        "back_in_stock_date = NULL, state = 'disabled', disabled_reason = 'back_in_stock_date', "
        "version = version + 1, updated_at = ? "
        "WHERE store = ? AND assigned = 1 AND back_in_stock_date <= ?",
        (_stamp(TICK_NOW), STORE, _stamp(TICK_NOW)),
    )
    conn.execute("COMMIT")
    return time.perf_counter() - started


_ISO = (
    "substr(items.back_in_stock_date, 1, 10) || 'T' || substr(items.back_in_stock_date, 12, 8)"
    " || CASE WHEN substr(items.back_in_stock_date, 20, 7) IN ('.000000', '') THEN '' "
    "ELSE substr(items.back_in_stock_date, 20, 7) END || '+00:00'"
)
_KEY = f"'receipt:' || items.sku || ':' || {_ISO}"
_DUE = "items.store = ? AND items.assigned = 1 AND items.back_in_stock_date <= ?"
_BOOKED = (
    "EXISTS (SELECT movements.id FROM movements WHERE movements.store = ? "
    f"AND movements.idempotency_key = {_KEY}"
)


def tick_same(work: Path, size: dict) -> float:
    """The bulk tick's statements issued raw: what the set-based path itself costs the driver,
    then the received items read back by SKU (IN lists of 900) and their read model rows."""
    conn = _raw(work / "tick-same.db")
    now = _stamp(TICK_NOW)
    basis = _raw_basis(conn)
    started = _start()
    conn.execute("BEGIN IMMEDIATE")
    picked = conn.execute(
        f"SELECT id, sku, incoming_qty, state FROM items WHERE {_DUE} AND NOT {_BOOKED}) "
        "ORDER BY sku",
        (STORE, now, STORE),
    ).fetchall()
    ids = json.dumps([row_id for row_id, _, _, _ in picked])
    chosen = "items.id IN (SELECT value FROM json_each(?))"
    conn.execute(
        "INSERT INTO movements (store, sku, delta, on_hand_after, kind, source, idempotency_key, "
        f"created_at) SELECT store, sku, incoming_qty, on_hand + incoming_qty, 'receipt', "
        f"'back-in-stock date ' || {_ISO}, {_KEY}, ? FROM items WHERE {chosen} ORDER BY sku",
        (now, ids),
    )
    conn.execute(
        "INSERT INTO events (store, type, sku, reason, data, at, dispatched_at) SELECT store, "
        "'backorder_disabled', sku, 'back_in_stock_date', "
        "'{\"received\": ' || CAST(incoming_qty AS VARCHAR) || '}', ?, ? "
        f"FROM items WHERE {chosen} AND state != 'disabled' ORDER BY sku",
        (now, now, ids),
    )
    reason = (
        "CASE WHEN items.state = 'disabled' THEN items.disabled_reason "
        "ELSE 'back_in_stock_date' END"
    )
    rearm = (
        "items.tracked = 1 AND coalesce(CAST(JSON_EXTRACT(items.overrides, '$.\"mode\"') "
        "AS VARCHAR), 'notify') != 'off' AND items.on_hand + items.incoming_qty > 0 "
        f"AND ({reason}) IN ('threshold_used_up', 'back_in_stock_date', 'stock_recovered')"
    )
    conn.execute(
        "UPDATE items SET on_hand = on_hand + incoming_qty, incoming_qty = 0, "
        f"back_in_stock_date = NULL, state = CASE WHEN {rearm} THEN 'idle' ELSE 'disabled' END, "
        f"disabled_reason = CASE WHEN {rearm} THEN NULL ELSE {reason} END, "
        f"version = version + 1, updated_at = ? WHERE {chosen}",
        (now, ids),
    )
    skus = [sku for _, sku, _, _ in picked]
    views = []
    for i in range(0, len(skus), 900):
        part = skus[i : i + 900]
        for row in conn.execute(
            "SELECT id, version, sku, product_id, variant_id, name, assigned, tracked, on_hand, "
            "incoming_qty, back_in_stock_date, state, disabled_reason, purchasing_disabled, "
            "overrides, platform_level FROM items WHERE store = ? "
            f"AND sku IN ({_marks(len(part))}) ORDER BY sku",
            (STORE, *part),
        ):
            sku, pid, name, on_hand, state, reason, overrides = (row[i] for i in _VIEWED)
            mode = "off" if overrides != "{}" else "notify"  # (the bench's only override)
            views.append(_raw_view(sku, pid, name, on_hand, state, reason, basis, now, mode=mode))
    conn.executemany(_UPSERT_VIEW, views)
    conn.execute("COMMIT")
    return time.perf_counter() - started


_VIEWED = (2, 3, 5, 8, 11, 12, 14)
"""Where the SKU, product ID, name, stock, state, reason and overrides are in an item row."""


def tick_check(work: Path, size: dict) -> dict:
    """Bulk and per-item ticks, and the raw same statements, must leave identical tables."""
    ours = _dump(work / "tick-ours.db", TICK_TABLES)
    mismatched = []
    for other in ("items", "same"):
        path = work / f"tick-{other}.db"
        if path.exists():
            theirs = _dump(path, TICK_TABLES)
            mismatched += [f"{other}:{t}" for t in TICK_TABLES if ours[t] != theirs[t]]
    if mismatched:
        raise SystemExit(f"tick: different rows in {mismatched}")
    return {"received": len(ours["movements"]), "identical_tables": TICK_TABLES}


# ------------------------------------------------------------------------------ import
IMPORT_TABLES = ["items", "movements", "events", "storefront_items"]


def _import_ready() -> str | None:
    try:
        from backorder import imports
    except ImportError as exc:
        return f"import module not ready ({exc})"
    return None if hasattr(imports, "import_csv") else "import module not ready"


def import_prepare(work: Path, size: dict) -> dict:
    """A backorder CSV (Product ID, SKU, Name, Stock) of ``size['rows']`` new SKUs."""
    from backorder.storage.db import Database

    Database(f"sqlite:///{work / 'import.db'}").dispose()
    _copy_db(work / "import.db", work / "import-ours.db", work / "import-floor.db")
    rng = random.Random(9)
    with open(work / "import.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Product ID", "SKU", "Name", "Stock"])
        for i in range(size["rows"]):
            writer.writerow([f"P{i}", f"SKU-{i:07d}", f"Item {i}", rng.randint(-3, 50)])
    return {"rows": size["rows"], "bytes": (work / "import.csv").stat().st_size}


def _store_basis(path: Path) -> str:
    """The digest of the bench store's settings that its read model rows carry (a constant
    of its config file, worked out before the measured work)."""
    from backorder.config import load_config
    from backorder.storefront_api.readmodel import basis

    return basis(load_config(_config(path)).store(STORE).settings)


def import_ours(work: Path, size: dict) -> dict:
    from backorder import imports

    service = _service(work / "import-ours.db")
    started = _start()
    report = imports.import_csv(service, work / "import.csv", mode="assign")
    return {"seconds": time.perf_counter() - started, "created": report.created}


def import_floor(work: Path, size: dict) -> float:
    """Raw ``csv`` + ``executemany``: the same item, movement and event rows, one transaction."""
    import hashlib
    import io

    from backorder.storage import item_status

    conn = _raw(work / "import-floor.db")
    path = work / "import.csv"
    at = _stamp(AT)
    basis = _store_basis(work / "import-floor.db")
    started = _start()
    data = path.read_bytes()
    import_id = hashlib.sha256(b"assign|name,on_hand|" + data).hexdigest()[:24]
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "SELECT created_at FROM import_runs WHERE store = ? AND import_id = ?", (STORE, import_id)
    ).fetchone()
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    next(reader)
    rows, moves, events, views = [], [], [], []
    for line_no, (product_id, sku, name, stock) in enumerate(reader, start=2):
        on_hand = int(stock)
        state = "enabled" if on_hand <= 0 else "idle"
        rows.append((STORE, sku, product_id, name, on_hand, state, at))
        views.append(_raw_view(sku, product_id, name, on_hand, state, None, basis, at))
        events.append((STORE, "assigned", sku, None, "{}", at, at))
        if on_hand <= 0:
            events.append((STORE, "backorder_enabled", sku, None, "{}", at, at))
        if on_hand:
            moves.append(
                (
                    STORE,
                    sku,
                    on_hand,
                    on_hand,
                    "import",
                    f"import {path} row {line_no}",
                    f"import:{import_id}:{sku}",
                    at,
                )
            )
    skus = [row[1] for row in rows]
    for i in range(0, len(skus), 900):  # the import looks every SKU up first, as ours does
        chunk = skus[i : i + 900]
        conn.execute(
            f"SELECT id, sku FROM items WHERE store = ? AND sku IN ({', '.join('?' * len(chunk))})",
            (STORE, *chunk),
        ).fetchall()
    # The search index and statuses set-based, as ours does (their per-row triggers cost
    # the raw statements several times over): triggers set aside, rows written, index
    # and statuses of the new rows written in one statement each, triggers back.
    triggers = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN ("
        "'items_search_insert', 'items_search_update', 'items_status_insert', "
        "'items_status_update')"
    ).fetchall()
    for (sql,) in triggers:
        conn.execute("DROP TRIGGER " + sql.split()[2])
    before = conn.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0]
    conn.executemany(
        "INSERT INTO items (store, sku, product_id, variant_id, name, assigned, tracked, on_hand, "
        "incoming_qty, back_in_stock_date, state, disabled_reason, purchasing_disabled, "
        "overrides, category, brand, version, updated_at) "
        "VALUES (?, ?, ?, NULL, ?, 1, 1, ?, 0, NULL, ?, NULL, 0, '{}', NULL, NULL, 0, ?)",
        rows,
    )
    conn.execute(
        "INSERT INTO items_search(rowid, name, sku) SELECT id, name, sku FROM items WHERE id > ?",
        (before,),
    )
    conn.execute(item_status.backfill_sql("sqlite") + " WHERE id > ?", (before,))
    for (sql,) in triggers:
        conn.execute(sql)
    conn.executemany(
        "INSERT INTO movements (store, sku, delta, on_hand_after, kind, source, idempotency_key, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        moves,
    )
    conn.executemany(_INSERT_EVENTS, events)
    conn.executemany(_UPSERT_VIEW, views)
    conn.execute(
        "INSERT INTO import_runs (store, import_id, mode, file_name, rows, summary, "
        "created_at) VALUES (?, ?, 'assign', ?, ?, '{}', ?)",
        (STORE, import_id, str(path), len(rows), at),
    )
    conn.execute("COMMIT")
    return time.perf_counter() - started


def _same_tables(step: str, ours_db: Path, floor_db: Path) -> dict:
    """Ours and the floor left the same items, movements, events and read model (else the
    first differing row of each table is printed and the step fails)."""
    ours, floor = _dump(ours_db, IMPORT_TABLES), _dump(floor_db, IMPORT_TABLES)
    mismatched = [t for t in IMPORT_TABLES if ours[t] != floor[t]]
    if mismatched:
        for t in mismatched:
            for a, b in zip(ours[t], floor[t], strict=False):
                if a != b:
                    print(f"{t}: ours {a}\n{t}: floor {b}", file=sys.stderr)
                    break
        raise SystemExit(f"{step}: floor and engine wrote different rows in {mismatched}")
    return {"identical_tables": IMPORT_TABLES}


def import_check(work: Path, size: dict) -> dict:
    return _same_tables("import", work / "import-ours.db", work / "import-floor.db")


# ----------------------------------------------------------------------- update import
UPDATE_DATES = [f"{d:02d}/12/2026" for d in range(1, 29)] + ["2027-01-15", "2027-02-01T08:00"]


def import_update_prepare(work: Path, size: dict) -> dict:
    """A store of ``size['rows']`` assigned items (their statuses, search index and read
    model written as any store has them; not timed) and a CSV updating all of them, in
    random order (``SKU, Stock, Incoming Stock, Back in stock date``): new stock for 90 %
    of the rows, some crossing the switch condition either way, so both switches fire."""
    from backorder.storefront_api import readmodel

    service = _service(work / "update.db")
    rng = random.Random(8)
    old = [rng.randint(-3, 50) for _ in range(size["rows"])]
    conn = _raw(work / "update.db")
    conn.execute("BEGIN")
    stamp = _stamp(AT - dt.timedelta(days=1))
    conn.executemany(
        "INSERT INTO items (store, sku, product_id, variant_id, name, assigned, tracked, "
        "on_hand, incoming_qty, back_in_stock_date, state, disabled_reason, "
        "purchasing_disabled, overrides, category, brand, version, updated_at) "
        "VALUES (?, ?, ?, NULL, ?, 1, 1, ?, 0, NULL, ?, NULL, 0, '{}', NULL, NULL, 0, ?)",
        (
            (STORE, f"SKU-{i:07d}", f"P{i}", f"Item {i}", q, "enabled" if q <= 0 else "idle",
             stamp)
            for i, q in enumerate(old)
        ),
    )
    conn.execute("COMMIT")
    conn.close()
    with service.db.transaction() as tx:
        readmodel.rebuild(tx, STORE, service.settings, AT - dt.timedelta(days=1))
    service.db.dispose()
    _copy_db(work / "update.db", work / "update-ours.db", work / "update-floor.db")
    order = list(range(size["rows"]))
    rng.shuffle(order)  # a merchant's file is rarely in the store's order
    with open(work / "update.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["SKU", "Stock", "Incoming Stock", "Back in stock date"])
        for i in order:
            stock = old[i] if rng.random() < 0.1 else rng.randint(-3, 50)
            date = rng.choice(UPDATE_DATES) if rng.random() < 0.7 else ""
            writer.writerow([f"SKU-{i:07d}", stock, rng.randint(0, 20) if date else "", date])
    return {"rows": size["rows"], "bytes": (work / "update.csv").stat().st_size}


def import_update_ours(work: Path, size: dict) -> dict:
    from backorder import imports

    service = _service(work / "update-ours.db")
    started = _start()
    report = imports.import_csv(service, work / "update.csv", mode="update")
    return {"seconds": time.perf_counter() - started, "updated": report.updated}


def _marks(n: int) -> str:
    return ", ".join("?" * n)


_STATUS_TRIGGERS = (
    "'items_search_insert', 'items_search_update', 'items_status_insert', 'items_status_update'"
)


def import_update_floor(work: Path, size: dict) -> float:
    """Raw ``csv`` + ``executemany``, ours' statements: the SKUs looked up in IN lists of
    900 per round of 50,000 rows, the same switches (inline, for this data), the same
    ``UPDATE items``, movements, events and read model rows; the search and status
    triggers set aside and the updated rows' statuses set with their SQL in IN lists."""
    import hashlib

    from backorder.storage import item_status

    path = work / "update.csv"
    conn = _raw(work / "update-floor.db")
    at = _stamp(AT)
    basis = _store_basis(work / "update-floor.db")
    started = _start()
    data = path.read_bytes()
    import_id = hashlib.sha256(
        b"update|back_in_stock_date,incoming_qty,on_hand|" + data
    ).hexdigest()[:24]
    del data
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "SELECT created_at FROM import_runs WHERE store = ? AND import_id = ?", (STORE, import_id)
    ).fetchone()
    triggers = conn.execute(
        f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({_STATUS_TRIGGERS})"
    ).fetchall()
    for (sql,) in triggers:
        conn.execute("DROP TRIGGER " + sql.split()[2])
    conn.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()
    dates: dict[str, tuple | None] = {"": None}
    with open(path, newline="", encoding="utf-8") as text:
        reader = csv.reader(text)
        next(reader)
        rows = [(line_no, *cells) for line_no, cells in enumerate(reader, start=2)]
    updated: list[int] = []
    for start in range(0, len(rows), 50_000):
        chunk = rows[start : start + 50_000]
        current: dict[str, tuple] = {}
        skus = sorted({r[1] for r in chunk})
        for i in range(0, len(skus), 900):
            part = skus[i : i + 900]
            for row in conn.execute(
                "SELECT id, version, sku, on_hand, incoming_qty, back_in_stock_date, state, "
                f"product_id, name FROM items WHERE store = ? AND sku IN ({_marks(len(part))})",
                (STORE, *part),
            ):
                current[row[2]] = row
        updates, moves, events, views = [], [], [], []
        for line_no, sku, stock, incoming, date in chunk:
            row_id, version, sku, on_hand, was_incoming, was_date, state, pid, name = current[sku]
            new = int(stock)
            new_incoming = int(incoming) if incoming else 0
            stored = dates.get(date, ())
            if stored == ():
                if "/" in date:
                    parsed = dt.datetime.strptime(date, "%d/%m/%Y").replace(tzinfo=dt.UTC)
                else:
                    parsed = dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC)
                stored = dates[date] = (_stamp(parsed), parsed.strftime("%Y-%m-%dT%H:%M:%SZ"))
            new_date, shown = stored or (None, None)
            new_state = "enabled" if new <= 0 else "idle"
            reason = None
            if new_state != state:
                events.append(
                    (STORE, "backorder_enabled", sku, None, "{}", at, at)
                    if new_state == "enabled"
                    else (STORE, "backorder_disabled", sku, "stock_recovered", "{}", at, at)
                )
            if new != on_hand:
                moves.append(
                    (STORE, sku, new - on_hand, new, "import", f"import {path} row {line_no}",
                     f"import:{import_id}:{sku}", at)
                )
            if (new, new_incoming, new_date, new_state) != (on_hand, was_incoming, was_date, state):
                updates.append(
                    (new_state, reason, new, new_incoming, new_date, at, row_id, version)
                )
                updated.append(row_id)
                views.append(_raw_view(
                    sku, pid, name, new, new_state, reason, basis, at, new_incoming, shown
                ))
        conn.executemany(
            "UPDATE items SET state = ?, disabled_reason = ?, on_hand = ?, incoming_qty = ?, "
            "back_in_stock_date = ?, updated_at = ?, version = version + 1 "
            "WHERE id = ? AND version = ?",
            updates,
        )
        conn.executemany(_INSERT_MOVES, moves)
        conn.executemany(_INSERT_EVENTS, events)
        conn.executemany(_UPSERT_VIEW, views)
    status = item_status.backfill_sql("sqlite")
    updated.sort()
    for i in range(0, len(updated), 900):
        part = updated[i : i + 900]
        conn.execute(status + f" WHERE id IN ({', '.join('?' * len(part))})", part)
    for (sql,) in triggers:
        conn.execute(sql)
    conn.execute(
        "INSERT INTO import_runs (store, import_id, mode, file_name, rows, summary, created_at) "
        "VALUES (?, ?, 'update', ?, ?, '{}', ?)",
        (STORE, import_id, str(path), len(rows), at),
    )
    conn.execute("COMMIT")
    return time.perf_counter() - started


def import_update_check(work: Path, size: dict) -> dict:
    return _same_tables("import update", work / "update-ours.db", work / "update-floor.db")


# -------------------------------------------------------------------------------- race
def _mixed_races(store, service) -> dict:
    """Issue 20's races (items 7-9): the same order ids from every worker at once, then
    batches on overlapping SKUs sharing some order ids. Any worker error fails the step."""
    from backorder.testing.race import race_batches, race_same_order_ids

    started = time.perf_counter()
    ids = [f"dup-{n}" for n in range(20)]
    answers = race_same_order_ids(PG_URL, store, HOT_SKUS[0], ids, workers=WORKERS)
    firsts = [sum(not worker[i]["duplicate"] for worker in answers) for i in range(len(ids))]
    duplicates_seconds = time.perf_counter() - started
    rng = random.Random(9)
    batches = [
        [
            [
                (
                    f"shared-{b}-{n}" if n % 3 == 0 else f"w{w}-{b}-{n}",
                    [(sku, 1) for sku in (rng.sample(HOT_SKUS, 3) if n % 3 else HOT_SKUS[:3])],
                )
                for n in range(10)
            ]
            for b in range(5)
        ]
        for w in range(WORKERS)
    ]
    started = time.perf_counter()
    race_batches(PG_URL, store, batches)
    return {
        "same_ids_callers": WORKERS * len(ids),
        "same_ids_first_answers": sum(firsts),  # must equal len(ids): one placement each
        "same_ids_seconds": round(duplicates_seconds, 2),
        "batches": WORKERS * 5,
        "batches_seconds": round(time.perf_counter() - started, 2),
    }


HOT_SKUS = [f"HOT-{i}" for i in range(10)]
HOT_STOCK, WORKERS, WARM_UP = 20, 8, 20


def _race_worker(work: Path, store: str, worker: int, orders: int, barrier, out) -> None:
    """One process: the service as the CLI builds it, ``WARM_UP`` orders on a SKU of its
    own (imports, caches, connection), then, once every worker is ready, ``orders`` 1-unit
    orders round-robin on the hot SKUs, timed."""
    from backorder.models import LineRequest, OrderIn

    global STORE
    STORE = store
    service = _service(work / f"race-{worker}.db", url=PG_URL)
    for n in range(WARM_UP):
        service.place_order(OrderIn(order_id=f"warm-{worker}-{n}",
                                    lines=[LineRequest(sku=f"WARM-{worker}", qty=1)]))
    barrier.wait()
    started, cpu = time.time(), time.process_time()
    taken = accepted = 0
    for n in range(orders):
        sku = HOT_SKUS[(n + worker) % len(HOT_SKUS)]
        result = service.place_order(OrderIn(order_id=f"w{worker}-{n}",
                                             lines=[LineRequest(sku=sku, qty=1)]))
        if result.accepted:
            accepted += 1
            taken += sum(line.in_stock + line.backordered for line in result.lines)
    out.put((started, time.time(), taken, accepted, round(_memory("VmHWM"), 1),
             time.process_time() - cpu, 0))
    service.db.dispose()


def _race_floor_worker(store: str, worker: int, orders: int, barrier, out) -> None:
    """:func:`_race_worker` through the raw floor (psycopg, the pgorders floor's statements,
    a lost race rolled back and run again)."""
    global STORE
    STORE = store
    conn = _Psycopg(PG_URL)
    basis = _raw_basis(conn)

    def place(order_id: str, sku: str) -> None:
        nonlocal retries
        while True:
            try:
                return _raw_orders(conn, [(order_id, [(sku, 1)])], basis)  # type: ignore[arg-type]
            except _LostRace:
                conn.execute("ROLLBACK")
                retries += 1

    retries = 0
    for n in range(WARM_UP):
        place(f"warm-{worker}-{n}", f"WARM-{worker}")
    barrier.wait()
    started, cpu = time.time(), time.process_time()
    for n in range(orders):
        place(f"w{worker}-{n}", HOT_SKUS[(n + worker) % len(HOT_SKUS)])
    out.put((started, time.time(), 0, 0, round(_memory("VmHWM"), 1),
             time.process_time() - cpu, retries))
    conn.conn.close()


def _race_catalog(service) -> None:
    from backorder.models import ItemInput

    service.upsert_catalog(
        [ItemInput(sku=sku, on_hand=HOT_STOCK) for sku in HOT_SKUS]
        + [ItemInput(sku=f"WARM-{w}", on_hand=10**6) for w in range(WORKERS)]
    )


def _race_processes(target, args_of) -> list[tuple]:
    """Run ``WORKERS`` processes of ``target`` (spawned); each worker's result tuple."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args_of(w), barrier, out)) for w in range(WORKERS)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=900) for _ in procs]
    for proc in procs:
        proc.join(60)
    if any(proc.exitcode for proc in procs):
        raise SystemExit(f"race workers failed: {[proc.exitcode for proc in procs]}")
    return results


def _taken(store: str) -> int:
    """Units the store's orders took of the hot SKUs (from its ledger)."""
    import psycopg

    with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql")) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(-delta), 0) FROM movements WHERE store = %s AND kind = 'order' "
            "AND sku LIKE 'HOT-%%'", (store,)
        ).fetchone()
    return int(row[0]) if row else 0


def race_floor(work: Path, size: dict) -> dict:
    """The race through the raw floor: its orders/s with 8 processes on this machine."""
    import uuid

    if reason := _pg_reachable():
        raise SystemExit(reason)
    global STORE
    STORE = f"bench-racefloor-{uuid.uuid4().hex[:8]}"
    service = _service(work / "race-floor.db", url=PG_URL)
    _race_catalog(service)
    service.db.dispose()
    results = _race_processes(_race_floor_worker, lambda w: (STORE, w, size["race_orders"]))
    seconds = max(r[1] for r in results) - min(r[0] for r in results)
    orders = WORKERS * size["race_orders"]
    taken = _taken(STORE)
    salable = len(HOT_SKUS) * (HOT_STOCK + THRESHOLD)
    return {
        "seconds": seconds,
        "orders": orders,
        "orders_per_s": round(orders / seconds, 1),
        "cpu_us_per_order": round(sum(r[5] for r in results) / orders * 1e6),
        "retries": sum(r[6] for r in results),
        "units_taken": taken,
        "oversold": max(taken - salable, 0),
    }


def race_run(work: Path, size: dict) -> dict:
    """8 processes place 1-unit orders round-robin on 10 hot SKUs (demand > salable qty):
    orders/s from the moment all are warm until the last is done; nothing oversold."""
    import uuid

    from backorder.storage import records

    if reason := _pg_reachable():
        raise SystemExit(reason)
    global STORE
    STORE = f"bench-race-{uuid.uuid4().hex[:8]}"
    service = _service(work / "race.db", url=PG_URL)
    _race_catalog(service)
    results = _race_processes(_race_worker, lambda w: (work, STORE, w, size["race_orders"]))
    seconds = max(r[1] for r in results) - min(r[0] for r in results)
    orders = WORKERS * size["race_orders"]
    taken = sum(r[2] for r in results)
    salable = len(HOT_SKUS) * (HOT_STOCK + THRESHOLD)
    books_agree = True
    with service.db.read() as conn:
        for sku in HOT_SKUS:
            item = service.item(sku)
            books_agree &= records.ledger_balance(conn, STORE, sku) == item.on_hand
            books_agree &= item.on_hand >= -THRESHOLD
    mixed = _mixed_races(service.store, service)
    service.db.dispose()
    rate = orders / seconds
    return {
        **mixed,
        "seconds": seconds,
        "orders": orders,
        "accepted": sum(r[3] for r in results),
        "orders_per_s": round(rate, 1),
        "cpu_us_per_order": round(sum(r[5] for r in results) / orders * 1e6),
        "target_orders_per_s": 1000,
        "missed": [] if rate >= 1000 else [f"{rate:.0f} orders/s < 1000"],
        "units_taken": taken,
        "salable": salable,
        "oversold": max(taken - salable, 0),
        "undersold": max(salable - taken, 0),
        "books_agree": books_agree,
        "workers_peak_rss_mb": max(r[4] for r in results),
        "plugins": LOADED,
    }


# -------------------------------------------------------------------------------- main
def main(argv: list[str]) -> int:
    bench, step, work, quick = argv[0], argv[1], Path(argv[2]), "--quick" in argv
    size = scale(quick)
    func = globals()[f"{bench}_{step}"]
    started = time.perf_counter()
    result = func(work, size)
    elapsed = time.perf_counter() - started
    if isinstance(result, float):
        result = {"seconds": result}
    result.setdefault("seconds", elapsed)
    if CPU_START:  # what the step's own work cost the CPU (a loaded machine's wall clock
        # also counts the time spent waiting for a core)
        result["cpu_seconds"] = round(time.process_time() - CPU_START[0], 3)
    if LOADED:
        result["plugins"] = LOADED
    result["peak_rss_mb"] = round(_memory("VmHWM"), 1)
    if BASELINE:  # what the measured work itself added at its peak
        result["work_mb"] = round(max(_memory("VmHWM") - BASELINE[0], 0.1), 1)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
