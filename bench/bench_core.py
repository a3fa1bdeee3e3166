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
    if quick:
        return {
            "lines": 10_000,
            "skus": 1_000,
            "items": 100_000,
            "rows": 100_000,
            "race_orders": 40,
        }
    return {
        "lines": 100_000,
        "skus": 10_000,
        "items": 1_000_000,
        "rows": 1_000_000,
        "race_orders": 150,
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


def _service(path: Path):
    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.models import BackorderPolicy, StoreSettings
    from backorder.storage.db import Database

    settings = StoreSettings(defaults=BackorderPolicy(threshold=None, mode="notify"))
    return StoreService(
        Database(f"sqlite:///{path}"), StoreConfig(name=STORE, settings=settings), clock=lambda: AT
    )


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
ORDER_TABLES = ["items", "movements", "orders", "order_lines", "events"]


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


def orders_prepare(work: Path, size: dict) -> dict:
    """10k SKUs: 30% start with no stock (every line on them is backordered), 70% with plenty."""
    from backorder.models import ItemInput

    rng = random.Random(3)
    service = _service(work / "orders.db")
    service.upsert_catalog(
        [
            ItemInput(
                sku=f"SKU-{i:06d}",
                name=f"Item {i}",
                product_id=str(i),
                on_hand=0 if rng.random() < 0.3 else 100_000,
            )
            for i in range(size["skus"])
        ],
        at=AT,
    )
    service.db.dispose()
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
    workload = order_workload(size)
    started = time.perf_counter()
    for order in _orders_in(workload):
        service.place_order(order)
    return time.perf_counter() - started


def orders_ours_batch(work: Path, size: dict) -> float:
    service = _service(work / "orders-ours_batch.db")
    workload = order_workload(size)
    started = time.perf_counter()
    service.place_orders(list(_orders_in(workload)))
    return time.perf_counter() - started


_MESSAGE = (
    "We don't have as many \"{name}\" as you requested, but we'll back order the remaining {n}."
)


def _raw_orders(conn: sqlite3.Connection, workload, *, per_order: bool) -> None:
    """The engine's statements for these orders, issued by hand (the bench catalog's rules:
    unlimited threshold, notify mode, switch condition 0)."""
    at = _stamp(AT)
    if not per_order:
        conn.execute("BEGIN IMMEDIATE")
    for order_id, lines in workload:
        if per_order:
            conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "SELECT orders.id, orders.store, orders.order_id, orders.placed_at, "
            "orders.customer_email, orders.accepted, orders.errors FROM orders "
            "WHERE orders.store = ? AND orders.order_id = ?",
            (STORE, order_id),
        ).fetchone()
        skus = sorted({sku for sku, _ in lines})
        rows = conn.execute(
            "SELECT id, version, on_hand, state, name FROM items WHERE store = ? AND sku IN "
            f"({', '.join('?' * len(skus))}) ORDER BY sku",
            (STORE, *skus),
        ).fetchall()
        loaded = {sku: list(row) for sku, row in zip(skus, rows, strict=True)}
        current = {sku: row[2] for sku, row in loaded.items()}
        order_pk = conn.execute(
            "INSERT INTO orders (store, order_id, placed_at, customer_email, accepted, errors) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (STORE, order_id, at, None, 1, "[]"),
        ).fetchone()[0]
        decided, moves, events = [], [], []
        for line_no, (sku, qty) in enumerate(lines, start=1):
            in_stock = min(qty, max(current[sku], 0))
            back = qty - in_stock
            current[sku] -= qty
            decided.append(
                (
                    order_pk,
                    loaded[sku][4],
                    line_no,
                    sku,
                    qty,
                    in_stock,
                    back,
                    1,
                    None,
                    _MESSAGE.format(name=loaded[sku][4] or sku, n=back) if back else None,
                )
            )
            moves.append(
                (
                    STORE,
                    sku,
                    -qty,
                    current[sku],
                    "order",
                    f"order {order_id} line {line_no}",
                    f"order:{order_id}:{line_no}",
                    at,
                )
            )
            if back:
                events.append(
                    (
                        STORE,
                        "order_backordered",
                        sku,
                        None,
                        json.dumps(
                            {
                                "order_id": order_id,
                                "line_no": line_no,
                                "requested": qty,
                                "backordered": back,
                            }
                        ),
                        at,
                    )
                )
        conn.executemany(
            "INSERT INTO order_lines (order_pk, name, line_no, sku, requested, in_stock, "
            "backordered, accepted, error, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            decided,
        )
        conn.executemany(
            "INSERT INTO movements (store, sku, delta, on_hand_after, kind, source, "
            "idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            moves,
        )
        for sku, (row_id, version, _on_hand, state, _name) in loaded.items():
            if current[sku] > 0 or state != "idle":
                conn.execute(
                    "UPDATE items SET on_hand=?, version=?, updated_at=? "
                    "WHERE items.id = ? AND items.version = ?",
                    (current[sku], version + 1, at, row_id, version),
                )
            else:
                conn.execute(
                    "UPDATE items SET on_hand=?, state=?, version=?, updated_at=? "
                    "WHERE items.id = ? AND items.version = ?",
                    (current[sku], "enabled", version + 1, at, row_id, version),
                )
                events.append((STORE, "backorder_enabled", sku, None, "{}", at))
        if events:
            conn.executemany(
                "INSERT INTO events (store, type, sku, reason, data, at) VALUES (?, ?, ?, ?, ?, ?)",
                events,
            )
        if per_order:
            conn.execute("COMMIT")
    if not per_order:
        conn.execute("COMMIT")


