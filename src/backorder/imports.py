"""CSV import and export of assigned items (seed 000 §Import, seed 001 §1.3 and §2.3).

An import runs in two passes. First the whole file is read and every row validated
(:class:`Row`, pydantic); every bad row and column is reported as
``file:row N: column X: message`` and nothing is touched. Then, in ONE transaction, the
rows are checked against the store (already assigned, unknown SKU, plan limit...) and
applied with set-based statements: one ``executemany`` for the items, one for the
stock movements (idempotency key ``import:{import_id}:{sku}``), the switching rules
(:func:`backorder.rules.settle`) run on every changed item so the usual events fire.

``import_id`` is a hash of the file's bytes, the mode and the columns applied: the same
file imported twice changes nothing the second time.

Row numbers are the file's line numbers, the header being row 1. Dates are ISO 8601
(``2026-12-01``, ``2026-12-01T09:00``, ``2026-12-01T09:00+01:00``) or the local
format ``DD/MM/YYYY`` (optionally ``DD/MM/YYYY HH:MM``); a date without an offset is in
the store's time zone. ``Backorder Threshold`` takes a whole number, ``unlimited``, or
blank for the store default.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from backorder import rules
from backorder.dialects import CsvDialect
from backorder.engine import StoreService
from backorder.errors import InvalidInput, NotFound
from backorder.models import (
    BackorderState,
    DisableReason,
    ItemInput,
    ItemState,
    ItemView,
)
from backorder.models import Mode as PolicyMode
from backorder.rules.switching import AUTOMATIC_REASONS
from backorder.storage import records
from backorder.storage.fastpath.csv_import import ImportStatements
from backorder.storage.schema import import_runs, items
from backorder.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from backorder.plugins import PluginManager

Mode = Literal["assign", "update"]
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: stage is ``"reading"`` or ``"applying"``."""

COLUMNS: dict[str, str] = {
    "Product ID": "product_id",
    "Variant ID": "variant_id",
    "SKU": "sku",
    "Name": "name",
    "Stock": "on_hand",
    "Backorder Threshold": "threshold",
    "Incoming Stock": "incoming_qty",
    "Back in stock date": "back_in_stock_date",
    "Category": "category",
    "Brand": "brand",
}
"""The backorder CSV's columns (header -> field), in template order."""

HEADER = {field_name: header for header, field_name in COLUMNS.items()}

APPLICABLE: dict[str, str] = {
    "stock": "on_hand",
    "threshold": "threshold",
    "incoming": "incoming_qty",
    "date": "back_in_stock_date",
    "name": "name",
    "category": "category",
    "brand": "brand",
}
"""The import's "overwrite" checkboxes: short name -> field."""

LOCAL_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%Y %H:%M")
UNLIMITED = "unlimited"


