"""The backorder report (seed 001 §5): one record per backordered order line.

Each record says what became of the line (issue 14): units cancelled, shipped and still
waiting (backordered units not yet shipped), and its status: ``open`` (units left to
ship), ``shipped`` (none left, some shipped) or ``cancelled``. The report lists open
lines unless asked for another status (``all``: every one).

Order dates are shown, and date filters read, in the store's time zone
(``StoreSettings.timezone``); a date range includes both of its days.

The web app pages through the report by key (:func:`report_page`, :class:`ReportKey`):
a next or previous page starts from the last or first row shown, so page 500 costs what
page 1 does (an ``OFFSET`` reads and drops every row before it).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel

from backorder.csv_cells import SafeWriter
from backorder.engine import StoreService
from backorder.errors import InvalidInput, NotFound
from backorder.eta import promise_text
from backorder.rules.lifecycle import LineCounts, left, line_status
from backorder.storage import item_search
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
    "Cancelled qty",
    "Shipped qty",
    "Waiting qty",
    "Status",
)
TABLE_COLUMNS = (
    "Product name", "SKU", "Purchased qty", "Backordered qty", "Cancelled qty", "Shipped qty",
    "Waiting qty", "Order ID", "Order email", "Order date", "Expected",
)
"""What the terminal table shows (the CSV has every column)."""
STATUSES = ("open", "shipped", "cancelled", "all")


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
    cancelled: int = 0
    shipped: int = 0
    waiting: int = 0
    """Backordered units not yet shipped (waiting for stock, or released and not shipped)."""
    status: str = "open"

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
            str(self.cancelled),
            str(self.shipped),
            str(self.waiting),
            self.status,
        ]


FEW_CANDIDATES = 1_000
"""A search matching at most this many lines reads them by id; more, the report reads
lines by date and stops at a page (see :func:`_query`)."""


_REPORT_ORDER = (orders.c.placed_at.desc(), orders.c.order_id, order_lines.c.line_no)
"""The report's order, newest first (what :class:`ReportKey` walks)."""


def _query(
    service: StoreService,
    *,
    search: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    category: str | None,
    brand: str | None,
    status: str = "open",
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
            line.c.in_stock,
            line.c.cancelled,
            line.c.shipped,
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
    if search:  # the text anywhere (``%`` and ``_`` too), narrowed by the trigram indexes
        pattern = item_search.like_pattern(search)
        query = query.where(sa.or_(
            sa.func.lower(name).like(pattern, escape="\\"),
            sa.func.lower(line.c.sku).like(pattern, escape="\\"),
        ))
        candidates = item_search.line_candidates(service.db.engine.dialect.name,
                                                 service.name, search)
        if candidates is not None:
            with service.db.read() as conn:  # a few: the report reads just those lines
                few = list(conn.scalars(candidates.limit(FEW_CANDIDATES + 1)))
            among: sa.ColumnElement[Any]
            if not few:
                among = sa.false()
            elif len(few) <= FEW_CANDIDATES:
                among = line.c.id.in_(few)
            else:  # many: read by date, each line checked against them (not its text)
                among = line.c.id.in_(candidates)
                if service.db.is_sqlite:  # said to be rare, SQLite's planner collects
                    among = sa.func.likelihood(among, sa.literal_column("0.001"))  # them once
            query = query.where(among)
    query = _in_dates(query, tz, date_from, date_to)
    unshipped = line.c.in_stock + line.c.backordered - line.c.cancelled - line.c.shipped
    if status not in STATUSES:
        raise InvalidInput(f"report status: {status!r} is not one of {', '.join(STATUSES)}")
    if status == "open":
        query = query.where(unshipped > 0)
    elif status == "shipped":
        query = query.where(unshipped == 0, line.c.shipped > 0)
    elif status == "cancelled":
        query = query.where(unshipped == 0, line.c.shipped == 0)
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
    status: str = "open",
) -> list[ReportRecord]:
    """Backordered lines of accepted orders, newest first, filtered as asked.

    ``search`` matches product name or SKU (case-insensitive, anywhere in the text);
    ``category`` and ``brand`` match exactly, ignoring case. ``limit`` and ``offset``
    page through the records in the database. ``status``: ``open`` (default),
    ``shipped``, ``cancelled`` or ``all``. ``refresh`` works out today's promised dates for
    the lines shown, without storing them (a report only reads; the worker stores them on
    every tick; a page of the web app skips it).
    """
    tz = ZoneInfo(service.settings.timezone)
    query = _query(
        service, search=search, date_from=date_from, date_to=date_to, category=category,
        brand=brand, status=status,
    ).order_by(*_REPORT_ORDER)
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
    return [_record(row, tz, today.get((row.order_id, row.line_no))) for row in rows]


def _record(
    row: Any, tz: dt.tzinfo, promised: tuple[dt.datetime | None, str | None] | None = None
) -> ReportRecord:
    """``promised``: today's (eta, eta status) worked out for the line, else the stored."""
    counts = _counts(row)
    eta, eta_status = promised or (row.eta, row.eta_status)
    return ReportRecord(
        product_name=row.product_name,
        sku=row.sku,
        purchased=row.purchased,
        backordered=row.backordered,
        order_id=row.order_id,
        customer_email=row.customer_email,
        order_date=_utc(row.placed_at).astimezone(tz),
        expected=promise_text(eta, eta_status, tz),
        category=row.category,
        brand=row.brand,
        cancelled=row.cancelled,
        shipped=row.shipped,
        waiting=left(counts).backordered,
        status=line_status(counts),
    )


