"""A worker killed in the middle of an import leaves nothing half-applied; a re-run completes."""

import csv
import io
import subprocess
import sys

import pytest
import sqlalchemy as sa

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.imports import import_csv
from backorder.models import BackorderPolicy, ItemInput, StoreSettings
from backorder.storage import records
from backorder.storage.db import Database
from backorder.storage.schema import events, items, movements

STORE = StoreConfig(name="imp", settings=StoreSettings(defaults=BackorderPolicy(threshold=3)))
ROWS = 3000

WORKER = """
import os, sys
import sqlalchemy as sa
from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.imports import import_csv
from backorder.storage.db import Database

url, store, path, die_on = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
db = Database(url, migrate=False)
seen = [0]

def maybe_die(conn, cursor, statement, *_args):
    if die_on in statement:
        seen[0] += 1
        if seen[0] == 1:  # written, not yet committed: well inside the import's transaction
            os._exit(3)  # no rollback, no clean-up: as a killed process

sa.event.listen(db.engine, "after_cursor_execute", maybe_die)
import_csv(StoreService(db, StoreConfig.model_validate_json(store)), path, mode="update")
"""


def write_file(path) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["SKU", "Stock", "Incoming Stock"])
    for n in range(ROWS):
        writer.writerow([f"S{n}", str(n % 7 - 2), str(n % 3)])
    path.write_text(out.getvalue())


def snapshot(db: Database):
    with db.read() as conn:
        return [
            conn.execute(sa.select(table).order_by(table.c.id)).all()
            for table in (items, movements, events)
        ]


@pytest.mark.parametrize("die_on", ["INTO movements", "UPDATE items", "INTO events"])
def test_a_killed_import_changes_nothing_and_the_rerun_applies_it_once(tmp_path, die_on):
    url = f"sqlite:///{tmp_path}/imp.db"
    db = Database(url)
    service = StoreService(db, STORE)
    service.upsert_catalog([ItemInput(sku=f"S{n}", on_hand=5) for n in range(ROWS)])
    before = snapshot(db)
    path = tmp_path / "stock.csv"
    write_file(path)

    child = subprocess.run(
        [sys.executable, "-c", WORKER, url, STORE.model_dump_json(), str(path), die_on],
        timeout=120, check=False,
    )
    assert child.returncode == 3, "the worker should have been killed mid-import"
    assert snapshot(db) == before  # nothing half-applied

    report = import_csv(service, path, mode="update")
    assert len(report.changes) == ROWS
    on_hand = {v.sku: v.on_hand for v in service.items()}
    assert [on_hand[f"S{n}"] for n in range(8)] == [-2, -1, 0, 1, 2, 3, 4, -2]
    with db.read() as conn:
        assert all(
            records.ledger_balance(conn, STORE.name, v.sku) == v.on_hand for v in service.items()
        )
    again = snapshot(db)
    import_csv(service, path, mode="update")  # the same file again changes nothing
    assert snapshot(db) == again