class ImportFailed(InvalidInput):
    """The file was refused whole; ``errors`` lists every problem, nothing was changed."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{errors[0]}{more}")


class Row(BaseModel):
    """One CSV row; a blank cell is ``None``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=255)
    product_id: str | None = Field(None, max_length=64)
    variant_id: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=500)
    category: str | None = Field(None, max_length=255)
    brand: str | None = Field(None, max_length=255)
    on_hand: int | None = None
    threshold: NonNegativeInt | Literal["unlimited"] | None = None
    incoming_qty: int | None = Field(None, ge=0)
    back_in_stock_date: dt.datetime | None = None

    @field_validator("threshold", mode="before")
    @classmethod
    def _unlimited(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == UNLIMITED:
            return UNLIMITED
        return value

    @field_validator("back_in_stock_date", mode="before")
    @classmethod
    def _date(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        tz = (info.context or {}).get("tz", dt.UTC)
        return parse_date(value, tz)


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


class _Unset:
    """A field the row does not give (a platform dialect's row may leave any out)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

FIELDS: tuple[str, ...] = (
    "sku",
    "product_id",
    "variant_id",
    "name",
    "category",
    "brand",
    "on_hand",
    "threshold",
    "incoming_qty",
    "back_in_stock_date",
)
"""A validated row's fields (those of :class:`Row`)."""


@dataclass
class ParsedFile:
    """A validated file: each row is ``(line number, *values of fields)``.

    ``fields`` are the file's columns for the core dialect (every row gives them all),
    :data:`FIELDS` for a platform dialect (a field a row leaves out is :data:`UNSET`).
    Plain tuples, not models: a million-row file must fit in memory comfortably.
    """

    name: str
    import_id: str
    rows: list[tuple]
    fields: tuple[str, ...]
    applied: set[str]


_REPORTED = (
    "assigned",
    "on_hand",
    "incoming_qty",
    "back_in_stock_date",
    "state",
    "disabled_reason",
    "name",
    "threshold",
    "category",
    "brand",
)
"""The values each change keeps (before and after), in this order."""


class ChangeList(Sequence):
    """What an import changed, item by item, kept compact: a million-row import would
    otherwise hold a million dicts. Reading an entry gives
    ``{"sku", "row", field: [before, after], ...}`` (datetimes as ISO 8601 strings)."""

    def __init__(self, utc: Callable[[Any], dt.datetime | None]) -> None:
        self.raw: list[tuple[str, int | None, tuple, tuple, bool]] = []
        self.append = self.raw.append
        self._utc = utc

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._spell(c) for c in self.raw[index]]
        return self._spell(self.raw[index])

    def _spell(self, change: tuple) -> dict[str, Any]:
        sku, row, old, new, fresh = change
        out: dict[str, Any] = {"sku": sku, "row": row}
        for i, name in enumerate(_REPORTED[:8]):
            before, after = old[i], new[i]
            if before == after:
                continue
            if name == "back_in_stock_date":
                before, after = _iso(self._utc(before)), _iso(self._utc(after))
            elif name == "threshold":
                before, after = (None if v is _NONE else v for v in (before, after))
            out[name] = [before, after]
        if not fresh and old[8:] != new[8:]:
            out["category"], out["brand"] = [old[8], new[8]], [old[9], new[9]]
        if fresh:
            out["created"] = [None, True]
        return out


class ImportReport(BaseModel):
    """What an import changed."""

    import_id: str
    file: str
    mode: str
    columns: list[str]
    rows: int
    created: int = 0
    assigned: int = 0
    updated: int = 0
    unchanged: int = 0
    stock_moved: int = 0
    events: dict[str, int] = Field(default_factory=dict)
    changes: Annotated[Sequence[dict[str, Any]], PlainSerializer(list)] = Field(
        default_factory=list
    )
    """Per item: ``{"sku", "row", field: [old, new], ...}`` (a :class:`ChangeList`: each
    change is kept as two tuples and spelt out as a dict when read)."""
    already_imported: bool = False


# ------------------------------------------------------------------------------- dialects
class BackorderCsv:
    """The core dialect: the columns of :data:`COLUMNS` (what the template holds)."""

    name = "backorder"
    columns: Sequence[str] = tuple(COLUMNS)

    def __init__(self, tz: dt.tzinfo = dt.UTC) -> None:
        self.tz = tz

    def read_row(self, row: Mapping[str, str]) -> ItemInput:
        cells = {COLUMNS[k]: (v if v.strip() else None) for k, v in row.items() if k in COLUMNS}
        parsed = _validate_cells(cells, self.tz, "<row>", 0)
        if isinstance(parsed, list):
            raise ValueError("; ".join(parsed))
        return row_to_input(parsed)

    def write_rows(self, views: Iterable[ItemView]) -> Iterable[Mapping[str, str]]:
        for view in views:
            yield template_row(view, None, None, self.tz, explicit_threshold=True)


def dialects(pm: PluginManager | None) -> dict[str, CsvDialect]:
    """The core dialect plus every dialect the installed platforms offer."""
    found: dict[str, CsvDialect] = {BackorderCsv.name: BackorderCsv()}
    if pm is not None:
        for platform in pm.platforms():
            for dialect in platform.csv_dialects():
                found.setdefault(dialect.name, dialect)
    return found


def row_to_input(row: Row) -> ItemInput:
    data = row.model_dump(exclude_unset=True, exclude={"threshold"})
    data = {k: v for k, v in data.items() if v is not None}
    entry = ItemInput(**data)
    if "threshold" in row.model_fields_set:
        if row.threshold is None:
            entry.use_default.append("threshold")
        else:
            entry.threshold = None if row.threshold == UNLIMITED else row.threshold
    return entry


def _input_to_cells(entry: ItemInput) -> dict[str, Any]:
    """A plugin dialect's :class:`ItemInput` as the cells of a core row."""
    cells = entry.model_dump(include=set(Row.model_fields) & entry.model_fields_set)
    cells.pop("threshold", None)
    if "threshold" in entry.use_default:
        cells["threshold"] = None
    elif "threshold" in entry.model_fields_set:
        cells["threshold"] = UNLIMITED if entry.threshold is None else entry.threshold
    return cells


# --------------------------------------------------------------------------------- reading
def _validate_cells(
    cells: dict[str, Any], tz: dt.tzinfo, name: str, line_no: int
) -> Row | list[str]:
    try:
        return Row.model_validate(cells, context={"tz": tz})
    except ValidationError as exc:
        problems: dict[str, str] = {}  # one message per column, the first pydantic gives
        for error in exc.errors():
            column = HEADER.get(str(error["loc"][0]), "?") if error["loc"] else "?"
            if column in problems:
                continue
            message = error["msg"].removeprefix("Value error, ")
            if column == "Backorder Threshold":
                message = "a whole number (0 or more), 'unlimited', or blank for the store default"
            if error["type"] != "value_error":
                message += f" (got {error['input']!r})"
            problems[column] = f"{name}:row {line_no}: column {column}: {message}"
        return list(problems.values())


class _Slow(Exception):
    """A cell the fast reader is not sure about: the row goes through :class:`Row`."""


_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})").fullmatch
_NATURAL = re.compile(r"0|[1-9][0-9]{0,17}").fullmatch


def _cell_readers(fields: Sequence[str], tz: dt.tzinfo) -> list[Callable[[str], Any]]:
    """Per column, a plain function giving exactly what :class:`Row` gives for the cell.

    Only the common, certain cases are handled here (plain digits, ISO or local dates,
    text with no surrounding blanks within the length limit); anything else raises
    :class:`_Slow` and the row is validated by pydantic, which also words the errors.
    """
    dates: dict[str, dt.datetime] = {}

    def text(limit: int, required: bool = False) -> Callable[[str], Any]:
        def read(cell: str) -> Any:
            if cell and cell.strip() is cell and len(cell) <= limit:
                return cell  # (strip gives the very same string when there is no blank)
            if cell.strip() or required:
                raise _Slow
            return None

        return read

    def number(match: Callable[[str], Any]) -> Callable[[str], Any]:
        def read(cell: str) -> Any:
            if match(cell):
                return int(cell)
            if not cell.strip():
                return None
            raise _Slow

        return read

    def threshold(cell: str) -> Any:
        if _NATURAL(cell):
            return int(cell)
        stripped = cell.strip()
        if not stripped:
            return None
        if stripped.lower() == UNLIMITED:
            return UNLIMITED
        raise _Slow

    def date(cell: str) -> Any:
        found = dates.get(cell)
        if found is not None:
            return found
        if not cell.strip():
            return None
        try:
            found = parse_date(cell, tz)
        except ValueError:
            raise _Slow from None
        if len(dates) < 10_000:
            dates[cell] = found
        return found

    limits = {
        name: limit
        for name, info in Row.model_fields.items()
        for meta in info.metadata
        if (limit := getattr(meta, "max_length", None)) is not None
    }
    readers: dict[str, Callable[[str], Any]] = {
        "on_hand": number(_INT),
        "incoming_qty": number(_NATURAL),
        "threshold": threshold,
        "back_in_stock_date": date,
        "sku": text(limits["sku"], required=True),
    }
    return [readers.get(f) or text(limits[f]) for f in fields]


