"""An import's movement keys fit the key column whatever the SKU's length (PostgreSQL enforces
``String(255)``; a 250-character SKU plus the import's prefix is longer)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backorder import imports
from backorder.config import StoreConfig
from backorder.engine import StoreService
from backorder.storage import keys
from backorder.storage.db import Database
from backorder.storage.schema import movements

LONG = "S" * 250


def import_twice(db: Database) -> tuple[StoreService, list[str]]:
    service = StoreService(db, StoreConfig(name="long-skus"))
    data = f"SKU,Stock\r\n{LONG},7\r\nSHORT,3\r\n".encode()
    imports.import_csv(service, data, mode="assign", name="stock.csv")
    imports.import_csv(service, data, mode="assign", name="stock.csv")  # again: no change
    with db.read() as conn:
        stored = conn.execute(
            sa.select(movements.c.idempotency_key).where(movements.c.store == "long-skus")
        ).scalars().all()
    return service, stored


def check(service: StoreService, stored: list[str]) -> None:
    assert service.item(LONG).on_hand == 7 and service.item("SHORT").on_hand == 3
    assert all(len(key) <= keys.LIMIT for key in stored)
    assert any(key.startswith("import:") and key.endswith("~" + key[-64:]) for key in stored)


def test_sqlite_import_of_a_long_sku(backorder_db):
    check(*import_twice(backorder_db))


@pytest.mark.postgres
def test_postgresql_import_of_a_long_sku(pg_url):
    db = Database(pg_url)
    try:
        check(*import_twice(db))
    finally:
        db.dispose()
