"""Statements for the hot paths: built once, executed with bound parameters, set-based.

The engine's per-operation functions (:mod:`backorder.storage.ledger`) build a fresh
statement for every call (``.values(...)`` with literals), which SQLAlchemy must coerce
and hash before it can reuse the compiled SQL; on an order that is most of the time.
Here every statement is a module-level constant whose values come only from bound
parameters, so it is compiled once and cached. Rows, tables and indexes are exactly
those of the ledger functions.

:func:`receive_due` is the back-in-stock receipt as ``INSERT … SELECT`` and
``UPDATE … WHERE`` over every due item at once; it gives exactly the result of
:func:`backorder.rules.receive_incoming` plus :func:`backorder.rules.settle` applied
item by item (tested against that path on random data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from backorder.models import (
    BackorderState,
    DisableReason,
    DomainEvent,
    EventType,
    ItemState,
    OrderResult,
    StoreSettings,
)
from backorder.storage.ledger import Loaded, VersionConflict, _row_to_loaded
from backorder.storage.schema import items, movements, order_lines, orders

_p = sa.bindparam

_ORDER_EXISTS = sa.select(orders.c.id).where(
    orders.c.store == _p("store"), orders.c.order_id == _p("order_id")
)
_ITEMS_BY_SKU = (
    sa.select(items)
    .where(items.c.store == _p("store"), items.c.sku.in_(_p("skus", expanding=True)))
    .order_by(items.c.sku)
)
_INSERT_ORDER = orders.insert().returning(orders.c.id)
_INSERT_LINES = order_lines.insert()
_INSERT_MOVEMENTS = movements.insert()
_UPDATES: dict[tuple[str, ...], sa.Update] = {}


def order_exists(conn: sa.Connection, store: str, order_id: str) -> bool:
    return conn.execute(_ORDER_EXISTS, {"store": store, "order_id": order_id}).first() is not None


def load_items(conn: sa.Connection, store: str, skus: Iterable[str]) -> dict[str, Loaded]:
    """Items of a store by SKU, like ``ledger.load_items(conn, store, skus=...)``."""
    rows = conn.execute(_ITEMS_BY_SKU, {"store": store, "skus": list(skus)})
    return {row.sku: _row_to_loaded(row) for row in rows}


def save_order(
    conn: sa.Connection,
    store: str,
    result: OrderResult,
    *,
    placed_at: dt.datetime,
    customer_email: str | None,
    names: dict[str, str],
) -> None:
    """The order and its lines' decisions, as :func:`ledger.save_order` writes them."""
    order_pk = conn.execute(
        _INSERT_ORDER,
        {
            "store": store,
            "order_id": result.order_id,
            "placed_at": placed_at,
            "customer_email": customer_email,
            "accepted": result.accepted,
            "errors": result.errors,
        },
    ).scalar_one()
    conn.execute(
        _INSERT_LINES,
        [
            {"order_pk": order_pk, "name": names.get(line.sku, ""), **line.model_dump()}
            for line in result.lines
        ],
    )


