"""The storefront read model: one row per item with its computed :class:`ItemView`.

Every change rewrites the rows of the items it touched inside its own transaction
(:func:`refresh`, called by :meth:`StoreService.transact`), so the table is current the
moment the change commits and never ahead of it. The public storefront API reads only this
table (:func:`lookup`); the messages are rendered per request from the stored view and the
store's storefront settings, so a message edited in the web app shows at once.

Views depend on the store's settings (default threshold, mode...): after changing those,
or after upgrading, run :func:`rebuild` (``backorder storefront rebuild``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from backorder import rules
from backorder.models import ItemState, ItemView
from backorder.storage import records
from backorder.storage.schema import items, storefront_items

if TYPE_CHECKING:
    from backorder.models import StoreSettings

CHUNK = 900
"""SKUs per ``IN (...)`` (well under SQLite's bound-parameter limit)."""


def _chunks(values: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _row(store: str, view: ItemView, at: dt.datetime) -> dict:
    return {
        "store": store,
        "sku": view.sku,
        "product_id": view.product_id,
        "variant_id": view.variant_id,
        "view": view.model_dump(mode="json"),
        "updated_at": at,
    }


def refresh(
    conn: sa.Connection,
    store: str,
    settings: StoreSettings,
    changed: Mapping[str, ItemState | None],
    at: dt.datetime,
) -> int:
    """Rewrite the rows of ``changed`` (SKU -> new state, or None when only the SKU is
    known: its state is read back) inside the change's transaction; returns rows written."""
    if not changed:
        return 0
    states = {sku: state for sku, state in changed.items() if state is not None}
    unknown = [sku for sku, state in changed.items() if state is None]
    for part in _chunks(unknown):
        states.update(
            (sku, loaded.item) for sku, loaded in records.load_items(conn, store, skus=part).items()
        )
    skus = list(changed)
    for part in _chunks(skus):
        conn.execute(
            storefront_items.delete().where(
                storefront_items.c.store == store, storefront_items.c.sku.in_(part)
            )
        )
    rows = [_row(store, rules.view(state, settings), at) for state in states.values()]
    if rows:
        conn.execute(storefront_items.insert(), rows)
    return len(rows)


def rebuild(conn: sa.Connection, store: str, settings: StoreSettings, at: dt.datetime) -> int:
    """Rewrite the whole store's read model from its items; returns the rows written."""
    conn.execute(storefront_items.delete().where(storefront_items.c.store == store))
    skus = list(conn.execute(sa.select(items.c.sku).where(items.c.store == store)).scalars())
    written = 0
    for part in _chunks(skus, 5000):
        loaded = records.load_items(conn, store, skus=part)
        rows = [_row(store, rules.view(e.item, settings), at) for e in loaded.values()]
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


def known_store(conn: sa.Connection, store: str) -> bool:
    """Whether the read model holds any item of ``store``."""
    query = sa.select(storefront_items.c.id).where(storefront_items.c.store == store).limit(1)
    return conn.execute(query).first() is not None


__all__ = ["known_store", "lookup", "rebuild", "refresh"]
