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

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from pydantic import TypeAdapter

from backorder import rules
from backorder.models import ItemState, ItemView
from backorder.storage import fastpath
from backorder.storage.fastpath import driver
from backorder.storage.schema import items, storefront_items

if TYPE_CHECKING:
    from backorder.engine import StoreService
    from backorder.models import StoreSettings

T = TypeVar("T")

CHUNK = 900
"""SKUs per ``IN (...)`` (well under SQLite's bound-parameter limit)."""


def _chunks(values: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def kept_for(cache: dict[int, tuple[Any, T]], owner: object, make: Callable[[], T],
             limit: int = 1000) -> T:
    """``make()``'s result for ``owner``, made once per owner object (settings and services
    are pydantic models and plain objects: unhashable, so kept by ``id``; the owner is kept
    beside it, as an id may be reused once its object is gone). Past ``limit`` owners the
    cache is forgotten at once: it bounds the memory."""
    hit = cache.get(id(owner))
    if hit is not None and hit[0] is owner:
        return hit[1]
    if len(cache) > limit:
        cache.clear()
    made = make()
    cache[id(owner)] = (owner, made)
    return made


_digests: dict[int, tuple[Any, str]] = {}


def basis(settings: StoreSettings) -> str:
    """A digest of the settings a view depends on: rows of another basis are stale.
    Remembered per settings object (a store's service keeps one; every change asks)."""
    return kept_for(_digests, settings, lambda: hashlib.sha256(
        settings.model_dump_json().encode()).hexdigest()[:16])


COLUMNS = ("store", "sku", "product_id", "variant_id", "view", "basis", "updated_at")

_quote: Callable[[str], str] = json.encoder.encode_basestring
"""A JSON string as pydantic writes it (UTF-8 kept, the same escapes: tested)."""


class Speller:
    """Views as the stored JSON text, worked out once per distinct *state*.

    A view copies the item's identity (SKU, product and variant IDs, name), its incoming
    quantity and back-in-stock date, and computes the rest from its stock, switches and
    policy only; items that agree on those share the rest of their view's text. Each
    distinct state is worked out by ``rules.view`` and written by pydantic once; the
    copied values are spliced in. (The read model is written by every change: an order's
    items, a 100,000-row import's.) Tested equal to ``rules.view(...).model_dump_json()``.
    """

    LIMIT = 50_000
    """States (and dates) remembered, then forgotten all at once: bounds the memory."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        self._rest: dict[Hashable, tuple[str, str]] = {}
        self._dates: dict[Hashable, str] = {}

    def spell(
        self,
        identity: tuple[str, str | None, str | None, str],
        incoming: int,
        date: Hashable,
        state: Hashable,
        make: Callable[..., ItemState],
        *args: Any,
        when: Callable[[Any], dt.datetime | None] = lambda date: date,
    ) -> str:
        """The view of the item ``identity`` (SKU, product ID, variant ID, name) with
        ``incoming`` units coming on ``when(date)``, whose other fields ``state`` stands
        for; ``make(*args)`` builds the item when this state was not met before."""
        sku, product_id, variant_id, name = identity
        head = (
            f'{{"sku":{_quote(sku)},'
            f'"product_id":{"null" if product_id is None else _quote(product_id)},'
            f'"variant_id":{"null" if variant_id is None else _quote(variant_id)},'
            f'"name":{_quote(name)},'
        )
        shown = self._dates.get(date)
        if shown is None:
            value = when(date)
            shown = "null" if value is None else _DATES.dump_json(value).decode()
            self._dates[date] = shown
        parts = self._rest.get(state)
        if parts is None:
            text = rules.view(make(*args), self.settings).model_dump_json()
            copied = f',"incoming_qty":{incoming},"back_in_stock_date":{shown},"policy":'
            assert text.startswith(head) and text.count(copied) == 1, "a view's copied values"
            cut = text.index(copied)
            parts = (text[len(head) : cut], text[cut + len(copied) - len(',"policy":') :])
            if len(self._rest) >= self.LIMIT or len(self._dates) >= self.LIMIT:
                self._rest.clear()
                self._dates.clear()
            self._rest[state] = parts
        return (f'{head}{parts[0]},"incoming_qty":{incoming},"back_in_stock_date":{shown}'
                f"{parts[1]}")

    def item(self, item: ItemState) -> str:
        """:meth:`spell` of an item state."""
        overrides = item.overrides
        state = (
            item.assigned, item.tracked, item.on_hand, item.state, item.disabled_reason,
            item.purchasing_disabled,
            json.dumps(overrides, sort_keys=True, default=str) if overrides else "",
        )
        identity = (item.sku, item.product_id, item.variant_id, item.name)
        date = item.back_in_stock_date  # (equal instants in other zones are spelt otherwise)
        return self.spell(
            identity, item.incoming_qty, (date, date and date.tzinfo), state, _same, item,
            when=_first,
        )


_DATES: TypeAdapter[dt.datetime] = TypeAdapter(dt.datetime)
"""A back-in-stock date as pydantic writes a view's."""


def _same(item: ItemState) -> ItemState:
    return item


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


_spellers: dict[int, tuple[Any, Speller]] = {}


def speller(settings: StoreSettings) -> Speller:
    """The speller of these settings (a store's service keeps one settings object)."""
    return kept_for(_spellers, settings, lambda: Speller(settings), limit=100)


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
            (sku, loaded.item) for sku, loaded in fastpath.load_items(conn, store, part).items()
        )
    gone = [sku for sku in unknown if sku not in states]
    for part in _chunks(gone):
        conn.execute(
            storefront_items.delete().where(
                storefront_items.c.store == store, storefront_items.c.sku.in_(part)
            )
        )
    bound = _rows(conn.dialect, store, settings, states.values(), at)
    write(conn, bound)
    return len(bound)


