"""The fast paths: the same rows as :mod:`backorder.storage.records` writes, written
set-based or with cached statements on the driver cursor, for operations whose volume
calls for it.

- :mod:`.orders`: one order and order batches (items read and written, ledger rows,
  order snapshots, outbox rows);
- :mod:`.tick`: the back-in-stock receipt of every due item at once;
- :mod:`.csv_import`: the statements of a CSV import;
- :mod:`.driver`: what they stand on (the driver cursor, the columns' type processors).

The engine (and the notifications' event log) call these statements through this package.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from backorder.storage.fastpath.orders import (
    event_rows,
    existing_orders,
    load_items,
    load_many,
    order_exists,
    record_events,
    record_movements,
    save_order,
    save_orders,
    write_item,
    write_items,
)
from backorder.storage.fastpath.tick import receive_due


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while a bulk operation builds objects that all live on (the
    rows it fetched, the events it returns): the collector would walk them again and again
    and free nothing (a fifth of a million-item tick). Collection resumes after, if on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


__all__ = [
    "event_rows",
    "existing_orders",
    "gc_paused",
    "load_items",
    "load_many",
    "order_exists",
    "receive_due",
    "record_events",
    "record_movements",
    "save_order",
    "save_orders",
    "write_item",
    "write_items",
]
