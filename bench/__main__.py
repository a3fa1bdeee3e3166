"""Run every benchmark: ``.venv/bin/python -m bench [--quick] [--only NAME ...]``.

Each figure is printed next to a floor measured in the same run (raw driver, same rows),
with the ratio, the target and the peak memory (``ru_maxrss`` of the process that did
the work: every step runs in its own process). Results go to ``bench/results.json``.
The benchmarks of other areas (``bench/bench_*.py`` scripts such as documents) are run
as they are and their output is passed through.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORE = ["orders", "bcorders", "tick", "import", "pgorders", "race"]
PG = {"pgorders", "race", "scaleout"}
"""The steps that need PostgreSQL (``--skip-pg`` leaves them out)."""
STEP_TIMEOUT = 900
QUICK_ARGS = {"bench_scaleout": ["--quick"], "bench_documents": ["--quick"]}
"""Scaled-down arguments of other areas' scripts under ``--quick``."""


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        import sqlalchemy as sa

        from bench.bench_core import PG_URL

        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            info["postgresql"] = conn.execute(sa.text("show server_version")).scalar_one()
        engine.dispose()
    except Exception as exc:  # no server: say so in the results
        info["postgresql"] = f"unreachable ({type(exc).__name__})"
    return info


def step(bench: str, name: str, work: Path, quick: bool) -> dict:
    """One step in its own process; returns its RESULT line (seconds, peak_rss_mb, ...)."""
    cmd = [sys.executable, "-m", "bench.bench_core", bench, name, str(work)]
    cmd += ["--quick"] if quick else []
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{bench} {name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
"""Runs of each short step (orders, tick); the fastest counts (see :func:`best_of`)."""


def best_of(bench: str, name: str, work: Path, quick: bool, db: str) -> dict:
    """The fastest of :data:`REPEATS` runs of a step, each on a fresh copy of the prepared
    database ``{bench}.db`` (the step's own file is ``{db}``). The machine's noise only
    ever adds time, and these steps take seconds, so one run can be off by 15 %; ours
    and the floor get the same treatment."""
    runs = []
    for _ in range(REPEATS):
        for leftover in (f"{db}-wal", f"{db}-shm"):  # a stale WAL would replay onto the copy
            (work / leftover).unlink(missing_ok=True)
        shutil.copyfile(work / f"{bench}.db", work / db)
        runs.append(step(bench, name, work, quick))
    best = min(runs, key=lambda run: run["seconds"])
    return {**best, "runs": [round(run["seconds"], 3) for run in runs]}


def figure(
    label: str, ours: dict, floor: dict, target: float | None, memory: float | None = None
) -> dict:
    """Our time against the floor's; ``target`` caps the time ratio, ``memory`` the ratio of
    peak memory. A figure that misses either is reported as a miss (``python -m bench``
    then exits 1, unless ``--quick``)."""
    ratio = ours["seconds"] / floor["seconds"]
    # memory: what the measured work added at its peak (the modules a process loads are
    # not per-order memory), with the whole peaks shown beside it
    ours_mb = ours.get("work_mb", ours["peak_rss_mb"])
    mem_ratio = ours_mb / floor.get("work_mb", floor["peak_rss_mb"])
    missed = []
    if target is not None and ratio > target:
        missed.append(f"time {ratio:.2f}x > {target}x")
    if memory is not None and mem_ratio > memory:
        missed.append(f"memory {mem_ratio:.2f}x > {memory}x")
    verdict = "" if target is None and memory is None else (
        f"  MISSES target ({'; '.join(missed)})" if missed else "  meets target"
    )
    cpu = (ours.get("cpu_seconds"), floor.get("cpu_seconds"))
    cpu_ratio = cpu[0] / cpu[1] if cpu[0] and cpu[1] else None
    print(
        f"  {label:<44} {ours['seconds']:8.2f} s vs floor {floor['seconds']:7.2f} s"
        f"  = {ratio:5.2f}x (target {f'<= {target}x' if target else '-'})"
        + (f"; CPU {cpu[0]:.2f} vs {cpu[1]:.2f} s = {cpu_ratio:.2f}x" if cpu_ratio else "")
        + f"  work {ours.get('work_mb', 0):.0f} MB vs {floor.get('work_mb', 0):.0f} MB"
        f"{f' (target <= {memory}x)' if memory else ''}"
        f" [peak {ours['peak_rss_mb']:.0f} vs {floor['peak_rss_mb']:.0f}]{verdict}"
    )
    return {
        "label": label,
        "seconds": round(ours["seconds"], 3),
        "floor_seconds": round(floor["seconds"], 3),
        "ratio": round(ratio, 2),
        "target": target,
        "cpu_seconds": cpu[0],
        "floor_cpu_seconds": cpu[1],
        "cpu_ratio": round(cpu_ratio, 2) if cpu_ratio else None,
        "peak_rss_mb": ours["peak_rss_mb"],
        "floor_peak_rss_mb": floor["peak_rss_mb"],
        "work_mb": ours.get("work_mb"),
        "floor_work_mb": floor.get("work_mb"),
        "memory_ratio": round(mem_ratio, 2),
        "memory_target": memory,
        "missed": missed,
    }


def plugins_line(result: dict) -> None:
    """Which plugins the engine's service loaded (it is built as the CLI builds it)."""
    if result.get("plugins"):
        print(f"  plugins loaded: {', '.join(result['plugins'])}")


def run_orders(work: Path, quick: bool) -> dict:
    setup = step("orders", "prepare", work, quick)
    print(f"orders: {setup['lines']:,} lines in {setup['orders']:,} orders, SQLite")
    s = {
        name: best_of("orders", name, work, quick, f"orders-{name}.db")
        for name in ("ours", "floor", "ours_batch", "floor_batch")
    }
    s["check"] = step("orders", "check", work, quick)
    plugins_line(s["ours"])
    check = s["check"]
    print(
        f"  all six tables identical, storefront read model included (engine vs floor); "
        f"{check['backordered_fraction']:.0%} of lines backordered, "
        f"{check['refused_fraction']:.0%} of orders refused (threshold)"
    )
    return {
        **setup,
        "plugins": s["ours"].get("plugins"),
        "backordered_fraction": check["backordered_fraction"],
        "refused_fraction": check["refused_fraction"],
        "figures": [
            figure("place_order, 1 transaction per order", s["ours"], s["floor"], 1.3),
            figure(
                "place_orders, 1 transaction for all", s["ours_batch"], s["floor_batch"], 1.5,
                memory=2.0,
            ),
        ],
    }


def run_tick(work: Path, quick: bool) -> dict:
    setup = step("tick", "prepare", work, quick)
    print(f"tick: {setup['items']:,} items, {setup['due_fraction']:.0%} due, SQLite")
    s = {
        name: best_of("tick", name, work, quick, f"tick-{name}.db")
        for name in ("ours", "floor", "same")
    }
    # the per-item path (the reference the set-based one is tested against) takes minutes
    # at full size: it is measured in --quick runs only
    s |= {name: step("tick", name, work, quick) for name in (["items"] if quick else [])}
    if "items" not in s:  # its copy was not ticked: nothing to compare
        (work / "tick-items.db").unlink()
    s["check"] = step("tick", "check", work, quick)
    plugins_line(s["ours"])
    compared = "set-based, per-item and raw" if "items" in s else "set-based and raw"
    print(f"  {s['check']['received']:,} receipts; {compared} tables identical")
    return {
        **setup,
        "received": s["check"]["received"],
        "figures": [
            figure("tick (set-based) vs its statements raw", s["ours"], s["same"], 1.5),
            figure("tick (set-based) vs one raw UPDATE", s["ours"], s["floor"], None),
            *(
                [figure("tick per item (before) vs one raw UPDATE", s["items"], s["floor"], None)]
                if "items" in s
                else []
            ),
        ],
    }


def run_import(work: Path, quick: bool) -> dict:
    from bench.bench_core import _import_ready

    if reason := _import_ready():
        print(f"import: skipped: {reason}")
        return {"skipped": reason}
    setup = step("import", "prepare", work, quick)
    print(f"import: a {setup['rows']:,}-row CSV ({setup['bytes'] / 1e6:.0f} MB), assign mode")
    s = {name: step("import", name, work, quick) for name in ("ours", "floor", "check")}
    plugins_line(s["ours"])
    print("  items, movements, events and read model identical (engine vs floor)")
    assign = figure("import_csv, assign vs csv + executemany", s["ours"], s["floor"], 1.3)
    update_setup = step("import", "update_prepare", work, quick)
    print(f"  then a {update_setup['rows']:,}-row CSV updating as many items (stock, incoming, "
          "date; random order), update mode")
    u = {name: step("import", f"update_{name}", work, quick) for name in ("ours", "floor", "check")}
    print("  items, movements, events and read model identical (engine vs floor)")
    update = figure("import_csv, update vs csv + executemany", u["ours"], u["floor"], 1.3)
    return {**setup, "update_rows": update_setup["rows"], "figures": [assign, update]}


def run_bcorders(work: Path, quick: bool) -> dict:
    r = step("bcorders", "run", work, quick)
    print(f"bcorders: {r['orders']:,} orders on a BigCommerce store (app mode, in-process sandbox)")
    plugins_line(r)
    ratio = r["seconds"] / r["floor_seconds"]
    print(
        f"  place_order with pushes through the outbox   {r['seconds']:8.2f} s vs raw core floor "
        f"{r['floor_seconds']:7.2f} s = {ratio:5.2f}x (no target: each order's push is read,"
        f" sent and finished after its commit); {r['pushes']:,} pushes, "
        f"{r['pushes_pending']} left pending, {r['api_calls']:,} API calls"
    )
    return {**r, "ratio": round(ratio, 2)}


def run_pgorders(work: Path, quick: bool) -> dict:
    setup = step("pgorders", "prepare", work, quick)
    print(f"pgorders: {setup['lines']:,} lines in {setup['orders']:,} orders, PostgreSQL, "
          "one process")
    runs: dict[str, list[dict]] = {"ours": [], "floor": []}
    for run in range(setup["runs"]):  # alternated: both meet the machine's same moments
        os.environ["BENCH_PG_RUN"] = str(run)
        for name in ("ours", "floor"):
            runs[name].append(step("pgorders", name, work, quick))
    os.environ.pop("BENCH_PG_RUN", None)
    s = {name: min(found, key=lambda r: r["seconds"]) for name, found in runs.items()}
    s["check"] = step("pgorders", "check", work, quick)
    plugins_line(s["ours"])
    print(f"  {', '.join(s['check']['identical_tables'])} identical (engine vs floor); "
          f"{s['check']['refused_fraction']:.0%} of orders refused")
    ours, floor = s["ours"], s["floor"]
    rate, floor_rate = setup["orders"] / ours["seconds"], setup["orders"] / floor["seconds"]
    ratio = rate / floor_rate
    missed = [] if ratio >= 0.8 else [f"time {ratio:.2f}x < 0.8x of the floor's orders/s"]
    print(
        f"  place_order: {rate:,.0f} orders/s vs raw psycopg {floor_rate:,.0f} orders/s"
        f" = {ratio:.2f}x (target >= 0.8x; best of {setup['runs']} alternated runs each)"
        + ("  MISSES target" if missed else "  meets target")
    )
    print("  runs (s): ours " + ", ".join(f"{r['seconds']:.2f}" for r in runs["ours"])
          + "; floor " + ", ".join(f"{r['seconds']:.2f}" for r in runs["floor"]))
    return {
        **setup,
        "orders_per_s": round(rate, 1),
        "floor_orders_per_s": round(floor_rate, 1),
        "runs_seconds": {k: [round(r["seconds"], 3) for r in v] for k, v in runs.items()},
        "ratio": round(ratio, 2),
        "target": 0.8,
        "missed": missed,
    }


def run_race(work: Path, quick: bool) -> dict:
    r = step("race", "run", work, quick)
    floor = step("race", "floor", work, quick)
    plugins_line(r)
    print(
        f"race: 8 processes, 10 hot SKUs, PostgreSQL: {r['orders']:,} orders in "
        f"{r['seconds']:.1f} s = {r['orders_per_s']} orders/s after warm-up (target >= "
        f"{r['target_orders_per_s']}){'  MISSES target' if r['missed'] else '  meets target'}; "
        f"oversold {r['oversold']} (must be 0), undersold {r['undersold']}, "
        f"ledger == on hand: {r['books_agree']}; peak {r['workers_peak_rss_mb']:.0f} MB "
        f"per worker; {r['cpu_us_per_order']} µs CPU per order in the workers"
    )
    print(
        f"  raw psycopg floor, same 8 processes and statements on this machine: "
        f"{floor['orders_per_s']} orders/s, {floor['cpu_us_per_order']} µs CPU per order, "
        f"{floor['retries']} lost races retried, oversold {floor['oversold']}"
    )
    if floor["oversold"]:
        r["missed"] = [*r["missed"], f"race floor oversold {floor['oversold']}"]
    print(
        f"  same order ids: {r['same_ids_callers']} callers, {r['same_ids_first_answers']} "
        f"placements of 20 ids (must be 20), 0 errors, {r['same_ids_seconds']:.1f} s; "
        f"{r['batches']} batches on overlapping SKUs: 0 errors, {r['batches_seconds']:.1f} s"
    )
    return {**r, "floor": floor}


def run_script(path: Path, quick: bool) -> dict:
    env, args = dict(os.environ), []
    if quick:  # each script's own way of scaling down
        env.setdefault("BENCH_DOCUMENTS_ORDERS", "200")
        args = QUICK_ARGS.get(path.stem, [])
    print(f"{path.stem}: (its own script)")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(path), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
    )
    out = (proc.stdout + proc.stderr).strip()
    for line in out.splitlines()[-12:]:
        print(f"  {line}")
    return {
        "exit_code": proc.returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "output": out[-4000:],
    }


