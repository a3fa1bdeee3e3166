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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from backorder import rules
from backorder.dialects import CsvDialect
from backorder.engine import BackorderError, Outcome, StoreService
from backorder.models import (
    BackorderState,
    DisableReason,
    DomainEvent,
    EventType,
    ItemInput,
    ItemState,
    ItemView,
)
from backorder.storage import ledger
from backorder.storage.schema import import_runs, items, movements

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


class ImportFailed(BackorderError):
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


@dataclass
class ParsedFile:
    name: str
    import_id: str
    rows: list[Row]
    line_nos: list[int]
    applied: set[str]


@dataclass
class ItemChange:
    sku: str
    row: int | None
    fields: dict[str, tuple[Any, Any]]


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
    changes: list[dict[str, Any]] = Field(default_factory=list)
    """Per item: ``{"sku", "row", field: [old, new], ...}``."""
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


def dialects(pm) -> dict[str, CsvDialect]:
    """The core dialect plus every dialect the plugins offer (``backorder_csv_dialects``)."""
    found: dict[str, CsvDialect] = {BackorderCsv.name: BackorderCsv()}
    if pm is not None:
        for offered in pm.hook.backorder_csv_dialects():
            for dialect in offered or []:
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


def read_csv(
    data: bytes,
    name: str,
    *,
    mode: Mode,
    columns: Sequence[str] | None = None,
    tz: dt.tzinfo = dt.UTC,
    dialect: CsvDialect | None = None,
    progress: Progress | None = None,
) -> ParsedFile:
    """Read and validate a whole file; raise :class:`ImportFailed` listing every problem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([f"{name}: not UTF-8 text (byte {exc.start})"]) from None
    custom = dialect is not None and not isinstance(dialect, BackorderCsv)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise ImportFailed([f"{name}: the file is empty; it needs a header row"])
    header = [h.strip() for h in header]
    errors = _check_header(header, name, dialect if custom else None)
    wanted = _applied(columns, mode, errors, name)
    if errors:
        raise ImportFailed(errors)
    fields = [COLUMNS.get(h, h) for h in header]
    total = text.count("\n") or 1
    rows: list[Row] = []
    line_nos: list[int] = []
    present: set[str] = set()
    seen: dict[str, int] = {}
    for count, cells in enumerate(reader, start=1):
        line_no = reader.line_num
        if progress and count % 10_000 == 0:
            progress("reading", line_no, total)
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            errors.append(
                f"{name}:row {line_no}: {len(cells)} cells where the header has {len(header)}"
            )
            continue
        if custom:
            try:
                entry = dialect.read_row(dict(zip(header, cells, strict=True)))
            except (ValueError, ValidationError) as exc:
                errors.append(f"{name}:row {line_no}: {exc}")
                continue
            raw = _input_to_cells(entry)
        else:
            raw = {f: (c if c.strip() else None) for f, c in zip(fields, cells, strict=True)}
        parsed = _validate_cells(raw, tz, name, line_no)
        if isinstance(parsed, list):
            errors += parsed
            continue
        if parsed.sku in seen:
            errors.append(
                f"{name}:row {line_no}: column SKU: {parsed.sku} is also on row {seen[parsed.sku]}"
            )
            continue
        seen[parsed.sku] = line_no
        present |= parsed.model_fields_set
        rows.append(parsed)
        line_nos.append(line_no)
    if not custom:
        present = {COLUMNS[h] for h in header}
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
    digest = hashlib.sha256(f"{mode}|{','.join(sorted(applied))}|".encode() + data)
    return ParsedFile(name, digest.hexdigest()[:24], rows, line_nos, applied)


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
@dataclass
class _Current:
    row_id: int | None
    version: int
    item: ItemState
    category: str | None
    brand: str | None


@dataclass
class _Plan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    changes: list[ItemChange] = field(default_factory=list)


def _select(conn: sa.Connection, query: sa.Select, lock: bool) -> Iterable[sa.Row]:
    return conn.execute(query.with_for_update() if lock else query)


def _load(conn: sa.Connection, store: str, rows: list[Row], lock: bool) -> dict[str, _Current]:
    """The store's items the file touches, and their products' other variants.

    Read lightly (no per-row validation); a big file reads the whole store in one pass.
    """
    base = sa.select(*_READ).where(items.c.store == store)
    if len(rows) > 5_000:
        return _currents(_select(conn, base, lock))
    found: dict[str, _Current] = {}
    skus = [r.sku for r in rows]
    for i in range(0, len(skus), 500):
        found |= _currents(_select(conn, base.where(items.c.sku.in_(skus[i : i + 500])), lock))
    products = sorted(
        {r.product_id for r in rows if r.product_id}
        | {c.item.product_id for c in found.values() if c.item.product_id}
    )
    for i in range(0, len(products), 500):
        chunk = products[i : i + 500]
        more = _currents(_select(conn, base.where(items.c.product_id.in_(chunk)), lock))
        found |= {sku: cur for sku, cur in more.items() if sku not in found}
    return found


_READ = (
    *(c for c in items.c if c.name not in ("overrides", "store", "updated_at")),
    sa.type_coerce(items.c.overrides, sa.Text).label("overrides"),
)


def _currents(rows: Iterable[sa.Row]) -> dict[str, _Current]:
    found: dict[str, _Current] = {}
    parsed: dict[str, dict] = {}  # items mostly share a few override sets: parse each once
    for row in rows:
        raw = row.overrides
        if isinstance(raw, str):
            if raw not in parsed:
                parsed[raw] = json.loads(raw)
            raw = parsed[raw]
        date = row.back_in_stock_date
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=dt.UTC)
        state = ItemState.model_construct(
            sku=row.sku,
            product_id=row.product_id,
            variant_id=row.variant_id,
            name=row.name,
            assigned=row.assigned,
            tracked=row.tracked,
            on_hand=row.on_hand,
            incoming_qty=row.incoming_qty,
            back_in_stock_date=date,
            state=BackorderState(row.state),
            disabled_reason=DisableReason(row.disabled_reason) if row.disabled_reason else None,
            purchasing_disabled=row.purchasing_disabled,
            overrides=dict(raw),
        )
        found[row.sku] = _Current(row.id, row.version, state, row.category, row.brand)
    return found


_TRACKED = (
    "assigned",
    "on_hand",
    "incoming_qty",
    "back_in_stock_date",
    "state",
    "disabled_reason",
    "name",
)


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
        data, name = source, name or "<upload>"
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImportFailed([f"{path}: {exc.strerror or exc}"]) from None
        name = name or str(path)
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
    """Apply validated rows in one transaction (through the engine's retrying runner)."""
    store = service.name
    at = service.clock()
    report = ImportReport(
        import_id=parsed.import_id,
        file=parsed.name,
        mode=mode,
        columns=sorted(k for k, f in APPLICABLE.items() if f in parsed.applied),
        rows=len(parsed.rows),
    )

    def work(conn: sa.Connection, outcome: Outcome) -> ImportReport:
        done = conn.execute(
            sa.select(import_runs.c.created_at).where(
                import_runs.c.store == store, import_runs.c.import_id == parsed.import_id
            )
        ).first()
        if done is not None:
            return report.model_copy(update={"already_imported": True})
        current = _load(conn, store, parsed.rows, lock=not service.db.is_sqlite)
        plan, errors = _plan(conn, service, parsed, mode, current, at, outcome, progress)
        if errors:
            raise ImportFailed(errors)
        key_prefix = f"import:{parsed.import_id}:"
        if plan.moves and ledger.movement_applied(conn, store, plan.moves[0]["idempotency_key"]):
            raise ImportFailed([f"{parsed.name}: already imported (movement {key_prefix}…)"])
        _write(conn, plan, at)
        by_type: dict[str, int] = {}
        for event in outcome.events:
            by_type[event.type.value] = by_type.get(event.type.value, 0) + 1
        summary = report.model_copy(
            update={
                "created": len(plan.inserts),
                "assigned": sum(1 for c in plan.changes if "assigned" in c.fields),
                "updated": len(plan.changes),
                "unchanged": len(parsed.rows) - sum(1 for c in plan.changes if c.row),
                "stock_moved": sum(m["delta"] for m in plan.moves),
                "events": by_type,
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
        summary.changes = [
            {"sku": c.sku, "row": c.row, **{k: list(v) for k, v in c.fields.items()}}
            for c in plan.changes
        ]
        return summary

    return service._run(work, "import")


def _plan(
    conn: sa.Connection,
    service: StoreService,
    parsed: ParsedFile,
    mode: Mode,
    current: dict[str, _Current],
    at: dt.datetime,
    outcome: Outcome,
    progress: Progress | None,
) -> tuple[_Plan, list[str]]:
    """Decide every row against the store; collect every refusal before writing anything."""
    name = parsed.name
    plan, errors = _Plan(), []
    creating = service.store.platform == "core"
    templates: dict[str, Row] = {}
    for row, line_no in zip(parsed.rows, parsed.line_nos, strict=True):
        where = f"{name}:row {line_no}: column SKU: {row.sku}"
        cur = current.get(row.sku)
        if cur is None:
            if mode == "update":
                errors.append(f"{where} is not in store {service.name!r}")
                continue
            if not creating:
                errors.append(f"{where} is not in the catalog; run `backorder sync` first")
                continue
        elif mode == "assign" and cur.item.assigned:
            errors.append(f"{where} is already assigned (use the update import)")
            continue
        elif mode == "update" and not cur.item.assigned:
            errors.append(f"{where} is not assigned (use the assign import)")
            continue
        if cur is not None and row.product_id and row.product_id != cur.item.product_id:
            errors.append(
                f"{name}:row {line_no}: column Product ID: {row.sku} belongs to product "
                f"{cur.item.product_id or '(none)'}, not {row.product_id}"
            )
            continue
        pid = row.product_id or (cur.item.product_id if cur else None)
        if mode == "assign" and pid:
            templates.setdefault(pid, row)
    in_file = {r.sku for r in parsed.rows}
    siblings: list[tuple[_Current, Row]] = []
    if mode == "assign":
        siblings = [
            (cur, templates[cur.item.product_id])
            for cur in current.values()
            if cur.item.sku not in in_file
            and cur.item.product_id in templates
            and not cur.item.assigned
        ]
        errors += _plan_limit(conn, service, current, parsed)
    if errors:
        return plan, errors
    work: list[tuple[Row, int | None, _Current | None]] = [
        *zip(parsed.rows, parsed.line_nos, [current.get(r.sku) for r in parsed.rows], strict=True),
        *((template, None, cur) for cur, template in siblings),
    ]
    total = len(work)
    for count, (row, line_no, cur) in enumerate(work, start=1):
        if progress and count % 10_000 == 0:
            progress("applying", count, total)
        sibling = line_no is None
        _plan_row(service, plan, parsed, mode, row, line_no, cur, sibling, at, outcome)
    if progress:
        progress("applying", total, total)
    return plan, errors


def _plan_limit(conn: sa.Connection, service, current, parsed) -> list[str]:
    limit = service.settings.plan_limit
    if limit is None:
        return []
    query = sa.select(sa.func.coalesce(items.c.product_id, items.c.sku)).where(
        items.c.store == service.name, items.c.assigned == sa.true()
    )
    assigned = set(conn.execute(query).scalars())
    wanted = assigned | {
        r.product_id or (current[r.sku].item.product_id if r.sku in current else None) or r.sku
        for r in parsed.rows
    }
    if len(wanted) > limit:
        return [
            f"{parsed.name}: plan limit: store {service.name!r} may assign {limit} products; "
            f"{len(assigned)} are assigned and this file would make {len(wanted)}"
        ]
    return []


def _plan_row(service, plan, parsed, mode, row, line_no, cur, sibling, at, outcome) -> None:
    applied = parsed.applied
    if cur is None:
        old = ItemState(
            sku=row.sku,
            product_id=row.product_id,
            variant_id=row.variant_id,
            name=row.name or "",
            assigned=False,
        )
        category = brand = None
    else:
        old, category, brand = cur.item, cur.category, cur.brand
    update: dict[str, Any] = {}
    if mode == "assign":
        update["assigned"] = True
        outcome.events.append(DomainEvent(type=EventType.ASSIGNED, sku=row.sku, at=at))
    if "threshold" in applied and "threshold" in row.model_fields_set:
        overrides = dict(old.overrides)
        if row.threshold is None:
            overrides.pop("threshold", None)
        else:
            overrides["threshold"] = None if row.threshold == UNLIMITED else row.threshold
        update["overrides"] = overrides
    if "incoming_qty" in applied and "incoming_qty" in row.model_fields_set:
        update["incoming_qty"] = row.incoming_qty or 0
    if "back_in_stock_date" in applied and "back_in_stock_date" in row.model_fields_set:
        update["back_in_stock_date"] = row.back_in_stock_date
    if not sibling:
        if "name" in applied and row.name is not None:
            update["name"] = row.name
        if "category" in applied and "category" in row.model_fields_set:
            category = row.category
        if "brand" in applied and "brand" in row.model_fields_set:
            brand = row.brand
    new = old.model_copy(update=update) if update else old
    delta = 0
    if not sibling and "on_hand" in applied and row.on_hand is not None:  # blank: as it is
        delta = row.on_hand - old.on_hand
    if delta:
        new = new.model_copy(update={"on_hand": new.on_hand + delta})
    new, events = rules.settle(new, service.settings, at)
    outcome.events += events
    if delta or (cur is None and new.on_hand):
        plan.moves.append(
            {
                "store": service.name,
                "sku": new.sku,
                "delta": delta,
                "on_hand_after": new.on_hand,
                "kind": "import",
                "source": f"import {parsed.name} row {line_no}"[-255:],
                "idempotency_key": f"import:{parsed.import_id}:{new.sku}",
            }
        )
    fields = {
        f: (getattr(old, f), getattr(new, f))
        for f in _TRACKED
        if getattr(old, f) != getattr(new, f)
    }
    if old.overrides.get("threshold", "-") != new.overrides.get("threshold", "-"):
        fields["threshold"] = (old.overrides.get("threshold"), new.overrides.get("threshold"))
    if cur is not None and (category, brand) != (cur.category, cur.brand):
        fields["category"], fields["brand"] = (cur.category, category), (cur.brand, brand)
    if cur is None:
        plan.inserts.append(
            {
                "store": service.name,
                **new.model_dump(mode="python"),
                "category": category,
                "brand": brand,
                "version": 0,
                "updated_at": at,
            }
        )
        fields["created"] = (None, True)
    elif fields:
        values = {"b_id": cur.row_id, "b_version": cur.version}
        values |= {c: getattr(new, c) for c in _TRACKED if c in fields}
        if "threshold" in fields:
            values["overrides"] = new.overrides
        if "category" in fields:
            values |= {"category": category, "brand": brand}
        plan.updates.append(values)
    if fields:
        outcome.changed[new.sku] = new
        plan.changes.append(ItemChange(new.sku, line_no, _jsonable(fields)))


def _jsonable(fields: dict[str, tuple[Any, Any]]) -> dict[str, tuple[Any, Any]]:
    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()
        return getattr(value, "value", value)

    return {k: (plain(a), plain(b)) for k, (a, b) in fields.items()}


def _write(conn: sa.Connection, plan: _Plan, at: dt.datetime) -> None:
    """Set-based writes: one executemany per shape of update, one for the movements."""
    stamp = _stamp(conn, at)
    if plan.inserts:
        conn.execute(items.insert(), plan.inserts)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in plan.updates:
        shapes.setdefault(tuple(values), []).append(values)
    for batch in shapes.values():
        stmt = (
            items.update()
            .where(items.c.id == sa.bindparam("b_id"), items.c.version == sa.bindparam("b_version"))
            .values(version=items.c.version + 1, updated_at=stamp)
        )
        result = conn.execute(stmt, batch)
        if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(batch):
            raise ledger.VersionConflict("import")  # someone wrote meanwhile: the runner retries
    if plan.moves:
        conn.execute(movements.insert().values(created_at=stamp), plan.moves)


def _stamp(conn: sa.Connection, at: dt.datetime) -> sa.ColumnElement:
    """``at`` as a statement constant, converted once (not once per row, as binds would be)."""
    process = items.c.updated_at.type.bind_processor(conn.dialect)
    if process is None:
        return sa.literal(at, items.c.updated_at.type)
    return sa.literal(process(at), sa.String())


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
        raise BackorderError(f"--dialect: no CSV dialect {dialect!r} (see backorder plugins)")
    with service.db.transaction() as conn:
        loaded = ledger.load_items(conn, service.name, assigned=assigned)
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
