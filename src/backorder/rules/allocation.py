"""Incoming stock fills backorders first come, first served, with a date per order line.

Pure: given a SKU's on-hand stock, its backordered order lines and its expected
receipts, say which lines are released (stock arrived for them), which wait for which
receipt (their ETA), and which no receipt covers yet (no date).

- Released units = everything ever backordered minus what is still outstanding
  (``max(-on_hand, 0)``), handed to the oldest lines first.
- Waiting units take receipt capacity oldest line first, receipts in expected-date
  order; a line's ETA is the date of the receipt that covers its last waiting unit.
- A receipt never promises more units than it holds; a line only partly covered has
  no date. The result depends only on the inputs as sets: the order in which they are
  given (or arrived) does not matter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, NonNegativeInt


class LineStatus(StrEnum):
    RELEASED = "released"  # stock is here for every backordered unit: it can ship
    WAITING = "waiting"  # waits for a receipt: has an ETA
    NO_DATE = "no_date"  # no expected receipt covers it (yet)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackorderedLine(_Frozen):
    order_id: str
    line_no: int
    placed_at: dt.datetime
    backordered: NonNegativeInt


class Receipt(_Frozen):
    ref: str
    qty: NonNegativeInt
    expected_at: dt.datetime


class LineEta(_Frozen):
    order_id: str
    line_no: int
    placed_at: dt.datetime
    backordered: int
    released: int
    waiting: int
    eta: dt.datetime | None
    status: LineStatus
    receipts: tuple[str, ...] = ()
    """Refs of the receipts this line's waiting units are promised from."""


class Allocation(_Frozen):
    lines: tuple[LineEta, ...]
    promised: dict[str, int]
    """Units promised from each receipt (never above its qty)."""
    next_eta: dt.datetime | None
    """The date a new backordered unit would get: the next receipt with room left."""


def _line_key(line: BackorderedLine) -> tuple:
    return (line.placed_at, line.order_id, line.line_no)


def _receipt_key(receipt: Receipt) -> tuple:
    return (receipt.expected_at, receipt.ref)


def allocate(
    on_hand: int, lines: Iterable[BackorderedLine], receipts: Iterable[Receipt]
) -> Allocation:
    lines = sorted(lines, key=_line_key)
    receipts = sorted((r for r in receipts if r.qty > 0), key=_receipt_key)
    outstanding = max(-on_hand, 0)
    to_release = max(sum(line.backordered for line in lines) - outstanding, 0)
    room = [r.qty for r in receipts]
    promised = {r.ref: 0 for r in receipts}
    cursor = 0  # first receipt with room left
    out: list[LineEta] = []
    for line in lines:
        released = min(line.backordered, to_release)
        to_release -= released
        waiting = line.backordered - released
        need, used, last = waiting, [], None
        while need and cursor < len(receipts):
            take = min(need, room[cursor])
            room[cursor] -= take
            need -= take
            promised[receipts[cursor].ref] += take
            used.append(receipts[cursor].ref)
            last = receipts[cursor].expected_at
            if room[cursor] == 0:
                cursor += 1
        if waiting == 0:
            status, eta = LineStatus.RELEASED, None
        elif need:
            status, eta = LineStatus.NO_DATE, None
        else:
            status, eta = LineStatus.WAITING, last
        out.append(LineEta(
            order_id=line.order_id, line_no=line.line_no, placed_at=line.placed_at,
            backordered=line.backordered, released=released, waiting=waiting, eta=eta,
            status=status, receipts=tuple(used),
        ))
    next_eta = receipts[cursor].expected_at if cursor < len(receipts) else None
    return Allocation(lines=tuple(out), promised=promised, next_eta=next_eta)
