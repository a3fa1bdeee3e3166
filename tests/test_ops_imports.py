"""CSV import/export: validate the whole file, apply all or nothing, report what changed."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from backorder import imports
from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.hookspecs import hookimpl
from backorder.models import EventType, ItemInput, StoreSettings
from backorder.platform import BasePlatform
from backorder.plugins import make_manager
from backorder.storage import records
from backorder.storage.schema import items, movements

AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
HEADER = "Product ID,Variant ID,SKU,Stock,Backorder Threshold,Incoming Stock,Back in stock date\n"


@pytest.fixture
def plugin_manager():
    pm = make_manager(load_entry_points=False)
    return pm


def service(db, pm=None, **settings) -> StoreService:
    store = StoreConfig(name="imp", settings=StoreSettings(**settings))
    return StoreService(db, store, pm=pm, clock=lambda: AT)


def catalog(svc: StoreService) -> None:
    svc.upsert_catalog(
        [
            ItemInput(sku="TENT", product_id="10", on_hand=3, assigned=False, name="Tent"),
            ItemInput(sku="MUG-B", product_id="11", variant_id="1", assigned=False),
            ItemInput(sku="MUG-R", product_id="11", variant_id="2", assigned=False),
            ItemInput(sku="LAMP", product_id="12", on_hand=1, assigned=False),
        ]
    )


def snapshot(db) -> list[tuple]:
    with db.transaction() as conn:
        rows = conn.execute(sa.select(items).order_by(items.c.sku)).all()
        moves = conn.execute(sa.select(sa.func.count()).select_from(movements)).scalar_one()
    return [tuple(r) for r in rows] + [("movements", moves)]


def test_assign_import_assigns_with_siblings_books_stock_and_fires_events(backorder_db):
    svc = service(backorder_db, timezone="Europe/Amsterdam")
    catalog(svc)
    data = (
        HEADER + "10,,TENT,0,2,10,01/12/2026\n"  # local format, store time zone
        "11,1,MUG-B,5,unlimited,,\n"
    ).encode()
    report = imports.import_csv(svc, data, mode="assign", name="in.csv")

    tent = svc.item("TENT")
    assert tent.assigned and tent.on_hand == 0 and tent.threshold == 2
    assert tent.status.value == "backorder" and tent.salable == 2
    assert tent.back_in_stock_date == dt.datetime(2026, 11, 30, 23, 0, tzinfo=dt.UTC)
    sibling = svc.item("MUG-R")  # seed 001: the product's other variant comes along
    assert sibling.assigned and sibling.threshold is None and sibling.on_hand == 0
    assert not svc.item("LAMP").assigned
    assert report.assigned == 3 and report.rows == 2 and report.stock_moved == -3 + 5
    assert report.events == {"assigned": 3, "backorder_enabled": 2}
    tent_change = next(c for c in report.changes if c["sku"] == "TENT")
    assert tent_change["on_hand"] == [3, 0] and tent_change["threshold"] == [None, 2]
    on_hand = {sku: svc.item(sku).on_hand for sku in ("TENT", "MUG-B", "MUG-R")}
    with backorder_db.transaction() as conn:  # the ledger still balances
        for sku, qty in on_hand.items():
            assert records.ledger_balance(conn, "imp", sku) == qty
        keys = conn.execute(sa.select(movements.c.idempotency_key)).scalars().all()
    assert f"import:{report.import_id}:TENT" in keys
    types = [e.type for e in svc.drain_events()]
    assert types.count(EventType.ASSIGNED) == 3


def test_assign_import_refuses_the_whole_file_listing_every_bad_row(backorder_db):
    svc = service(backorder_db)
    catalog(svc)
    svc.assign(["LAMP"])
    before = snapshot(backorder_db)
    data = (
        HEADER + "10,,TENT,x,2,,\n"
        "12,,LAMP,1,2,,\n"  # already assigned: reported once the file itself is valid
        ",,MUG-B,1,-4,3,2026-13-01\n"
        "11,2,MUG-R,1,,,\n"
        "11,2,MUG-R,2,,,\n"
    ).encode()
    with pytest.raises(imports.ImportFailed) as failed:
        imports.import_csv(svc, data, mode="assign", name="bad.csv")
    assert failed.value.errors == [
        "bad.csv:row 2: column Stock: Input should be a valid integer, unable to parse string "
        "as an integer (got 'x')",
        "bad.csv:row 4: column Backorder Threshold: a whole number (0 or more), 'unlimited', "
        "or blank for the store default (got '-4')",
        "bad.csv:row 4: column Back in stock date: '2026-13-01' is not a date: use ISO 8601 "
        "(2026-12-01) or DD/MM/YYYY",
        "bad.csv:row 6: column SKU: MUG-R is also on row 5",
    ]
    assert snapshot(backorder_db) == before

    # once the file is valid, the store-level refusals are reported the same way
    data = (HEADER + "10,,TENT,1,2,,\n12,,LAMP,1,2,,\n,,NOPE,1,,,\n").encode()
    svc_bc = StoreService(backorder_db, StoreConfig(name="imp", platform="bc"), clock=lambda: AT)
    with pytest.raises(imports.ImportFailed) as failed:
        imports.import_csv(svc_bc, data, mode="assign", name="bad.csv")
    assert failed.value.errors == [
        "bad.csv:row 3: column SKU: LAMP is already assigned (use the update import)",
        "bad.csv:row 4: column SKU: NOPE is not in the catalog; run `backorder sync` first",
    ]
    assert snapshot(backorder_db) == before


def test_update_import_applies_only_the_chosen_columns_and_rejects_unassigned(backorder_db):
    svc = service(backorder_db)
    catalog(svc)
    svc.assign([ItemInput(sku="TENT", threshold=4)])
    data = (HEADER + "10,,TENT,-2,9,7,2026-12-24T10:00+01:00\n").encode()
    report = imports.import_csv(svc, data, mode="update", columns=["stock", "date"])
    tent = svc.item("TENT")
    assert tent.on_hand == -2 and tent.threshold == 4 and tent.incoming_qty == 0
    assert tent.back_in_stock_date == dt.datetime(2026, 12, 24, 9, 0, tzinfo=dt.UTC)
    assert report.columns == ["date", "stock"] and report.updated == 1

    with pytest.raises(imports.ImportFailed, match=r"row 2: column SKU: LAMP is not assigned"):
        imports.import_csv(svc, (HEADER + "12,,LAMP,5,,,\n").encode(), mode="update")
    with pytest.raises(imports.ImportFailed, match=r"--columns: 'colour'"):
        imports.import_csv(
            svc, (HEADER + "10,,TENT,5,,,\n").encode(), mode="update", columns=["colour"]
        )


def test_same_file_twice_changes_nothing_and_template_round_trips(backorder_db):
    svc = service(backorder_db, timezone="America/New_York")
    catalog(svc)
    data = (HEADER + "10,,TENT,1,3,5,2026-12-01T08:00\n11,1,MUG-B,0,,,\n").encode()
    first = imports.import_csv(svc, data, mode="assign")
    after_first = snapshot(backorder_db)
    again = imports.import_csv(svc, data, mode="assign")
    assert again.already_imported and snapshot(backorder_db) == after_first
    assert first.import_id == again.import_id

    out = io.StringIO()
    assert imports.export_csv(svc, out) == 3
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(imports.COLUMNS)
    assert lines[3] == "10,,TENT,Tent,1,3,5,2026-12-01T08:00-05:00,,"  # store time zone
    assert lines[1].startswith("11,1,MUG-B,,0,,0,")  # blank threshold = store default
    report = imports.import_csv(svc, out.getvalue().encode(), mode="update")
    assert report.updated == 0 and report.unchanged == 3
    assert snapshot(backorder_db)[:-1] == after_first[:-1]


def test_plan_limit_refuses_an_import_past_the_cap(backorder_db):
    svc = service(backorder_db, plan_limit=2)
    catalog(svc)
    before = snapshot(backorder_db)
    with pytest.raises(imports.ImportFailed, match="plan limit: store 'imp' may assign 2"):
        imports.import_csv(svc, b"SKU\nTENT\nMUG-B\nLAMP\n", mode="assign")
    assert snapshot(backorder_db) == before


def test_core_store_creates_unknown_items_with_category_and_brand(backorder_db):
    svc = service(backorder_db)
    data = b"SKU,Name,Stock,Category,Brand\nNEW-1,Stove,4,Camping,Acme\n"
    report = imports.import_csv(svc, data, mode="assign")
    assert report.created == 1 and svc.item("NEW-1").on_hand == 4
    with backorder_db.transaction() as conn:
        row = conn.execute(sa.select(items.c.category, items.c.brand)).one()
    assert tuple(row) == ("Camping", "Acme")


def test_header_problems_are_named(backorder_db):
    svc = service(backorder_db)
    with pytest.raises(imports.ImportFailed) as failed:
        imports.import_csv(svc, b"Sku,Stock,Stock\n", mode="assign", name="h.csv")
    assert failed.value.errors[0].startswith("h.csv:row 1: column Sku: unknown column")
    assert "h.csv:row 1: column Stock: appears twice" in failed.value.errors
    assert "h.csv:row 1: column SKU: missing (every row needs its SKU)" in failed.value.errors


class ShopDialect:
    """A platform's own CSV: 'Code' and 'Qty' columns."""

    name = "shop"
    columns = ("Code", "Qty")

    def read_row(self, row):
        if not row["Qty"].isdigit():
            raise ValueError(f"column Qty: {row['Qty']!r} is not a whole number")
        return ItemInput(sku=row["Code"], on_hand=int(row["Qty"]))

    def write_rows(self, views):
        return [{"Code": v.sku, "Qty": str(v.on_hand)} for v in views]


