"""CSV import and export of assigned items (seed 000 §Import, seed 001 §1.3 and §2.3).

An import runs in two passes. First the whole file is read and every row validated
(:data:`Row`, pydantic); every bad row and column is reported as
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

The modules, in the order an import goes through them:

- :mod:`.columns`: the columns, specified once; the pydantic row model and the fast
  cell readers made from that specification;
- :mod:`.dialect`: the core dialect (the template) and the plugins' dialects;
- :mod:`.reading`: reading and validating a whole file;
- :mod:`.planning`: what each row changes;
- :mod:`.applying`: the transaction, its rounds and its writes;
- :mod:`.export`: the template of a store's items, and the changes of an import as CSV.
"""

from backorder.imports.applying import ImportReport, apply_import, import_csv
from backorder.imports.columns import (
    APPLICABLE,
    COLUMNS,
    FIELDS,
    HEADER,
    SPEC,
    UNLIMITED,
    Row,
    parse_date,
    validate_cells,
)
from backorder.imports.dialect import BackorderCsv, dialects, row_to_input, template_row
from backorder.imports.export import changes_csv, export_csv
from backorder.imports.reading import (
    UNSET,
    ImportFailed,
    Mode,
    ParsedFile,
    Progress,
    Slots,
    read_csv,
)

__all__ = [
    "APPLICABLE",
    "COLUMNS",
    "FIELDS",
    "HEADER",
    "SPEC",
    "UNLIMITED",
    "UNSET",
    "BackorderCsv",
    "ImportFailed",
    "ImportReport",
    "Mode",
    "ParsedFile",
    "Progress",
    "Row",
    "Slots",
    "apply_import",
    "changes_csv",
    "dialects",
    "export_csv",
    "import_csv",
    "parse_date",
    "read_csv",
    "row_to_input",
    "template_row",
    "validate_cells",
]
