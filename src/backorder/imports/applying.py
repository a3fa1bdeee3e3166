"""Applying an import: ONE transaction, the rows checked against the store and written in
rounds with set-based statements (items, stock movements, events), the switching rules
run on every changed item so the usual events fire."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel, Field, PlainSerializer

from backorder.engine import StoreService
from backorder.imports.columns import APPLICABLE
from backorder.imports.dialect import BackorderCsv, dialects
from backorder.imports.planning import PLANNED_EVENT_COLUMNS, PLANNED_MOVEMENT_COLUMNS, Planner
from backorder.imports.reading import (
    UNSET,
    ImportFailed,
    Mode,
    ParsedFile,
    Progress,
    read_csv,
)
from backorder.storage.fastpath.csv_import import ImportItem, ImportStatements
from backorder.storage.item_search import BulkIndex
from backorder.storage.item_status import BulkStatus
from backorder.storage.schema import import_runs
from backorder.storefront_api import readmodel
from backorder.unit_of_work import UnitOfWork

VIEWED = (
    "product_id", "variant_id", "name", "incoming_qty", "back_in_stock_date",
    "purchasing_disabled",
)
"""The item columns an import may not need but an item's storefront view shows."""

CHUNK = 50_000
"""Rows planned and written per round: bounds the memory of the apply pass."""


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
    """Per item: ``{"sku", "row", field: [old, new], ...}`` (a
    :class:`~backorder.imports.planning.ChangeList`: each change is kept as two named
    tuples and spelt out as a dict when read)."""
    already_imported: bool = False


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
    known = dialects(service.pm)
    chosen = known.get(dialect or BackorderCsv.name)
    if chosen is None:
        raise ImportFailed(
            [f"--dialect: no CSV dialect {dialect!r}; choose one of {', '.join(sorted(known))}"]
        )
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
        planner = applier.planner
        changes = planner.changes
        summary = report.model_copy(
            update={
                "created": planner.created,
                "assigned": planner.newly_assigned,
                "updated": len(changes),
                "unchanged": len(parsed.rows) - planner.rows_changed,
                "stock_moved": planner.stock_moved,
                "events": planner.event_counts,
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
    if summary.events and service.notifications.wanted_types() != set():
        service.dispatch_events()  # written here, not through the unit of work: tell them
    return summary


class _Applier:
    """Checks and applies the rows of one import inside one transaction, in rounds: each
    round's items are read, its rows checked and planned (:class:`Planner`), then written.
    """

    def __init__(self, service, conn, parsed: ParsedFile, mode: Mode, at, uow) -> None:
        need = set(parsed.applied)
        if mode == "assign" or "product_id" in parsed.fields:
            need.add("product_id")
        if service.db.is_sqlite:  # every field a view shows (see views= below)
            need |= set(VIEWED)
        self.sql = sql = ImportStatements(conn, lock=not service.db.is_sqlite, need=need)
        # The search index (SQLite FTS5) and the stored statuses are written set-based
        # after the rows, not row by row from their triggers: see BulkIndex, BulkStatus.
        # (Their triggers are paused in this transaction: an exception rolls it back.)
        self.search, self.status = BulkIndex(conn), BulkStatus(conn)
        self.service, self.parsed, self.mode = service, parsed, mode
        self.store = service.name
        self.planner = Planner(
            self.store,
            parsed,
            mode,
            service.settings,
            at,
            bind_date=sql.bind_date,
            bind_json=sql.bind_json,
            utc=sql.utc,
            pushed=uow.changed,  # the platform's pushes need them
            # SQLite: their read model rows spelt from the planned values and written with
            # the items (PostgreSQL: read back and worked out before commit, as any change)
            views=(readmodel.Speller(service.settings), readmodel.basis(service.settings))
            if sql.sqlite else None,
        )
        self.uow = uow
        # What every row of a table has in common, written once per statement (see
        # ImportStatements.insert): the rows carry only their statement's columns.
        at_raw = self.planner.at_raw
        self.new_fixed = self.planner.new_fixed()
        self.event_fixed = {"store": self.store, "at": at_raw}
        if service.notifications.wanted_types() == set():  # nobody listens: none left pending
            self.event_fixed["dispatched_at"] = at_raw
        self.move_fixed = {"store": self.store, "kind": "import", "created_at": at_raw}
        self.errors: list[str] = []
        self.product_of: dict[str, str] = {}
        """SKU -> its product, for the file's items of the store whose row gives none."""
        self.checked_key = False

    # ------------------------------------------------------------------ the rounds
    def run(self, progress: Progress | None) -> None:
        rows, name = self.parsed.rows, self.parsed.name
        limit = self.service.settings.plan_limit if self.mode == "assign" else None
        assigned_before = self.sql.assigned_products(self.store) if limit is not None else set()
        if limit is not None:
            self._plan_limit_up_front(limit, assigned_before)
        wanted: set[str] | None = set() if limit is not None else None
        # Siblings (seed 001: an assigned product's other variants come along) are looked
        # for only if some product of the file had an unassigned item before its round
        # was written. Most files' products have none, and that look is much cheaper than
        # the one after the writes, whose index holds the round's own items. (PostgreSQL:
        # another transaction may add a sibling meanwhile, so they are always looked for.)
        siblings_possible = not self.sql.sqlite
        self.search.pause()
        self.status.pause()
        for start in range(0, len(rows), CHUNK):
            products = self._round(rows[start : start + CHUNK], start, wanted, progress)
            if products and not siblings_possible:
                siblings_possible = self.sql.any_unassigned_of_products(self.store, products)
            self._flush()
        if wanted is not None and limit is not None and len(wanted | assigned_before) > limit:
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
            for item in siblings:  # each has one of the products asked for
                self.planner.plan(templates[str(item.product_id)], None, item, sibling=True)
            total += len(siblings)
            self._flush()
        self.search.finish()
        self.status.finish()
        if progress:
            progress("applying", total, total)

    def _plan_limit_up_front(self, limit: int, assigned_before: set[str]) -> None:
        """Refuse before writing anything when the products the file names by ID already pass
        the plan limit (the full check, rows without an ID too, follows the rounds)."""
        slot = self.parsed.slots.product_id
        if not slot:
            return
        named = {row[slot] for row in self.parsed.rows if row[slot] not in (None, UNSET)}
        total = len(named | assigned_before)
        if total > limit:
            raise ImportFailed(
                [
                    f"{self.parsed.name}: plan limit: store {self.store!r} may assign {limit} "
                    f"products; {len(assigned_before)} are assigned and this file would make "
                    f"at least {total}; nothing was imported"
                ]
            )

    def _round(
        self, chunk: list[tuple], start: int, wanted: set[str] | None, progress: Progress | None
    ) -> list[str]:
        """Check and plan one round of rows; return the products they name (assign mode)."""
        mode, name, total = self.mode, self.parsed.name, len(self.parsed.rows)
        planner, errors = self.planner, self.errors
        i_sku, i_pid = planner.slots.sku, planner.slots.product_id
        creating = self.service.store.platform == "core"
        creates = creating and mode == "assign"  # a SKU the store lacks is a new item
        current: dict[str, ImportItem] = self.sql.load(self.store, [r[i_sku] for r in chunk])
        products: list[str] = []
        new: list[tuple] = []  # rows of new items, planned in file order with the others
        for count, row in enumerate(chunk, start=start + 1):
            if progress and count % 10_000 == 0:
                progress("applying", count, total)
            sku = row[i_sku]
            pid = row[i_pid] if i_pid else None
            if pid is UNSET:
                pid = None
            item = current.get(sku)
            if wanted is not None:
                wanted.add(pid or (item.product_id if item else None) or sku)
            if item is None and creates:  # nothing to refuse (see Planner.refusal)
                if pid:
                    products.append(pid)
                new.append(row)
                continue
            problem = planner.refusal(row, pid, item, creating, name)
            if problem:
                errors.append(problem)
                continue
            assert item is not None, "refusal() refuses a missing item unless creating"
            if mode == "assign" and (pid or item.product_id):
                product = pid or str(item.product_id)
                products.append(product)
                if not pid:
                    self.product_of[sku] = product
            if new:
                self._plan_new(new)
                new = []
            if not errors:
                planner.plan(row, row[0], item, sibling=False)
        self._plan_new(new)
        return list(dict.fromkeys(products))

    def _plan_new(self, rows: list[tuple]) -> None:
        if not self.errors:  # (a refused file writes nothing)
            self.planner.plan_new(rows)

    def _templates(self) -> dict[str, tuple]:
        """Each product of the file -> its first row: what its siblings are assigned with."""
        product_of = self.product_of
        i_sku, i_pid = self.planner.slots.sku, self.planner.slots.product_id
        templates: dict[str, tuple] = {}
        for row in self.parsed.rows:
            pid = row[i_pid] if i_pid else None
            if pid is UNSET or not pid:
                pid = product_of.get(row[i_sku])
            if pid:
                templates.setdefault(pid, row)
        return templates

    def _flush(self) -> None:
        writes = self.planner.take()
        if self.errors:
            return
        sql = self.sql
        if writes.moves and not self.checked_key:
            self.checked_key = True
            if sql.movement_exists(self.store, writes.moves[0][4]):
                raise ImportFailed(
                    [f"{self.parsed.name}: already imported (movement {self.planner.key_prefix}…)"]
                )
        sql.insert("items", self.planner.new_columns, writes.inserts, self.new_fixed)
        if writes.updates:
            self.search.before_update((row[-2] for row in writes.updates),
                                      columns=self.planner.columns)
        sql.update_items(self.planner.columns, writes.updates)
        if writes.updates:
            self.status.updated((row[-2] for row in writes.updates),
                                columns=self.planner.columns)
        sql.insert("movements", PLANNED_MOVEMENT_COLUMNS, writes.moves, self.move_fixed)
        sql.insert("events", PLANNED_EVENT_COLUMNS, writes.events, self.event_fixed)
        if writes.views:
            readmodel.write(sql.conn, writes.views)
            self.uow.viewed.update(row[1] for row in writes.views)
