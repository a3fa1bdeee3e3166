"""The fast import path gives exactly what the rules give item by item (hypothesis).

Reference: the same rows applied one by one through ``StoreService.edit`` (update
imports) or ``StoreService.assign`` (assign imports); compared: every item's state,
ledger balances and the events by type. The fast cell reader is compared with the
pydantic row model, errors included.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorder import imports, rules
from backorder.config import StoreConfig
from backorder.engine import ItemEdit, StoreService
from backorder.models import BackorderPolicy, ItemInput, StoreSettings
from backorder.storage import records
from backorder.storage.db import Database
from backorder.storage.schema import items, movements, storefront_items

AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
DATES = ["", "01/12/2026", "2026-12-24T10:00+01:00", "2027-01-05"]
HEADER = [
    "Product ID",
    "SKU",
    "Stock",
    "Backorder Threshold",
    "Incoming Stock",
    "Back in stock date",
]

store_settings = st.builds(
    lambda cond, thr, mode: StoreSettings(
        switch_condition=cond, defaults=BackorderPolicy(threshold=thr, mode=mode)
    ),
    st.integers(0, 2),
    st.sampled_from([None, 0, 3]),
    st.sampled_from(["notify", "notify", "off"]),
)
cells = st.tuples(
    st.one_of(st.just(""), st.integers(-8, 8).map(str)),  # stock
    st.sampled_from(["", "0", "2", "5", "unlimited"]),  # threshold
    st.one_of(st.just(""), st.integers(0, 5).map(str)),  # incoming
    st.sampled_from(DATES),
)
starts = st.tuples(
    st.integers(-6, 6),  # on hand
    st.sampled_from([None, 1, 4, "unlimited"]),  # threshold override
    st.sampled_from(["as is", "as is", "disable", "enable"]),
)


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def _edit(cells_: tuple[str, str, str, str], tz) -> dict:
    stock, threshold, incoming, date = cells_
    edit: dict = {"incoming_qty": int(incoming or 0)}
    edit["back_in_stock_date"] = imports.parse_date(date, tz) if date else None
    if stock:
        edit["on_hand"] = int(stock)
    if threshold == "unlimited":
        edit["threshold"] = None
    elif threshold:
        edit["threshold"] = int(threshold)
    else:
        edit["use_default"] = ["threshold"]
    return edit


def _state(svc: StoreService) -> tuple[dict, dict, Counter]:
    with svc.db.transaction() as conn:
        loaded = records.load_items(conn, svc.name)
        balances = dict(
            conn.execute(
                sa.select(movements.c.sku, sa.func.sum(movements.c.delta)).group_by(movements.c.sku)
            ).all()
        )
    states = {sku: entry.item.model_dump() for sku, entry in loaded.items()}
    for sku, entry in loaded.items():  # the books balance on both sides
        assert balances.get(sku, 0) == entry.item.on_hand, sku
    return states, balances, Counter(e.type.value for e in svc.drain_events())


def _two_stores(tmp: str, store_settings_: StoreSettings) -> list[StoreService]:
    config = StoreConfig(name="fast", settings=store_settings_)
    return [
        StoreService(Database(f"sqlite:///{tmp}/{side}.db"), config, clock=lambda: AT)
        for side in ("fast", "reference")
    ]


def _read_model_is_current(svc: StoreService) -> None:
    """Every item's storefront read model row is its view as the rules give it now."""
    with svc.db.read() as conn:
        rows = conn.execute(sa.select(storefront_items.c.sku, storefront_items.c.view)).all()
        stored = {sku: view for sku, view in rows}
        loaded = records.load_items(conn, svc.name)
    assert stored == {  # (SQLite hands JSON back parsed)
        sku: json.loads(rules.view(entry.item, svc.settings).model_dump_json())
        for sku, entry in loaded.items()
    }


