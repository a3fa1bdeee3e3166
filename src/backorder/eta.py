"""Incoming stock: expected receipts, first-come-first-served release, an ETA per order line.

``StoreService.incoming`` is an :class:`IncomingStock`. Every change is one of the
service's units of work (:meth:`StoreService.transact`), so its stock movements, stored
ETAs and ``eta_changed`` events commit together and reach the notifiers after commit.

The item's single incoming qty + back-in-stock date (the seeds' simple case) counts as
one more receipt, ref ``back-in-stock``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa

from backorder.errors import InvalidInput, NotFound, Refused
from backorder.models import MAX_QTY, DomainEvent, EventType, ItemState
from backorder.rules.allocation import Allocation, LineStatus, Receipt, allocate
from backorder.storage import receipts as store_receipts
from backorder.storage import records
from backorder.storage.schema import order_lines, orders, receipts
from backorder.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from backorder.engine import StoreService

SIMPLE_REF = "back-in-stock"


def promise_text(
    eta: dt.datetime | None, status: str | None, tz: dt.tzinfo, date_format: str = "%Y-%m-%d"
) -> str:
    """A backordered line's promise in words: its date (store time zone), or why none."""
    if status == LineStatus.RELEASED.value:
        return "ready to ship"
    if status == LineStatus.WAITING.value and eta is not None:
        if eta.tzinfo is None:  # SQLite hands back naive UTC
            eta = eta.replace(tzinfo=dt.UTC)
        return eta.astimezone(tz).strftime(date_format)
    return "no date yet"



def _check_qty(ref: str, qty: int) -> None:
    if not 0 <= qty <= MAX_QTY:
        raise InvalidInput(f"receipt {ref}: qty must be between 0 and {MAX_QTY:,}")

