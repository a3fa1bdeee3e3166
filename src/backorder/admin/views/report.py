"""The backorder report (seed 001 §5): one row per backordered order line, searched and
filtered by product, order date, category, brand and status, paged in the database, and its
CSV export (the CLI's ``backorder report --csv``, the same query and columns)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from starlette.responses import Response, StreamingResponse

from backorder import report as reporting
from backorder.admin import queries
from backorder.admin.forms import ReportQuery, parse
from backorder.admin.pages import Page, store_page
from backorder.csv_cells import SafeWriter

CSV_PAGE = 10_000


def _filters(query: ReportQuery) -> dict[str, Any]:
    return {
        "search": query.q or None, "date_from": query.date_from, "date_to": query.date_to,
        "category": query.category or None, "brand": query.brand or None,
        "status": query.status,
    }


@store_page
async def report(page: Page) -> Response:
    query, errors = parse(ReportQuery, page.request.query_params)
    if query is None:
        query = ReportQuery()
    for field in ("after", "before"):  # no input of its own: said above the table
        if field in errors:
            errors["form"] = errors.pop(field)
    size = page.ui.web.config.admin.page_size
    filters = _filters(query) if not errors else {}

    after = reporting.ReportKey.parse(query.after) if query.after else None
    before = reporting.ReportKey.parse(query.before) if query.before else None

    def read():  # by key from a page link (page 500 costs what page 1 does), else by offset
        shown = reporting.report_page(
            page.service, **filters, limit=size, after=after, before=before,
            offset=(query.page - 1) * size,
        )
        with page.service.db.read() as conn:
            return (shown, queries.facets(conn, page.store, "category"),
                    queries.facets(conn, page.store, "brand"))

    shown, categories, brands = await page.run(read)
    # the pager's links carry the key of the row they continue from
    next_link = prev_link = None
    if shown.last is not None:
        next_link = page.query(page=query.page + 1, after=shown.last.token(), before=None)
    if shown.first is not None and query.page > 1:
        prev_link = (page.query(page=None, after=None, before=None) if query.page == 2
                     else page.query(page=query.page - 1, before=shown.first.token(),
                                     after=None))
    return await page.render(
        "report.html", status=422 if errors else 200, query=query, errors=errors,
        records=shown.records, more=shown.more, next_link=next_link, prev_link=prev_link,
        categories=categories, brands=brands,
        csv_url=f"{page.base}/report.csv" + (f"?{page.query(page=None, after=None, before=None)}"
                                             if page.query(page=None, after=None, before=None)
                                             else ""),
    )


@store_page
async def report_csv(page: Page) -> Response:
    query, errors = parse(ReportQuery, page.request.query_params)
    if query is None:
        return await page.render("report.html", status=422, query=ReportQuery(), errors=errors,
                                 records=[], more=False, categories=[], brands=[], csv_url="",
                                 next_link=None, prev_link=None)
    filters = _filters(query)

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = SafeWriter(out, lineterminator="\r\n")
        writer.writerow(reporting.CSV_COLUMNS)
        after = None
        while True:  # by key: each batch starts after the last row of the one before
            batch = reporting.report_page(page.service, **filters, limit=CSV_PAGE, after=after)
            for record in batch.records:
                writer.writerow(record.cells())
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if not batch.more:
                return
            after = batch.last

    name = f"backorder-report-{page.store}.csv"
    return StreamingResponse(
        rows(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