def _open_text(source: bytes | Path) -> io.TextIOBase:
    raw: io.BufferedIOBase = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _digest(source: bytes | Path, prefix: bytes) -> str:
    digest = hashlib.sha256(prefix)
    if isinstance(source, bytes):
        digest.update(source)
    else:
        with open(source, "rb") as raw:
            while block := raw.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()[:24]


def _count_lines(source: bytes | Path) -> int:
    if isinstance(source, bytes):
        return source.count(b"\n") or 1
    lines = 0
    with open(source, "rb") as raw:
        while block := raw.read(1 << 20):
            lines += block.count(b"\n")
    return lines or 1


def read_csv(
    data: bytes | Path,
    name: str,
    *,
    mode: Mode,
    columns: Sequence[str] | None = None,
    tz: dt.tzinfo = dt.UTC,
    dialect: CsvDialect | None = None,
    progress: Progress | None = None,
) -> ParsedFile:
    """Read and validate a whole file; raise :class:`ImportFailed` listing every problem.

    ``data`` is the file's bytes or its path (streamed: only the validated rows are kept).
    """
    try:
        with _open_text(data) as text:
            return _read(text, data, name, mode, columns, tz, dialect, progress)
    except UnicodeDecodeError:
        raw = data if isinstance(data, bytes) else Path(data).read_bytes()
        try:
            raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFailed([f"{name}: not UTF-8 text (byte {exc.start})"]) from None
        raise


def _read(text, source, name, mode, columns, tz, dialect, progress) -> ParsedFile:
    custom = dialect is not None and not isinstance(dialect, BackorderCsv)
    reader = csv.reader(text)
    header = next(reader, None)
    if not header:
        raise ImportFailed([f"{name}: the file is empty; it needs a header row"])
    header = [h.strip() for h in header]
    errors = _check_header(header, name, dialect if custom else None)
    wanted = _applied(columns, mode, errors, name)
    if errors:
        raise ImportFailed(errors)
    header_fields = [COLUMNS.get(h, h) for h in header]
    fields = FIELDS if custom else tuple(header_fields)
    total = _count_lines(source) if progress else 1
    readers = _cell_readers(header_fields, tz) if not custom else []
    width = len(header)
    sku_at = 1 + fields.index("sku")
    rows: list[tuple] = []
    present: set[str] = set()
    seen: dict[str, int] = {}
    for count, cells in enumerate(reader, start=1):
        line_no = reader.line_num
        if progress and count % 10_000 == 0:
            progress("reading", line_no, total)
        if len(cells) != width:
            if not "".join(cells).strip():
                continue  # blank line
            errors.append(f"{name}:row {line_no}: {len(cells)} cells where the header has {width}")
            continue
        row: tuple | None = None
        if not custom:
            try:
                row = (line_no, *map(operator.call, readers, cells))
            except _Slow:
                row = None
            if row is None:
                if not "".join(cells).strip():
                    continue  # blank line
                raw = {
                    f: (c if c.strip() else None) for f, c in zip(header_fields, cells, strict=True)
                }
                parsed = _validate_cells(raw, tz, name, line_no)
                if isinstance(parsed, list):
                    errors += parsed
                    continue
                row = (line_no, *[getattr(parsed, f) for f in fields])
        else:
            if not "".join(cells).strip():
                continue
            try:
                entry = dialect.read_row(dict(zip(header, cells, strict=True)))
            except (ValueError, ValidationError) as exc:
                errors.append(f"{name}:row {line_no}: {exc}")
                continue
            parsed = _validate_cells(_input_to_cells(entry), tz, name, line_no)
            if isinstance(parsed, list):
                errors += parsed
                continue
            given = parsed.model_fields_set
            present |= given
            row = (line_no, *[getattr(parsed, f) if f in given else UNSET for f in fields])
        sku = row[sku_at]
        first = seen.setdefault(sku, line_no)
        if first != line_no:
            errors.append(f"{name}:row {line_no}: column SKU: {sku} is also on row {first}")
            continue
        rows.append(row)
    del seen
    if not custom:
        present = set(header_fields)
    applied = {f for f in wanted if f in present} if columns is None else set(wanted)
    if columns is not None and not custom:
        errors += [
            f"{name}:row 1: column {HEADER[f]}: missing, but asked to import it"
            for f in sorted(applied - present)
        ]
    if errors:
        raise ImportFailed(errors)
    if progress:
        progress("reading", total, total)
    import_id = _digest(source, f"{mode}|{','.join(sorted(applied))}|".encode())
    return ParsedFile(name, import_id, rows, fields, applied)


def _check_header(header: list[str], name: str, dialect: CsvDialect | None) -> list[str]:
    known = list(dialect.columns) if dialect is not None else list(COLUMNS)
    errors = [
        f"{name}:row 1: column {h or '(blank)'}: unknown column (expected: {', '.join(known)})"
        for h in header
        if h not in known
    ]
    errors += [
        f"{name}:row 1: column {h}: appears twice"
        for h in dict.fromkeys(header)
        if header.count(h) > 1
    ]
    if dialect is None and "SKU" not in header:
        errors.append(f"{name}:row 1: column SKU: missing (every row needs its SKU)")
    return errors