def orders_floor(work: Path, size: dict) -> float:
    conn = _raw(work / "orders-floor.db")
    workload = order_workload(size)
    started = time.perf_counter()
    _raw_orders(conn, workload, per_order=True)
    return time.perf_counter() - started


def _raw_orders_batch(conn: sqlite3.Connection, workload) -> None:
    """``place_orders``' statements by hand: orders and items read in chunks, decisions in
    memory, then one multi-row insert per 1,000 orders (RETURNING ids), one executemany
    each for lines, movements and events, and one UPDATE per item changed."""
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
            "SELECT id, version, on_hand, state, name, sku FROM items WHERE store = ? AND sku IN "
            f"({', '.join('?' * len(chunk))}) ORDER BY sku",
            (STORE, *chunk),
        ):
            loaded[row[5]] = row
    on_hand = {sku: row[2] for sku, row in loaded.items()}
    state = {sku: row[3] for sku, row in loaded.items()}
    decided, moves, events = [], [], []
    for order_id, lines in workload:
        order_lines, current = [], {}
        for line_no, (sku, qty) in enumerate(lines, start=1):
            level = current.get(sku, on_hand[sku])
            in_stock = min(qty, max(level, 0))
            back = qty - in_stock
            current[sku] = level - qty
            order_lines.append(
                (
                    loaded[sku][4],
                    line_no,
                    sku,
                    qty,
                    in_stock,
                    back,
                    1,
                    None,
                    _MESSAGE.format(name=loaded[sku][4] or sku, n=back) if back else None,
                )
            )
            moves.append(
                (
                    STORE,
                    sku,
                    -qty,
                    current[sku],
                    "order",
                    f"order {order_id} line {line_no}",
                    f"order:{order_id}:{line_no}",
                    at,
                )
            )
            if back:
                events.append(
                    (
                        STORE,
                        "order_backordered",
                        sku,
                        None,
                        json.dumps(
                            {
                                "order_id": order_id,
                                "line_no": line_no,
                                "requested": qty,
                                "backordered": back,
                            }
                        ),
                        at,
                    )
                )
        for sku in sorted(current):
            on_hand[sku] = current[sku]
            if state[sku] == "idle" and current[sku] <= 0:
                state[sku] = "enabled"
                events.append((STORE, "backorder_enabled", sku, None, "{}", at))
        decided.append((order_id, order_lines))
    rows = []
    for i in range(0, len(decided), 1000):
        chunk = decided[i : i + 1000]
        pks = conn.execute(
            "INSERT INTO orders (store, order_id, placed_at, customer_email, accepted, errors) "
            f"VALUES {', '.join(['(?, ?, ?, NULL, 1, ?)'] * len(chunk))} RETURNING id",
            [v for order_id, _ in chunk for v in (STORE, order_id, at, "[]")],
        ).fetchall()
        rows += [
            (pk, *line) for (pk,), (_, lines) in zip(pks, chunk, strict=True) for line in lines
        ]
    conn.executemany(
        "INSERT INTO order_lines (order_pk, name, line_no, sku, requested, in_stock, "
        "backordered, accepted, error, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany(
        "INSERT INTO movements (store, sku, delta, on_hand_after, kind, source, "
        "idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        moves,
    )
    conn.executemany(
        "UPDATE items SET on_hand=?, state=?, version=?, updated_at=? "
        "WHERE items.id = ? AND items.version = ?",
        [
            (on_hand[sku], state[sku], row[1] + 1, at, row[0], row[1])
            for sku, row in loaded.items()
            if (on_hand[sku], state[sku]) != (row[2], row[3])
        ],
    )
    conn.executemany(
        "INSERT INTO events (store, type, sku, reason, data, at) VALUES (?, ?, ?, ?, ?, ?)", events
    )
    conn.execute("COMMIT")


def orders_floor_batch(work: Path, size: dict) -> float:
    conn = _raw(work / "orders-floor_batch.db")
    workload = order_workload(size)
    started = time.perf_counter()
    _raw_orders_batch(conn, workload)
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
    return {"identical_tables": ORDER_TABLES, "backordered_fraction": round(backordered, 3)}


# -------------------------------------------------------------------------------- tick
TICK_TABLES = ["items", "movements", "events"]
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
    started = time.perf_counter()
    events = service.tick(TICK_NOW)
    return {"seconds": time.perf_counter() - started, "events": len(events)}


def tick_items(work: Path, size: dict) -> dict:
    service = _tick_service(work / "tick-items.db", False)
    started = time.perf_counter()
    events = service.tick(TICK_NOW)
    return {"seconds": time.perf_counter() - started, "events": len(events)}


