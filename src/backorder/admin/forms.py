"""The web app's forms as pydantic models: a wrong value is an error on its own field.

:func:`parse` turns submitted fields (a query string or a posted form) into a model, or
into ``{field name: message}`` for the template to show beside each field. A view acts
only on a parsed model, so a form with any error changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from backorder.models import Mode, Status

M = TypeVar("M", bound=BaseModel)

MAX_SELECTED = 1000
"""Items one bulk action may name (a page shows at most a few hundred)."""


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _threshold(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip().lower()
        if value in ("", "default"):
            return "default"
        if value == "unlimited":
            return "unlimited"
    return value


Blank = BeforeValidator(_blank_is_none)
Text = Annotated[str, Field(max_length=255), BeforeValidator(lambda v: (v or "").strip())]
OptionalInt = Annotated[int | None, Blank]
OptionalCount = Annotated[NonNegativeInt | None, Blank]
OptionalDay = Annotated[dt.date | None, Blank]
Threshold = Annotated[
    Literal["default", "unlimited"] | NonNegativeInt, BeforeValidator(_threshold)
]
"""A backorder threshold as typed: blank (the store default), ``unlimited`` or a number."""
Sku = Annotated[str, Field(min_length=1, max_length=255)]


class Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _message(error: ErrorDetails) -> str:
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error["type"] == "int_parsing":
        return "enter a whole number"
    if error["type"] in ("date_from_datetime_parsing", "date_parsing"):
        return "enter a date as YYYY-MM-DD"
    if error["type"] == "literal_error":
        return "choose one of the options"
    return message


_TYPE_TAGS = {"int", "str", "bool", "float", "none", "date", "datetime", "list", "dict"}


def _field_parts(loc: tuple) -> list[str]:
    """The field path of an error: list indexes and the union member tags pydantic adds
    (``int``, ``literal['a','b']``, ``constrained-int``) are not part of it."""
    return [
        str(part) for part in loc
        if isinstance(part, str) and part.isidentifier() and part not in _TYPE_TAGS
    ]


def errors_of(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """``{field name: message}``; a list item's error is its list's (``sku.3`` -> ``sku``).

    Of a union's errors ("unlimited", or a number) the one about the number is kept: it
    says more than "choose one of the options"."""
    found: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for error in exc.errors():
        parts = _field_parts(error["loc"])
        name = prefix + ".".join(parts) if parts else (prefix.rstrip(".") or "form")
        if name not in found or kinds[name] == "literal_error":
            found[name], kinds[name] = _message(error), error["type"]
    return found


def parse(model: type[M], data: Mapping[str, Any], lists: tuple[str, ...] = ()) -> (
    tuple[M | None, dict[str, str]]
):
    """``data`` (a form or query) as ``model``; the fields named in ``lists`` take every
    value given for them (checkboxes), the others their last."""
    getlist = getattr(data, "getlist", None)
    values: dict[str, Any] = {}
    for key in data:
        if key in lists and getlist is not None:
            values[key] = [v for v in getlist(key) if isinstance(v, str)]
        else:
            values[key] = data[key]
    for key in lists:
        values.setdefault(key, [])
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        return None, errors_of(exc)


# ---------------------------------------------------------------------------- forms
class ItemListQuery(Form):
    q: Annotated[str, Field(max_length=200)] = ""
    category: Text = ""
    brand: Text = ""
    assigned: Literal["", "yes", "no"] = ""
    status: Literal["", "in_stock", "low_stock", "backorder", "unavailable"] = ""
    page: Annotated[PositiveInt, Field(le=1_000_000)] = 1


class StockFields(Form):
    """What assigning sets (seed 001 §1.1): stock, threshold, incoming stock and date."""

    stock: OptionalInt = None
    threshold: Threshold = "default"
    incoming: OptionalCount = None
    back_in_stock: OptionalDay = None

    @field_validator("back_in_stock")
    @classmethod
    def _date_needs_incoming(cls, value: dt.date | None, info: ValidationInfo):
        if value is not None and not info.data.get("incoming"):
            raise ValueError("a back-in-stock date needs the incoming stock it brings")
        return value


class AssignForm(StockFields):
    sku: list[Sku] = Field(min_length=1, max_length=MAX_SELECTED)
    return_to: str = ""


class UnassignForm(Form):
    sku: list[Sku] = Field(min_length=1, max_length=MAX_SELECTED)
    action: Literal["keep", "track", "not_purchasable"] = "keep"
    return_to: str = ""


class ItemForm(Form):
    """One item's edit form (seed 000 §5: stock, threshold, purchasability, dates)."""

    stock: int
    threshold: Threshold = "default"
    incoming: NonNegativeInt = 0
    back_in_stock: OptionalDay = None
    purchasable: bool = False
    mode: Literal["default", "notify", "silent", "off"] = "default"
    low_stock: Annotated[NonNegativeInt | Literal["default"], BeforeValidator(
        lambda v: "default" if isinstance(v, str) and not v.strip() else v
    )] = "default"


class ReportQuery(Form):
    q: Annotated[str, Field(max_length=200)] = ""
    date_from: OptionalDay = Field(default=None, alias="from")
    date_to: OptionalDay = Field(default=None, alias="to")
    category: Text = ""
    brand: Text = ""
    status: Literal["open", "shipped", "cancelled", "all"] = "open"
    """As ``backorder report --status``: open lines (units still to ship) by default."""
    page: Annotated[PositiveInt, Field(le=1_000_000)] = 1
    after: Annotated[str, Field(max_length=2000)] = ""
    """A next page starts after this row (``report.ReportKey.token``)."""
    before: Annotated[str, Field(max_length=2000)] = ""
    """A previous page ends before this row."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @field_validator("after", "before")
    @classmethod
    def _key(cls, value: str) -> str:
        if value:
            from backorder.report import ReportKey  # the report's module needs the engine

            ReportKey.parse(value)  # InvalidInput is a ValueError: the field's error
        return value

    @field_validator("date_to")
    @classmethod
    def _range(cls, value: dt.date | None, info: ValidationInfo):
        start = info.data.get("date_from")
        if value is not None and start is not None and start > value:
            raise ValueError("the end date is before the start date")
        return value


class ImportForm(Form):
    mode: Literal["assign", "update"]
    columns: list[Literal["stock", "threshold", "incoming", "date", "name", "category",
                          "brand"]] = Field(min_length=1)
    dialect: Text = ""


MODE_CHOICES = [("default", "Store default"), *((m.value, m.value.title()) for m in Mode)]
STATUS_CHOICES = [(s.value, s.value.replace("_", " ").capitalize()) for s in Status]

__all__ = [
    "AssignForm",
    "ImportForm",
    "ItemForm",
    "ItemListQuery",
    "ReportQuery",
    "UnassignForm",
    "errors_of",
    "parse",
]
