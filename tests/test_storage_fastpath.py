"""The fast paths read and write exactly what the statements of record read and write.

The column lists they bind come from the schema (``storage.schema``): an item read on the
order path must be the item the statement of record reads, every field of it, and the
ledger and outbox rows a batch writes must be the rows written one at a time.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from core_support import T0

from backorder.models import (
    BackorderState,
    DisableReason,
    DomainEvent,
    EventType,
    ItemState,
)
from backorder.storage import fastpath, records
from backorder.storage.schema import events, movements

EVERY_FIELD_SET = ItemState(
    sku="LAMP-1",
    product_id="P-9",
    variant_id="V-3",
    name="Desk lamp",
    assigned=True,
    tracked=False,
    on_hand=-4,
    incoming_qty=12,
    back_in_stock_date=dt.datetime(2026, 12, 24, 9, 30, 15, 250_000, tzinfo=dt.UTC),
    state=BackorderState.DISABLED,
    disabled_reason=DisableReason.THRESHOLD_USED_UP,
    purchasing_disabled=True,
    overrides={"threshold": 5, "mode": "notify"},
    platform_level=7,
)
DEFAULTS = ItemState(sku="LAMP-2")


def test_an_item_read_on_the_order_path_is_the_item_of_record(db):
    store = f"paths-{uuid.uuid4().hex[:8]}"
    with db.transaction() as conn:
        for item in (EVERY_FIELD_SET, DEFAULTS):
            records.insert_item(conn, store, item, T0)
    with db.transaction() as conn:
        of_record = records.load_items(conn, store)
        fast = fastpath.load_items(conn, store, ["LAMP-1", "LAMP-2"])
    assert list(fast) == list(of_record) == ["LAMP-1", "LAMP-2"]
    for sku, loaded in fast.items():
        assert (loaded.row_id, loaded.version) == (of_record[sku].row_id, of_record[sku].version)
        # every field, in the model's order (what model_dump and the API show)
        assert list(loaded.item.model_dump().items()) == list(
            of_record[sku].item.model_dump().items()
        )
    assert fast["LAMP-1"].item == EVERY_FIELD_SET


def test_an_item_written_on_the_order_path_is_read_back_as_written(db):
    store = f"paths-{uuid.uuid4().hex[:8]}"
    with db.transaction() as conn:
        records.insert_item(conn, store, DEFAULTS, T0)
    changed = EVERY_FIELD_SET.model_copy(update={"sku": "LAMP-2"})
    with db.transaction() as conn:
        loaded = fastpath.load_items(conn, store, ["LAMP-2"])["LAMP-2"]
        assert fastpath.write_item(conn, loaded, changed, T0)
    with db.transaction() as conn:
        again = records.load_items(conn, store)["LAMP-2"]
    assert again.item == changed and again.version == loaded.version + 1


def test_ledger_and_outbox_rows_written_in_one_go_are_those_written_one_by_one(db):
    at = T0 + dt.timedelta(microseconds=1)
    event = DomainEvent(
        type=EventType.BACKORDER_DISABLED,
        sku="LAMP-1",
        reason=DisableReason.BACK_IN_STOCK_DATE,
        data={"received": 3},
        at=at,
    )
    stores = [f"one-{uuid.uuid4().hex[:8]}", f"set-{uuid.uuid4().hex[:8]}"]
    with db.transaction() as conn:
        records.record_movement(
            conn,
            stores[0],
            sku="LAMP-1",
            delta=-2,
            on_hand_after=3,
            kind="order",
            source="order A line 1",
            key="order:A:1",
            at=at,
        )
        records.record_events(conn, stores[0], [event])
        fastpath.record_movements(
            conn, [(stores[1], "LAMP-1", -2, 3, "order", "order A line 1", "order:A:1", at)]
        )
        fastpath.record_events(conn, stores[1], [event])
    with db.read() as conn:
        written = [
            [
                conn.execute(
                    sa.select(*[c for c in table.c if c.name not in ("id", "store")]).where(
                        table.c.store == store
                    )
                ).all()
                for table in (movements, events)
            ]
            for store in stores
        ]
    assert written[0] == written[1]
    assert written[0][1][0].data == {"received": 3}
