"""The storefront read model: one row per item with its computed :class:`ItemView`.

Every change rewrites the rows of the items it touched inside its own transaction
(:func:`refresh`, called by :meth:`StoreService.transact`), so the table is current the
moment the change commits and never ahead of it. The public storefront API reads only this
table (:func:`lookup`); the messages are rendered per request from the stored view and the
store's storefront settings, so a message edited in the web app shows at once.

Views depend on the store's settings (default threshold, mode...): each row keeps a digest
of the settings it was computed with (``basis``), and the worker pass rebuilds a store's
read model when it misses items (after upgrading) or was computed with other settings
(:func:`ensure`); ``backorder storefront-rebuild`` does it by hand.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from backorder import rules
from backorder.models import ItemState, ItemView
from backorder.storage import records
from backorder.storage.fastpath import driver
from backorder.storage.schema import items, storefront_items

if TYPE_CHECKING:
    from backorder.engine import StoreService
    from backorder.models import StoreSettings

CHUNK = 900
"""SKUs per ``IN (...)`` (well under SQLite's bound-parameter limit)."""


def _chunks(values: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_digests: dict[int, tuple[StoreSettings, str]] = {}


def basis(settings: StoreSettings) -> str:
    """A digest of the settings a view depends on: rows of another basis are stale.
    Remembered per settings object (a store's service keeps one; every change asks)."""
    known = _digests.get(id(settings))
    if known is not None and known[0] is settings:
        return known[1]
    digest = hashlib.sha256(settings.model_dump_json().encode()).hexdigest()[:16]
    if len(_digests) > 1000:
        _digests.clear()
    _digests[id(settings)] = (settings, digest)
    return digest


def _row(store: str, view: ItemView, at: dt.datetime, made_with: str) -> dict:
    return {
        "store": store,
        "sku": view.sku,
        "product_id": view.product_id,
        "variant_id": view.variant_id,
        "view": view.model_dump(mode="json"),
        "basis": made_with,
        "updated_at": at,
    }


COLUMNS = ("store", "sku", "product_id", "variant_id", "view", "basis", "updated_at")


@functools.lru_cache(maxsize=8)
def _upsert_sql(dialect: sa.Dialect) -> str:
    """One row written or rewritten (SQLite and PostgreSQL share the ``ON CONFLICT``)."""
    update = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
    return (driver.insert_sql(dialect, "storefront_items", COLUMNS)
            + f" ON CONFLICT (store, sku) DO UPDATE SET {update}")


def refresh(
    conn: sa.Connection,
    store: str,
    settings: StoreSettings,
    changed: Mapping[str, ItemState | None],
    at: dt.datetime,
) -> int:
    """Rewrite the rows of ``changed`` (SKU -> new state, or None when only the SKU is
    known: its state is read back) inside the change's transaction; returns rows written.

    Every change pays for this, an order most often: one ``executemany`` on the driver
    cursor (the fast paths' toolkit), no statement built per call."""
    if not changed:
        return 0
    states = {sku: state for sku, state in changed.items() if state is not None}
    unknown = [sku for sku, state in changed.items() if state is None]
    for part in _chunks(unknown):
        states.update(
            (sku, loaded.item) for sku, loaded in records.load_items(conn, store, skus=part).items()
        )
    gone = [sku for sku in unknown if sku not in states]
    for part in _chunks(gone):
        conn.execute(
            storefront_items.delete().where(
                storefront_items.c.store == store, storefront_items.c.sku.in_(part)
            )
        )
    if not states:
        return 0
    made_with, dialect = basis(settings), conn.dialect
    views = [rules.view(state, settings) for state in states.values()]
    if dialect.name == "sqlite":  # JSON is text there: pydantic writes it directly
        when = driver.processor(dialect, "storefront_items", "updated_at")(at)
        bound = [(store, v.sku, v.product_id, v.variant_id, v.model_dump_json(), made_with,
                  when) for v in views]
    else:
        bound = driver.bind_rows(dialect, "storefront_items", COLUMNS, [
            (store, v.sku, v.product_id, v.variant_id, v.model_dump(mode="json"), made_with, at)
            for v in views])
    driver.run(conn, driver.cursor(conn), _upsert_sql(dialect), bound, many=True)
    return len(views)


def rebuild(conn: sa.Connection, store: str, settings: StoreSettings, at: dt.datetime) -> int:
    """Rewrite the whole store's read model from its items; returns the rows written."""
    conn.execute(storefront_items.delete().where(storefront_items.c.store == store))
    skus = list(conn.execute(sa.select(items.c.sku).where(items.c.store == store)).scalars())
    written, made_with = 0, basis(settings)
    for part in _chunks(skus, 5000):
        loaded = records.load_items(conn, store, skus=part)
        rows = [_row(store, rules.view(e.item, settings), at, made_with)
                for e in loaded.values()]
        if rows:
            conn.execute(storefront_items.insert(), rows)
        written += len(rows)
    return written


def lookup(
    conn: sa.Connection,
    store: str,
    *,
    skus: Sequence[str] = (),
    product_ids: Sequence[str] = (),
    variant_ids: Sequence[str] = (),
) -> list[ItemView]:
    """The stored views of the items asked for (by SKU, product or variant), by SKU.

    The public API's hot path: plain driver SQL (SQLAlchemy's statement building and
    result processing cost more than the indexed read itself), and the JSON text parsed
    straight into the view where the driver hands it over as text (SQLite).
    """
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    where, params = [], [store]
    for column, values in (("sku", skus), ("product_id", product_ids),
                           ("variant_id", variant_ids)):
        if values:
            where.append(f"{column} IN ({', '.join([mark] * len(values))})")
            params.extend(values)
    if not where:
        return []
    sql = (f"SELECT view FROM storefront_items WHERE store = {mark} "
           f"AND ({' OR '.join(where)}) ORDER BY sku")
    views = []
    for (view,) in conn.exec_driver_sql(sql, tuple(params)):
        views.append(ItemView.model_validate_json(view) if isinstance(view, str | bytes)
                     else ItemView.model_validate(view))
    return views


def stale(conn: sa.Connection, store: str, settings: StoreSettings) -> bool:
    """Whether the store's read model misses items or was computed with other settings
    (after an upgrade; after the store defaults were edited)."""
    c = storefront_items.c
    other = sa.select(c.id).where(c.store == store, c.basis != basis(settings)).limit(1)
    if conn.execute(other).first() is not None:
        return True
    count = sa.select(sa.func.count()).select_from(storefront_items).where(c.store == store)
    ours = conn.execute(count).scalar_one()
    theirs = conn.execute(
        sa.select(sa.func.count()).select_from(items).where(items.c.store == store)
    ).scalar_one()
    return bool(ours != theirs)


_checked: dict[str, str] = {}
"""Store -> the settings basis its read model was last found current with (this process)."""


def ensure(service: StoreService) -> int:
    """Rebuild the store's read model when it is stale; checked once per settings basis per
    process (the worker pass calls it). Returns the rows rebuilt (0: it was current)."""
    made_with = basis(service.settings)
    if _checked.get(service.name) == made_with:
        return 0
    with service.db.read() as conn:
        needed = stale(conn, service.name, service.settings)
    written = 0
    if needed:
        with service.db.transaction() as conn:
            written = rebuild(conn, service.name, service.settings, service.clock())
    _checked[service.name] = made_with
    return written


__all__ = ["basis", "ensure", "lookup", "rebuild", "refresh", "stale"]