# ------------------------------------------------------------------------ keyset pages
@dataclass(frozen=True)
class ReportKey:
    """Where a row stands in the report's order (newest order first, then order id and
    line): a page starts after (or ends before) such a key. As text (:meth:`token`) it
    travels in a page link; it holds nothing a merchant has not seen on the page."""

    placed_at: dt.datetime
    order_id: str
    line_no: int

    def token(self) -> str:
        raw = json.dumps([_utc(self.placed_at).isoformat(), self.order_id, self.line_no])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str) -> ReportKey:
        """The key of a page link; :class:`InvalidInput` when it is not one."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            placed, order_id, line_no = json.loads(raw)
            if not (isinstance(order_id, str) and type(line_no) is int):
                raise ValueError(token)
            at = dt.datetime.fromisoformat(placed)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidInput("not a page of this report (follow the page links)") from exc
        if at.tzinfo is None:
            raise InvalidInput("not a page of this report (follow the page links)")
        return cls(at.astimezone(dt.UTC), order_id, line_no)

    @classmethod
    def of(cls, row: Any) -> ReportKey:
        return cls(_utc(row.placed_at), row.order_id, row.line_no)


@dataclass(frozen=True)
class ReportPage:
    records: list[ReportRecord]
    first: ReportKey | None
    """The key of the first row shown (a previous page ends before it)."""
    last: ReportKey | None
    """The key of the last row shown (a next page starts after it)."""
    more: bool
    """Rows follow this page."""


def _stored(service: StoreService, at: dt.datetime) -> dt.datetime:
    """``at`` as the database compares it (SQLite keeps naive UTC text)."""
    at = at.astimezone(dt.UTC)
    return at.replace(tzinfo=None) if service.db.is_sqlite else at


def report_page(
    service: StoreService,
    *,
    limit: int,
    after: ReportKey | None = None,
    before: ReportKey | None = None,
    offset: int = 0,
    search: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    category: str | None = None,
    brand: str | None = None,
    status: str = "open",
) -> ReportPage:
    """One page of :func:`backorder_report` (the same rows, order and filters), the one
    after ``after`` or before ``before`` when given (read by key through the index of
    orders by date), else at ``offset``. Promised dates are not refreshed (the worker
    keeps them)."""
    tz = ZoneInfo(service.settings.timezone)
    line, order = order_lines, orders
    query = _query(
        service, search=search, date_from=date_from, date_to=date_to, category=category,
        brand=brand, status=status,
    )
    if after is None and before is None and offset > 0:
        after = _key_before(service, query, offset)
        if after is None:  # past the last row
            return ReportPage([], None, None, False)
    backwards = before is not None and after is None
    if after is not None:
        at = _stored(service, after.placed_at)
        query = query.where(order.c.placed_at <= at, sa.or_(
            order.c.placed_at < at,
            order.c.order_id > after.order_id,
            sa.and_(order.c.order_id == after.order_id, line.c.line_no > after.line_no),
        ))
    elif before is not None:
        at = _stored(service, before.placed_at)
        query = query.where(order.c.placed_at >= at, sa.or_(
            order.c.placed_at > at,
            order.c.order_id < before.order_id,
            sa.and_(order.c.order_id == before.order_id, line.c.line_no < before.line_no),
        ))
    if backwards:
        query = query.order_by(
            order.c.placed_at.asc(), order.c.order_id.desc(), line.c.line_no.desc()
        )
    else:
        query = query.order_by(*_REPORT_ORDER)
    with service.db.read() as conn:
        rows = list(conn.execute(query.limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
        more = True  # the page it was reached from follows
    return ReportPage(
        [_record(row, tz) for row in rows],
        ReportKey.of(rows[0]) if rows else None,
        ReportKey.of(rows[-1]) if rows else None,
        more,
    )


def _key_before(service: StoreService, query: sa.Select, offset: int) -> ReportKey | None:
    """The key of the row just before ``offset`` (``None``: there are no more rows), read
    with the key columns alone: the rows skipped are counted, not built (a typed page 500
    skipped 25,000 rows with every column and cost 4x its page reached by key)."""
    keys = query.with_only_columns(
        orders.c.placed_at, orders.c.order_id, order_lines.c.line_no
    ).order_by(*_REPORT_ORDER)
    with service.db.read() as conn:
        row = conn.execute(keys.offset(offset - 1).limit(1)).first()
    return None if row is None else ReportKey.of(row)


def _counts(row: sa.Row) -> LineCounts:
    return LineCounts(line_no=0, sku=row.sku, in_stock=row.in_stock,
                      backordered=row.backordered, cancelled=row.cancelled, shipped=row.shipped)


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
    at = [CSV_COLUMNS.index(name) for name in TABLE_COLUMNS]
    rows = [TABLE_COLUMNS] + [tuple(r.cells()[i] for i in at) for r in records]
    rows = [tuple(cell[:40] for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
