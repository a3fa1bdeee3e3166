"""An order's lines with their running totals, written conditionally, and the cancels,
shipments and returns applied (``order_changes``), each kept once per idempotency key."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import sqlalchemy as sa

from backorder.rules.lifecycle import LineCounts
from backorder.storage.records import VersionConflict
from backorder.storage.schema import order_changes, order_lines, orders


class StoredOrder(NamedTuple):
    pk: int
    accepted: bool
    placed_at: dt.datetime
    customer_email: str | None
    lines: dict[int, tuple[int, LineCounts]]
    """Accepted lines by line number: (row id, counts)."""
    names: dict[int, str]


def load(conn: sa.Connection, store: str, order_id: str) -> StoredOrder | None:
    row = conn.execute(
        sa.select(orders).where(orders.c.store == store, orders.c.order_id == order_id)
    ).first()
    if row is None:
        return None
    query = (
        sa.select(order_lines)
        .where(order_lines.c.order_pk == row.id, order_lines.c.accepted.is_(True))
        .order_by(order_lines.c.line_no)
    )
    lines, names = {}, {}
    for line in conn.execute(query):
        lines[line.line_no] = (line.id, LineCounts(
            line_no=line.line_no, sku=line.sku, in_stock=line.in_stock,
            backordered=line.backordered, cancelled=line.cancelled, shipped=line.shipped,
            returned=line.returned,
        ))
        names[line.line_no] = line.name
    return StoredOrder(row.id, row.accepted, row.placed_at, row.customer_email, lines, names)


def write_line(conn: sa.Connection, pk: int, old: LineCounts, new: LineCounts) -> None:
    """Write a line's totals if nobody changed them since ``old`` was read (else the
    transaction runs again): two cancels or shipments racing cannot both take a unit."""
    result = conn.execute(
        order_lines.update()
        .where(
            order_lines.c.id == pk,
            order_lines.c.cancelled == old.cancelled,
            order_lines.c.shipped == old.shipped,
            order_lines.c.returned == old.returned,
        )
        .values(cancelled=new.cancelled, shipped=new.shipped, returned=new.returned)
    )
    if result.rowcount != 1:
        raise VersionConflict(f"order line {pk}")


def applied(conn: sa.Connection, store: str, key: str) -> dict[str, Any] | None:
    """The first answer given under this key, or None."""
    row = conn.execute(
        sa.select(order_changes.c.result).where(
            order_changes.c.store == store, order_changes.c.idempotency_key == key
        )
    ).first()
    return None if row is None else dict(row.result)


def record(
    conn: sa.Connection, store: str, *, key: str, order_id: str, kind: str,
    result: dict[str, Any], at: dt.datetime,
) -> None:
    conn.execute(order_changes.insert().values(
        store=store, idempotency_key=key, order_id=order_id, kind=kind, result=result,
        created_at=at,
    ))


def lines_of(conn: sa.Connection, store: str, sku: str) -> dict[tuple[str, int], LineCounts]:
    """Every accepted line of a SKU with its totals, by (order id, line number)."""
    query = (
        sa.select(order_lines, orders.c.order_id)
        .join(orders, orders.c.id == order_lines.c.order_pk)
        .where(orders.c.store == store, order_lines.c.sku == sku,
               order_lines.c.accepted.is_(True))
    )
    return {
        (row.order_id, row.line_no): LineCounts(
            line_no=row.line_no, sku=row.sku, in_stock=row.in_stock,
            backordered=row.backordered, cancelled=row.cancelled, shipped=row.shipped,
            returned=row.returned,
        )
        for row in conn.execute(query)
    }
