"""Each item's status, stored on its row (``items.status``) and kept by the database itself.

The web app shows status counts on every page and filters items by status; computed from
each row's overrides at 100,000 items that costs more than a page may (issue 16). So the
status (:func:`backorder.rules.availability.status`, the same rule) is stored and indexed,
and it is kept by triggers (migration 0009): every write path (an order, a batch, the tick,
an import, an edit, a webhook, even a hand-written ``UPDATE``) changes a row through SQL,
and the trigger recomputes that row's status in the same statement. No write path has to
remember it, and the fast paths' statements stay as they were. (The CSV import, which
writes up to millions of rows, pauses the SQLite triggers in its own transaction and sets
its rows' statuses set-based with the same SQL: :class:`BulkStatus`.)

The status depends on the store's defaults (mode, threshold, low-stock level, kept-back
stock), which come from the config file and the web app's settings, not from the database.
The triggers read them from ``item_status_defaults``, one row per store; :func:`ensure`
writes that row from the settings in force and, when they changed, recomputes every item
of the store in one ``UPDATE``. The web app calls it before each store page (one primary-key
read when nothing changed). A store without a row has ``NULL`` statuses until then.

:func:`status_column` is the same rule as a SQLAlchemy expression with the defaults as
literals (the recompute); :func:`status_sql` as SQL text over a row alias and a defaults
alias (the triggers, the migration's backfill). Both are property-tested equal to the rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from backorder.models import BackorderPolicy, Status, StoreSettings
from backorder.storage.paused_triggers import PausedTriggers, id_chunks, max_id
from backorder.storage.schema import item_status_defaults, items

STATUS_INPUTS = ("assigned", "tracked", "on_hand", "state", "purchasing_disabled", "overrides")
"""The item columns the status is computed from: a write to any of them recomputes it."""


# ----------------------------------------------------------- the rule as an expression
def _json_text(dialect: str, key: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return items.c.overrides.op("->>")(sa.literal_column(f"'{key}'"))
    return sa.func.json_extract(items.c.overrides, f"$.{key}")


def _json_int(dialect: str, key: str) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.cast(_json_text(dialect, key), sa.Integer)
    return _json_text(dialect, key)


def _json_has(dialect: str, key: str) -> sa.ColumnElement[bool]:
    """The key is present, even with a JSON ``null`` (an explicitly unlimited threshold)."""
    if dialect == "postgresql":
        return items.c.overrides.op("->")(sa.literal_column(f"'{key}'")).is_not(None)
    return sa.func.json_type(items.c.overrides, f"$.{key}").is_not(None)


def status_column(dialect: str, settings: StoreSettings) -> sa.ColumnElement[str]:
    """An item's :class:`~backorder.models.Status` as SQL, the store defaults as literals."""
    d = settings.defaults
    c = items.c
    mode = sa.func.coalesce(_json_text(dialect, "mode"), sa.literal(d.mode.value))
    threshold = sa.case(
        (_json_has(dialect, "threshold"), _json_int(dialect, "threshold")),
        else_=sa.literal(d.threshold, sa.Integer),
    )
    low = sa.func.coalesce(_json_int(dialect, "low_stock_level"), d.low_stock_level)
    kept_back = sa.func.coalesce(
        _json_int(dialect, "out_of_stock_threshold"), d.out_of_stock_threshold
    )
    allowed = sa.and_(
        c.assigned == sa.true(), c.tracked == sa.true(), mode != "off", c.state != "disabled"
    )
    sells = sa.or_(
        c.tracked == sa.false(),
        sa.and_(allowed, sa.or_(threshold.is_(None), c.on_hand + threshold > 0)),
        sa.and_(sa.not_(allowed), c.on_hand - kept_back > 0),
    )
    return sa.case(
        (sa.or_(c.purchasing_disabled == sa.true(), sa.not_(sells)), Status.UNAVAILABLE.value),
        (sa.and_(c.tracked == sa.true(), c.state == "enabled"), Status.BACKORDER.value),
        (sa.and_(c.tracked == sa.true(), low > 0, c.on_hand < low), Status.LOW_STOCK.value),
        else_=Status.IN_STOCK.value,
    )