def record_movements(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Ledger rows (``store, sku, delta, on_hand_after, kind, source, idempotency_key,
    created_at``) in one ``executemany``."""
    if rows:
        conn.execute(_INSERT_MOVEMENTS, list(rows))


def _update_for(columns: tuple[str, ...]) -> sa.Update:
    stmt = _UPDATES.get(columns)
    if stmt is None:
        stmt = (
            items.update()
            .where(items.c.id == _p("w_id"), items.c.version == _p("w_version"))
            .values(
                version=_p("w_new_version"),
                updated_at=_p("w_at", type_=items.c.updated_at.type),
                **{name: _p(f"v_{name}", type_=items.c[name].type) for name in columns},
            )
        )
        _UPDATES[columns] = stmt
    return stmt


def write_item(conn: sa.Connection, loaded: Loaded, new: ItemState, at: dt.datetime) -> None:
    """:func:`ledger.write_item` (conditional on the version read) with a cached statement."""
    changed = {
        name: value
        for name, value in new.model_dump(mode="python").items()
        if value != getattr(loaded.item, name)
    }
    if not changed:
        return
    params = {f"v_{name}": value for name, value in changed.items()}
    params |= {
        "w_id": loaded.row_id,
        "w_version": loaded.version,
        "w_new_version": loaded.version + 1,
        "w_at": at,
    }
    if conn.execute(_update_for(tuple(sorted(changed))), params).rowcount != 1:
        raise VersionConflict(new.sku)


# ------------------------------------------------------------------ back-in-stock receipt
_AUTOMATIC = [
    DisableReason.THRESHOLD_USED_UP.value,
    DisableReason.BACK_IN_STOCK_DATE.value,
    DisableReason.STOCK_RECOVERED.value,
]


def iso_utc(conn: sa.Connection, column: sa.ColumnElement) -> sa.ColumnElement:
    """SQL for ``value.astimezone(UTC).isoformat()`` of a stored datetime (the receipt key)."""
    if conn.dialect.name == "sqlite":
        # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC wall time); isoformat drops a zero fraction
        fraction = sa.func.substr(column, 20, 7)
        return (
            sa.func.substr(column, 1, 10)
            + "T"
            + sa.func.substr(column, 12, 8)
            + sa.case((fraction.in_([".000000", ""]), ""), else_=fraction)
            + "+00:00"
        )
    utc = sa.func.timezone("UTC", column)
    micro = sa.cast(sa.func.extract("microseconds", column), sa.Integer) % 1_000_000
    return (
        sa.func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
        + sa.case((micro == 0, ""), else_=sa.func.to_char(utc, ".US"))
        + "+00:00"
    )


def receive_due(
    conn: sa.Connection, store: str, settings: StoreSettings, now: dt.datetime
) -> tuple[list[str], list[DomainEvent]]:
    """Receive the incoming stock of every assigned item whose back-in-stock date has come.

    Three statements whatever the number of items: the ledger rows (``INSERT … SELECT``,
    key ``receipt:{sku}:{date}``), then the items (``UPDATE … WHERE``: on hand += incoming,
    incoming and date cleared, backorder disabled for ``back_in_stock_date`` or re-armed
    when stock is back above the switch condition, version + 1). An item whose receipt key
    is already in the ledger is left alone, as on the per-item path. Python only builds the
    ``backorder_disabled`` events. Returns ``(SKUs received, events)``; the caller records
    the events with the others.
    """
    iso = iso_utc(conn, items.c.back_in_stock_date)
    key = sa.literal("receipt:") + items.c.sku + ":" + iso
    booked = (
        sa.select(movements.c.id)
        .where(movements.c.store == store, movements.c.idempotency_key == key)
        .exists()
    )
    due = sa.and_(
        items.c.store == store,
        items.c.assigned == sa.true(),
        items.c.back_in_stock_date <= now,
    )
    pick = (
        sa.select(items.c.sku, items.c.incoming_qty, items.c.state)
        .where(due, ~booked)
        .order_by(items.c.sku)
    )
    if conn.dialect.name != "sqlite":
        pick = pick.with_for_update()  # SQLite's BEGIN IMMEDIATE already holds the write lock
    picked = conn.execute(pick).all()
    if not picked:
        return [], []
    mark = conn.execute(sa.select(sa.func.coalesce(sa.func.max(movements.c.id), 0))).scalar_one()
    conn.execute(
        movements.insert().from_select(
            [
                "store",
                "sku",
                "delta",
                "on_hand_after",
                "kind",
                "source",
                "idempotency_key",
                "created_at",
            ],
            sa.select(
                items.c.store,
                items.c.sku,
                items.c.incoming_qty,
                items.c.on_hand + items.c.incoming_qty,
                sa.literal("receipt"),
                sa.literal("back-in-stock date ") + iso,
                key,
                sa.literal(now, items.c.updated_at.type),
            )
            .where(due, ~booked)
            .order_by(items.c.sku),
        )
    )
    just_booked = (
        sa.select(movements.c.id)
        .where(
            movements.c.store == store, movements.c.idempotency_key == key, movements.c.id > mark
        )
        .exists()
    )
    reason = sa.case(
        (items.c.state == BackorderState.DISABLED.value, items.c.disabled_reason),
        else_=DisableReason.BACK_IN_STOCK_DATE.value,
    )
    mode = sa.func.coalesce(items.c.overrides["mode"].as_string(), settings.defaults.mode.value)
    rearm = sa.and_(
        items.c.tracked == sa.true(),
        mode != "off",
        items.c.on_hand + items.c.incoming_qty > settings.switch_condition,
        reason.in_(_AUTOMATIC),
    )
    conn.execute(
        items.update()
        .where(due, just_booked)
        .values(
            on_hand=items.c.on_hand + items.c.incoming_qty,
            incoming_qty=0,
            back_in_stock_date=None,
            state=sa.case((rearm, BackorderState.IDLE.value), else_=BackorderState.DISABLED.value),
            disabled_reason=sa.case((rearm, None), else_=reason),
            version=items.c.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return [sku for sku, _, _ in picked], [
        DomainEvent.model_construct(
            type=EventType.BACKORDER_DISABLED,
            sku=sku,
            at=now,
            reason=DisableReason.BACK_IN_STOCK_DATE,
            data={"received": incoming},
        )
        for sku, incoming, state in picked
        if state != BackorderState.DISABLED.value
    ]


# -------------------------------------------------------------------- order batches
CHUNK = 5_000
"""Values per ``IN (...)`` list (far under SQLite's and PostgreSQL's parameter limits)."""

_ORDERS_IN = sa.select(orders.c.order_id).where(
    orders.c.store == _p("store"), orders.c.order_id.in_(_p("ids", expanding=True))
)
_INSERT_ORDERS = orders.insert().returning(orders.c.id, sort_by_parameter_order=True)


def existing_orders(conn: sa.Connection, store: str, order_ids: Sequence[str]) -> set[str]:
    ids, out = list(dict.fromkeys(order_ids)), set()
    for i in range(0, len(ids), CHUNK):
        out |= set(conn.execute(_ORDERS_IN, {"store": store, "ids": ids[i : i + CHUNK]}).scalars())
    return out


def load_many(conn: sa.Connection, store: str, skus: Iterable[str]) -> dict[str, Loaded]:
    """:func:`load_items` for any number of SKUs (in chunks), still keyed in SKU order."""
    wanted, out = sorted(set(skus)), {}
    for i in range(0, len(wanted), CHUNK):
        out |= load_items(conn, store, wanted[i : i + CHUNK])
    return out


def save_orders(
    conn: sa.Connection,
    store: str,
    placed: Sequence[tuple[OrderResult, dt.datetime, str | None, dict[str, str]]],
) -> None:
    """Many ``(result, placed_at, customer_email, names)``: one insert for the orders (ids
    returned in order), one for all their lines; the rows :func:`save_order` writes."""
    if not placed:
        return
    pks = (
        conn.execute(
            _INSERT_ORDERS,
            [
                {
                    "store": store,
                    "order_id": r.order_id,
                    "placed_at": at,
                    "customer_email": email,
                    "accepted": r.accepted,
                    "errors": r.errors,
                }
                for r, at, email, _ in placed
            ],
        )
        .scalars()
        .all()
    )
    conn.execute(
        _INSERT_LINES,
        [
            {"order_pk": pk, "name": names.get(line.sku, ""), **line.model_dump()}
            for pk, (result, _, _, names) in zip(pks, placed, strict=True)
            for line in result.lines
        ],
    )


def write_items(
    conn: sa.Connection, writes: Sequence[tuple[Loaded, ItemState, dt.datetime]]
) -> None:
    """Conditional writes of many items, one ``executemany`` per set of changed columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for loaded, new, at in writes:
        changed = {
            name: value
            for name, value in new.model_dump(mode="python").items()
            if value != getattr(loaded.item, name)
        }
        if not changed:
            continue
        params = {f"v_{name}": value for name, value in changed.items()}
        params |= {
            "w_id": loaded.row_id,
            "w_version": loaded.version,
            "w_new_version": loaded.version + 1,
            "w_at": at,
        }
        groups.setdefault(tuple(sorted(changed)), []).append(params)
    for columns, rows in groups.items():
        result = conn.execute(_update_for(columns), rows)
        if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
            raise VersionConflict(f"{len(rows)} items")
