"""The report's pages follow each other by key: every row once, in order, both ways.

A next page starts after the last row shown and a previous page ends before the first
(``report.ReportKey`` in the link), so a deep page costs what the first does. Paging
forward through the links shows exactly the report's rows in its order (orders placed
at the same moment, orders of several lines), and paging back shows the same pages. A
forged page link is refused (422) with a message above the table.
"""

from __future__ import annotations

import datetime as dt
import html
import re

from backorder import report as reporting
from backorder.models import ItemInput, LineRequest, OrderIn

ROW = re.compile(r"<tr><td>[^<]*</td><td><code>([^<]*)</code></td>.*?<td>([^<]*)</td><td>"
                 r"[^<]*</td><td>\d{4}-")


def rows_of(page: str) -> list[tuple[str, str]]:
    return [(sku, order) for sku, order in ROW.findall(page)]


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="\?([^"]*)" rel="{rel}">', page)
    return html.unescape(found.group(1)) if found else None


def test_pages_follow_by_key_forward_and_back(shop):
    service = shop.service()
    service.assign([ItemInput(sku="LAMP", on_hand=0, threshold=100),
                    ItemInput(sku="STOVE", on_hand=0, threshold=100)])
    same_moment = dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC)
    for n in range(7):
        lines = [LineRequest(sku="LAMP", qty=1)]
        if n % 2:
            lines.append(LineRequest(sku="STOVE", qty=2))
        placed = same_moment if n < 4 else same_moment + dt.timedelta(days=n)
        service.place_order(OrderIn(order_id=f"30{n}", lines=lines, placed_at=placed))
    expected = [(r.sku, r.order_id) for r in reporting.backorder_report(service, refresh=False)]
    assert len(expected) >= 10

    shop.config.admin.page_size = 3
    client = shop.signed_in()
    pages, query = [], ""
    while True:
        answer = client.get(f"/admin/shop/report?{query}")
        assert answer.status_code == 200
        pages.append(rows_of(answer.text))
        assert f"Page {len(pages)}" in answer.text
        query = link(answer.text, "next")
        if query is None:
            break
        assert "after=" in query
    assert [row for page in pages for row in page] == expected
    assert all(len(page) == 3 for page in pages[:-1])

    here = answer.text  # the last page; now back, page by page, through the links
    for number in range(len(pages) - 1, 0, -1):
        query = link(here, "prev")
        assert query is not None
        here = client.get(f"/admin/shop/report?{query}").text
        assert rows_of(here) == pages[number - 1]
        assert f"Page {number}" in here
    assert link(here, "prev") is None

    # a typed page number shows the page the links lead to (ties at one moment included)
    for number, rows in enumerate(pages, start=1):
        typed = client.get(f"/admin/shop/report?page={number}").text
        assert rows_of(typed) == rows
        assert ('rel="next"' in typed) == (number < len(pages))
    past = client.get(f"/admin/shop/report?page={len(pages) + 1}")
    assert past.status_code == 200 and rows_of(past.text) == []


def test_a_forged_page_link_is_refused_with_a_message(shop):
    client = shop.signed_in()
    for forged in ("after=nonsense", "before=WzEsMiwzXQ", "after=" + "A" * 3000):
        answer = client.get(f"/admin/shop/report?{forged}")
        assert answer.status_code == 422, forged
        assert 'class="alert alert-error"' in answer.text
    assert "not a page of this report" in client.get("/admin/shop/report?after=xyz").text