class IncomingStock:
    def __init__(self, service: StoreService) -> None:
        self.service = service

    # ---------------------------------------------------------------- changes
    def expect(
        self,
        sku: str,
        ref: str,
        qty: int,
        expected_at: dt.datetime,
        *,
        at: dt.datetime | None = None,
    ) -> Allocation:
        """Add a receipt, or change one that slipped or shrank; waiting lines are re-dated."""
        _check_qty(ref, qty)
        if expected_at.tzinfo is None:
            raise InvalidInput(f"receipt {ref}: expected_at needs a time zone")

        def work(uow: UnitOfWork) -> None:
            uow.require([sku])
            previous = store_receipts.upsert_receipt(
                uow.conn,
                self.service.name,
                sku=sku,
                ref=ref,
                qty=qty,
                expected_at=expected_at,
                at=uow.at,
            )
            if previous not in (None, "expected"):
                raise Refused(f"receipt {ref} of {sku} is {previous}; it cannot change")
            uow.emit(*self._refresh(uow.conn, sku, uow.at))

        self.service.transact(work, "receipt", at=at)
        return self.allocation(sku)

    def cancel(self, sku: str, ref: str, *, at: dt.datetime | None = None) -> Allocation:
        """A receipt that will not come: its lines lose their date (or get a later one)."""
        return self._close(sku, ref, "cancelled", None, at or self.service.clock())

    def arrive(
        self, sku: str, ref: str, qty: int | None = None, *, at: dt.datetime | None = None
    ) -> Allocation:
        """The receipt is here: its units are booked (once) and release the oldest lines."""
        if qty is not None:
            _check_qty(ref, qty)
        return self._close(sku, ref, "arrived", qty, at or self.service.clock())

    def _close(self, sku, ref, status, qty, at) -> Allocation:
        svc = self.service

        def work(uow: UnitOfWork) -> None:
            loaded = uow.require([sku])[sku]
            found = store_receipts.set_status(uow.conn, svc.name, sku, ref, status, at)
            if found is None:
                raise NotFound(f"no receipt {ref!r} for {sku}")
            previous, expected_qty = found
            if previous != "expected":
                return  # already arrived or cancelled: a replay changes nothing
            if status == "arrived":
                received = expected_qty if qty is None else qty
                item = uow.move(
                    loaded.item,
                    received,
                    kind="receipt",
                    source=f"receipt {ref}",
                    key=f"receipt:{sku}:{ref}",
                )
                uow.write(loaded, uow.settle(item))
            uow.emit(*self._refresh(uow.conn, sku, at))

        svc.transact(work, "stock" if status == "arrived" else "receipt", at=at)
        return self.allocation(sku)

    def refresh(
        self, skus: Iterable[str] | None = None, *, at: dt.datetime | None = None
    ) -> list[DomainEvent]:
        """Recompute stored ETAs (after stock moved by other means); emits ``eta_changed``."""
        def work(uow: UnitOfWork) -> list[DomainEvent]:
            wanted = list(skus) if skus is not None else self._skus_with_backorders(uow.conn)
            for sku in wanted:
                uow.emit(*self._refresh(uow.conn, sku, uow.at))
            return list(uow.events)

        return self.service.transact(work, "receipt", at=at)

    # ---------------------------------------------------------------- reading
    def allocation(self, sku: str) -> Allocation:
        with self.service.db.read() as conn:
            return self._allocate(conn, self._item(conn, sku))

    def next_eta(self, sku: str) -> dt.datetime | None:
        """The date a new backordered unit of ``sku`` would get (None: no receipt has room)."""
        return self.allocation(sku).next_eta

    def earliest(self) -> dict[str, dt.datetime]:
        """Per SKU, when stock is next expected: its earliest receipt or back-in-stock date."""
        name = self.service.name
        query = (
            sa.select(receipts.c.sku, sa.func.min(receipts.c.expected_at))
            .where(receipts.c.store == name, receipts.c.status == "expected")
            .group_by(receipts.c.sku)
        )
        with self.service.db.read() as conn:
            found = {sku: records.as_utc(at) for sku, at in conn.execute(query)}
            simple = records.load_items(conn, name, assigned=True)
        for sku, loaded in simple.items():
            item = loaded.item
            if item.incoming_qty and item.back_in_stock_date:
                found[sku] = min(found.get(sku, item.back_in_stock_date), item.back_in_stock_date)
        return found

    def receipts(self, sku: str) -> list[Receipt]:
        with self.service.db.read() as conn:
            return self._receipts(conn, self._item(conn, sku))

    # --------------------------------------------------------------- internals
    def _item(self, conn: sa.Connection, sku: str) -> ItemState:
        svc = self.service
        return UnitOfWork(conn, svc.name, svc.settings, svc.clock()).require([sku])[sku].item

    def _receipts(self, conn, item: ItemState) -> list[Receipt]:
        found = store_receipts.expected(conn, self.service.name, item.sku)
        if item.incoming_qty and item.back_in_stock_date:
            found.append(
                Receipt(ref=SIMPLE_REF, qty=item.incoming_qty, expected_at=item.back_in_stock_date)
            )
        return found

    def _allocate(self, conn, item: ItemState) -> Allocation:
        stored = store_receipts.backordered_lines(conn, self.service.name, item.sku)
        lines = [s.line for s in stored]
        return allocate(item.on_hand, lines, self._receipts(conn, item))

    def _refresh(self, conn, sku: str, at: dt.datetime) -> list[DomainEvent]:
        """Store each line's ETA; a line whose promise changed gets an ``eta_changed``.

        A line never dated before (a new order) is dated quietly: its first date is part
        of the order confirmation, not a change.
        """
        found = records.load_items(conn, self.service.name, skus=[sku])
        if sku not in found:
            return []
        item = found[sku].item
        stored = store_receipts.backordered_lines(conn, self.service.name, sku)
        allocation = allocate(item.on_hand, [s.line for s in stored], self._receipts(conn, item))
        by_key = {(s.line.order_id, s.line.line_no): s for s in stored}
        events = []
        for line in allocation.lines:
            was = by_key[(line.order_id, line.line_no)]
            old_eta, old_status = was.eta, was.status
            if (old_eta, old_status) == (line.eta, line.status.value):
                continue
            store_receipts.store_eta(conn, was.pk, line.eta, line.status.value)
            if old_status is None:
                continue
            events.append(
                DomainEvent(
                    type=EventType.ETA_CHANGED,
                    sku=sku,
                    at=at,
                    data={
                        "order_id": line.order_id,
                        "line_no": line.line_no,
                        "eta": line.eta.isoformat() if line.eta else None,
                        "previous_eta": old_eta.isoformat() if old_eta else None,
                        "status": line.status.value,
                        "previous_status": old_status,
                        "waiting": line.waiting,
                        "released": line.released,
                        "customer_email": was.customer_email,
                        "name": was.name or item.name or sku,
                    },
                )
            )
        return events

    def _skus_with_backorders(self, conn) -> list[str]:
        name = self.service.name
        from_lines = (
            sa.select(order_lines.c.sku)
            .join(orders, orders.c.id == order_lines.c.order_pk)
            .where(
                orders.c.store == name,
                order_lines.c.backordered > 0,
                order_lines.c.eta_status.is_distinct_from(LineStatus.RELEASED.value),
            )
        )
        from_receipts = sa.select(receipts.c.sku).where(
            receipts.c.store == name, receipts.c.status == "expected"
        )
        return sorted({row[0] for row in conn.execute(sa.union(from_lines, from_receipts))})