# ----------------------------------------------------------------- the rule as SQL text
def status_sql(dialect: str, row: str, d: str) -> str:
    """The status of the item ``row`` (``NEW``, ``items``) under the defaults row ``d``.

    Booleans are used bare (SQLite stores 0/1, PostgreSQL ``boolean``), so the text is
    the same on both but for reading the overrides' JSON.
    """

    def text(key: str) -> str:
        if dialect == "postgresql":
            return f"({row}.overrides ->> '{key}')"
        return f"json_extract({row}.overrides, '$.{key}')"

    def number(key: str) -> str:
        return f"CAST({text(key)} AS INTEGER)" if dialect == "postgresql" else text(key)

    def has(key: str) -> str:
        if dialect == "postgresql":
            return f"({row}.overrides -> '{key}') IS NOT NULL"
        return f"json_type({row}.overrides, '$.{key}') IS NOT NULL"

    mode = f"COALESCE({text('mode')}, {d}.mode)"
    threshold = f"(CASE WHEN {has('threshold')} THEN {number('threshold')} ELSE {d}.threshold END)"
    low = f"COALESCE({number('low_stock_level')}, {d}.low_stock_level)"
    kept_back = f"COALESCE({number('out_of_stock_threshold')}, {d}.out_of_stock_threshold)"
    allowed = (
        f"({row}.assigned AND {row}.tracked AND {mode} <> 'off' AND {row}.state <> 'disabled')"
    )
    sells = (
        f"(NOT {row}.tracked"
        f" OR ({allowed} AND ({threshold} IS NULL OR {row}.on_hand + {threshold} > 0))"
        f" OR (NOT {allowed} AND {row}.on_hand - {kept_back} > 0))"
    )
    return (
        f"CASE WHEN {row}.purchasing_disabled OR NOT {sells} THEN '{Status.UNAVAILABLE.value}'"
        f" WHEN {row}.tracked AND {row}.state = 'enabled' THEN '{Status.BACKORDER.value}'"
        f" WHEN {row}.tracked AND {low} > 0 AND {row}.on_hand < {low}"
        f" THEN '{Status.LOW_STOCK.value}'"
        f" ELSE '{Status.IN_STOCK.value}' END"
    )


def _of_row(dialect: str, row: str) -> str:
    """The status of ``row`` under its store's defaults row (``NULL`` without one)."""
    return (
        f"(SELECT {status_sql(dialect, row, 'd')} FROM item_status_defaults d "
        f"WHERE d.store = {row}.store)"
    )


# ------------------------------------------------------------------------- the triggers
def trigger_ddl(dialect: str) -> list[str]:
    """The statements creating the triggers that keep ``items.status`` (migration 0009).

    SQLite: ``AFTER INSERT`` and ``AFTER UPDATE OF`` the inputs, each setting the row's
    status by its rowid (the trigger's own ``UPDATE`` writes only ``status``, which is no
    input, so it triggers nothing). PostgreSQL: one ``BEFORE`` row trigger that sets
    ``NEW.status`` (no second write of the row).
    """
    inputs = ", ".join(STATUS_INPUTS)
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION backorder_item_status() RETURNS trigger AS $$\n"
            "BEGIN\n"
            f"  NEW.status := {_of_row(dialect, 'NEW')};\n"
            "  RETURN NEW;\n"
            "END\n"
            "$$ LANGUAGE plpgsql",
            f"CREATE TRIGGER items_status BEFORE INSERT OR UPDATE OF {inputs} ON items "
            "FOR EACH ROW EXECUTE FUNCTION backorder_item_status()",
        ]
    body = f"UPDATE items SET status = {_of_row(dialect, 'NEW')} WHERE id = NEW.id;"
    return [
        f"CREATE TRIGGER items_status_insert AFTER INSERT ON items BEGIN {body} END",
        f"CREATE TRIGGER items_status_update AFTER UPDATE OF {inputs} ON items "
        f"BEGIN {body} END",
    ]


def drop_trigger_ddl(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS items_status ON items",
            "DROP FUNCTION IF EXISTS backorder_item_status()",
        ]
    return [
        "DROP TRIGGER IF EXISTS items_status_insert",
        "DROP TRIGGER IF EXISTS items_status_update",
    ]


def backfill_sql(dialect: str) -> str:
    """Every item's status under its store's defaults row."""
    return f"UPDATE items SET status = {_of_row(dialect, 'items')}"


