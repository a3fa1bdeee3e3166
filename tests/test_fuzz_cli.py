"""Hypothesis over the CLI's arguments and input files: whatever a user types or feeds it,
no traceback, and a command that fails (exit status 2) leaves the store as it was (issue 17).

Each example runs one command in a fresh copy of a small store (three items, an order, a
receipt). Exit status 0 is success, 1 an order the rules refused (kept on purpose, so a
replay gives the same answer), 2 a user error: one line, nothing changed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from core_support import sqlite_rows
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from backorder.commands import main

SKUS = ["A", "B", "C"]


@pytest.fixture(autouse=True)
def only_core(monkeypatch):
    monkeypatch.setenv("BACKORDER_PLUGINS", "core")
    monkeypatch.delenv("BACKORDER_CONFIG", raising=False)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A store made through the CLI, copied for each example."""
    where = tmp_path_factory.mktemp("fuzz-store")
    old = os.getcwd()
    os.chdir(where)
    try:
        runner = CliRunner()
        (where / "items.csv").write_text(
            "Product ID,SKU,Name,Stock,Backorder Threshold\n"
            "1,A,Apple,3,2\n1,B,Bean,0,\n2,C,Corn,-1,5\n"
        )
        for args in (
            ["import", "items.csv", "--mode", "assign"],
            ["order", "1001", "A=2", "--email", "x@example.com"],
            ["receipt", "C", "PO-1", "--qty", "4", "--expected", "2026-12-24"],
        ):
            out = runner.invoke(main, args, catch_exceptions=False)
            assert out.exit_code == 0, out.output
    finally:
        os.chdir(old)
    return where


texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["", "-1", "0", "10000000000000000000000", "1e9", "unlimited", "2026-13-45",
         "2026-12-24", "2026-12-24T10:00:00+01:00", "A", "Z", "\x00", "=1+1", "a;b", " "]
    ),
    st.integers(-(10**25), 10**25).map(str),
)
skus = st.sampled_from(SKUS) | texts | st.just("S" * 300)  # longer than any platform allows
paths = st.sampled_from(["out.csv", "no/such/dir/out.csv", ".", "-", "items.csv"])
statuses = st.sampled_from(["backorder", "in_stock", "low_stock", "unavailable", "nope"])


@st.composite
def csv_files(draw) -> bytes:
    header = draw(
        st.lists(
            st.sampled_from(["SKU", "Name", "Stock", "Backorder Threshold", "Incoming Stock",
                             "Back in stock date", "Product ID", "Category", "Bogus"]),
            min_size=1, max_size=5,
        )
    )
    sep = draw(st.sampled_from([",", ",", ";"]))
    body = [sep.join(header)]
    for _ in range(draw(st.integers(0, 4))):
        cells = [draw(skus if h == "SKU" else texts).replace("\n", " ") for h in header]
        body.append(sep.join(f'"{c}"' if draw(st.booleans()) else c for c in cells))
    data = "\n".join(body).encode("utf-8", "surrogatepass")
    return data if draw(st.integers(0, 9)) else data[:-1] + b"\xe9\xff"


def option(name, values):
    return st.one_of(st.just([]), values.map(lambda v: [name, v]))


commands = st.one_of(
    st.tuples(st.just(["order"]), texts.map(lambda t: [t]),
              st.lists(st.tuples(skus, texts).map(lambda p: f"{p[0]}={p[1]}"), min_size=1,
                       max_size=3)),
    st.tuples(st.just(["edit"]), skus.map(lambda s: [s]), option("--stock", texts),
              option("--threshold", texts), option("--incoming", texts),
              option("--back-in-stock", texts)),
    st.tuples(st.just(["assign"]), skus.map(lambda s: [s]), option("--threshold", texts)),
    st.tuples(st.just(["receipt"]), skus.map(lambda s: [s]), texts.map(lambda t: [t or "R"]),
              option("--qty", texts), option("--expected", texts)),
    st.tuples(st.just(["storefront"]), skus.map(lambda s: [s]), option("--qty", texts)),
    st.tuples(st.just(["status"]), option("--limit", texts), option("--offset", texts),
              option("--status", statuses), option("--search", texts)),
    st.tuples(st.just(["report"]), option("--from", texts), option("--to", texts),
              option("--csv", paths)),
    st.tuples(st.sampled_from([["enable"], ["disable"], ["unassign"], ["fulfil-queue"]]),
              skus.map(lambda s: [s])),
    st.tuples(st.just(["tick"]), option("--now", texts)),
    st.tuples(st.sampled_from([["cancel"], ["ship"]]), st.just(["1001"]),
              st.lists(st.tuples(skus, texts).map(lambda p: f"{p[0]}={p[1]}"), max_size=2)),
    st.tuples(st.just(["export"]), paths.map(lambda p: [p]),
              option("--dialect", st.sampled_from(["backorder", "nope"]))),
    st.tuples(st.just(["import", "in.csv", "--mode"]),
              st.sampled_from([["assign"], ["update"], ["nope"]]),
              option("--changes", paths), option("--columns", texts)),
    st.tuples(st.just(["--db"]), texts.map(lambda t: [t]), st.just(["status"])),
).map(lambda parts: [arg for part in parts for arg in part])


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(args=commands, csv_data=csv_files())
def test_any_command_line_gives_an_answer_and_a_failure_changes_nothing(
    template, monkeypatch, args, csv_data
):
    work = Path(tempfile.mkdtemp(prefix="fuzz-cli-"))
    try:
        for item in template.iterdir():
            shutil.copy(item, work / item.name)
        (work / "in.csv").write_bytes(csv_data)
        monkeypatch.chdir(work)
        before = sqlite_rows(work / "backorder.db")
        result = CliRunner().invoke(main, args)
        event(f"{args[0]} exit {result.exit_code}")
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args, result.output, repr(result.exception)
        )
        assert "Traceback" not in result.output, (args, result.output)
        assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
        if result.exit_code == 2:
            assert sqlite_rows(work / "backorder.db") == before, (args, result.output)
            assert "error" in result.output.lower() or "usage" in result.output.lower(), (
                args, result.output
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
