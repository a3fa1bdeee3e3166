"""The backorder report (seed 001 §5): one record per backordered order line.

Order dates are shown, and date filters read, in the store's time zone
(``StoreSettings.timezone``); a date range includes both of its days.
"""

from __future__ import annotations

import datetime as dt
from typing import TextIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel

from backorder.csv_cells import SafeWriter
from backorder.engine import StoreService
from backorder.errors import NotFound
from backorder.eta import promise_text
from backorder.storage.schema import items, order_lines, orders

CSV_COLUMNS = (
    "Product name",
    "SKU",
    "Purchased qty",
    "Backordered qty",
    "Order ID",
    "Order email",
    "Order date",
    "Expected",
    "Category",
    "Brand",
)


class ReportRecord(BaseModel):
    product_name: str
    sku: str
    purchased: int
    backordered: int
    order_id: str
    customer_email: str | None
    order_date: dt.datetime
    """In the store's time zone."""
    expected: str = ""
    """The backordered units' promised date (store time zone), "ready to ship" or "no date yet"."""
    category: str | None = None
    brand: str | None = None

    def cells(self) -> list[str]:
        return [
            self.product_name,
            self.sku,
            str(self.purchased),
            str(self.backordered),
            self.order_id,
            self.customer_email or "",
            self.order_date.isoformat(timespec="minutes"),
            self.expected,
            self.category or "",
            self.brand or "",
        ]


def _query(
    service: StoreService,
    *,
    search: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    category: str | None,
    brand: str | None,
) -> sa.Select:
    """The report's rows as one query (no order): every filter runs in the database."""
    tz = ZoneInfo(service.settings.timezone)
    line, order, item = order_lines, orders, items
    name = sa.func.coalesce(sa.func.nullif(line.c.name, ""), item.c.name, "")
    query = (
        sa.select(
            name.label("product_name"),
            line.c.sku,
            (line.c.in_stock + line.c.backordered).label("purchased"),
            line.c.backordered,
            order.c.order_id,
            order.c.customer_email,
            order.c.placed_at,
            line.c.line_no,
            line.c.eta,
            line.c.eta_status,
            item.c.category,
            item.c.brand,
        )
        .select_from(
            line.join(order, line.c.order_pk == order.c.id).outerjoin(
                item, sa.and_(item.c.store == order.c.store, item.c.sku == line.c.sku)
            )
        )
        .where(order.c.store == service.name, order.c.accepted, line.c.backordered > 0)
    )
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            sa.or_(sa.func.lower(name).like(pattern), sa.func.lower(line.c.sku).like(pattern))
        )
    query = _in_dates(query, tz, date_from, date_to)
    if category:
        query = query.where(sa.func.lower(item.c.category) == category.lower())
    if brand:
        query = query.where(sa.func.lower(item.c.brand) == brand.lower())
    return query


def backorder_report(
    service: StoreService,
    *,
    search: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    category: str | None = None,
    brand: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    refresh: bool = True,
) -> list[ReportRecord]:
    """Backordered lines of accepted orders, newest first, filtered as asked.

    ``search`` matches product name or SKU (case-insensitive, anywhere in the text);
    ``category`` and ``brand`` match exactly, ignoring case. ``limit`` and ``offset``
    page through the records in the database. ``refresh`` works out today's promised
    dates for the lines shown, without storing them (a report only reads; the worker
    stores them on every tick; a page of the web app skips it).
    """
    tz = ZoneInfo(service.settings.timezone)
    line, order = order_lines, orders
    query = _query(
        service, search=search, date_from=date_from, date_to=date_to, category=category,
        brand=brand,
    ).order_by(order.c.placed_at.desc(), order.c.order_id, line.c.line_no)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    with service.db.read() as conn:
        rows = conn.execute(query).all()
    today: dict[tuple[str, int], tuple[dt.datetime | None, str | None]] = {}
    if refresh:
        for sku in sorted({row.sku for row in rows}):
            try:
                allocation = service.incoming.allocation(sku)
            except NotFound:  # no longer in the catalog: the stored date stands
                continue
            for dated in allocation.lines:
                today[(dated.order_id, dated.line_no)] = (dated.eta, dated.status.value)
    records = []
    for row in rows:
        eta, status = today.get((row.order_id, row.line_no), (row.eta, row.eta_status))
        records.append(
            ReportRecord(
                product_name=row.product_name,
                sku=row.sku,
                purchased=row.purchased,
                backordered=row.backordered,
                order_id=row.order_id,
                customer_email=row.customer_email,
                order_date=_utc(row.placed_at).astimezone(tz),
                expected=promise_text(eta, status, tz),
                category=row.category,
                brand=row.brand,
            )
        )
    return records


def _in_dates(
    query: sa.Select, tz: dt.tzinfo, date_from: dt.date | None, date_to: dt.date | None
) -> sa.Select:
    """Orders placed on these store days (both included)."""
    if date_from:
        query = query.where(orders.c.placed_at >= _start_of(date_from, tz))
    if date_to:
        query = query.where(orders.c.placed_at < _start_of(date_to + dt.timedelta(days=1), tz))
    return query


def _start_of(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """Midnight of ``day`` in the store's zone, in UTC (how the ledger stores times)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def write_csv(records: list[ReportRecord], out: TextIO, *, escape_formulas: bool = True) -> None:
    """The report as CSV; a cell a spreadsheet would run as a formula gets a leading ``'``
    (see :mod:`backorder.csv_cells`) unless ``escape_formulas`` is false."""
    writer = SafeWriter(out, escape_formulas=escape_formulas, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        writer.writerow(record.cells())


def table(records: list[ReportRecord]) -> list[str]:
    """The report as aligned text lines for the terminal."""
    shown = 8  # up to "Expected"; category and brand are in the CSV
    rows = [CSV_COLUMNS[:shown]] + [tuple(r.cells()[:shown]) for r in records]
    rows = [tuple(cell[:40] for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(shown)]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
