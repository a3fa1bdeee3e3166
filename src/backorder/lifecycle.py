"""Cancels, shipments and returns of placed orders (``StoreService.cancel`` / ``ship`` /
``return_items``).

Each is one of the service's units of work: the order's lines (their running totals),
the stock movements, the items (and the switches the new stock calls for), the stored
promises of every line of the SKUs touched (with ``eta_changed`` for those that moved)
and the ``order_cancelled`` / ``order_shipped`` / ``order_returned`` event commit
together; the platform pushes and notifiers follow after commit. The decisions are the
pure :mod:`backorder.rules.lifecycle`.

Stock: a cancelled unit goes back on hand (+1 each; for a backordered unit that only
removes its negative); a shipment moves nothing (the order took its units when placed)
but is booked as a zero movement, so the ledger lists it; a restocked return goes back
on hand. Every movement's key is ``{kind}:{change key}:{line}``.

Idempotent: a change under a ``key`` already applied returns the first answer and
changes nothing (``order_changes``). Without a key every call is a new change.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from backorder.errors import InvalidInput, NotFound, Refused
from backorder.models import DomainEvent, EventType
from backorder.rules import lifecycle as life
from backorder.storage import order_changes
from backorder.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from backorder.engine import StoreService

Kind = Literal["cancel", "ship", "return"]

_FIELD = {"cancel": "cancelled", "ship": "shipped", "return": "returned"}
_EVENT = {
    "cancel": EventType.ORDER_CANCELLED,
    "ship": EventType.ORDER_SHIPPED,
    "return": EventType.ORDER_RETURNED,
}


class LineLeft(BaseModel):
    """One order line after the change: what it was ordered, its totals, what is left."""

    line_no: int
    sku: str
    ordered: int
    changed: int
    """Units this change took (cancelled, shipped or returned now)."""
    cancelled: int
    shipped: int
    returned: int
    in_stock: int
    """In-stock units not yet shipped."""
    backordered: int
    """Backordered units not yet shipped (waiting for stock, or released)."""
    status: str
    """``open``, ``shipped`` or ``cancelled``."""


class OrderChange(BaseModel):
    order_id: str
    kind: str
    key: str
    lines: list[LineLeft]
    restock: bool | None = None
    duplicate: bool = False


def parse_lines(values: Mapping[str, object] | None, order_id: str) -> dict[str, int] | None:
    """``{sku: qty}`` checked: whole numbers from 1 (the rules check the upper bound)."""
    if values is None:
        return None
    out: dict[str, int] = {}
    for sku, qty in values.items():
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise InvalidInput(
                f"order {order_id} {sku}: quantity must be a whole number, got {qty!r}"
            )
        out[sku] = out.get(sku, 0) + qty
    return out


class OrderLifecycle:
    def __init__(self, service: StoreService) -> None:
        self.service = service

    def change(
        self,
        kind: Kind,
        order_id: str,
        lines: Mapping[str, int] | None,
        *,
        key: str | None,
        restock: bool | None = None,
    ) -> OrderChange:
        svc = self.service
        wanted = parse_lines(lines, order_id)
        change_key = key or f"{kind}:{uuid.uuid4()}"

        def work(uow: UnitOfWork) -> OrderChange:
            first = order_changes.applied(uow.conn, svc.name, change_key)
            if first is not None:
                return OrderChange.model_validate({**first, "duplicate": True})
            return self._apply(uow, kind, order_id, wanted, change_key, restock)

        return svc.transact(work, f"order_{kind}")

    def line_counts(self, sku: str) -> dict[tuple[str, int], life.LineCounts]:
        """Every accepted line of ``sku`` with its totals, by (order id, line number)."""
        with self.service.db.read() as conn:
            return order_changes.lines_of(conn, self.service.name, sku)

    # --------------------------------------------------------------- internals
    def _apply(
        self, uow: UnitOfWork, kind: Kind, order_id: str, wanted: dict[str, int] | None,
        key: str, restock: bool | None,
    ) -> OrderChange:
        svc = self.service
        stored = order_changes.load(uow.conn, svc.name, order_id)
        if stored is None:
            raise NotFound(f"no order {order_id!r} in store {svc.name!r}")
        if not stored.accepted:
            raise Refused(f"order {order_id} was refused when placed; it has nothing to {kind}")
        counts = [counts for _, counts in stored.lines.values()]
        if kind == "cancel":
            plan = life.plan_cancel(order_id, counts, wanted)
        elif kind == "ship":
            plan = life.plan_ship(order_id, counts, self._released(uow, order_id, counts), wanted)
        else:
            plan = life.plan_return(order_id, counts, wanted or {})
        skus = sorted({stored.lines[n][1].sku for n in plan})
        loaded = uow.require(skus) if skus else {}
        items = {sku: entry.item for sku, entry in loaded.items()}
        field = _FIELD[kind]
        new_counts = {}
        for line_no, units in sorted(plan.items()):
            pk, old = stored.lines[line_no]
            new = life.after(old, field, units)
            order_changes.write_line(uow.conn, pk, old, new)
            new_counts[line_no] = new
            delta = units if kind == "cancel" or (kind == "return" and restock) else 0
            item = items.get(old.sku)
            if item is None:  # a line whose item was since deleted: the totals still count
                continue
            items[old.sku] = uow.move(
                item, delta, kind=kind, key=f"{kind}:{key}:{line_no}",
                source=f"order {order_id} line {line_no} {field}"
                + (" (restocked)" if kind == "return" and restock else ""),
            )
        for sku, entry in loaded.items():
            item = items[sku]
            if kind == "cancel" or (kind == "return" and restock):
                item, events = life.threshold_freed(item, svc.settings, uow.at)
                uow.emit(*events)
            uow.write(entry, uow.settle(item))
        for sku in skus:
            uow.emit(*svc.incoming._refresh(uow.conn, sku, uow.at))
        result = self._result(order_id, kind, key, stored, new_counts, plan, restock)
        if plan:
            uow.emit(DomainEvent(
                type=_EVENT[kind], sku=skus[0] if len(skus) == 1 else None, at=uow.at,
                data={
                    "order_id": order_id,
                    "units": sum(plan.values()),
                    "lines": [
                        {"line_no": n, "sku": stored.lines[n][1].sku, "qty": units}
                        for n, units in sorted(plan.items())
                    ],
                    **({"restock": bool(restock)} if kind == "return" else {}),
                    "customer_email": stored.customer_email,
                },
            ))
        order_changes.record(
            uow.conn, svc.name, key=key, order_id=order_id, kind=kind,
            result=result.model_dump(mode="json"), at=uow.at,
        )
        return result

    def _released(
        self, uow: UnitOfWork, order_id: str, counts: list[life.LineCounts]
    ) -> dict[int, int]:
        """Per line number of this order, its backordered units whose stock has come."""
        svc = self.service
        released: dict[int, int] = {}
        skus = sorted({c.sku for c in counts if life.left(c).backordered})
        if not skus:
            return released
        found = uow.require(skus)
        order_lines = {(c.sku, c.line_no) for c in counts}
        for sku in skus:
            allocation = svc.incoming._allocate(uow.conn, found[sku].item)
            for line in allocation.lines:
                if (sku, line.line_no) in order_lines and line.order_id == order_id:
                    released[line.line_no] = line.released
        return released

    def _result(self, order_id, kind, key, stored, new_counts, plan, restock) -> OrderChange:
        out = []
        for line_no, (_, old) in stored.lines.items():
            counts = new_counts.get(line_no, old)
            rest = life.left(counts)
            out.append(LineLeft(
                line_no=line_no, sku=counts.sku, ordered=counts.ordered,
                changed=plan.get(line_no, 0), cancelled=counts.cancelled,
                shipped=counts.shipped, returned=counts.returned, in_stock=rest.in_stock,
                backordered=rest.backordered, status=life.line_status(counts),
            ))
        return OrderChange(
            order_id=order_id, kind=kind, key=key, lines=out,
            restock=restock if kind == "return" else None,
        )

