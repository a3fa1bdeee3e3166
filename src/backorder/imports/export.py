"""Export: the template of a store's items, and the report of what an import changed."""

from __future__ import annotations

from typing import TextIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from backorder import rules
from backorder.csv_cells import SafeDictWriter, SafeWriter
from backorder.engine import StoreService
from backorder.errors import NotFound
from backorder.imports.applying import ImportReport
from backorder.imports.dialect import BackorderCsv, dialects, template_row
from backorder.storage import records
from backorder.storage.schema import items


def export_csv(
    service: StoreService,
    out: TextIO,
    *,
    dialect: str | None = None,
    assigned: bool | None = True,
    escape_formulas: bool = True,
) -> int:
    """Write the template of the store's items (assigned ones by default); returns the rows.

    The core dialect leaves ``Backorder Threshold`` blank for items that follow the
    store default, so importing the template back changes nothing. A text a spreadsheet
    would run as a formula is written with a leading ``'`` (:mod:`backorder.csv_cells`),
    which the import drops again.
    """
    tz = ZoneInfo(service.settings.timezone)
    known = dialects(service.pm)
    chosen = known.get(dialect or BackorderCsv.name)
    if chosen is None:
        raise NotFound(
            f"--dialect: no CSV dialect {dialect!r}; choose one of {', '.join(sorted(known))}"
        )
    with service.db.transaction() as conn:
        loaded = records.load_items(conn, service.name, assigned=assigned)
        extra = {
            row.sku: (row.category, row.brand)
            for row in conn.execute(
                sa.select(items.c.sku, items.c.category, items.c.brand).where(
                    items.c.store == service.name
                )
            )
        }
    writer = SafeDictWriter(
        out, list(chosen.columns), escape_formulas=escape_formulas, lineterminator="\r\n"
    )
    writer.writeheader()
    count = 0
    if isinstance(chosen, BackorderCsv):
        for sku, entry in loaded.items():
            view = rules.view(entry.item, service.settings)
            category, brand = extra.get(sku, (None, None))
            explicit = "threshold" in entry.item.overrides
            writer.writerow(template_row(view, category, brand, tz, explicit_threshold=explicit))
            count += 1
    else:
        views = [rules.view(e.item, service.settings) for e in loaded.values()]
        for row in chosen.write_rows(views):
            writer.writerow(row)
            count += 1
    return count


def changes_csv(report: ImportReport, out: TextIO, *, escape_formulas: bool = True) -> None:
    """The report of what changed, one line per item and field (formulas escaped)."""
    writer = SafeWriter(out, escape_formulas=escape_formulas, lineterminator="\r\n")
    writer.writerow(["SKU", "Row", "Field", "Before", "After"])
    for change in report.changes:
        for key, value in change.items():
            if key in ("sku", "row"):
                continue
            before, after = value
            writer.writerow([change["sku"], change["row"] or "", key, before, after])
