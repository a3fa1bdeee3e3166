"""The web app's reads, in SQL: lists are paginated, searched and filtered by the database.

A page of a store with 100,000 items reads one page of rows, a count and the few totals
the layout shows; it never loads the catalog into Python. The rows of a page become
:class:`~backorder.models.ItemView` through the ledger's own reader and the rules'
``view``, as everywhere else.

:func:`status_column` is the rules' status (:func:`backorder.rules.availability.status`)
written as one SQL expression; the status filter and the status counts read the status
stored on each row (``items.status``, kept by triggers, see
:mod:`backorder.storage.item_status`) through an index, and a name or SKU search narrows
the rows through a trigram index (:mod:`backorder.storage.item_search`). A store page
first calls :func:`backorder.storage.item_status.ensure`, so the stored statuses are
those of the settings in force.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from backorder import rules
from backorder.models import DomainEvent, ItemView, Status, StoreSettings
from backorder.storage import item_search, item_status, records
from backorder.storage.item_status import status_column
from backorder.storage.schema import events, items

ALL_STATUSES = tuple(Status)


# --------------------------------------------------------------------------- item lists
@dataclass(frozen=True)
class ItemFilter:
    """What the item list shows: a text search, facets, assignment and status."""

    search: str = ""
    category: str = ""
    brand: str = ""
    assigned: str = ""  # "", "yes", "no"
    status: str = ""  # "" or a Status value

    def where(
        self, store: str, dialect: str, settings: StoreSettings, status: Any = None
    ) -> list[Any]:
        """``status``: the status expression to filter on (default the stored column)."""
        c = items.c
        clauses: list[Any] = [c.store == store]
        if self.search:
            clauses.append(item_search.contains(dialect, self.search))
        if self.category:
            clauses.append(c.category == self.category)
        if self.brand:
            clauses.append(c.brand == self.brand)
        if self.assigned in ("yes", "no"):
            clauses.append(c.assigned == (sa.true() if self.assigned == "yes" else sa.false()))
        if self.status:
            clauses.append((c.status if status is None else status) == self.status)
        return clauses


def status_expr(conn: sa.Connection, store: str, settings: StoreSettings) -> Any:
    """The stored status while it is current for ``settings``, else the same status
    computed in SQL: a command that only shows things (``backorder status``) never writes,
    so it cannot :func:`~backorder.storage.item_status.ensure` the stored one first. The web
    app ensures it before each page and leaves ``status`` at its default, the column."""
    if item_status.current(conn, store, settings):
        return items.c.status
    return status_column(conn.dialect.name, settings)


@dataclass(frozen=True)
class ItemRow:
    view: ItemView
    category: str | None
    brand: str | None


def item_page(
    conn: sa.Connection,
    store: str,
    settings: StoreSettings,
    where: ItemFilter,
    *,
    offset: int,
    limit: int,
    count: bool = True,
    status: Any = None,
) -> tuple[list[ItemRow], int | None]:
    """One page of items (by SKU) and how many match in all (``count``; else ``None`` and
    one row more than the page when there is a next page: a filtered count would read
    every row of the store a second time)."""
    dialect = conn.dialect.name
    clauses = where.where(store, dialect, settings, status)
    total = None
    if count:
        total = conn.scalar(sa.select(sa.func.count()).select_from(items).where(*clauses)) or 0
    page = conn.execute(
        sa.select(items.c.sku, items.c.category, items.c.brand)
        .where(*clauses)
        .order_by(items.c.sku)
        .offset(offset)
        .limit(limit if count else limit + 1)
    ).all()
    loaded = records.load_items(conn, store, skus=[row.sku for row in page]) if page else {}
    rows = [
        ItemRow(rules.view(loaded[row.sku].item, settings), row.category, row.brand)
        for row in page
        if row.sku in loaded
    ]
    return rows, total


def facets(conn: sa.Connection, store: str, column: str, limit: int = 500) -> list[str]:
    """The distinct categories (or brands) of a store's items, for the filter menus."""
    col = items.c[column]
    query = (
        sa.select(col).where(items.c.store == store, col.is_not(None), col != "")
        .group_by(col).order_by(col).limit(limit)
    )
    return list(conn.scalars(query))


# --------------------------------------------------------------------------- totals
@dataclass(frozen=True)
class Totals:
    """What the layout shows on every page: status counts and the plan's use."""

    statuses: dict[str, int]
    assigned_items: int
    assigned_products: int
    backordered_units: int


def totals(
    conn: sa.Connection, store: str, settings: StoreSettings, status: Any = None
) -> Totals:
    """Status counts of the assigned items, assigned products (the plan counts products:
    an item without a product id is its own product) and units on backorder: one query."""
    c = items.c
    status = (c.status if status is None else status).label("status")
    per_status = (  # an index-only scan of (store, assigned, status, tracked, on_hand)
        sa.select(
            status,
            sa.func.count().label("n"),
            sa.func.coalesce(
                sa.func.sum(sa.case((sa.and_(c.tracked == sa.true(), c.on_hand < 0),
                                     -c.on_hand), else_=0)), 0
            ).label("backordered"),
        )
        .where(c.store == store, c.assigned == sa.true())
        .group_by(status)
    )
    counts = {s.value: 0 for s in Status}
    backordered = 0
    for row in conn.execute(per_status):
        if row.status in counts:  # NULL: a store whose statuses were never computed
            counts[row.status] = row.n
        backordered += int(row.backordered)
    products = conn.scalar(
        sa.select(sa.func.count(sa.distinct(sa.func.coalesce(c.product_id, c.sku)))).where(
            c.store == store, c.assigned == sa.true()
        )
    )
    return Totals(counts, sum(counts.values()), int(products or 0), backordered)


def recent_events(conn: sa.Connection, store: str, limit: int = 8) -> list[DomainEvent]:
    query = (
        sa.select(events.c.type, events.c.sku, events.c.reason, events.c.data, events.c.at)
        .where(events.c.store == store)
        .order_by(events.c.id.desc())
        .limit(limit)
    )
    return [
        DomainEvent(
            type=row.type, sku=row.sku, reason=row.reason, data=row.data,
            at=row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC),
        )
        for row in conn.execute(query)
    ]


def skus_for_preview(conn: sa.Connection, store: str, search: str, limit: int = 20) -> list[str]:
    """Assigned SKUs whose SKU or name starts with ``search`` (the preview's item picker)."""
    where = ItemFilter(search=search, assigned="yes").where(store, conn.dialect.name,
                                                            StoreSettings())
    query = sa.select(items.c.sku).where(*where).order_by(items.c.sku).limit(limit)
    return list(conn.scalars(query))


def first_with_status(conn: sa.Connection, store: str, value: str) -> str | None:
    """The first assigned SKU with this (stored) status (the preview's default item)."""
    query = (
        sa.select(items.c.sku)
        .where(items.c.store == store, items.c.assigned == sa.true(), items.c.status == value)
        .order_by(items.c.sku)
        .limit(1)
    )
    return conn.scalar(query)


__all__ = [
    "ItemFilter",
    "ItemRow",
    "Totals",
    "facets",
    "item_page",
    "recent_events",
    "status_column",
    "totals",
]