class ShopPlugin(BasePlatform):
    name = "shop"

    def csv_dialects(self):
        return [ShopDialect()]

    @hookimpl
    def backorder_platforms(self):
        return [self]


def test_platform_dialect_from_a_plugin(backorder_db, plugin_manager, register_plugin):
    register_plugin(ShopPlugin())
    svc = service(backorder_db, pm=plugin_manager)
    catalog(svc)
    svc.assign(["TENT"])
    with pytest.raises(imports.ImportFailed) as failed:
        imports.import_csv(svc, b"Code,Qty\nTENT,x\n", mode="update", dialect="shop", name="s.csv")
    assert failed.value.errors == ["s.csv:row 2: column Qty: 'x' is not a whole number"]
    report = imports.import_csv(svc, b"Code,Qty\nTENT,12\n", mode="update", dialect="shop")
    assert svc.item("TENT").on_hand == 12 and report.columns == ["stock"]
    out = io.StringIO()
    imports.export_csv(svc, out, dialect="shop")
    assert out.getvalue().splitlines() == ["Code,Qty", "TENT,12"]


def test_progress_is_reported_for_big_files(backorder_db):
    svc = service(backorder_db)
    rows = "".join(f"S{i},{i % 7}\n" for i in range(25_000))
    seen: list[tuple[str, int, int]] = []
    report = imports.import_csv(
        svc,
        ("SKU,Stock\n" + rows).encode(),
        mode="assign",
        progress=lambda *a: seen.append(a),
    )
    assert report.created == 25_000
    stages = [s for s, _, _ in seen]
    assert stages.count("reading") >= 2 and stages.count("applying") >= 2
    assert seen[-1][1] == seen[-1][2]
    assert svc.item("S24999").on_hand == 24999 % 7
