"""The statements of record: items, the append-only stock ledger, orders and the event
outbox, read and written one row (or one query) at a time through SQLAlchemy Core.

These are the reference forms; :mod:`backorder.storage.fastpath` writes the same rows
set-based on the driver cursor where an operation's volume calls for it. Every function
takes an open connection: the caller decides the transaction, so an order, its stock
movements, its item updates and its events commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import overload

import sqlalchemy as sa

from backorder.models import DomainEvent, ItemState, LineDecision, OrderResult, RefusalReason
from backorder.storage import keys
from backorder.storage.schema import (
    ITEM_STATE_COLUMNS,
    events,
    items,
    movements,
    order_lines,
    orders,
)


class VersionConflict(Exception):
    """Another transaction changed the item between our read and our write; retry."""


@dataclass(frozen=True)
class Loaded:
    """An item as read, with the row id and version a conditional write needs."""

    row_id: int
    version: int
    item: ItemState


@overload
def as_utc(value: dt.datetime) -> dt.datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; every datetime in the ledger is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _row_to_loaded(row: sa.Row) -> Loaded:
    data = {name: getattr(row, name) for name in ITEM_STATE_COLUMNS}
    data["back_in_stock_date"] = as_utc(data["back_in_stock_date"])
    return Loaded(row.id, row.version, ItemState.model_validate(data))


def load_items(
    conn: sa.Connection,
    store: str,
    *,
    skus: Iterable[str] | None = None,
    product_ids: Iterable[str] | None = None,
    assigned: bool | None = None,
    due_before: dt.datetime | None = None,
) -> dict[str, Loaded]:
    """Items of a store keyed by SKU, filtered by whichever arguments are given."""
    query = sa.select(items).where(items.c.store == store).order_by(items.c.sku)
    if skus is not None:
        query = query.where(items.c.sku.in_(list(skus)))
    if product_ids is not None:
        query = query.where(items.c.product_id.in_(list(product_ids)))
    if assigned is not None:
        query = query.where(items.c.assigned == assigned)
    if due_before is not None:
        query = query.where(items.c.back_in_stock_date <= due_before)
    return {row.sku: _row_to_loaded(row) for row in conn.execute(query)}


def insert_item(
    conn: sa.Connection,
    store: str,
    item: ItemState,
    at: dt.datetime,
    *,
    category: str | None = None,
    brand: str | None = None,
) -> None:
    values = item.model_dump(mode="python")
    conn.execute(
        items.insert().values(
            store=store, version=0, updated_at=at, category=category, brand=brand, **values
        )
    )


def write_item(conn: sa.Connection, loaded: Loaded, new: ItemState, at: dt.datetime) -> None:
    """Conditional write: succeeds only if nobody changed the row since ``loaded`` was read."""
    changed = {
        name: value
        for name, value in new.model_dump(mode="python").items()
        if value != getattr(loaded.item, name)
    }
    if not changed:
        return
    result = conn.execute(
        items.update()
        .where(items.c.id == loaded.row_id, items.c.version == loaded.version)
        .values(version=loaded.version + 1, updated_at=at, **changed)
    )
    if result.rowcount != 1:
        raise VersionConflict(new.sku)


def movement_applied(conn: sa.Connection, store: str, key: str) -> bool:
    query = sa.select(movements.c.id).where(
        movements.c.store == store, movements.c.idempotency_key == keys.bounded(key)
    )
    return conn.execute(query).first() is not None


def movement_on_hand_after(conn: sa.Connection, store: str, key: str) -> int | None:
    """The stock figure the movement with this idempotency key left, or None if none."""
    query = sa.select(movements.c.on_hand_after).where(
        movements.c.store == store, movements.c.idempotency_key == key
    )
    return conn.execute(query).scalar()


def record_movement(
    conn: sa.Connection,
    store: str,
    *,
    sku: str,
    delta: int,
    on_hand_after: int,
    kind: str,
    source: str,
    key: str,
    at: dt.datetime,
    as_of: dt.datetime | None = None,
) -> None:
    conn.execute(
        movements.insert().values(
            store=store,
            sku=sku,
            delta=delta,
            on_hand_after=on_hand_after,
            kind=kind,
            source=source,
            idempotency_key=keys.bounded(key),
            created_at=at,
            as_of=as_of,
        )
    )


def latest_levels(conn: sa.Connection, store: str, skus: Sequence[str]) -> dict[str, dt.datetime]:
    """The newest ``as_of`` among each SKU's movements: when the last platform figure
    applied to it was true (SKUs never given one are absent)."""
    return _newest_as_of(conn, store, skus, movements.c.as_of.is_not(None))


def _newest_as_of(
    conn: sa.Connection, store: str, skus: Sequence[str], *where: sa.ColumnElement[bool]
) -> dict[str, dt.datetime]:
    """Per SKU, the newest ``as_of`` of its movements that match ``where`` (SKUs with none
    are absent)."""
    if not skus:
        return {}
    query = (
        sa.select(movements.c.sku, sa.func.max(movements.c.as_of))
        .where(movements.c.store == store, movements.c.sku.in_(list(skus)), *where)
        .group_by(movements.c.sku)
    )
    rows = ((sku, as_utc(when)) for sku, when in conn.execute(query))
    return {sku: when for sku, when in rows if when is not None}


NET_SOURCE = "(net of platform orders)"
"""The end of a ``net_of_orders`` sync movement's source: how its watermark is found."""