def _applied(columns: Sequence[str] | None, mode: Mode, errors: list[str], name: str) -> list[str]:
    if columns is None:
        return list(APPLICABLE.values())
    out = []
    for column in columns:
        key = column.strip().lower()
        by_header = {h.lower(): f for h, f in COLUMNS.items() if f in APPLICABLE.values()}
        if key in APPLICABLE:
            out.append(APPLICABLE[key])
        elif key in by_header:
            out.append(by_header[key])
        else:
            errors.append(
                f"{name}: --columns: {column!r} is not a column an import can apply "
                f"(choose from {', '.join(APPLICABLE)})"
            )
    return out


# -------------------------------------------------------------------------------- applying
CHUNK = 50_000
"""Rows planned and written per round: bounds the memory of the apply pass."""

_TRACKED = (
    "assigned",
    "on_hand",
    "incoming_qty",
    "back_in_stock_date",
    "state",
    "disabled_reason",
    "name",
)
_AUTOMATIC_VALUES = {reason.value for reason in AUTOMATIC_REASONS}
_UPDATABLE = (
    "assigned",
    "on_hand",
    "incoming_qty",
    "back_in_stock_date",
    "state",
    "disabled_reason",
    "name",
    "overrides",
    "category",
    "brand",
)
"""The item columns an import may change, in the order :meth:`_Applier.plan` lists them."""

_NEW_COLUMNS = (
    "sku",
    "product_id",
    "variant_id",
    "name",
    "on_hand",
    "incoming_qty",
    "back_in_stock_date",
    "state",
    "disabled_reason",
    "overrides",
    "category",
    "brand",
)
"""What the insert of a new item binds; the rest is the same for every new item."""
_NEW_BARE_COLUMNS = ("sku", "product_id", "name", "on_hand", "state", "disabled_reason")
"""The same, for a file giving no more than Product ID, SKU, Name and Stock."""
_NO_OVERRIDES = "{}"
"""A new item's overrides before its row (stored JSON text)."""
_MOVE_COLUMNS = ("sku", "delta", "on_hand_after", "source", "idempotency_key")
_EVENT_COLUMNS = ("type", "sku", "reason", "data")


