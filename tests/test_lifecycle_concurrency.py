"""Cancels racing new orders on the same hot SKUs, from several processes (issue 14): no
unit is oversold and none is given back twice, on SQLite and on PostgreSQL."""

import uuid

import pytest

from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.models import BackorderPolicy, ItemInput, LineRequest, OrderIn, StoreSettings
from backorder.storage import records
from backorder.storage.db import Database
from backorder.testing.cancel_race import race_cancels

HOT = ["HOT-1", "HOT-2"]
STOCK, THRESHOLD = 4, 4  # salable 8 per SKU
TARGETS = 6  # orders of 2 placed before the race; 3 cancellers each take 1 unit of each


def run(url: str) -> None:
    store = StoreConfig(
        name=f"cr-{uuid.uuid4().hex[:8]}",
        settings=StoreSettings(defaults=BackorderPolicy(threshold=THRESHOLD)),
    )
    service = StoreService(Database(url), store)
    service.upsert_catalog([ItemInput(sku=sku, on_hand=STOCK) for sku in HOT])
    targets = []
    for n in range(TARGETS):
        sku = HOT[n % 2]
        placed = service.place_order(
            OrderIn(order_id=f"t{n}", lines=[LineRequest(sku=sku, qty=2)])
        )
        assert placed.accepted
        targets.append((f"t{n}", sku))
    granted, cancelled = race_cancels(
        url, store, HOT, targets, placers=2, cancellers=3, orders_per_placer=12, timeout=180
    )
    for order_id, sku in targets:  # each had 2 units: given back once each, never a third
        assert cancelled.get(order_id, 0) == 2
        assert service.lifecycle.line_counts(sku)[(order_id, 1)].cancelled == 2
    for sku in HOT:
        item = service.item(sku)
        with service.db.read() as conn:
            assert records.ledger_balance(conn, service.name, sku) == item.on_hand
        ordered_before = 2 * sum(1 for _, s in targets if s == sku)
        returned = sum(cancelled.get(o, 0) for o, s in targets if s == sku)
        assert item.on_hand == STOCK - ordered_before - granted.get(sku, 0) + returned
        assert item.on_hand + THRESHOLD >= 0  # never sold beyond stock + threshold


def test_cancels_racing_orders_on_sqlite(tmp_path):
    run(f"sqlite:///{tmp_path}/cancel-race.db")


@pytest.mark.postgres
def test_cancels_racing_orders_on_postgresql(pg_url):
    run(pg_url)
