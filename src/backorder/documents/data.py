"""Orders as documents need them, read with SQLAlchemy Core from the ledger's tables.

Each line carries its stored decision (requested, in stock, backordered: the snapshot
taken when the order was placed) and the item's stock *now* (``items.on_hand``, shown
never below 0: on hand goes negative as backorders pile up, but a picker cannot find
−3 units on a shelf), the line's promised date, and what became of it (issue 14):
units cancelled and shipped, units that can ship now (in-stock units left, plus
backordered units whose stock has come, first come first served) and units still
waiting for stock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence

import sqlalchemy as sa
from pydantic import BaseModel

from backorder.errors import InvalidInput
from backorder.rules.allocation import allocate
from backorder.rules.lifecycle import LineCounts, left
from backorder.storage.receipts import backordered_lines
from backorder.storage.schema import items, order_lines, orders

CHUNK = 500


class DocumentError(InvalidInput):
    """A document that cannot be made from what was asked (unknown orders...)."""


class DocLine(BaseModel):
    line_no: int
    sku: str
    name: str
    requested: int
    in_stock: int
    backordered: int
    on_hand: int | None  # None: the item is no longer in the catalog
    stock_now: int  # max(on_hand, 0)
    eta: dt.datetime | None = None  # the promised date of the backordered units
    eta_status: str | None = None  # waiting | released | no_date; None: never dated
    cancelled: int = 0
    shipped: int = 0
    returned: int = 0
    to_ship: int = 0
    """Units that can ship now: in-stock units left and released backordered units."""
    waiting: int = 0
    """Backordered units still waiting for stock."""
    backordered_left: int = 0
    """Backordered units not shipped nor cancelled (waiting, or released)."""


class DocOrder(BaseModel):
    order_id: str
    placed_at: dt.datetime
    customer_email: str | None
    lines: list[DocLine]

    @property
    def backordered(self) -> int:
        """Units still waiting for stock."""
        return sum(line.waiting for line in self.lines)


def all_order_ids(conn: sa.Connection, store: str) -> list[str]:
    """Every accepted order of the store, oldest first."""
    query = (
        sa.select(orders.c.order_id)
        .where(orders.c.store == store, orders.c.accepted.is_(True))
        .order_by(orders.c.placed_at, orders.c.order_id)
    )
    return list(conn.execute(query).scalars())


def _query(store: str, order_ids: Sequence[str]) -> sa.Select:
    on_item = sa.and_(items.c.store == orders.c.store, items.c.sku == order_lines.c.sku)
    return (
        sa.select(
            orders.c.order_id,
            orders.c.placed_at,
            orders.c.customer_email,
            order_lines.c.line_no,
            order_lines.c.sku,
            order_lines.c.name,
            order_lines.c.requested,
            order_lines.c.in_stock,
            order_lines.c.backordered,
            order_lines.c.eta,
            order_lines.c.eta_status,
            order_lines.c.cancelled,
            order_lines.c.shipped,
            order_lines.c.returned,
            items.c.name.label("item_name"),
            items.c.on_hand,
        )
        .select_from(
            orders.join(order_lines, order_lines.c.order_pk == orders.c.id).outerjoin(
                items, on_item
            )
        )
        .where(orders.c.store == store, orders.c.order_id.in_(list(order_ids)))
        .order_by(orders.c.id, order_lines.c.line_no)
    )


def iter_orders(
    conn: sa.Connection,
    store: str,
    order_ids: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> Iterator[DocOrder]:
    """The orders named, in the order named; an unknown id is an error naming it.

    Reads ``CHUNK`` orders per query and calls ``progress(n)`` after each chunk.
    """
    order_ids = list(dict.fromkeys(order_ids))
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start : start + CHUNK]
        found: dict[str, DocOrder] = {}
        for row in conn.execute(_query(store, chunk)):
            order = found.get(row.order_id)
            if order is None:
                placed = row.placed_at
                if placed.tzinfo is None:  # SQLite hands back naive datetimes; all are UTC
                    placed = placed.replace(tzinfo=dt.UTC)
                order = found[row.order_id] = DocOrder(
                    order_id=row.order_id,
                    placed_at=placed,
                    customer_email=row.customer_email,
                    lines=[],
                )
            order.lines.append(
                DocLine(
                    line_no=row.line_no,
                    sku=row.sku,
                    name=row.name or row.item_name or row.sku,
                    requested=row.requested,
                    in_stock=row.in_stock,
                    backordered=row.backordered,
                    on_hand=row.on_hand,
                    stock_now=max(row.on_hand or 0, 0),
                    eta=row.eta.replace(tzinfo=dt.UTC)
                    if row.eta is not None and row.eta.tzinfo is None
                    else row.eta,
                    eta_status=row.eta_status,
                    cancelled=row.cancelled,
                    shipped=row.shipped,
                    returned=row.returned,
                )
            )
        _what_ships(conn, store, found.values())
        missing = [order_id for order_id in chunk if order_id not in found]
        if missing:
            raise DocumentError(f"no such order in store {store!r}: {', '.join(missing)}")
        yield from (found[order_id] for order_id in chunk)
        if progress is not None:
            progress(len(chunk))


def _what_ships(conn: sa.Connection, store: str, docs: Iterable[DocOrder]) -> None:
    """Fill each line's ``to_ship`` and ``waiting``: released units come from the SKU's
    first-come-first-served allocation (on hand now and every line still backordered)."""
    docs = list(docs)
    rest = {}
    for order in docs:
        for line in order.lines:
            rest[(order.order_id, line.line_no)] = left(LineCounts(
                line_no=line.line_no, sku=line.sku, in_stock=line.in_stock,
                backordered=line.backordered, cancelled=line.cancelled, shipped=line.shipped,
            ))
    released: dict[tuple[str, int], int] = {}
    on_hand = {line.sku: line.on_hand for order in docs for line in order.lines}
    for sku in sorted({line.sku for o in docs for line in o.lines
                       if rest[(o.order_id, line.line_no)].backordered}):
        stored = [s.line for s in backordered_lines(conn, store, sku)]
        for eta in allocate(on_hand[sku] or 0, stored, []).lines:
            released[(eta.order_id, eta.line_no)] = eta.released
    for order in docs:
        for line in order.lines:
            now = rest[(order.order_id, line.line_no)]
            free = min(released.get((order.order_id, line.line_no), 0), now.backordered)
            line.to_ship = now.in_stock + free
            line.waiting = now.backordered - free
            line.backordered_left = now.backordered
