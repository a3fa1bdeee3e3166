"""The backorder report (seed 001 §5): one row per backordered order line, searched and
filtered by product, order date, category and brand, paged in the database, and its
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
    }


@store_page
async def report(page: Page) -> Response:
    query, errors = parse(ReportQuery, page.request.query_params)
    if query is None:
        query = ReportQuery()
    size = page.ui.web.config.admin.page_size
    filters = _filters(query) if not errors else {}

    def read():  # one row more than a page: is there a next page (no count of them all)
        records = reporting.backorder_report(
            page.service, **filters, limit=size + 1, offset=(query.page - 1) * size,
            refresh=False,
        )
        with page.service.db.read() as conn:
            return (records, queries.facets(conn, page.store, "category"),
                    queries.facets(conn, page.store, "brand"))

    records, categories, brands = await page.run(read)
    return await page.render(
        "report.html", status=422 if errors else 200, query=query, errors=errors,
        records=records[:size], more=len(records) > size,
        categories=categories, brands=brands,
        csv_url=f"{page.base}/report.csv" + (f"?{page.query(page=None)}"
                                             if page.query(page=None) else ""),
    )


@store_page
async def report_csv(page: Page) -> Response:
    query, errors = parse(ReportQuery, page.request.query_params)
    if query is None:
        return await page.render("report.html", status=422, query=ReportQuery(), errors=errors,
                                 records=[], more=False, categories=[], brands=[], csv_url="")
    filters = _filters(query)

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = SafeWriter(out, lineterminator="\r\n")
        writer.writerow(reporting.CSV_COLUMNS)
        offset = 0
        while True:
            batch = reporting.backorder_report(
                page.service, **filters, limit=CSV_PAGE, offset=offset, refresh=False
            )
            for record in batch:
                writer.writerow(record.cells())
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if len(batch) < CSV_PAGE:
                return
            offset += CSV_PAGE

    name = f"backorder-report-{page.store}.csv"
    return StreamingResponse(
        rows(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
