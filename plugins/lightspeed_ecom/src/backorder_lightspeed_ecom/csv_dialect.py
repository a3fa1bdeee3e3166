"""Lightspeed's product import/export CSV, both ways (seed 003's bulk-edit and new-product flows).

Columns: ``Internal_ID``, ``Internal_Variant_ID``, ``XX_Title_Short`` (XX = any language
code), ``Stock_Track``, ``Stock_Disable_Sold_Out``, ``Stock_Level``, ``Stock_Min``,
``Stock_Alert`` with Y/N values, plus an optional ``SKU``. A row needs at least the
title, ``Stock_Track`` and ``Stock_Disable_Sold_Out`` (the new-product minimum).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import IO

from pydantic import ValidationError

from backorder.errors import first_problem
from backorder.models import ItemInput, ItemView, Mode
from backorder_lightspeed_ecom.mapping import from_csv_fields, stock_alert_of, title_column

REQUIRED = ("Stock_Track", "Stock_Disable_Sold_Out")


class LightspeedCsv:
    """A :class:`backorder.dialects.CsvDialect` for one storefront language."""

    def __init__(self, language: str = "EN") -> None:
        self.language = language.upper()
        self.name = (
            "lightspeed_ecom" if self.language == "EN" else f"lightspeed_ecom:{self.language}"
        )
        self.columns: Sequence[str] = (
            "Internal_ID",
            "Internal_Variant_ID",
            "SKU",
            f"{self.language}_Title_Short",
            "Stock_Track",
            "Stock_Disable_Sold_Out",
            "Stock_Level",
            "Stock_Min",
            "Stock_Alert",
        )

    def read_row(self, row: Mapping[str, str]) -> ItemInput:
        """One CSV row -> ItemInput; ``ValueError`` names the column at fault."""
        title = title_column(row)
        if title is None:
            raise ValueError("column XX_Title_Short: missing (XX = language code, e.g. EN)")
        for column in REQUIRED:
            if column not in row:
                raise ValueError(f"column {column}: missing (a required column)")
        track = str(row.get("Stock_Track") or "").strip().upper()
        if not track:
            raise ValueError("column Stock_Track: required (Y or N)")
        if track == "Y" and not str(row.get("Stock_Disable_Sold_Out") or "").strip():
            raise ValueError("column Stock_Disable_Sold_Out: required with Stock_Track=Y (Y or N)")
        fields = from_csv_fields(row)
        if "sku" not in fields:
            raise ValueError(f"column {title}: empty; a new product needs a title")
        fields.setdefault("assigned", False)
        try:
            return ItemInput.model_validate(fields)
        except ValidationError as exc:
            where, problem = first_problem(exc)
            raise ValueError(f"field {where}: {problem}") from None

    def write_rows(self, items: Iterable[ItemView]) -> Iterable[Mapping[str, str]]:
        """ItemViews -> rows. Silent mode has no Lightspeed counterpart: it exports as N
        (backorders allowed) and comes back as notify."""
        for item in items:
            yield {
                "Internal_ID": _digits(item.product_id),
                "Internal_Variant_ID": _digits(item.variant_id),
                "SKU": item.sku,
                f"{self.language}_Title_Short": item.name,
                "Stock_Track": "Y" if item.tracked else "N",
                "Stock_Disable_Sold_Out": "Y" if not item.tracked or item.mode is Mode.OFF else "N",
                "Stock_Level": str(item.on_hand),
                "Stock_Min": "",
                "Stock_Alert": str(stock_alert_of(item.policy.low_stock_level)),
            }


def _digits(value: str | None) -> str:
    """A Lightspeed id (digits only), or empty: a core-only item has none."""
    return value if value and value.isdigit() else ""


def read_csv(source: IO[str] | str, dialect: LightspeedCsv | None = None, *, name: str = "<csv>"):
    """Every row of a CSV file -> ItemInputs, all or nothing.

    An error names the file, the row (the header is row 1, as a spreadsheet shows it) and
    the column; nothing is returned for a file with any bad row.
    """
    dialect = dialect or LightspeedCsv()
    text = source if isinstance(source, str) else source.read()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=_sniff(text))
    if not reader.fieldnames:
        raise ValueError(f"{name}: empty file (no header row)")
    items: list[ItemInput] = []
    seen: dict[str, int] = {}
    for row_no, row in enumerate(reader, start=2):
        try:
            item = dialect.read_row({k: v for k, v in row.items() if k is not None})
        except ValueError as exc:
            raise ValueError(f"{name}: row {row_no}: {exc}") from None
        if item.sku in seen:
            raise ValueError(
                f"{name}: row {row_no}: same item as row {seen[item.sku]} ({item.sku})"
            )
        seen[item.sku] = row_no
        items.append(item)
    return items


def write_csv(items: Iterable[ItemView], dialect: LightspeedCsv | None = None) -> str:
    dialect = dialect or LightspeedCsv()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(dialect.columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(dialect.write_rows(items))
    return out.getvalue()


def _sniff(text: str) -> str:
    """Lightspeed exports use commas; spreadsheets in some locales save semicolons."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","