def _rows(dialect: sa.Dialect, store: str, settings: StoreSettings,
          states: Iterable[ItemState], at: dt.datetime) -> list[tuple]:
    """The read model rows (:data:`COLUMNS`, as the driver takes them) of these items."""
    made_with = basis(settings)
    if dialect.name == "sqlite":  # JSON is text there: written as the speller spells it
        when = driver.processor(dialect, "storefront_items", "updated_at")(at)
        spell = speller(settings).item
        return [(store, s.sku, s.product_id, s.variant_id, spell(s), made_with, when)
                for s in states]
    views = [rules.view(state, settings) for state in states]
    return driver.bind_rows(dialect, "storefront_items", COLUMNS, [
        (store, v.sku, v.product_id, v.variant_id, v.model_dump(mode="json"), made_with, at)
        for v in views])


def write(conn: sa.Connection, rows: Sequence[tuple]) -> None:
    """Write or rewrite rows (:data:`COLUMNS`, as the driver takes them) in one
    ``executemany`` on the transaction's driver cursor."""
    if rows:
        cur = driver.cursor(conn)
        driver.run(conn, cur, _upsert_sql(conn.dialect), rows, many=True)
        cur.close()


def rebuild(conn: sa.Connection, store: str, settings: StoreSettings, at: dt.datetime) -> int:
    """Rewrite the whole store's read model from its items; returns the rows written."""
    conn.execute(storefront_items.delete().where(storefront_items.c.store == store))
    skus = list(conn.execute(sa.select(items.c.sku).where(items.c.store == store)).scalars())
    written = 0
    for part in _chunks(skus, 5000):
        loaded = fastpath.load_items(conn, store, part)
        write(conn, _rows(conn.dialect, store, settings, (e.item for e in loaded.values()), at))
        written += len(loaded)
    return written


