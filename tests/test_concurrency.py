"""Several processes placing orders on the same hot SKUs never sell more than salable qty."""

import uuid

import pytest

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import BackorderPolicy, ItemInput, StoreSettings
from backorder.storage import ledger
from backorder.storage.db import Database
from backorder.testing.race import race

HOT = ["HOT-1", "HOT-2"]
STOCK, THRESHOLD = 5, 7  # salable 12 per SKU; the workers ask for far more (4 x 15 x 2 units)


def run_race(url: str):
    store = StoreConfig(
        name=f"race-{uuid.uuid4().hex[:8]}",
        settings=StoreSettings(defaults=BackorderPolicy(threshold=THRESHOLD)),
    )
    service = StoreService(Database(url), store)
    service.upsert_catalog([ItemInput(sku=sku, on_hand=STOCK) for sku in HOT])
    result = race(url, store, HOT, workers=4, orders_per_worker=15, qty=2, timeout=120)
    return result, service


def assert_no_oversell(result, service: StoreService) -> None:
    assert result.units_taken == len(HOT) * (STOCK + THRESHOLD)  # none oversold, none lost
    for sku in HOT:
        item = service.item(sku)
        assert item.on_hand == -THRESHOLD and item.salable == 0 and not item.purchasable
        with service.db.read() as conn:
            assert ledger.ledger_balance(conn, service.name, sku) == item.on_hand


def test_no_oversell_across_processes_on_sqlite(tmp_path):
    assert_no_oversell(*run_race(f"sqlite:///{tmp_path}/race.db"))


@pytest.mark.postgres
def test_no_oversell_across_processes_on_postgresql(pg_url):
    assert_no_oversell(*run_race(pg_url))