def _snapshot(db: Database) -> list:
    with db.transaction() as conn:
        return [
            conn.execute(sa.select(items).order_by(items.c.id)).all(),
            conn.execute(sa.select(movements).order_by(movements.c.id)).all(),
        ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    store_settings,
    st.lists(starts, min_size=1, max_size=6),
    st.data(),
)
def test_update_import_equals_editing_item_by_item(store_settings_, start, data):
    rows_cells = data.draw(st.lists(cells, min_size=len(start), max_size=len(start)))
    chosen = data.draw(st.lists(st.booleans(), min_size=len(start), max_size=len(start)))
    with tempfile.TemporaryDirectory() as tmp:
        fast, reference = _two_stores(tmp, store_settings_)
        tz = dt.UTC
        for svc in (fast, reference):
            svc.upsert_catalog(
                [
                    ItemInput(sku=f"S{i}", product_id=f"P{i}", name=f"Item \"{i}\"", on_hand=q,
                              assigned=False)
                    for i, (q, _, _) in enumerate(start)
                ]
            )
            svc.assign(
                [
                    ItemInput(sku=f"S{i}", threshold=None if t == "unlimited" else t)
                    if t is not None
                    else f"S{i}"
                    for i, (_, t, _) in enumerate(start)
                ]
            )
            for i, (_, _, how) in enumerate(start):
                if how == "disable":
                    svc.disable([f"S{i}"])
                elif how == "enable":
                    svc.enable([f"S{i}"])
            svc.drain_events()
        picked = [i for i, keep in enumerate(chosen) if keep] or [0]
        data_csv = _csv([[f"P{i}", f"S{i}", *rows_cells[i]] for i in picked])

        report = imports.import_csv(fast, data_csv, mode="update", name="u.csv")
        for i in picked:
            reference.edit(f"S{i}", ItemEdit(**_edit(rows_cells[i], tz)), at=AT)

        ours, theirs = _state(fast), _state(reference)
        assert ours[0] == theirs[0]  # every item, every field
        assert ours[1] == theirs[1]  # ledger balances
        assert ours[2] == theirs[2]  # events by type
        assert dict(ours[2]) == report.events
        assert report.updated == len(report.changes) <= len(picked)
        _read_model_is_current(fast)  # its rows written by the import itself (SQLite)

        before = _snapshot(fast.db)  # the same file again changes nothing
        again = imports.import_csv(fast, data_csv, mode="update", name="u.csv")
        assert again.already_imported and _snapshot(fast.db) == before
        for db in (fast.db, reference.db):
            db.dispose()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    store_settings,
    st.lists(st.tuples(st.integers(-4, 4), st.integers(1, 2)), min_size=1, max_size=4),
    st.data(),
)
def test_assign_import_equals_assigning_item_by_item(store_settings_, products, data):
    rows_cells = data.draw(st.lists(cells, min_size=len(products), max_size=len(products)))
    with tempfile.TemporaryDirectory() as tmp:
        fast, reference = _two_stores(tmp, store_settings_)
        catalog = [
            ItemInput(sku=f"P{p}-{v}", product_id=f"P{p}", on_hand=q + v, assigned=False)
            for p, (q, variants) in enumerate(products)
            for v in range(variants)
        ]
        for svc in (fast, reference):
            svc.upsert_catalog(catalog)
            svc.drain_events()
        rows, entries = [], []
        for p, cells_ in enumerate(rows_cells):  # one row per product: its first variant
            rows.append([f"P{p}", f"P{p}-0", *cells_])
            edit = _edit(cells_, dt.UTC)
            entries.append(ItemInput(sku=f"P{p}-0", **edit))
        report = imports.import_csv(fast, _csv(rows), mode="assign", name="a.csv")
        for entry in entries:
            reference.assign([entry], at=AT)

        ours, theirs = _state(fast), _state(reference)
        assert ours[0] == theirs[0]
        assert ours[1] == theirs[1]
        assert ours[2] == theirs[2]
        assert report.assigned == len(catalog)
        _read_model_is_current(fast)
        for db in (fast.db, reference.db):
            db.dispose()