def import_csv(
    service: StoreService,
    source: str | Path | bytes,
    *,
    mode: Mode,
    columns: Sequence[str] | None = None,
    dialect: str | None = None,
    name: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate the whole file, then apply it all-or-nothing; return what changed."""
    if isinstance(source, bytes):
        data: bytes | Path = source
        name = name or "<upload>"
    else:
        data = Path(source)
        try:
            with open(data, "rb"):
                pass
        except OSError as exc:
            raise ImportFailed([f"{data}: {exc.strerror or exc}"]) from None
        name = name or str(data)
    tz = ZoneInfo(service.settings.timezone)
    chosen = dialects(service.pm).get(dialect or BackorderCsv.name)
    if chosen is None:
        raise ImportFailed([f"--dialect: no CSV dialect {dialect!r} (see backorder plugins)"])
    if isinstance(chosen, BackorderCsv):
        chosen = BackorderCsv(tz)
    parsed = read_csv(
        data, name, mode=mode, columns=columns, tz=tz, dialect=chosen, progress=progress
    )
    return apply_import(service, parsed, mode=mode, progress=progress)


def apply_import(
    service: StoreService, parsed: ParsedFile, *, mode: Mode, progress: Progress | None = None
) -> ImportReport:
    """Apply validated rows in one transaction (through the engine's retrying runner).

    The rows are checked against the store and written in rounds of :data:`CHUNK`;
    the first refusal stops the writing, the rest is still checked so that every
    problem is reported, and the transaction is rolled back.
    """
    store = service.name
    at = service.clock()
    report = ImportReport(
        import_id=parsed.import_id,
        file=parsed.name,
        mode=mode,
        columns=sorted(k for k, f in APPLICABLE.items() if f in parsed.applied),
        rows=len(parsed.rows),
    )

    def work(uow: UnitOfWork) -> ImportReport:
        conn = uow.conn
        done = conn.execute(
            sa.select(import_runs.c.created_at).where(
                import_runs.c.store == store, import_runs.c.import_id == parsed.import_id
            )
        ).first()
        if done is not None:
            return report.model_copy(update={"already_imported": True})
        applier = _Applier(service, conn, parsed, mode, at, uow)
        try:
            applier.run(progress)
        finally:
            applier.sql.close()
        changes = applier.changes
        summary = report.model_copy(
            update={
                "created": applier.created,
                "assigned": applier.newly_assigned,
                "updated": len(changes),
                "unchanged": len(parsed.rows) - applier.rows_changed,
                "stock_moved": applier.stock_moved,
                "events": applier.event_counts,
            }
        )
        conn.execute(
            import_runs.insert().values(
                store=store,
                import_id=parsed.import_id,
                mode=mode,
                file_name=parsed.name[:500],
                rows=len(parsed.rows),
                summary=summary.model_dump(mode="json", exclude={"changes"}),
                created_at=at,
            )
        )
        summary.changes = changes
        return summary

    summary = service.transact(work, "import", at=at)
    if summary.events and service.pm is not None:
        service.dispatch_events()  # written here, not through the unit of work: tell them
    return summary


class _Applier:
    """Checks and applies the rows of one import inside one transaction.

    Works on plain tuples (the rows as read, the items as :data:`csv_import.ITEM_COLUMNS`);
    an :class:`ItemState` is built only for an item whose change calls for a switch, and
    then :func:`backorder.rules.settle` decides, as for any other change.
    """

    def __init__(self, service, conn, parsed: ParsedFile, mode: Mode, at, outcome) -> None:
        need = set(parsed.applied)
        if mode == "assign" or "product_id" in parsed.fields:
            need.add("product_id")
        self.sql = sql = ImportStatements(conn, lock=not service.db.is_sqlite, need=need)
        self.service, self.parsed, self.mode, self.at = service, parsed, mode, at
        self.store = service.name
        self.settings = service.settings
        self.at_raw = sql.bind_date(at)
        self.empty_json = sql.bind_json({})
        applied = parsed.applied
        slots = {f: i for i, f in enumerate(parsed.fields, start=1)}
        self.i_sku = slots["sku"]
        self.i_pid = slots.get("product_id", 0)
        self.i_vid = slots.get("variant_id", 0)
        self.i_name = slots.get("name", 0)
        self.i_cat, self.i_brand, self.i_oh, self.i_thr, self.i_inc, self.i_date = (
            slots.get(f, 0) if f in applied else 0
            for f in (
                "category",
                "brand",
                "on_hand",
                "threshold",
                "incoming_qty",
                "back_in_stock_date",
            )
        )
        self.name_applied = "name" in applied
        columns = ["state", "disabled_reason"]
        columns += ["assigned"] if mode == "assign" else []
        columns += [
            f
            for f in ("on_hand", "incoming_qty", "back_in_stock_date", "name", "category", "brand")
            if f in applied
        ]
        columns += ["overrides"] if "threshold" in applied else []
        if "category" in columns or "brand" in columns:
            columns += [c for c in ("category", "brand") if c not in columns]
        self.columns = [c for c in _UPDATABLE if c in columns]
        self.pick = operator.itemgetter(*(_UPDATABLE.index(c) for c in self.columns))
        self.key_prefix = f"import:{parsed.import_id}:"
        self.source = f"import {parsed.name} row "
        # What every row of a table has in common, written once per statement (see
        # ImportStatements.insert): the rows carry only the columns below.
        self.event_fixed = {"store": self.store, "at": self.at_raw}
        self.move_fixed = {"store": self.store, "kind": "import", "created_at": self.at_raw}
        self.new_fixed: dict[str, Any] = {
            "store": self.store,
            "assigned": mode == "assign",  # (a new item is only ever made by an assign)
            "tracked": True,
            "purchasing_disabled": False,
            "version": 0,
            "updated_at": self.at_raw,
        }
        self.new_bare = not any(
            (self.i_vid, self.i_thr, self.i_inc, self.i_date, self.i_cat, self.i_brand)
        )
        """A new item is made of Product ID, SKU, Name and Stock only (the common file)."""
        if self.new_bare:
            self.new_columns = _NEW_BARE_COLUMNS
            self.new_fixed |= {
                "variant_id": None,
                "incoming_qty": 0,
                "back_in_stock_date": None,
                "overrides": _NO_OVERRIDES,
                "category": None,
                "brand": None,
            }
        else:
            self.new_columns = _NEW_COLUMNS
        self.pushed: dict[str, Any] | None = outcome.changed if service.pushes else None
        self.errors: list[str] = []
        self.changes = ChangeList(sql.utc)
        self.event_counts: dict[str, int] = {}
        self.created = self.stock_moved = 0
        self.product_of: dict[str, str] = {}
        """SKU -> its product, for the file's items of the store whose row gives none."""
        self.newly_assigned = self.rows_changed = 0
        self.policies: dict[tuple[Any, Any], tuple] = {}
        self.dates: dict[Any, Any] = {}
        self.settled_new: dict[tuple, tuple] = {}
        self.checked_key = False
        self._clear()

    def _clear(self) -> None:
        self.inserts: list[tuple] = []
        self.updates: list[tuple] = []
        self.moves: list[tuple] = []
        self.events: list[tuple] = []

    # ------------------------------------------------------------------ the rounds
    def run(self, progress: Progress | None) -> None:
        rows, name = self.parsed.rows, self.parsed.name
        limit = self.settings.plan_limit if self.mode == "assign" else None
        assigned_before = self.sql.assigned_products(self.store) if limit is not None else set()
        wanted: set[str] | None = set() if limit is not None else None
        # Siblings (seed 001: an assigned product's other variants come along) are looked
        # for only if some product of the file had an unassigned item before its round
        # was written. Most files' products have none, and that look is much cheaper than
        # the one after the writes, whose index holds the round's own items. (PostgreSQL:
        # another transaction may add a sibling meanwhile, so they are always looked for.)
        siblings_possible = not self.sql.sqlite
        for start in range(0, len(rows), CHUNK):
            products = self._round(rows[start : start + CHUNK], start, wanted, progress)
            if products and not siblings_possible:
                siblings_possible = self.sql.any_unassigned_of_products(self.store, products)
            self._flush()
        if wanted is not None and len(wanted | assigned_before) > limit:
            self.errors.append(
                f"{name}: plan limit: store {self.store!r} may assign {limit} products; "
                f"{len(assigned_before)} are assigned and this file would make "
                f"{len(wanted | assigned_before)}"
            )
        if self.errors:
            raise ImportFailed(self.errors)
        total = len(rows)
        templates = self._templates() if self.mode == "assign" and siblings_possible else {}
        if templates:
            siblings = self.sql.unassigned_of_products(self.store, sorted(templates))
            for cur in siblings:
                self.plan(templates[cur[3]], None, cur, sibling=True)
            total += len(siblings)
            self._flush()
        if progress:
            progress("applying", total, total)

    def _round(
        self, chunk: list[tuple], start: int, wanted: set[str] | None, progress: Progress | None
    ) -> list[str]:
        """Check and plan one round of rows; return the products they name (assign mode)."""
        mode, name, total = self.mode, self.parsed.name, len(self.parsed.rows)
        creating = self.service.store.platform == "core"
        creates = creating and mode == "assign"  # a SKU the store lacks is a new item
        i_sku, i_pid, errors = self.i_sku, self.i_pid, self.errors
        current = self.sql.load(self.store, [r[i_sku] for r in chunk])
        products: list[str] = []
        new: list[tuple] = []  # rows of new items, planned in file order with the others
        for count, row in enumerate(chunk, start=start + 1):
            if progress and count % 10_000 == 0:
                progress("applying", count, total)
            sku = row[i_sku]
            pid = row[i_pid] if i_pid else None
            if pid is UNSET:
                pid = None
            cur = current.get(sku)
            if wanted is not None:
                wanted.add(pid or (cur[3] if cur else None) or sku)
            if cur is None and creates:  # nothing to refuse (see _refusal)
                if pid:
                    products.append(pid)
                new.append(row)
                continue
            problem = self._refusal(row, sku, pid, cur, creating, name)
            if problem:
                errors.append(problem)
                continue
            if mode == "assign" and (pid or cur[3]):
                products.append(pid or cur[3])
                if not pid:
                    self.product_of[sku] = cur[3]
            if new:
                self._plan_new(new)
                new = []
            if not errors:
                self.plan(row, row[0], cur, sibling=False)
        self._plan_new(new)
        return list(dict.fromkeys(products))

    def _templates(self) -> dict[str, tuple]:
        """Each product of the file -> its first row: what its siblings are assigned with."""
        i_sku, i_pid, product_of = self.i_sku, self.i_pid, self.product_of
        templates: dict[str, tuple] = {}
        for row in self.parsed.rows:
            pid = row[i_pid] if i_pid else None
            if pid is UNSET or not pid:
                pid = product_of.get(row[i_sku])
            if pid:
                templates.setdefault(pid, row)
        return templates

    def _refusal(self, row, sku, pid, cur, creating: bool, name: str) -> str | None:
        line_no, mode = row[0], self.mode
        where = f"{name}:row {line_no}: column SKU: {sku}"
        if cur is None:
            if mode == "update":
                return f"{where} is not in store {self.store!r}"
            if not creating:
                return f"{where} is not in the catalog; run `backorder sync` first"
            return None
        if mode == "assign" and cur[6]:
            return f"{where} is already assigned (use the update import)"
        if mode == "update" and not cur[6]:
            return f"{where} is not assigned (use the assign import)"
        if pid and pid != cur[3]:
            return (
                f"{name}:row {line_no}: column Product ID: {sku} belongs to product "
                f"{cur[3] or '(none)'}, not {pid}"
            )
        return None

    def _flush(self) -> None:
        if self.errors:
            self._clear()
            return
        sql = self.sql
        if self.moves and not self.checked_key:
            self.checked_key = True
            if sql.movement_exists(self.store, self.moves[0][4]):
                raise ImportFailed(
                    [f"{self.parsed.name}: already imported (movement {self.key_prefix}…)"]
                )
        sql.insert("items", self.new_columns, self.inserts, self.new_fixed)
        sql.update_items(self.columns, self.updates)
        sql.insert("movements", _MOVE_COLUMNS, self.moves, self.move_fixed)
        sql.insert("events", _EVENT_COLUMNS, self.events, self.event_fixed)
        self._clear()

    # ------------------------------------------------------------------- one item
    def _policy(self, overrides: Any, action: Any) -> tuple:
        """``(overrides to write, threshold before, after, mode off, threshold)``, cached."""
        key = (
            overrides if isinstance(overrides, str) else json.dumps(overrides, sort_keys=True),
            action,
        )
        found = self.policies.get(key)
        if found is None:
            old = json.loads(overrides) if isinstance(overrides, str) else dict(overrides or {})
            new = dict(old)
            if action is not UNSET:
                if action is None:
                    new.pop("threshold", None)
                else:
                    new["threshold"] = None if action == UNLIMITED else action
            policy = rules.effective_policy(
                self.settings, ItemState.model_construct(sku="", overrides=new)
            )
            found = (
                overrides if isinstance(overrides, str) and new == old else self.sql.bind_json(new),
                old.get("threshold", _NONE),
                new.get("threshold", _NONE),
                policy.mode is PolicyMode.OFF,
                policy.threshold,
                new,
            )
            self.policies[key] = found
        return found

    def _date(self, value: dt.datetime | None) -> Any:
        if value is None:
            return None
        raw = self.dates.get(value)
        if raw is None:
            raw = self.dates[value] = self.sql.bind_date(value)
        return raw

    def plan(self, row: tuple, line_no: int | None, cur: tuple, sibling: bool) -> None:
        """Decide one item of the store: its new columns, its movement, its events, what
        changed. (A new item is decided by :meth:`_plan_new`.)"""
        (
            row_id,
            version,
            sku,
            pid,
            vid,
            name,
            assigned,
            tracked,
            on_hand,
            incoming,
            date_raw,
            state,
            reason,
            purchasing_disabled,
            overrides,
            category,
            brand,
        ) = cur
        assigned = bool(assigned)
        new_assigned = True if self.mode == "assign" else assigned
        action = UNSET
        if self.i_thr:
            action = row[self.i_thr]
        ov_write, thr_before, thr_after, mode_off, threshold, ov_new = self._policy(
            overrides, action
        )
        new_incoming = incoming
        if self.i_inc and (value := row[self.i_inc]) is not UNSET:
            new_incoming = value or 0
        new_date = date_raw
        if self.i_date and (value := row[self.i_date]) is not UNSET:
            new_date = self._date(value)
        new_name, new_category, new_brand, delta = name, category, brand, 0
        if not sibling:
            if self.i_name and self.name_applied:
                value = row[self.i_name]
                if value is not None and value is not UNSET:
                    new_name = value
            if self.i_cat and (value := row[self.i_cat]) is not UNSET:
                new_category = value
            if self.i_brand and (value := row[self.i_brand]) is not UNSET:
                new_brand = value
            if self.i_oh and (value := row[self.i_oh]) is not UNSET and value is not None:
                delta = value - on_hand
        new_on_hand = on_hand + delta

        # rules.settle, called only when it has something to do (the same conditions)
        new_state, new_reason = state, reason
        if not (new_assigned and tracked) or mode_off:
            switch = state == "enabled"
        elif new_on_hand > self.settings.switch_condition:
            switch = state == "enabled" or (state == "disabled" and reason in _AUTOMATIC_VALUES)
        else:
            switch = state == "idle" or (
                state == "enabled" and threshold is not None and new_on_hand + threshold <= 0
            )
        events = self.events
        if self.mode == "assign":
            events.append(("assigned", sku, None, self.empty_json))
            self.event_counts["assigned"] = self.event_counts.get("assigned", 0) + 1
        if switch:
            item = ItemState.model_construct(
                sku=sku,
                product_id=pid,
                variant_id=vid,
                name=new_name,
                assigned=new_assigned,
                tracked=bool(tracked),
                on_hand=new_on_hand,
                incoming_qty=new_incoming,
                back_in_stock_date=self.sql.utc(new_date),
                state=BackorderState(state),
                disabled_reason=DisableReason(reason) if reason else None,
                purchasing_disabled=bool(purchasing_disabled),
                overrides=ov_new,
            )
            new_state, new_reason, happened = self._settle(item)
            for kind, why, data in happened:
                events.append((kind, sku, why, data))
                self.event_counts[kind] = self.event_counts.get(kind, 0) + 1

        if delta:
            self.moves.append(
                (
                    sku,
                    delta,
                    new_on_hand,
                    f"{self.source}{line_no}"[-255:],
                    self.key_prefix + sku,
                )
            )
            self.stock_moved += delta

        old = (
            assigned,
            on_hand,
            incoming,
            date_raw,
            state,
            reason,
            name,
            thr_before,
            category,
            brand,
        )
        new = (
            new_assigned,
            new_on_hand,
            new_incoming,
            new_date,
            new_state,
            new_reason,
            new_name,
            thr_after,
            new_category,
            new_brand,
        )
        changed = old != new
        if changed and new_date != date_raw and self.sql.utc(new_date) == self.sql.utc(date_raw):
            # the same instant stored another way: not a change
            new_date = date_raw
            new = (*new[:3], date_raw, *new[4:])
            changed = old != new
        if changed:
            values = (
                new_assigned,
                new_on_hand,
                new_incoming,
                new_date,
                new_state,
                new_reason,
                new_name,
                ov_write,
                new_category,
                new_brand,
            )
            self.updates.append((*self.pick(values), self.at_raw, row_id, version))
            if self.pushed is not None:
                self.pushed[sku] = None
            self.changes.append((sku, line_no, old, new, False))
            self.newly_assigned += new_assigned != assigned
            self.rows_changed += line_no is not None

    def _plan_new(self, rows: list[tuple]) -> None:
        """:meth:`plan` for rows of SKUs the store does not have (an assign on a core store).

        Each item is made from its row alone: assigned, tracked, idle before, no stock
        before, no overrides but the row's threshold. Its insert carries only
        :attr:`new_columns` (the rest is :attr:`new_fixed`), and a switch reuses the
        outcome of ``rules.settle`` for the same stock and policy (:meth:`_settle_new`).
        """
        if self.errors or not rows:  # (a refused file writes nothing)
            return
        i_sku, i_pid, i_name, i_oh = self.i_sku, self.i_pid, self.i_name, self.i_oh
        bare, switch_at, policy = self.new_bare, self.settings.switch_condition, self._policy
        events, moves, inserts, changes = self.events, self.moves, self.inserts, self.changes
        counts, pushed, assigned = self.event_counts, self.pushed, self.empty_json
        source, key_prefix = self.source, self.key_prefix
        vid, action, incoming, date, category, brand = None, UNSET, 0, None, None, None
        ov_write, thr_before, thr_after, mode_off, _, ov_new = policy(_NO_OVERRIDES, action)
        counts["assigned"] = counts.get("assigned", 0) + len(rows)
        moved = 0
        for row in rows:
            line_no, sku = row[0], row[i_sku]
            pid = row[i_pid] if i_pid else None
            if pid is UNSET:
                pid = None
            name = row[i_name] if i_name else None
            if name is UNSET or not name:
                name = ""
            on_hand = row[i_oh] if i_oh else None
            if on_hand is UNSET or on_hand is None:
                on_hand = 0
            if not bare:  # (else these are the same for every row, as set above)
                vid, action, incoming, date, category, brand = self._new_extras(row)
                ov_write, thr_before, thr_after, mode_off, _, ov_new = policy(_NO_OVERRIDES, action)
            events.append(("assigned", sku, None, assigned))
            state, reason = "idle", None
            if on_hand <= switch_at and not mode_off:
                state, reason, happened = self._settle_new(
                    (sku, pid, vid, name), on_hand, incoming, date, action, ov_new
                )
                for kind, why, data in happened:
                    events.append((kind, sku, why, data))
                    counts[kind] = counts.get(kind, 0) + 1
            if on_hand:
                moves.append((sku, on_hand, on_hand, f"{source}{line_no}"[-255:], key_prefix + sku))
                moved += on_hand
            if bare:
                inserts.append((sku, pid, name, on_hand, state, reason))
            else:
                values = (sku, pid, vid, name, on_hand, incoming, date, state, reason)
                inserts.append((*values, ov_write, category, brand))
            if pushed is not None:
                pushed[sku] = None
            before = (False, 0, 0, None, "idle", None, name, thr_before, None, None)
            after = (True, on_hand, incoming, date, state, reason, name, thr_after, category, brand)
            changes.append((sku, line_no, before, after, True))
        self.created += len(rows)
        self.newly_assigned += len(rows)
        self.rows_changed += len(rows)
        self.stock_moved += moved

    def _new_extras(self, row: tuple) -> tuple:
        """A new item's ``(variant id, threshold action, incoming, date, category, brand)``."""
        vid = row[self.i_vid] if self.i_vid else None
        action = row[self.i_thr] if self.i_thr else UNSET
        incoming, date, category, brand = 0, None, None, None
        if self.i_inc and (value := row[self.i_inc]) is not UNSET:
            incoming = value or 0
        if self.i_date and (value := row[self.i_date]) is not UNSET:
            date = self._date(value)
        if self.i_cat and (value := row[self.i_cat]) is not UNSET:
            category = value
        if self.i_brand and (value := row[self.i_brand]) is not UNSET:
            brand = value
        return (None if vid is UNSET else vid), action, incoming, date, category, brand

    def _settle_new(
        self, names: tuple, on_hand: int, incoming: int, date: Any, action: Any, overrides: dict
    ) -> tuple:
        """:meth:`_settle` of a new item, kept per (stock, incoming, date, threshold).

        ``rules.settle`` reads an item's stock, dates, state and policy, never its
        identity (``names``: SKU, product and variant IDs, name); the events it gives
        carry the SKU apart. New items of the same stock share one outcome.
        """
        key = (on_hand, incoming, date, action)
        found = self.settled_new.get(key)
        if found is None:
            sku, pid, vid, name = names
            item = ItemState.model_construct(
                sku=sku,
                product_id=pid,
                variant_id=vid,
                name=name,
                assigned=True,
                tracked=True,
                on_hand=on_hand,
                incoming_qty=incoming,
                back_in_stock_date=self.sql.utc(date),
                state=BackorderState.IDLE,
                disabled_reason=None,
                purchasing_disabled=False,
                overrides=overrides,
            )
            found = self._settle(item)
            if len(self.settled_new) < 10_000:
                self.settled_new[key] = found
        return found

    def _settle(self, item: ItemState) -> tuple[str, str | None, tuple]:
        """``rules.settle``: ``(state, reason, ((event type, reason, data), ...))`` as stored."""
        settled, happened = rules.settle(item, self.settings, self.at)
        bind_json = self.sql.bind_json
        return (
            settled.state.value,
            settled.disabled_reason.value if settled.disabled_reason else None,
            tuple(
                (e.type.value, e.reason.value if e.reason else None, bind_json(e.data))
                for e in happened
            ),
        )


_NONE = object()
"""No threshold override at all (the item follows the store default)."""


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# ---------------------------------------------------------------------------------- export
def template_row(
    view: ItemView,
    category: str | None,
    brand: str | None,
    tz: dt.tzinfo,
    *,
    explicit_threshold: bool,
) -> dict[str, str]:
    """One template row; the threshold is left blank when the item follows the store default."""
    date = view.back_in_stock_date
    threshold = ""
    if explicit_threshold:
        threshold = UNLIMITED if view.threshold is None else str(view.threshold)
    return {
        "Product ID": view.product_id or "",
        "Variant ID": view.variant_id or "",
        "SKU": view.sku,
        "Name": view.name,
        "Stock": str(view.on_hand),
        "Backorder Threshold": threshold,
        "Incoming Stock": str(view.incoming_qty),
        "Back in stock date": date.astimezone(tz).isoformat(timespec="minutes") if date else "",
        "Category": category or "",
        "Brand": brand or "",
    }


def export_csv(
    service: StoreService,
    out: io.TextIOBase,
    *,
    dialect: str | None = None,
    assigned: bool | None = True,
) -> int:
    """Write the template of the store's items (assigned ones by default); returns the rows.

    The core dialect leaves ``Backorder Threshold`` blank for items that follow the
    store default, so importing the template back changes nothing.
    """
    tz = ZoneInfo(service.settings.timezone)
    chosen = dialects(service.pm).get(dialect or BackorderCsv.name)
    if chosen is None:
        raise NotFound(f"--dialect: no CSV dialect {dialect!r} (see backorder plugins)")
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
    writer = csv.DictWriter(out, fieldnames=list(chosen.columns), lineterminator="\r\n")
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


def changes_csv(report: ImportReport, out: io.TextIOBase) -> None:
    """The report of what changed, one line per item and field."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["SKU", "Row", "Field", "Before", "After"])
    for change in report.changes:
        for key, value in change.items():
            if key in ("sku", "row"):
                continue
            before, after = value
            writer.writerow([change["sku"], change["row"] or "", key, before, after])


__all__ = [
    "APPLICABLE",
    "COLUMNS",
    "BackorderCsv",
    "ImportFailed",
    "ImportReport",
    "changes_csv",
    "export_csv",
    "import_csv",
    "read_csv",
]