def tick_floor(work: Path, size: dict) -> float:
    """The issue's floor: one raw set-based UPDATE receiving every due item."""
    conn = _raw(work / "tick-floor.db")
    started = time.perf_counter()
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
    """The bulk tick's statements issued raw: what the set-based path itself costs the driver."""
    conn = _raw(work / "tick-same.db")
    now = _stamp(TICK_NOW)
    started = time.perf_counter()
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
        "INSERT INTO events (store, type, sku, reason, data, at) SELECT store, "
        "'backorder_disabled', sku, 'back_in_stock_date', "
        "'{\"received\": ' || CAST(incoming_qty AS VARCHAR) || '}', ? "
        f"FROM items WHERE {chosen} AND state != 'disabled' ORDER BY sku",
        (now, ids),
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
    conn.execute("COMMIT")
    return time.perf_counter() - started


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
IMPORT_TABLES = ["items", "movements", "events"]


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


def import_ours(work: Path, size: dict) -> dict:
    from backorder import imports

    service = _service(work / "import-ours.db")
    started = time.perf_counter()
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
    started = time.perf_counter()
    data = path.read_bytes()
    import_id = hashlib.sha256(b"assign|name,on_hand|" + data).hexdigest()[:24]
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "SELECT created_at FROM import_runs WHERE store = ? AND import_id = ?", (STORE, import_id)
    ).fetchone()
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    next(reader)
    rows, moves, events = [], [], []
    for line_no, (product_id, sku, name, stock) in enumerate(reader, start=2):
        on_hand = int(stock)
        state = "enabled" if on_hand <= 0 else "idle"
        rows.append((STORE, sku, product_id, name, on_hand, state, at))
        events.append((STORE, "assigned", sku, None, "{}", at))
        if on_hand <= 0:
            events.append((STORE, "backorder_enabled", sku, None, "{}", at))
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
    conn.executemany(
        "INSERT INTO events (store, type, sku, reason, data, at) VALUES (?, ?, ?, ?, ?, ?)", events
    )
    conn.execute(
        "INSERT INTO import_runs (store, import_id, mode, file_name, rows, summary, "
        "created_at) VALUES (?, ?, 'assign', ?, ?, '{}', ?)",
        (STORE, import_id, str(path), len(rows), at),
    )
    conn.execute("COMMIT")
    return time.perf_counter() - started


def import_check(work: Path, size: dict) -> dict:
    ours = _dump(work / "import-ours.db", IMPORT_TABLES)
    floor = _dump(work / "import-floor.db", IMPORT_TABLES)
    mismatched = [t for t in IMPORT_TABLES if ours[t] != floor[t]]
    if mismatched:
        for t in mismatched:
            for a, b in zip(ours[t], floor[t], strict=False):
                if a != b:
                    print(f"{t}: ours {a}\n{t}: floor {b}", file=sys.stderr)
                    break
        raise SystemExit(f"import: floor and engine wrote different rows in {mismatched}")
    return {"identical_tables": IMPORT_TABLES}


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
HOT_STOCK, HOT_THRESHOLD, WORKERS = 20, 10, 8


def race_run(work: Path, size: dict) -> dict:
    """8 processes place 1-unit orders round-robin on 10 hot SKUs (demand > salable qty)."""
    import uuid

    import sqlalchemy as sa

    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.models import BackorderPolicy, ItemInput, StoreSettings
    from backorder.storage import records
    from backorder.storage.db import Database
    from backorder.testing.race import race

    try:
        probe = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(sa.text("select 1"))
        probe.dispose()
    except Exception as exc:  # unreachable: the benchmark is skipped, and says why
        return {"skipped": f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"}
    store = StoreConfig(
        name=f"bench-race-{uuid.uuid4().hex[:8]}",
        settings=StoreSettings(defaults=BackorderPolicy(threshold=HOT_THRESHOLD)),
    )
    service = StoreService(Database(PG_URL), store)
    service.upsert_catalog([ItemInput(sku=sku, on_hand=HOT_STOCK) for sku in HOT_SKUS])
    result = race(
        PG_URL,
        store,
        HOT_SKUS,
        workers=WORKERS,
        orders_per_worker=size["race_orders"],
        qty=1,
        timeout=600,
    )
    salable = len(HOT_SKUS) * (HOT_STOCK + HOT_THRESHOLD)
    books_agree = True
    with service.db.read() as conn:
        for sku in HOT_SKUS:
            item = service.item(sku)
            books_agree &= records.ledger_balance(conn, store.name, sku) == item.on_hand
            books_agree &= item.on_hand >= -HOT_THRESHOLD
    mixed = _mixed_races(store, service)
    service.db.dispose()
    return {
        **mixed,
        "seconds": result.seconds,
        "orders": result.orders_placed,
        "accepted": result.orders_accepted,
        "orders_per_s": round(result.orders_placed / result.seconds, 1),
        "units_taken": result.units_taken,
        "salable": salable,
        "oversold": max(result.units_taken - salable, 0),
        "undersold": max(salable - result.units_taken, 0),
        "books_agree": books_agree,
        "workers_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
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
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
