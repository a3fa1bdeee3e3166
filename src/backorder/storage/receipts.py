"""Expected receipts and the stored promise (ETA) of each backordered order line."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa

from backorder.rules.allocation import BackorderedLine, Receipt
from backorder.rules.lifecycle import LineCounts, left
from backorder.storage.records import as_utc
from backorder.storage.schema import order_lines, orders, receipts


def upsert_receipt(
    conn: sa.Connection,
    store: str,
    *,
    sku: str,
    ref: str,
    qty: int,
    expected_at: dt.datetime,
    at: dt.datetime,
) -> str | None:
    """Create or change an expected receipt; returns its previous status (None if new)."""
    row = conn.execute(
        sa.select(receipts.c.id, receipts.c.status).where(
            receipts.c.store == store, receipts.c.sku == sku, receipts.c.ref == ref
        )
    ).first()
    values = {"qty": qty, "expected_at": expected_at, "updated_at": at}
    if row is None:
        conn.execute(
            receipts.insert().values(store=store, sku=sku, ref=ref, status="expected", **values)
        )
        return None
    if row.status == "expected":
        conn.execute(receipts.update().where(receipts.c.id == row.id).values(**values))
    return row.status


def set_status(
    conn: sa.Connection, store: str, sku: str, ref: str, status: str, at: dt.datetime
) -> tuple[str, int] | None:
    """Move a receipt to ``status``; returns its (previous status, qty), None if unknown."""
    row = conn.execute(
        sa.select(receipts.c.id, receipts.c.status, receipts.c.qty).where(
            receipts.c.store == store, receipts.c.sku == sku, receipts.c.ref == ref
        )
    ).first()
    if row is None:
        return None
    conn.execute(
        receipts.update().where(receipts.c.id == row.id).values(status=status, updated_at=at)
    )
    return row.status, row.qty


def expected(conn: sa.Connection, store: str, sku: str) -> list[Receipt]:
    query = sa.select(receipts).where(
        receipts.c.store == store, receipts.c.sku == sku, receipts.c.status == "expected"
    )
    return [
        Receipt(ref=r.ref, qty=r.qty, expected_at=as_utc(r.expected_at))
        for r in conn.execute(query)
    ]


class StoredLine(NamedTuple):
    pk: int
    line: BackorderedLine
    eta: dt.datetime | None
    status: str | None  # None: never dated
    customer_email: str | None
    name: str


def backordered_lines(conn: sa.Connection, store: str, sku: str) -> list[StoredLine]:
    """Accepted order lines of a SKU with backordered units left (not cancelled, not
    shipped), with their stored promise: cancelled and shipped units leave the allocation."""
    query = (
        sa.select(
            order_lines.c.id,
            order_lines.c.line_no,
            order_lines.c.in_stock,
            order_lines.c.backordered,
            order_lines.c.cancelled,
            order_lines.c.shipped,
            order_lines.c.eta,
            order_lines.c.eta_status,
            order_lines.c.name,
            orders.c.order_id,
            orders.c.placed_at,
            orders.c.customer_email,
        )
        .join(orders, orders.c.id == order_lines.c.order_pk)
        .where(
            orders.c.store == store,
            orders.c.accepted.is_(True),
            order_lines.c.sku == sku,
            order_lines.c.accepted.is_(True),
            order_lines.c.backordered > 0,
        )
    )
    return [
        StoredLine(
            row.id,
            BackorderedLine(
                order_id=row.order_id,
                line_no=row.line_no,
                placed_at=as_utc(row.placed_at),
                backordered=_waiting(row),
            ),
            as_utc(row.eta),
            row.eta_status,
            row.customer_email,
            row.name,
        )
        for row in conn.execute(query)
        if _waiting(row)
    ]


def _waiting(row: sa.Row) -> int:
    return left(LineCounts(
        line_no=row.line_no, sku="", in_stock=row.in_stock, backordered=row.backordered,
        cancelled=row.cancelled, shipped=row.shipped,
    )).backordered


def store_eta(conn: sa.Connection, line_pk: int, eta: dt.datetime | None, status: str) -> None:
    conn.execute(
        order_lines.update().where(order_lines.c.id == line_pk).values(eta=eta, eta_status=status)
    )