# ---------------------------------------------------------------- the fast cell reader
SAMPLE_CELLS = [
    "",
    " ",
    "0",
    "-0",
    "007",
    "+5",
    "1_0",
    "1.0",
    "12",
    "-3",
    " 4 ",
    "x",
    "unlimited",
    " Unlimited ",
    "UNLIMITED",
    "٣",
    "99999999999999999999",
    "01/12/2026",
    "31/02/2026",
    "2026-12-01",
    "2026-12-01T09:00+01:00",
    "1/2/2026 10:30",
    "\t7",
    "a\u00a0",
]
texts = st.one_of(
    st.sampled_from(SAMPLE_CELLS),
    st.text(alphabet="0123456789-+ ./:Tu", max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(imports.COLUMNS)), texts)
def test_fast_reader_matches_the_pydantic_row_model(column, text):
    """Values and error messages: exactly what the pydantic model gives."""
    header = ["SKU", column] if column != "SKU" else ["SKU"]
    cells_ = ["A-1", text] if column != "SKU" else [text]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, cells_])
    tz = dt.timezone(dt.timedelta(hours=2))
    try:
        parsed = imports.read_csv(out.getvalue().encode(), "f.csv", mode="update", tz=tz)
        got: object = parsed.rows
    except imports.ImportFailed as failed:
        got = failed.errors
    fields = [imports.COLUMNS[h] for h in header]
    raw = {f: (c if c.strip() else None) for f, c in zip(fields, cells_, strict=True)}
    if not "".join(cells_).strip():
        assert got == []  # a blank line is skipped
        return
    expected = imports.validate_cells(raw, tz, "f.csv", 2)
    if isinstance(expected, list):
        assert got == expected
    else:
        assert got == [(2, *[getattr(expected, f) for f in fields])]


def test_a_file_on_disk_is_streamed_and_refused_with_every_problem(tmp_path, store_service):
    svc = store_service(name="fast")
    svc.upsert_catalog([ItemInput(sku=f"S{i}", on_hand=1) for i in range(3)])
    path = tmp_path / "big.csv"
    path.write_text("SKU,Stock\nS0,4\nS1,x\nS2,5\n,3\nS0,1\n", encoding="utf-8")
    with pytest.raises(imports.ImportFailed) as failed:
        imports.import_csv(svc, path, mode="update")
    assert failed.value.errors == [
        f"{path}:row 3: column Stock: Input should be a valid integer, unable to parse "
        "string as an integer (got 'x')",
        f"{path}:row 5: column SKU: Input should be a valid string (got None)",
        f"{path}:row 6: column SKU: S0 is also on row 2",
    ]
    Path(path).write_bytes(b"SKU,Stock\nS0,4\nS1,\xff\n")
    with pytest.raises(imports.ImportFailed, match=r"not UTF-8 text \(byte 18\)"):
        imports.import_csv(svc, path, mode="update")


@pytest.mark.parametrize("column", imports.SPEC, ids=lambda column: column.header)
def test_each_columns_fast_reader_reads_what_the_row_model_reads(column):
    """Both readers are made from one column specification: for every column, a cell the
    fast reader takes gives the model's value, and one the model refuses the fast reader
    hands over (``Slow``); lengths are tried at and past the column's limit."""
    from backorder.imports.columns import Slow, cell_readers

    tz = dt.timezone(dt.timedelta(hours=2))
    read = cell_readers([column.field], tz)[0]
    limit = column.max_length or 20
    tried = [*SAMPLE_CELLS, "é" * limit, "é" * (limit + 1), f" {'a' * limit} ", "1" * 19]
    fast = 0
    for cell in tried:
        cells = {"sku": "A-1", column.field: cell if cell.strip() else None}
        expected = imports.validate_cells(cells, tz, "f.csv", 2)
        try:
            got = read(cell)
        except Slow:
            continue
        fast += 1
        assert not isinstance(expected, list), f"{cell!r}: the model refuses it: {expected}"
        assert got == getattr(expected, column.field), cell
    assert fast, "the fast reader takes no cell at all"