def growth(sizes: list[int]) -> dict:
    """The README's growth table: ``place_order``, ``place_orders`` and the CSV import at
    each size (order lines, import rows), time and memory per unit, each step in its own
    process on a fresh database."""
    rows = []
    print(f"{'size':>9} | {'place_order':>16} | {'place_orders':>16} | {'MB/1k':>6} | "
          f"{'import':>14} | {'MB/1k':>6}")
    for n in sizes:
        os.environ["BENCH_LINES"] = str(n)
        with tempfile.TemporaryDirectory(prefix="backorder-growth-") as tmp:
            work = Path(tmp)
            step("orders", "prepare", work, False)
            one = step("orders", "ours", work, False)
            many = step("orders", "ours_batch", work, False)
            step("import", "prepare", work, False)
            imp = step("import", "ours", work, False)
        row = {
            "size": n,
            "place_order_us": round(one["seconds"] / n * 1e6, 1),
            "place_orders_us": round(many["seconds"] / n * 1e6, 1),
            "place_orders_work_mb": many.get("work_mb"),
            "import_us": round(imp["seconds"] / n * 1e6, 1),
            "import_work_mb": imp.get("work_mb"),
        }
        rows.append(row)
        print(
            f"{n:>9,} | {row['place_order_us']:>11.0f} us/l | {row['place_orders_us']:>11.0f} us/l"
            f" | {1000 * many.get('work_mb', 0) / n:>6.2f} | {row['import_us']:>9.0f} us/r"
            f" | {1000 * imp.get('work_mb', 0) / n:>6.2f}",
            flush=True,
        )
    del os.environ["BENCH_LINES"]
    return {"growth": rows, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a scaled-down run (about 1/10)")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only these (orders, bcorders, tick, import, pgorders, race, "
        "or a bench_*.py name)",
    )
    parser.add_argument(
        "--json", help="where to write (default bench/results.json; bench/growth.json for --growth)"
    )
    parser.add_argument(
        "--skip-pg",
        action="store_true",
        help="leave out the PostgreSQL steps (without it, no PostgreSQL is a failure)",
    )
    parser.add_argument(
        "--growth",
        metavar="SIZES",
        help="only the growth table, at these comma-separated sizes (e.g. 1000,10000,100000)",
    )
    args = parser.parse_args()
    if args.growth:
        info = machine()
        print(f"machine: {info['nproc']} x {info['cpu']}; load average {info['load_average']}")
        table = growth([int(n) for n in args.growth.split(",")])
        out = Path(args.json or HERE / "growth.json")  # the full run's results stay
        out.write_text(json.dumps({"machine": info, **table}, indent=2) + "\n")
        return 0
    scripts = {}
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if path.stem != "bench_core":
            scripts[f"{name}_script" if name in CORE else name] = path
    names = list(dict.fromkeys(args.only or CORE + list(scripts)))
    unknown = [n for n in names if n not in CORE and n not in scripts]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {CORE + list(scripts)}")
    info = machine()
    print(
        f"machine: {info['nproc']} x {info['cpu']}; Python {info['python']}; "
        f"SQLite {info['sqlite']}; PostgreSQL {info['postgresql']}; "
        f"load average {' '.join(map(str, info['load_average']))}"
    )
    results: dict = {"machine": info, "quick": args.quick, "benchmarks": {}}
    if args.skip_pg:
        names = [n for n in names if n not in PG]
    failed, missed = [], []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="backorder-bench-") as tmp:
        for name in names:
            work = Path(tmp) / name
            work.mkdir()
            try:
                if name in CORE:
                    result = globals()[f"run_{name}"](work, args.quick)
                else:
                    result = run_script(scripts[name], args.quick)
                    if result["exit_code"]:
                        failed.append(name)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"{name}: FAILED: {exc}")
                result, failed = {"error": str(exc)[-2000:]}, [*failed, name]
            if result.get("oversold") or result.get("books_agree") is False:
                failed.append(name)
            if "skipped" in result:  # a step that cannot run is a failure, not a pass
                failed.append(name)
            missed += [f"{name}: {f['label']}" for f in result.get("figures", []) if f["missed"]]
            missed += [f"{name}: {m}" for m in result.get("missed", [])]
            results["benchmarks"][name] = result
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["failed"], results["missed"] = failed, missed
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out = Path(args.json or HERE / "results.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"done in {results['seconds']:.0f} s; results in {out}"
        + (f"; FAILED: {failed}" if failed else "")
        + (f"; targets missed: {missed}" if missed else "" if failed else "; every target met")
    )
    if args.quick:  # a scaled-down run prints; it does not judge
        return 1 if failed else 0
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
