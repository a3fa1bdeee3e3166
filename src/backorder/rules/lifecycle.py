"""What an order line has left, and what a cancel, a shipment or a return takes from it.

Pure: the engine reads the lines (their ordered split and running totals), asks these
functions what changes, and books it. A line keeps three running totals beside its
decision (``in_stock`` / ``backordered`` units when placed): ``cancelled``, ``shipped``
and ``returned``. The split of what is left follows from two orders of taking:

- a cancel takes the line's backordered units first, then its in-stock units;
- a shipment takes the in-stock units first, then released backordered units.

So backordered units are only shipped once every in-stock unit is shipped or cancelled,
and in-stock units are only cancelled once no backordered unit is left: the totals alone
say which units are left (:func:`left`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from backorder.errors import InvalidInput, Refused
from backorder.models import (
    BackorderState,
    DisableReason,
    DomainEvent,
    EventType,
    ItemState,
    StoreSettings,
)
from backorder.rules.availability import effective_policy

MAX_UNITS = 1_000_000
"""More units than any line could hold: a quantity above this is a typo, not a request."""


@dataclass(frozen=True)
class LineCounts:
    """One accepted order line as stored: its decision and its running totals."""

    line_no: int
    sku: str
    in_stock: int
    backordered: int
    cancelled: int = 0
    shipped: int = 0
    returned: int = 0

    @property
    def ordered(self) -> int:
        return self.in_stock + self.backordered


@dataclass(frozen=True)
class Left:
    """What a line still has: in-stock units not shipped, backordered units not shipped
    (waiting for stock or released)."""

    in_stock: int
    backordered: int

    @property
    def unshipped(self) -> int:
        return self.in_stock + self.backordered


def left(line: LineCounts) -> Left:
    """The units a line has left after its cancels and shipments (see the module doc)."""
    cancelled_bo = min(line.cancelled, line.backordered)
    cancelled_in = line.cancelled - cancelled_bo
    shipped_in = min(line.shipped, line.in_stock - cancelled_in)
    shipped_bo = line.shipped - shipped_in
    return Left(
        line.in_stock - cancelled_in - shipped_in, line.backordered - cancelled_bo - shipped_bo
    )


def line_status(line: LineCounts) -> str:
    """``open`` (units left to ship), ``shipped`` (none left, some shipped) or ``cancelled``."""
    if left(line).unshipped:
        return "open"
    return "shipped" if line.shipped else "cancelled"


def _wanted(order_id: str, lines: Sequence[LineCounts], wanted: Mapping[str, int]) -> None:
    skus = {line.sku for line in lines}
    for sku, qty in wanted.items():
        if sku not in skus:
            raise InvalidInput(f"order {order_id}: no line for SKU {sku}")
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0 or qty > MAX_UNITS:
            raise InvalidInput(
                f"order {order_id} {sku}: quantity must be a whole number from 1 to "
                f"{MAX_UNITS}, got {qty!r}"
            )


def _spread(
    order_id: str,
    verb: str,
    lines: Sequence[LineCounts],
    room: Mapping[int, int],
    wanted: Mapping[str, int] | None,
) -> dict[int, int]:
    """Units per line number: all the room when ``wanted`` is None, else each SKU's qty
    over its lines in line order; more than the room is refused whole."""
    if wanted is None:
        return {n: units for n, units in room.items() if units}
    _wanted(order_id, lines, wanted)
    taken: dict[int, int] = {}
    for sku, qty in wanted.items():
        own = [line for line in lines if line.sku == sku]
        can = sum(room[line.line_no] for line in own)
        if qty > can:
            done = {"cancel": "cancelled", "ship": "shipped", "return": "returned"}[verb]
            raise Refused(
                f"order {order_id} {sku}: cannot {verb} {qty}: {can} of the "
                f"{sum(line.ordered for line in own)} ordered can be {done}"
            )
        for line in own:
            take = min(qty, room[line.line_no])
            if take:
                taken[line.line_no] = take
                qty -= take
    return taken


def plan_cancel(
    order_id: str, lines: Sequence[LineCounts], wanted: Mapping[str, int] | None
) -> dict[int, int]:
    """Units to cancel per line number: ``wanted`` per SKU, or every unit not yet shipped.

    :raises InvalidInput: a SKU the order has no line for, or a quantity that is not 1 or more.
    :raises Refused: more units than a SKU's lines have left unshipped (nothing changes).
    """
    room = {line.line_no: left(line).unshipped for line in lines}
    return _spread(order_id, "cancel", lines, room, wanted)


def plan_ship(
    order_id: str,
    lines: Sequence[LineCounts],
    released: Mapping[int, int],
    wanted: Mapping[str, int] | None,
) -> dict[int, int]:
    """Units to ship per line number: in-stock units left plus released backordered units
    (``released``: per line number, from the first-come-first-served allocation).

    :raises Refused: more than can ship now (backordered units whose stock has not come).
    """
    room = {}
    for line in lines:
        rest = left(line)
        room[line.line_no] = rest.in_stock + min(released.get(line.line_no, 0), rest.backordered)
    return _spread(order_id, "ship", lines, room, wanted)


def plan_return(
    order_id: str, lines: Sequence[LineCounts], wanted: Mapping[str, int]
) -> dict[int, int]:
    """Units returned per line number: only shipped units not returned yet.

    :raises Refused: more than was shipped and not yet returned.
    """
    if not wanted:
        raise InvalidInput(f"order {order_id}: name the returned units (SKU=QTY)")
    room = {line.line_no: line.shipped - line.returned for line in lines}
    return _spread(order_id, "return", lines, room, wanted)


def after(line: LineCounts, field: str, units: int) -> LineCounts:
    """The line with ``units`` more in its ``cancelled``/``shipped``/``returned`` total."""
    values = {**line.__dict__, field: getattr(line, field) + units}
    return LineCounts(**values)


def threshold_freed(item: ItemState, settings: StoreSettings, at: dt.datetime) -> tuple[
    ItemState, list[DomainEvent]
]:
    """Switch backorder back on for an item that was switched off because its threshold
    was used up, once stock given back by an order (a cancel, a restocked return) leaves
    room under the threshold again.

    An item whose stock rose above the switch condition is left to :func:`settle` (it
    re-arms and sells from stock); a manual disable is never undone here.
    """
    if item.state is not BackorderState.DISABLED:
        return item, []
    if item.disabled_reason is not DisableReason.THRESHOLD_USED_UP:
        return item, []
    if item.on_hand > settings.switch_condition:
        return item, []
    threshold = effective_policy(settings, item).threshold
    if threshold is not None and item.on_hand + threshold <= 0:
        return item, []
    new = item.model_copy(update={"state": BackorderState.ENABLED, "disabled_reason": None})
    event = DomainEvent(
        type=EventType.BACKORDER_ENABLED, sku=item.sku, at=at,
        reason=DisableReason.THRESHOLD_FREED,
    )
    return new, [event]
