"""Issue 8, benchmark 3: an update import of a big CSV against raw ``csv`` + ``executemany``.

``python bench/bench_import.py [--rows N]`` (default 1,000,000) builds a store of N
assigned items (SQLite, not timed) and a CSV updating all of them (``SKU, Stock, Incoming
Stock, Back in stock date``: new stock for 90% of the rows, some crossing the switch
condition either way, so both backorder switches fire). Then, each in its own process:

- ours: ``backorder.imports.import_csv(service, path, mode="update")``;
- floor: ``csv`` + ``sqlite3`` issuing the same writes in one transaction: it reads the
  file, looks the SKUs up in IN lists of 900, computes the same switches (inline, for
  this data), and ``executemany`` s the same ``UPDATE items`` rows, ``INSERT movements``
  and ``INSERT events`` (same tables, same indexes), plus the ``import_runs`` row.

Both databases are then compared table by table (they must be identical). Printed:
both times, the ratio (target <= 1.5), each process's peak RSS (``ru_maxrss``) and a
JSON line (``RESULT {...}``) with the figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
STORE = "bench"
AT = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
THRESHOLD = 5
TARGET = 1.5
TABLES = ["items", "movements", "events", "import_runs"]
COMPARED = {  # import_runs.summary is ours alone (the floor writes '{}')
    "items": "*",
    "movements": "*",
    "events": "*",
    "import_runs": "store, import_id, mode, file_name, rows, created_at",
}


def _stamp(value: dt.datetime) -> str:
    """A datetime as SQLAlchemy's SQLite dialect stores it (UTC, no offset)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _raw(path: Path) -> sqlite3.Connection:
    """A raw connection set up as backorder's (WAL, synchronous=NORMAL, explicit BEGIN)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _state(on_hand: int) -> str:
    return "enabled" if on_hand <= 0 else "idle"


# ----------------------------------------------------------------------------- prepare
def prepare(work: Path, rows: int) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from backorder.storage.db import Database

    Database(f"sqlite:///{work / 'base.db'}").dispose()
    rng = random.Random(8)
    conn = _raw(work / "base.db")
    conn.execute("BEGIN")
    stamp = _stamp(AT - dt.timedelta(days=1))
    old = [rng.randint(-3, 50) for _ in range(rows)]
    conn.executemany(
        "INSERT INTO items (store, sku, product_id, variant_id, name, assigned, tracked, "
        "on_hand, incoming_qty, back_in_stock_date, state, disabled_reason, "
        "purchasing_disabled, overrides, category, brand, version, updated_at) "
        "VALUES (?, ?, ?, NULL, ?, 1, 1, ?, 0, NULL, ?, NULL, 0, '{}', NULL, NULL, 0, ?)",
        (
            (STORE, f"SKU-{i:07d}", f"P{i}", f"Item {i}", q, _state(q), stamp)
            for i, q in enumerate(old)
        ),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for name in ("ours.db", "floor.db"):
        shutil.copyfile(work / "base.db", work / name)
    dates = [f"{d:02d}/12/2026" for d in range(1, 29)] + ["2027-01-15", "2027-02-01T08:00"]
    order = list(range(rows))
    rng.shuffle(order)  # a file is rarely in the store's order
    with open(work / "import.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["SKU", "Stock", "Incoming Stock", "Back in stock date"])
        for i in order:
            stock = old[i] if rng.random() < 0.1 else rng.randint(-3, 50)
            date = rng.choice(dates) if rng.random() < 0.7 else ""
            writer.writerow([f"SKU-{i:07d}", stock, rng.randint(0, 20) if date else "", date])
    return {"rows": rows, "bytes": (work / "import.csv").stat().st_size}


# --------------------------------------------------------------------------- measured
def ours(work: Path) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from backorder import imports
    from backorder.config import StoreConfig
    from backorder.engine import StoreService
    from backorder.models import BackorderPolicy, StoreSettings
    from backorder.storage.db import Database

    settings = StoreSettings(defaults=BackorderPolicy(threshold=THRESHOLD))
    service = StoreService(
        Database(f"sqlite:///{work / 'ours.db'}"),
        StoreConfig(name=STORE, settings=settings),
        clock=lambda: AT,
    )
    started = time.perf_counter()
    report = imports.import_csv(service, work / "import.csv", mode="update")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "updated": report.updated, "events": report.events}


def floor(work: Path) -> dict:
    """csv + executemany: the same reads and writes, nothing else."""
    path = work / "import.csv"
    conn = _raw(work / "floor.db")
    at = _stamp(AT)
    started = time.perf_counter()
    data = path.read_bytes()
    import_id = hashlib.sha256(
        b"update|back_in_stock_date,incoming_qty,on_hand|" + data
    ).hexdigest()[:24]
    del data
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "SELECT created_at FROM import_runs WHERE store = ? AND import_id = ?", (STORE, import_id)
    ).fetchone()
    dates: dict[str, str | None] = {"": None}
    with open(path, newline="", encoding="utf-8") as text:
        reader = csv.reader(text)
        next(reader)
        rows = [(line_no, *cells) for line_no, cells in enumerate(reader, start=2)]
    for start in range(0, len(rows), 50_000):
        chunk = rows[start : start + 50_000]
        current: dict[str, tuple] = {}
        for i in range(0, len(chunk), 900):
            skus = [r[1] for r in chunk[i : i + 900]]
            for row in conn.execute(
                "SELECT id, version, sku, on_hand, incoming_qty, back_in_stock_date, state "
                f"FROM items WHERE store = ? AND sku IN ({', '.join('?' * len(skus))})",
                (STORE, *skus),
            ):
                current[row[2]] = row
        updates, moves, events = [], [], []
        for line_no, sku, stock, incoming, date in chunk:
            row_id, version, sku, on_hand, was_incoming, was_date, state = current[sku]
            new = int(stock)
            new_incoming = int(incoming) if incoming else 0
            stored = dates.get(date, "?")
            if stored == "?":
                if "/" in date:
                    parsed = dt.datetime.strptime(date, "%d/%m/%Y").replace(tzinfo=dt.UTC)
                else:
                    parsed = dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC)
                stored = dates[date] = _stamp(parsed)
            new_state = _state(new)
            if new_state != state:
                events.append(
                    (STORE, "backorder_enabled", sku, None, "{}", at)
                    if new_state == "enabled"
                    else (STORE, "backorder_disabled", sku, "stock_recovered", "{}", at)
                )
            if new != on_hand:
                moves.append(
                    (
                        STORE,
                        sku,
                        new - on_hand,
                        new,
                        "import",
                        f"import {path} row {line_no}",
                        f"import:{import_id}:{sku}",
                        at,
                    )
                )
            if (new, new_incoming, stored, new_state) != (on_hand, was_incoming, was_date, state):
                updates.append((new_state, None, new, new_incoming, stored, at, row_id, version))
        conn.executemany(
            "UPDATE items SET state = ?, disabled_reason = ?, on_hand = ?, incoming_qty = ?, "
            "back_in_stock_date = ?, updated_at = ?, version = version + 1 "
            "WHERE id = ? AND version = ?",
            updates,
        )
        conn.executemany(
            "INSERT INTO movements (store, sku, delta, on_hand_after, kind, source, "
            "idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            moves,
        )
        conn.executemany(
            "INSERT INTO events (store, type, sku, reason, data, at) VALUES (?, ?, ?, ?, ?, ?)",
            events,
        )
    conn.execute(
        "INSERT INTO import_runs (store, import_id, mode, file_name, rows, summary, created_at) "
        "VALUES (?, ?, 'update', ?, ?, '{}', ?)",
        (STORE, import_id, str(path), len(rows), at),
    )
    conn.execute("COMMIT")
    return {"seconds": time.perf_counter() - started}


def compare(work: Path) -> list[str]:
    """Tables where the two databases differ (empty: identical)."""
    conn = sqlite3.connect(work / "ours.db")
    conn.execute(f"ATTACH '{work / 'floor.db'}' AS floor")
    differing = []
    for table, cols in COMPARED.items():
        for a, b in (("main", "floor"), ("floor", "main")):
            query = f"SELECT count(*) FROM (SELECT {cols} FROM {a}.{table} EXCEPT SELECT {cols} FROM {b}.{table})"  # noqa: E501
            if conn.execute(query).fetchone()[0]:
                differing.append(table)
                break
    conn.close()
    return differing


# ------------------------------------------------------------------------------- driver
def step(name: str, work: Path) -> dict:
    """Run one measured step in its own process; its result with its peak RSS in MB."""
    cmd = [sys.executable, str(HERE), "--step", name, "--work", str(work)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("STEP "):
            return json.loads(line[5:])
    raise SystemExit(f"{name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--step", choices=["ours", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        result = (ours if args.step == "ours" else floor)(args.work)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("STEP " + json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        work = Path(tmp)
        print(f"import benchmark: {args.rows:,} rows (update import; preparing...)", flush=True)
        info = prepare(work, args.rows)
        floor_result = step("floor", work)
        ours_result = step("ours", work)
        differing = compare(work)
    ratio = ours_result["seconds"] / floor_result["seconds"]
    print(
        f"  import (backorder.imports)   {ours_result['seconds']:8.2f} s  "
        f"peak {ours_result['peak_rss_mb']:7.0f} MB\n"
        f"  floor (csv + executemany)    {floor_result['seconds']:8.2f} s  "
        f"peak {floor_result['peak_rss_mb']:7.0f} MB\n"
        f"  ratio {ratio:.2f}x (target <= {TARGET}x): "
        f"{'meets target' if ratio <= TARGET else 'MISSES target'}; "
        f"databases {'identical' if not differing else 'DIFFER in ' + ', '.join(differing)}"
    )
    print(
        "RESULT "
        + json.dumps(
            {
                "bench": "import",
                "rows": args.rows,
                "csv_bytes": info["bytes"],
                "seconds": round(ours_result["seconds"], 3),
                "floor_seconds": round(floor_result["seconds"], 3),
                "ratio": round(ratio, 2),
                "target": TARGET,
                "peak_rss_mb": round(ours_result["peak_rss_mb"], 1),
                "floor_peak_rss_mb": round(floor_result["peak_rss_mb"], 1),
                "events": ours_result["events"],
                "identical": not differing,
            }
        )
    )
    if differing:
        sys.exit(1)


if __name__ == "__main__":
    main()
