"""The backorder CSV's columns, specified once.

Both readers of a row are made from :data:`SPEC`: the pydantic model :data:`Row` (which
validates any cell and words its errors) and the fast cell readers of
:func:`cell_readers` (plain functions for the common, certain cases, which hand anything
else to the model). Each kind of cell (:class:`Cell`) says in one place what the model
declares for it and which fast reader reads it, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)

from backorder.csv_cells import unescape
from backorder.models import MAX_QTY

UNLIMITED = "unlimited"
LOCAL_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%Y %H:%M")
CellReader = Callable[[str], Any]


class Cell(Enum):
    """What a column holds; a blank cell is ``None`` (the SKU's cannot be blank)."""

    TEXT = "text"
    """Text, blanks around it stripped, up to the column's ``max_length`` characters."""
    INTEGER = "integer"
    """A whole number."""
    COUNT = "count"
    """A whole number, 0 or more."""
    THRESHOLD = "threshold"
    """A count, ``unlimited``, or blank for the store default."""
    DATE = "date"
    """ISO 8601 or DD/MM/YYYY [HH:MM] (see :func:`parse_date`)."""


class CsvColumn(NamedTuple):
    header: str
    field: str
    cell: Cell
    max_length: int | None = None
    required: bool = False


SPEC: tuple[CsvColumn, ...] = (
    CsvColumn("Product ID", "product_id", Cell.TEXT, max_length=64),
    CsvColumn("Variant ID", "variant_id", Cell.TEXT, max_length=64),
    CsvColumn("SKU", "sku", Cell.TEXT, max_length=255, required=True),
    CsvColumn("Name", "name", Cell.TEXT, max_length=500),
    CsvColumn("Stock", "on_hand", Cell.INTEGER),
    CsvColumn("Backorder Threshold", "threshold", Cell.THRESHOLD),
    CsvColumn("Incoming Stock", "incoming_qty", Cell.COUNT),
    CsvColumn("Back in stock date", "back_in_stock_date", Cell.DATE),
    CsvColumn("Category", "category", Cell.TEXT, max_length=255),
    CsvColumn("Brand", "brand", Cell.TEXT, max_length=255),
)
"""The backorder CSV's columns, in template order."""

COLUMNS: dict[str, str] = {column.header: column.field for column in SPEC}
"""The backorder CSV's columns (header -> field), in template order."""

HEADER = {field_name: header for header, field_name in COLUMNS.items()}

BY_FIELD = {column.field: column for column in SPEC}

FIELDS: tuple[str, ...] = tuple(
    column.field
    for column in sorted(SPEC, key=lambda c: (not c.required, c.cell is not Cell.TEXT))
)
"""A validated row's fields, in the order :data:`Row` validates them (and lists a row's
errors): the SKU, then the other text columns, then the figures and the date, each group
in template order."""

APPLICABLE: dict[str, str] = {
    "stock": "on_hand",
    "threshold": "threshold",
    "incoming": "incoming_qty",
    "date": "back_in_stock_date",
    "name": "name",
    "category": "category",
    "brand": "brand",
}
"""The import's "overwrite" checkboxes: short name -> field (in the order offered)."""


def parse_date(text: str, tz: dt.tzinfo) -> dt.datetime:
    """ISO 8601 or DD/MM/YYYY [HH:MM]; without an offset, in the store's time zone.

    Returned in UTC: the ledger keeps every datetime in UTC (SQLite drops offsets).
    """
    text = text.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        for fmt in LOCAL_DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(
                f"{text!r} is not a date: use ISO 8601 (2026-12-01) or DD/MM/YYYY"
            ) from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(dt.UTC)


# ------------------------------------------------------------------- the fast readers
class Slow(Exception):
    """A cell a fast reader is not sure about: the row goes through :data:`Row`."""


# At most as many digits as MAX_QTY has: a longer number goes to the model, which names
# the limit; one of as many digits is compared with it by the reader.
_DIGITS = len(str(MAX_QTY)) - 1
_INT = re.compile(rf"-?(?:0|[1-9][0-9]{{0,{_DIGITS}}})").fullmatch
_NATURAL = re.compile(rf"0|[1-9][0-9]{{0,{_DIGITS}}}").fullmatch


def _in_range(cell: str) -> int:
    number = int(cell)
    if -MAX_QTY <= number <= MAX_QTY:
        return number
    raise Slow


def _text_reader(column: CsvColumn, tz: dt.tzinfo) -> CellReader:
    limit, required = column.max_length or sys.maxsize, column.required

    def read(cell: str) -> Any:
        if (
            cell
            and cell.strip() is cell
            and len(cell) <= limit
            and "\x00" not in cell
            and cell[0] != "'"  # maybe an escaped formula (backorder.csv_cells)
        ):
            return cell  # (strip gives the very same string when there is no blank)
        if cell.strip() or required:
            raise Slow
        return None

    return read


def _number_reader(match: Callable[[str], Any]) -> Callable[[CsvColumn, dt.tzinfo], CellReader]:
    def make(column: CsvColumn, tz: dt.tzinfo) -> CellReader:
        def read(cell: str) -> Any:
            if match(cell):
                return _in_range(cell)
            if not cell.strip():
                return None
            raise Slow

        return read

    return make


def _threshold_reader(column: CsvColumn, tz: dt.tzinfo) -> CellReader:
    def read(cell: str) -> Any:
        if _NATURAL(cell):
            return _in_range(cell)
        stripped = cell.strip()
        if not stripped:
            return None
        if stripped.lower() == UNLIMITED:
            return UNLIMITED
        raise Slow

    return read


def _date_reader(column: CsvColumn, tz: dt.tzinfo) -> CellReader:
    dates: dict[str, dt.datetime] = {}  # a file repeats few dates many times

    def read(cell: str) -> Any:
        found = dates.get(cell)
        if found is not None:
            return found
        if not cell.strip():
            return None
        try:
            found = parse_date(cell, tz)
        except ValueError:
            raise Slow from None
        if len(dates) < 10_000:
            dates[cell] = found
        return found

    return read


# ---------------------------------------------------------------------- the model
_NO_NUL = r"^[^\x00]*$"
"""Text a database can store: PostgreSQL refuses the NUL character in text."""


def _text_field(column: CsvColumn) -> tuple[Any, Any]:
    if column.required:
        return str, Field(min_length=1, max_length=column.max_length, pattern=_NO_NUL)
    return str | None, Field(None, max_length=column.max_length, pattern=_NO_NUL)


class _Kind(NamedTuple):
    """One kind of cell as both readers see it."""

    field: Callable[[CsvColumn], tuple[Any, Any]]
    """The model's ``(annotation, Field)`` of a column of this kind."""
    reader: Callable[[CsvColumn, dt.tzinfo], CellReader]
    """The fast reader of a column of this kind, in a store's time zone."""


_KINDS: dict[Cell, _Kind] = {
    Cell.TEXT: _Kind(_text_field, _text_reader),
    Cell.INTEGER: _Kind(
        lambda c: (int | None, Field(None, ge=-MAX_QTY, le=MAX_QTY)), _number_reader(_INT)
    ),
    Cell.COUNT: _Kind(
        lambda c: (int | None, Field(None, ge=0, le=MAX_QTY)), _number_reader(_NATURAL)
    ),
    Cell.THRESHOLD: _Kind(
        lambda c: (
            Annotated[NonNegativeInt, Field(le=MAX_QTY)] | Literal["unlimited"] | None,
            Field(None),
        ),
        _threshold_reader,
    ),
    Cell.DATE: _Kind(lambda c: (dt.datetime | None, Field(None)), _date_reader),
}


def _unlimited(cls, value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == UNLIMITED:
        return UNLIMITED
    return value


def _unescape(cls, value: Any) -> Any:
    return unescape(value) if isinstance(value, str) else value


def _date(cls, value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, str):
        return value
    tz = (info.context or {}).get("tz", dt.UTC)
    return parse_date(value, tz)


def _fields_of(cell: Cell) -> list[str]:
    return [column.field for column in SPEC if column.cell is cell]


Row: type[BaseModel] = create_model(  # type: ignore[call-overload]  # fields built from SPEC
    "Row",
    __config__=ConfigDict(extra="forbid", str_strip_whitespace=True),
    __doc__="One CSV row; a blank cell is ``None``.",
    __module__=__name__,
    __validators__={
        "_unlimited": field_validator(*_fields_of(Cell.THRESHOLD), mode="before")(_unlimited),
        "_date": field_validator(*_fields_of(Cell.DATE), mode="before")(_date),
        "_unescape": field_validator(*_fields_of(Cell.TEXT), mode="before")(_unescape),
    },
    **{name: _KINDS[BY_FIELD[name].cell].field(BY_FIELD[name]) for name in FIELDS},
)
"""One CSV row, validated: a field per column of :data:`SPEC`, in :data:`FIELDS` order
(the store's time zone comes in the validation context, ``{"tz": ...}``)."""


def cell_readers(fields: Sequence[str], tz: dt.tzinfo) -> list[CellReader]:
    """Per column, a plain function giving exactly what :data:`Row` gives for the cell.

    Only the common, certain cases are handled (plain digits, ISO or local dates, text
    with no surrounding blanks within the length limit); anything else raises
    :class:`Slow` and the row is validated by the model, which also words the errors.
    """
    return [_KINDS[BY_FIELD[name].cell].reader(BY_FIELD[name], tz) for name in fields]


def _beyond_max(value: Any) -> bool:
    """A whole number (or its text) beyond what any figure may be."""
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?[0-9]+\s*", value):
        digits = value.strip().lstrip("+-").lstrip("0")
        return len(digits) > len(str(MAX_QTY)) or (bool(digits) and int(digits) > MAX_QTY)
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_QTY


def validate_cells(
    cells: dict[str, Any], tz: dt.tzinfo, name: str, line_no: int
) -> BaseModel | list[str]:
    """A row through :data:`Row`: the model, or one line per bad column
    (``file:row N: column X: message``)."""
    try:
        return Row.model_validate(cells, context={"tz": tz})
    except ValidationError as exc:
        problems: dict[str, str] = {}  # one message per column, the first pydantic gives
        for error in exc.errors():
            field_name = str(error["loc"][0]) if error["loc"] else ""
            column = HEADER.get(field_name, "?")
            if column in problems:
                continue
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "string_pattern_mismatch":
                message = "contains a NUL character (\\x00), which cannot be stored"
            elif _beyond_max(error["input"]):
                low = -MAX_QTY if BY_FIELD[field_name].cell is Cell.INTEGER else 0
                message = f"must be between {low} and {MAX_QTY:,} (the most any figure may be)"
            elif field_name in BY_FIELD and BY_FIELD[field_name].cell is Cell.THRESHOLD:
                message = "a whole number (0 or more), 'unlimited', or blank for the store default"
            if error["type"] != "value_error":
                shown = repr(error["input"])
                message += f" (got {shown if len(shown) <= 60 else shown[:50] + '…'})"
            problems[column] = f"{name}:row {line_no}: column {column}: {message}"
        return list(problems.values())
