"""Import and export (seed 000 §Import, seed 001 §1.3 and §2.3): download the template,
upload a file to assign or update items with the "overwrite" boxes, and see every
problem listed by row; the CLI's ``backorder import`` and ``export``, the same code."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import Response

from backorder.admin.forms import ImportForm, parse
from backorder.admin.pages import Page, store_page
from backorder.errors import BackorderError
from backorder.imports import (
    APPLICABLE,
    HEADER,
    ImportFailed,
    dialects,
    export_csv,
    import_csv,
)

COLUMN_LABELS = {
    "stock": "Stock",
    "threshold": "Backorder threshold",
    "incoming": "Incoming stock",
    "date": "Back-in-stock date",
    "name": "Name",
    "category": "Category",
    "brand": "Brand",
}
_PROBLEM = re.compile(
    r"^(?P<file>.*?):row (?P<row>\d+): (?:column (?P<column>[^:]+): )?(?P<msg>.*)$"
)


def problem_rows(errors: list[str]) -> list[dict[str, str]]:
    """Each import problem as ``{row, column, problem}`` (a whole-file one has no row)."""
    out = []
    for error in errors:
        match = _PROBLEM.match(error)
        if match:
            out.append({"row": match["row"], "column": match["column"] or "",
                        "problem": match["msg"]})
        else:
            out.append({"row": "", "column": "", "problem": error.split(": ", 1)[-1]})
    return out


def in_file(ticked: Sequence[str], data: bytes) -> list[str]:
    """The ticked "overwrite" boxes whose column the file has (the form ticks them all;
    a box for a column the file leaves out changes nothing). None left: all ticked,
    so the import names what is missing."""
    first = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    header = {cell.strip().lower() for cell in next(csv.reader([first]), [])}
    present = [key for key in ticked if HEADER[APPLICABLE[key]].lower() in header]
    return present or list(ticked)


async def _page(page: Page, *, status: int = 200, **context: Any) -> Response:
    names = sorted(dialects(page.service.pm))
    values = context.pop("values", None) or {"mode": "update", "columns": list(APPLICABLE),
                                            "dialect": "backorder"}
    return await page.render(
        "import.html", status=status, dialects=names, columns=COLUMN_LABELS, values=values,
        errors=context.pop("errors", {}), problems=context.pop("problems", []),
        result=context.pop("result", None), **context,
    )


@store_page
async def import_page(page: Page) -> Response:
    if page.form is None:
        return await _page(page)
    form, errors = parse(ImportForm, page.form, lists=("columns",))
    values = {"mode": page.form.get("mode", ""), "columns": page.form.getlist("columns"),
              "dialect": page.form.get("dialect", "")}
    upload = page.form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = "choose a CSV file to upload"
    if errors or form is None:
        return await _page(page, status=422, errors=errors, values=values)
    assert isinstance(upload, UploadFile)
    data = await upload.read()
    name = (upload.filename or "upload.csv").replace("\n", " ")[:200]
    dialect = form.dialect if form.dialect and form.dialect != "backorder" else None
    columns = form.columns if dialect else in_file(form.columns, data)
    try:
        result = await page.run(
            import_csv, page.service, data, mode=form.mode, columns=columns,
            dialect=dialect, name=name,
        )
    except ImportFailed as failed:
        return await _page(page, status=422, values=values, problems=problem_rows(failed.errors),
                           file_name=name)
    except BackorderError as exc:
        return await _page(page, status=422, values=values, errors={"form": str(exc)})
    return await _page(page, values=values, result=result, file_name=name)


@store_page
async def export(page: Page) -> Response:
    everything = page.request.query_params.get("all") == "1"
    dialect = page.request.query_params.get("dialect") or None

    def write() -> str:
        out = io.StringIO()
        export_csv(page.service, out, dialect=dialect, assigned=None if everything else True)
        return out.getvalue()

    try:
        text = await page.run(write)
    except BackorderError as exc:
        return await _page(page, status=404, errors={"form": str(exc)})
    name = f"backorder-{page.store}-{'all' if everything else 'assigned'}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