# ------------------------------------------------------------------------- bulk writes
class BulkStatus:
    """Sets the statuses of one transaction's bulk writes (the CSV import) set-based,
    instead of through the per-row triggers.

    Each trigger firing is a second ``UPDATE`` of its row: measured on a 100,000-item
    import, half of what the import itself costs. So the import pauses the SQLite status
    triggers in its own transaction (:mod:`.paused_triggers`: nobody else ever writes
    without them) and :meth:`finish` sets the status of the rows it inserted (ids above
    the greatest one before) and of those it updated (:meth:`updated`) with the triggers'
    own SQL, in a few ``UPDATE`` s, then creates the triggers again. PostgreSQL's trigger
    sets ``NEW.status`` before the row is written (no second write): it stays.
    """

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.triggers = PausedTriggers(conn, ["items_status_insert", "items_status_update"])
        self._since = 0
        self._updated: set[int] = set()

    @property
    def paused(self) -> bool:
        return self.triggers.paused

    def pause(self) -> None:
        if not self.paused and self.triggers.pause():
            self._since = max_id(self.conn, "items")

    def updated(self, ids: Iterable[int], *, columns: Iterable[str]) -> None:
        """Rows just updated: when ``columns`` include an input of the status, they get
        theirs again in :meth:`finish`."""
        if self.paused and set(STATUS_INPUTS) & set(columns):
            self._updated.update(i for i in ids if i <= self._since)

    def finish(self) -> None:
        if not self.paused:
            return
        # the triggers' own SQL over the row being updated
        status: sa.ColumnClause[str] = sa.literal_column(_of_row(self.conn.dialect.name, "items"))
        self.conn.execute(items.update().where(items.c.id > self._since).values(status=status))
        for chunk in id_chunks(sorted(self._updated)):
            self.conn.execute(items.update().where(items.c.id.in_(chunk)).values(status=status))
        self.triggers.restore()
        self._updated = set()


# ------------------------------------------------------------------ the store's defaults
def defaults_of(policy: BackorderPolicy) -> dict[str, Any]:
    """The ``item_status_defaults`` values of a store's default policy."""
    return {
        "mode": policy.mode.value,
        "threshold": policy.threshold,
        "low_stock_level": policy.low_stock_level,
        "out_of_stock_threshold": policy.out_of_stock_threshold,
    }


def stored_defaults(conn: sa.Connection, store: str) -> dict[str, Any] | None:
    t = item_status_defaults
    row = conn.execute(
        sa.select(t.c.mode, t.c.threshold, t.c.low_stock_level, t.c.out_of_stock_threshold)
        .where(t.c.store == store)
    ).first()
    return dict(row._mapping) if row is not None else None


def current(conn: sa.Connection, store: str, settings: StoreSettings) -> bool:
    """Whether the stored statuses of ``store`` are those of ``settings`` (a read)."""
    return stored_defaults(conn, store) == defaults_of(settings.defaults)


def refresh(conn: sa.Connection, store: str, settings: StoreSettings) -> bool:
    """Make the stored statuses of ``store`` those of ``settings`` (in ``conn``'s
    transaction): write its defaults row and, if it changed, recompute every item.
    Returns whether anything was written."""
    wanted = defaults_of(settings.defaults)
    stored = stored_defaults(conn, store)
    if stored == wanted:
        return False
    t = item_status_defaults
    if stored is None:
        conn.execute(t.insert().values(store=store, **wanted))
    else:
        conn.execute(t.update().where(t.c.store == store).values(**wanted))
    conn.execute(
        items.update()
        .where(items.c.store == store)
        .values(status=status_column(conn.dialect.name, settings))
    )
    return True


def ensure(db: Any, store: str, settings: StoreSettings) -> bool:
    """:func:`refresh` in its own transaction, after a read shows it is needed (the usual
    case, nothing changed, costs one primary-key read and writes nothing)."""
    with db.read() as conn:
        if current(conn, store, settings):
            return False
    with db.transaction() as conn:
        return refresh(conn, store, settings)


__all__ = [
    "STATUS_INPUTS",
    "BulkStatus",
    "backfill_sql",
    "current",
    "defaults_of",
    "drop_trigger_ddl",
    "ensure",
    "refresh",
    "status_column",
    "status_sql",
    "trigger_ddl",
]
