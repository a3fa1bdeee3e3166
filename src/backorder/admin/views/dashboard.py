"""The dashboard: status counts, the plan's use, work waiting, what happened lately."""

from __future__ import annotations

from starlette.responses import Response

from backorder.admin import queries
from backorder.admin.pages import Page, store_page
from backorder.errors import BackorderError


@store_page
async def dashboard(page: Page) -> Response:
    def recent():
        with page.service.db.read() as conn:
            return queries.recent_events(conn, page.store)

    return await page.render("dashboard.html", events=await page.run(recent))


@store_page
async def sync(page: Page) -> Response:
    """Pull the platform's catalog and stock (``backorder sync``)."""
    try:
        new, changed = await page.run(page.service.sync_from_platform)
    except BackorderError as exc:
        return page.redirect(f"{page.base}/", flash=f"Sync failed: {exc}")
    return page.redirect(
        f"{page.base}/", flash=f"Catalog synced: {new} new item(s), stock changed for {changed}."
    )