def lookup(
    conn: sa.Connection,
    store: str,
    *,
    skus: Sequence[str] = (),
    product_ids: Sequence[str] = (),
    variant_ids: Sequence[str] = (),
) -> list[ItemView]:
    """The stored views of the items asked for (by SKU, product or variant), by SKU."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql, params = _lookup_sql(mark, "view", store, skus, product_ids, variant_ids)
    return _views(conn.exec_driver_sql(sql, params)) if sql else []


def _lookup_sql(mark: str, selected: str, store: str, skus: Sequence[str],
                product_ids: Sequence[str], variant_ids: Sequence[str]
                ) -> tuple[str, tuple[str, ...]]:
    where, params = [], [store]
    for column, values in (("sku", skus), ("product_id", product_ids),
                           ("variant_id", variant_ids)):
        if values:
            where.append(f"{column} IN ({', '.join([mark] * len(values))})")
            params.extend(values)
    if not where:
        return "", ()
    return (f"SELECT {selected} FROM storefront_items WHERE store = {mark} "
            f"AND ({' OR '.join(where)}) ORDER BY sku"), tuple(params)


def _views(rows: Iterable[Sequence[Any]]) -> list[ItemView]:
    # the JSON text parsed straight into the view where the driver hands it over as text
    return [ItemView.model_validate_json(view) if isinstance(view, str | bytes)
            else ItemView.model_validate(view) for (view,) in rows]


class Readers:
    """The public API's lookups, on a few driver connections kept per engine.

    The API's hot path: a pool checkout and return, and SQLAlchemy's statement and result
    layers, cost more than the indexed read itself. A lookup takes an idle kept connection
    (or opens one: taken from the engine's pool once, so set up as the pool sets its
    connections up, SQLite's pragmas included, and detached from it) and gives it back;
    at most :attr:`KEEP` idle ones are kept, so the connections follow the lookups running
    at once, not the threads. They read in autocommit (each statement its own snapshot, no
    transaction left open). A read that failed on a kept connection (the server dropped
    it) drops every idle one and is tried once more on a new one. ``engine.dispose()``
    closes them; a forked child opens its own.
    """

    KEEP = 4
    """Idle connections kept per engine."""

    def __init__(self) -> None:
        self._idle: weakref.WeakKeyDictionary[sa.Engine, tuple[int, list[Any]]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()

    def lookup(self, engine: sa.Engine, store: str, *, skus: Sequence[str] = (),
               product_ids: Sequence[str] = (), variant_ids: Sequence[str] = ()
               ) -> list[ItemView]:
        """:func:`lookup`, on a kept connection to ``engine``."""
        return [ItemView.model_validate_json(text) for text in self.texts(
            engine, store, skus=skus, product_ids=product_ids, variant_ids=variant_ids)]

    def texts(self, engine: sa.Engine, store: str, *, skus: Sequence[str] = (),
              product_ids: Sequence[str] = (), variant_ids: Sequence[str] = ()
              ) -> list[str]:
        """The stored views' JSON text, as stored (one text per row version), by SKU."""
        sqlite = engine.dialect.name == "sqlite"
        mark, selected = ("?", "view") if sqlite else ("%s", "view::text")
        sql, params = _lookup_sql(mark, selected, store, skus, product_ids, variant_ids)
        if not sql:
            return []
        errors = engine.dialect.loaded_dbapi.Error
        for attempt in (1, 2):
            conn, kept = self._take(engine)
            try:
                cur = conn.cursor()
                try:
                    cur.execute(sql, params)
                    rows = cur.fetchall()
                finally:
                    cur.close()
            except errors:
                with contextlib.suppress(Exception):
                    conn.close()
                if not kept or attempt == 2:
                    raise
                self._close_all(engine)  # the others went with the same server, likely
                continue
            self._give(engine, conn)
            return [text for (text,) in rows]
        raise AssertionError("unreachable")

    def _take(self, engine: sa.Engine) -> tuple[Any, bool]:
        """An idle kept connection (True) or a new one (False)."""
        with self._lock:
            pid, idle = self._idle.get(engine, (None, []))
            if pid == os.getpid() and idle:
                return idle.pop(), True
        raw = engine.raw_connection()
        raw.detach()  # ours until closed: the pool makes another for the rest of the process
        conn: Any = raw.dbapi_connection
        if engine.dialect.name != "sqlite":  # (SQLite's pragmas leave it in autocommit)
            conn.autocommit = True
        return conn, False

    def _give(self, engine: sa.Engine, conn: Any) -> None:
        with self._lock:
            pid, idle = self._idle.get(engine, (None, []))
            if pid != os.getpid():  # first use here (a forked child leaves its parent's be)
                if pid is None:
                    sa.event.listen(engine, "engine_disposed", self._close_all)
                idle = []
                self._idle[engine] = (os.getpid(), idle)
            if len(idle) < self.KEEP:
                idle.append(conn)
                return
        conn.close()

    def _close_all(self, engine: sa.Engine) -> None:
        with self._lock:
            pid, idle = self._idle.get(engine, (None, []))
            closing = list(idle) if pid == os.getpid() else []
            idle.clear()
        for conn in closing:
            with contextlib.suppress(Exception):
                conn.close()


readers = Readers()
"""The process's kept lookup connections (:class:`Readers`)."""


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


__all__ = [
    "Readers", "Speller", "basis", "ensure", "lookup", "readers", "rebuild", "refresh",
    "speller", "stale", "write",
]
