"""The backorder report, and the operations commands in the terminal."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from backorder import plugins, report
from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import ItemInput, LineRequest, OrderIn, StoreSettings
from backorder.storage.schema import items

AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def make(db) -> StoreService:
    store = StoreConfig(name="rep", settings=StoreSettings(timezone="Asia/Ho_Chi_Minh"))
    svc = StoreService(db, store, clock=lambda: AT)
    svc.upsert_catalog(
        [
            ItemInput(sku="TENT-2P", name="Two-person tent", on_hand=1, assigned=False),
            ItemInput(sku="MUG", name="Café mug", on_hand=0, assigned=False),
        ]
    )
    svc.assign([ItemInput(sku="TENT-2P", threshold=2), ItemInput(sku="MUG", threshold=3)])
    with db.transaction() as conn:
        conn.execute(items.update().where(items.c.sku == "TENT-2P").values(category="Camping"))
        conn.execute(items.update().where(items.c.sku == "MUG").values(brand="Acme"))
    orders = [
        ("1001", dt.datetime(2026, 11, 3, 20, 0, tzinfo=dt.UTC), [("TENT-2P", 3), ("MUG", 1)]),
        ("1002", dt.datetime(2026, 11, 3, 16, 0, tzinfo=dt.UTC), [("MUG", 2)]),
        (
            "1003",
            dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC),
            [("MUG", 1)],
        ),  # refused: threshold used up
    ]
    for order_id, at, lines in orders:
        svc.place_order(
            OrderIn(
                order_id=order_id,
                placed_at=at,
                customer_email=f"c{order_id}@example.com",
                lines=[LineRequest(sku=s, qty=q) for s, q in lines],
            )
        )
    return svc


def test_one_record_per_backordered_line_in_the_store_time_zone(backorder_db):
    svc = make(backorder_db)
    records = report.backorder_report(svc)
    assert [(r.order_id, r.sku, r.purchased, r.backordered) for r in records] == [
        ("1001", "TENT-2P", 3, 2),
        ("1001", "MUG", 1, 1),
        ("1002", "MUG", 2, 2),
    ]
    first = records[0]
    assert first.product_name == "Two-person tent" and first.customer_email == "c1001@example.com"
    # 20:00 UTC on 3 November is 03:00 on 4 November in Ho Chi Minh City (UTC+7)
    assert first.order_date == dt.datetime(2026, 11, 4, 3, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert first.order_date.utcoffset() == dt.timedelta(hours=7)


def test_search_and_filters(backorder_db):
    svc = make(backorder_db)
    assert {r.sku for r in report.backorder_report(svc, search="tent")} == {"TENT-2P"}
    assert {r.sku for r in report.backorder_report(svc, search="mug")} == {"MUG"}
    assert [r.sku for r in report.backorder_report(svc, category="camping")] == ["TENT-2P"]
    assert [r.order_id for r in report.backorder_report(svc, brand="ACME")] == ["1001", "1002"]
    day = dt.date(2026, 11, 4)  # store days: 1001 falls on the 4th, 1002 on the 3rd
    assert {r.order_id for r in report.backorder_report(svc, date_from=day)} == {"1001"}
    assert {r.order_id for r in report.backorder_report(svc, date_to=dt.date(2026, 11, 3))} == {
        "1002"
    }
    out = io.StringIO()
    report.write_csv(report.backorder_report(svc, search="tent"), out)
    assert out.getvalue().splitlines() == [
        "Product name,SKU,Purchased qty,Backordered qty,Order ID,Order email,Order date,"
        "Expected,Category,Brand,Cancelled qty,Shipped qty,Waiting qty,Status",
        "Two-person tent,TENT-2P,3,2,1001,c1001@example.com,2026-11-04T03:00+07:00,"
        "no date yet,Camping,,0,0,2,open",
    ]


@pytest.fixture
def cli(monkeypatch, tmp_path):
    pm = plugins.make_manager(load_entry_points=False)
    monkeypatch.setattr(plugins, "_manager", pm)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "backorder.toml").write_text(
        'database = "sqlite:///ops.db"\n[stores.shop]\nplatform = "core"\n'
        '[stores.shop.settings]\ntimezone = "Europe/Amsterdam"\n'
    )
    from backorder.commands import main

    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_import_export_status_report_and_tick_commands(cli, tmp_path):
    (tmp_path / "new.csv").write_text(
        "SKU,Name,Stock,Backorder Threshold,Incoming Stock,Back in stock date\n"
        "TENT,Tent,1,2,5,01/12/2026\n"
        "MUG,Mug,x,,,\n"
    )
    bad = cli("import", "new.csv", "--mode", "assign")
    assert bad.exit_code == 2
    assert "error: new.csv:row 3: column Stock:" in bad.output
    assert "nothing was imported (1 problem(s))" in bad.output

    (tmp_path / "new.csv").write_text(
        "SKU,Name,Stock,Backorder Threshold,Incoming Stock,Back in stock date\n"
        "TENT,Tent,1,2,5,01/12/2026\n"
    )
    done = cli("import", "new.csv", "--mode", "assign", "--changes", "changes.csv")
    assert done.exit_code == 0, done.output
    assert "1 row(s): 1 created, 1 assigned" in done.output
    assert "SKU,Row,Field,Before,After" in (tmp_path / "changes.csv").read_text()
    assert "already imported" in cli("import", "new.csv", "--mode", "assign").output

    exported = cli("export")
    assert exported.stdout.splitlines()[1] == ",,TENT,Tent,1,2,5,2026-12-01T00:00+01:00,,"

    assert cli("order", "A1", "TENT=2", "--email", "x@example.com").exit_code == 0
    status = cli("status")
    assert "TENT" in status.output and "backorder" in status.output
    assert "1 item(s): 1 backorder" in status.output
    table = cli("report")
    assert "A1" in table.output and "1 backordered line(s)" in table.output

    early = cli("tick", "--now", "2026-11-30T22:00:00+00:00")
    assert early.output.splitlines()[1] == "0 event(s)"
    due = cli("tick", "--now", "2026-11-30T23:00:00+00:00")
    assert "backorder_disabled TENT back_in_stock_date" in due.output
    assert cli("tick", "--now", "2026-12-02T00:00:00+00:00").output.splitlines()[1] == "0 event(s)"
    assert "TENT" in cli("status").output and "4" in cli("status", "--json").output
