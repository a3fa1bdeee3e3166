"""One transaction of one store: what a change reads, books and emits, together.

:meth:`backorder.engine.StoreService.transact` opens a transaction, hands a
:class:`UnitOfWork` to the work function and, after commit, tells the plugins what
changed (pushes, notifications). A write that lost a race (another process changed an
item since it was read) makes the whole work function run again from a fresh read, so a
work function must do nothing but read and write through its unit of work.

Integrators and modules built on the engine (incoming stock, imports) write their own
operations this way::

    def work(uow: UnitOfWork) -> ItemState:
        loaded = uow.require(["SKU-1"])["SKU-1"]
        item = uow.move(loaded.item, +5, kind="count", source="shelf count", key="count:42")
        uow.write(loaded, uow.settle(item))
        return item

    service.transact(work, reason="stock")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from backorder import rules
from backorder.errors import UnknownItem
from backorder.models import DomainEvent, ItemState, StoreSettings
from backorder.storage import records
from backorder.storage.records import Loaded

__all__ = ["Loaded", "UnitOfWork"]


class UnitOfWork:
    """The open transaction of one store's change, and what it produced.

    :ivar conn: the open connection (for storage functions that take one).
    :ivar at: the change's time, the default for every ``at`` below.
    :ivar events: domain events to record before commit (notifiers hear them after).
    :ivar stored: events the change's own set-based statements already wrote.
    :ivar changed: SKU -> new state (or ``None`` when only the SKU is known) of every item
        the change wrote: the push outbox sends these to the platform.
    :ivar push_ids: the push outbox rows written with the change (``push_claim``: claimed
        by this service for its own delivery after commit).
    :ivar pending: how many of its events were stored for a notifier (0: none to dispatch).
    :ivar viewed: SKUs of ``changed`` whose storefront read model row the change wrote
        itself (a bulk path spelling views from what it holds): not read back and
        written again before commit.
    """

    def __init__(
        self, conn: sa.Connection, store: str, settings: StoreSettings, at: dt.datetime
    ) -> None:
        self.conn = conn
        self.store = store
        self.settings = settings
        self.at = at
        self.events: list[DomainEvent] = []
        self.stored: list[DomainEvent] = []
        self.changed: dict[str, ItemState | None] = {}
        self.push_ids: list[int] = []
        self.pending = 0
        self.viewed: set[str] = set()
        self.push_claim: tuple[str, list[Any]] | None = None
        """``(token, rows)`` of the pushes written already claimed for delivery after commit."""

    # ----------------------------------------------------------------- reading
    def require(self, skus: Iterable[str]) -> dict[str, Loaded]:
        """The items with these SKUs, as read now.

        :raises backorder.errors.UnknownItem: some SKU is not in the store; the message
            lists every one.
        """
        wanted = list(dict.fromkeys(skus))
        found = records.load_items(self.conn, self.store, skus=wanted)
        missing = [sku for sku in wanted if sku not in found]
        if missing:
            raise UnknownItem(f"no such item in store {self.store!r}: {', '.join(missing)}")
        return found

    def applied(self, key: str) -> bool:
        """Whether a stock movement with this idempotency key is already in the ledger."""
        return records.movement_applied(self.conn, self.store, key)

    # ----------------------------------------------------------------- writing
    def move(
        self,
        item: ItemState,
        delta: int,
        *,
        kind: str,
        source: str,
        key: str,
        at: dt.datetime | None = None,
        as_of: dt.datetime | None = None,
    ) -> ItemState:
        """Book ``delta`` units to the ledger; returns the item with its new on-hand count.

        :param kind: the movement's kind (``order``, ``receipt``, ``sync``...).
        :param source: what a person reads ("order 1001 line 2").
        :param key: the idempotency key, unique per store: the same key twice fails the
            transaction (check :meth:`applied` first where a replay is expected).
        :param as_of: when a platform's figure was true at the platform.
        """
        new = item.model_copy(update={"on_hand": item.on_hand + delta})
        records.record_movement(
            self.conn,
            self.store,
            sku=item.sku,
            delta=delta,
            on_hand_after=new.on_hand,
            kind=kind,
            source=source,
            key=key,
            at=at or self.at,
            as_of=as_of,
        )
        return new

    def settle(self, item: ItemState, at: dt.datetime | None = None) -> ItemState:
        """The item after the switching rules (backorder on or off by itself); their events
        are emitted."""
        item, events = rules.settle(item, self.settings, at or self.at)
        self.events += events
        return item

    def write(self, loaded: Loaded, new: ItemState, at: dt.datetime | None = None) -> None:
        """Write the item if another transaction did not change it since it was read (else
        the work runs again); a changed item is queued for the platform."""
        records.write_item(self.conn, loaded, new, at or self.at)
        if new != loaded.item:
            self.changed[new.sku] = new

    def emit(self, *events: DomainEvent) -> None:
        """Record domain events with the change."""
        self.events.extend(events)
