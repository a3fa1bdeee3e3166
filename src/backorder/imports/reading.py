"""Reading an import file: the whole file is read and every row validated before anything
is touched; every bad row and column is reported as ``file:row N: column X: message``."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import operator
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import ValidationError

from backorder.csv_cells import unescape
from backorder.dialects import CsvDialect
from backorder.errors import InvalidInput
from backorder.imports.columns import (
    APPLICABLE,
    COLUMNS,
    FIELDS,
    HEADER,
    Slow,
    cell_readers,
    validate_cells,
)
from backorder.imports.dialect import BackorderCsv, input_to_cells

Mode = Literal["assign", "update"]
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: stage is ``"reading"`` or ``"applying"``."""


class ImportFailed(InvalidInput):
    """The file was refused whole; ``errors`` lists every problem, nothing was changed."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{errors[0]}{more}")


class _Unset:
    """A field the row does not give (a column the file lacks, or that a platform
    dialect's row leaves out)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

MAX_COLUMNS = 200
"""The most columns an import file may have (the widest dialect has a few dozen)."""
CELL_LIMIT = csv.field_size_limit()
"""The longest cell the CSV reader takes (131,072 characters; no column holds as much)."""

class Slots(NamedTuple):
    """Where each field of :data:`~backorder.imports.columns.Row` sits in the rows of one
    parsed file; 0 where the file does not give it (position 0 holds the line number).
    Its fields are :data:`~backorder.imports.columns.FIELDS`, spelled out for the type
    checker (``tests/test_import_columns.py`` holds them equal)."""

    sku: int
    product_id: int
    variant_id: int
    name: int
    category: int
    brand: int
    on_hand: int
    threshold: int
    incoming_qty: int
    back_in_stock_date: int


@dataclass
class ParsedFile:
    """A validated file: each row is ``(line number, *values of fields)``.

    ``fields`` are the file's columns for the core dialect (every row gives them all),
    :data:`~backorder.imports.columns.FIELDS` for a platform dialect (a field a row leaves
    out is :data:`UNSET`); :attr:`slots` names their positions. Plain tuples, not models
    nor named tuples: a million-row file must fit in memory comfortably, and the garbage
    collector stops walking a plain tuple of plain values, never a named one.
    """

    name: str
    import_id: str
    rows: list[tuple]
    fields: tuple[str, ...]
    applied: set[str]

    @property
    def slots(self) -> Slots:
        return Slots(*(self.fields.index(f) + 1 if f in self.fields else 0 for f in FIELDS))


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
    opened: list[Any] = []  # the csv reader, whose line number names where it failed
    try:
        with _open_text(data) as text:
            return _read(text, data, name, mode, columns, tz, dialect, progress, opened)
    except csv.Error as exc:
        line_no = max(opened[0].line_num if opened else 1, 1)
        if "field limit" in str(exc):
            raise ImportFailed(
                [f"{name}:row {line_no}: a cell longer than {CELL_LIMIT:,} characters "
                 "(no column holds that much; is a quote left open?)"]
            ) from None
        raise ImportFailed([f"{name}:row {line_no}: not readable as CSV: {exc}"]) from None
    except UnicodeDecodeError:
        raw = data if isinstance(data, bytes) else Path(data).read_bytes()
        try:
            raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFailed(
                [f"{name}: not UTF-8 text (byte {exc.start}); save it as CSV UTF-8 and retry"]
            ) from None
        raise


def _read(text, source, name, mode, columns, tz, dialect, progress, opened) -> ParsedFile:
    custom = dialect is not None and not isinstance(dialect, BackorderCsv)
    reader = csv.reader(text)
    opened.append(reader)
    header = next(reader, None)
    if not header:
        raise ImportFailed([f"{name}: the file is empty; it needs a header row"])
    if len(header) > MAX_COLUMNS:
        raise ImportFailed(
            [f"{name}:row 1: {len(header):,} columns; an import file has at most {MAX_COLUMNS}"]
        )
    header = [h.strip() for h in header]
    errors = _check_header(header, name, dialect if custom else None)
    wanted = _applied(columns, mode, errors, name)
    if errors:
        raise ImportFailed(errors)
    header_fields = [COLUMNS.get(h, h) for h in header]
    fields = FIELDS if custom else tuple(header_fields)
    total = _count_lines(source) if progress else 1
    readers = cell_readers(header_fields, tz) if not custom else []
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
            except Slow:
                row = None
            if row is None:
                if not "".join(cells).strip():
                    continue  # blank line
                raw = {
                    f: (c if c.strip() else None) for f, c in zip(header_fields, cells, strict=True)
                }
                parsed = validate_cells(raw, tz, name, line_no)
                if isinstance(parsed, list):
                    errors += parsed
                    continue
                row = (line_no, *[getattr(parsed, f) for f in fields])
        else:
            if not "".join(cells).strip():
                continue
            try:
                entry = dialect.read_row(dict(zip(header, map(unescape, cells), strict=True)))
            except (ValueError, ValidationError) as exc:
                errors.append(f"{name}:row {line_no}: {exc}")
                continue
            parsed = validate_cells(input_to_cells(entry), tz, name, line_no)
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
    """Every problem of the header row, in time linear in its length."""
    known = list(dialect.columns) if dialect is not None else list(COLUMNS)
    if len(header) == 1 and header[0] not in known:
        for sep, what in ((";", "';'"), ("\t", "tab")):
            if sep in header[0]:
                return [
                    f"{name}:row 1: the file looks {what}-delimited; "
                    "an import file is comma-separated (export it as CSV with commas)"
                ]
    known_set = set(known)
    errors = [
        f"{name}:row 1: column {h or '(blank)'}: unknown column (expected: {', '.join(known)})"
        for h in header
        if h not in known_set
    ]
    errors += [
        f"{name}:row 1: column {h}: appears twice"
        for h, count in Counter(header).items()
        if count > 1
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


def _open_text(source: bytes | Path) -> io.TextIOWrapper:
    if isinstance(source, bytes):
        return io.TextIOWrapper(io.BytesIO(source), encoding="utf-8-sig", newline="")
    return open(source, encoding="utf-8-sig", newline="")


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