def net_watermarks(
    conn: sa.Connection, store: str, skus: Sequence[str]
) -> dict[str, dt.datetime]:
    """Per SKU, the newest ``as_of`` of a ``net_of_orders`` figure applied: platform orders
    placed up to then are counted in the stock already."""
    return _newest_as_of(
        conn, store, skus, movements.c.kind == "sync", movements.c.source.endswith(NET_SOURCE)
    )


def order_delta_after(conn: sa.Connection, store: str, sku: str, when: dt.datetime) -> int:
    """The stock the ledger's order movements of a SKU placed after ``when`` took (<= 0)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(movements.c.delta), 0)).where(
        movements.c.store == store,
        movements.c.sku == sku,
        movements.c.kind == "order",
        movements.c.created_at > when,
    )
    return int(conn.execute(query).scalar_one())


def ledger_balance(conn: sa.Connection, store: str, sku: str) -> int:
    """The sum of every movement of a SKU: equals its on-hand stock when the books agree."""
    query = sa.select(sa.func.coalesce(sa.func.sum(movements.c.delta), 0)).where(
        movements.c.store == store, movements.c.sku == sku
    )
    return int(conn.execute(query).scalar_one())


def record_events(conn: sa.Connection, store: str, domain_events: list[DomainEvent]) -> None:
    if domain_events:
        conn.execute(
            events.insert(),
            [
                {
                    "store": store,
                    "type": e.type.value,
                    "sku": e.sku,
                    "reason": e.reason.value if e.reason else None,
                    "data": e.data,
                    "at": e.at,
                }
                for e in domain_events
            ],
        )


def pending_events(
    conn: sa.Connection, store: str, limit: int = 500
) -> list[tuple[int, DomainEvent]]:
    query = (
        sa.select(events)
        .where(events.c.store == store, events.c.dispatched_at.is_(None))
        .order_by(events.c.id)
        .limit(limit)
    )
    return [
        (
            row.id,
            DomainEvent(
                type=row.type, sku=row.sku, reason=row.reason, data=row.data, at=as_utc(row.at)
            ),
        )
        for row in conn.execute(query)
    ]


def mark_dispatched(conn: sa.Connection, event_ids: list[int], at: dt.datetime) -> None:
    if event_ids:
        conn.execute(events.update().where(events.c.id.in_(event_ids)).values(dispatched_at=at))


def load_order(conn: sa.Connection, store: str, order_id: str) -> OrderResult | None:
    row = conn.execute(
        sa.select(orders).where(orders.c.store == store, orders.c.order_id == order_id)
    ).first()
    if row is None:
        return None
    lines = conn.execute(
        sa.select(order_lines)
        .where(order_lines.c.order_pk == row.id)
        .order_by(order_lines.c.line_no)
    )
    return OrderResult(
        order_id=order_id,
        accepted=row.accepted,
        errors=row.errors,
        lines=[
            LineDecision(
                line_no=line.line_no,
                sku=line.sku,
                requested=line.requested,
                in_stock=line.in_stock,
                backordered=line.backordered,
                accepted=line.accepted,
                error=line.error,
                message=line.message,
                reason=RefusalReason.of(line.error),
            )
            for line in lines
        ],
    )
