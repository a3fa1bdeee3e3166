"""The built-in renderer plugin: HTML documents to PDF with WeasyPrint.

It answers ``backorder_render_document`` for ``fmt == "pdf"`` only, so another plugin can
offer other formats (or replace this one: ``BACKORDER_PLUGINS`` without ``weasyprint``).
Documents are self-contained (inline CSS, system fonts): WeasyPrint may fetch nothing
but ``data:`` URLs, so a merchant's template cannot read local files or reach the network.
"""

from __future__ import annotations

from backorder.hookspecs import hookimpl
from backorder.http.extras import needs_extra

NAME = "weasyprint"
FORMATS = ("pdf",)


def render_pdf(html: str) -> bytes:
    """The PDF of a complete HTML document (imports WeasyPrint on first use: it is slow)."""
    with needs_extra("backorder", "pdf"):
        import weasyprint

    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()


@hookimpl
def backorder_render_document(html: str, fmt: str) -> bytes | None:
    if fmt not in FORMATS:
        return None
    return render_pdf(html)
