"""Every store one deployment serves: the config file's, and those installed at run time.

A platform's app flow (BigCommerce's one-click install) adds stores while the server
runs; they live in the ``stores`` table beside the config file's, so one deployment
serves thousands of them. Their access tokens are sealed with
:class:`~backorder.secretbox.SecretBox` and opened only in memory.

The web app's settings screen saves a config store's edited sections (settings,
storefront, notification recipients) in the same table; they are laid over the file's
sections, key by key, so the file stays the default and the merchant's edits win.

:class:`StoreDirectory` is a read-only mapping of store name to
:class:`~backorder.engine.StoreService`. Services are built on first use and kept (at
most :data:`CACHE_SIZE`); each lookup of a database store reads its row's ``version``
(one indexed query), so an edit made by another process is picked up at the next
request or worker pass.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from backorder.config import Config, StoreConfig
from backorder.engine import StoreService
from backorder.errors import Conflict, InvalidInput, NotFound
from backorder.plugins import PluginManager
from backorder.secretbox import SecretBox
from backorder.storage.db import Database
from backorder.storage.schema import events, push_outbox, webhook_deliveries
from backorder.storage.schema import stores as stores_table

CACHE_SIZE = 1024
"""Store services kept built at once; the least recently used is dropped past this."""

EDITABLE_SECTIONS = ("settings", "storefront", "notifications", "templates")
"""What the web app may save for a config-file store (laid over the file's)."""

STORE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


class StoreDirectory(Mapping[str, StoreService]):
    """Store name -> its service, for config-file stores and stores installed at run time.

    :param config: the config file (its stores, plugins and admin tables).
    :param db: the database every store shares.
    :param pm: the plugin manager services are built with.
    :param box: opens installed stores' secrets (default: the key in the environment).
    :param clock: "now" for the services and the rows written.
    :param services: services an embedding application built itself (name -> service),
        used for those stores instead of building new ones.
    """

    def __init__(
        self,
        config: Config,
        db: Database,
        pm: PluginManager | None = None,
        *,
        box: SecretBox | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        services: Mapping[str, StoreService] | None = None,
    ) -> None:
        self.config, self.db, self.pm = config, db, pm
        self._given = dict(services or {})
        """Services the embedding application built itself, served as they are."""
        self.box = box or SecretBox()
        self.clock = clock
        self._cache: OrderedDict[str, tuple[int | None, StoreService]] = OrderedDict()
        self._lock = threading.Lock()

    # --------------------------------------------------------------- reading
    def _row(self, conn: sa.Connection, name: str) -> sa.Row | None:
        t = stores_table
        return conn.execute(sa.select(t).where(t.c.name == name)).first()

    def _build(self, name: str, row: sa.Row | None) -> StoreConfig | None:
        base = self.config.stores.get(name)
        if row is None:
            return base
        if not row.active:
            return None
        if row.installed:
            data = {"name": name, "platform": row.platform, **row.sections}
        elif base is None:
            return None  # edits of a store no longer in the config file
        else:
            data = base.model_dump()
            for section, values in row.sections.items():
                data[section] = {**data[section], **values}
        try:
            store = StoreConfig.model_validate(data)
        except ValidationError as exc:
            raise InvalidInput(f"store {name!r} (database): {problems(exc)}") from None
        if row.secrets:
            store = store.with_secrets(self.box.open(row.secrets))
        return store

    def store(self, name: str) -> StoreConfig | None:
        """The store's config as it stands now (``None``: no such store, or uninstalled)."""
        service = self.get(name)
        return service.store if service is not None else None

    def get(self, name: str, default: Any = None) -> StoreService | Any:
        """The store's service, rebuilt when its database row changed since it was built."""
        if not isinstance(name, str) or len(name) > 64:
            return default
        with self.db.read() as conn:
            row = self._row(conn, name)
        version = None if row is None else row.version
        if version is None and name in self._given:
            return self._given[name]
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and cached[0] == version:
                self._cache.move_to_end(name)
                return cached[1]
        store = self._build(name, row)
        if store is None:
            with self._lock:
                self._cache.pop(name, None)
            return default
        service = StoreService(self.db, store, pm=self.pm, clock=self.clock)
        with self._lock:
            self._cache[name] = (version, service)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return service

    def __getitem__(self, name: str) -> StoreService:
        service = self.get(name)
        if service is None:
            raise KeyError(name)
        return service

    def installed_names(self) -> list[str]:
        t = stores_table
        query = sa.select(t.c.name).where(t.c.installed, t.c.active).order_by(t.c.name)
        with self.db.read() as conn:
            return list(conn.scalars(query))

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*self.config.stores, *self.installed_names()}))

    def __len__(self) -> int:
        return len({*self.config.stores, *self.installed_names()})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def find(self, platform: str, external_id: str) -> StoreConfig | None:
        """The installed store a platform knows as ``external_id`` (active or not)."""
        t = stores_table
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(t).where(t.c.platform == platform, t.c.external_id == external_id)
            ).first()
        if row is None:
            return None
        return StoreConfig.model_validate(
            {"name": row.name, "platform": row.platform, **row.sections}
        )

    def is_installed(self, name: str) -> bool:
        t = stores_table
        with self.db.read() as conn:
            return bool(
                conn.scalar(sa.select(t.c.installed).where(t.c.name == name, t.c.active))
            )

    # --------------------------------------------------------------- writing
    def install(
        self,
        name: str,
        platform: str,
        *,
        external_id: str,
        connection: dict[str, Any],
        secrets: dict[str, str],
        sections: dict[str, Any] | None = None,
    ) -> StoreConfig:
        """Add (or reinstall) a store at run time; ``secrets`` are sealed before storing.

        A reinstall (same platform and ``external_id``) keeps the store's name, data and
        edited settings and takes the new connection and secrets.

        :raises backorder.errors.Conflict: the name belongs to a config-file store or to
            another installed store.
        :raises backorder.errors.InvalidInput: the name or a section is not valid.
        """
        if not STORE_NAME.match(name):
            raise InvalidInput(f"store name {name!r}: lower-case letters, digits, - and _")
        if name in self.config.stores:
            raise Conflict(f"store {name!r} is defined in the config file")
        body = {**(sections or {}), "connection": connection}
        try:
            StoreConfig.model_validate({"name": name, "platform": platform, **body})
        except ValidationError as exc:
            raise InvalidInput(f"store {name!r}: {problems(exc)}") from None
        sealed = self.box.seal(secrets)
        now = self.clock()
        t = stores_table
        with self.db.transaction() as conn:
            row = conn.execute(
                sa.select(t).where(t.c.platform == platform, t.c.external_id == external_id)
            ).first()
            if row is not None:
                kept = {k: v for k, v in row.sections.items() if k in EDITABLE_SECTIONS}
                conn.execute(
                    t.update()
                    .where(t.c.id == row.id)
                    .values(
                        sections={**body, **kept}, secrets=sealed, active=True,
                        version=t.c.version + 1, updated_at=now,
                    )
                )
                name = row.name
            else:
                if self._row(conn, name) is not None:
                    raise Conflict(f"store {name!r} exists already")
                conn.execute(
                    t.insert().values(
                        name=name, platform=platform, installed=True, external_id=external_id,
                        sections=body, secrets=sealed, active=True, version=0,
                        created_at=now, updated_at=now,
                    )
                )
        store = self.store(name)
        assert store is not None
        return store

    def uninstall(self, name: str) -> None:
        """Stop serving an installed store: its secrets are erased, its data is kept (a
        reinstall picks it up again).

        :raises backorder.errors.NotFound: no such installed store.
        """
        t = stores_table
        with self.db.transaction() as conn:
            done = conn.execute(
                t.update()
                .where(t.c.name == name, t.c.installed)
                .values(
                    active=False, secrets=None, version=t.c.version + 1, updated_at=self.clock()
                )
            ).rowcount
        if not done:
            raise NotFound(f"no installed store {name!r}")
        with self._lock:
            self._cache.pop(name, None)

    def save_sections(self, name: str, sections: dict[str, dict[str, Any]]) -> StoreConfig:
        """Save edited sections of a store (keys given replace the stored ones).

        Checked whole before anything is written: the store as it would be must validate.

        :raises backorder.errors.NotFound: no such store.
        :raises backorder.errors.InvalidInput: a section is unknown or a value is wrong;
            the message names the field, nothing was saved.
        """
        unknown = set(sections) - set(EDITABLE_SECTIONS)
        if unknown:
            raise InvalidInput(f"not an editable section: {', '.join(sorted(unknown))}")
        current = self.store(name)
        if current is None:
            raise NotFound(f"no store {name!r}")
        t = stores_table
        now = self.clock()
        with self.db.transaction() as conn:
            row = self._row(conn, name)
            stored = dict(row.sections) if row is not None else {}
            for section, values in sections.items():
                stored[section] = {**stored.get(section, {}), **values}
            check = current.model_dump()
            for section, values in stored.items():
                if section in EDITABLE_SECTIONS:
                    check[section] = {**check[section], **values}
            try:
                StoreConfig.model_validate(check)
            except ValidationError as exc:
                raise InvalidInput(problems(exc)) from None
            if row is None:
                conn.execute(
                    t.insert().values(
                        name=name, platform=current.platform, installed=False,
                        sections=stored, active=True, version=0, created_at=now, updated_at=now,
                    )
                )
            else:
                conn.execute(
                    t.update()
                    .where(t.c.id == row.id)
                    .values(sections=stored, version=t.c.version + 1, updated_at=now)
                )
        store = self.store(name)
        assert store is not None
        return store

    # ---------------------------------------------------------------- worker
    def due(self, ticking: bool) -> list[StoreService]:
        """The stores a worker pass should visit: every config-file store; installed ones
        with work waiting (webhook deliveries, pushes, events) or, when ``ticking``, all
        of them (back-in-stock dates and promised dates are per store)."""
        if ticking:
            names = set(self.installed_names())
        else:
            now = self.clock()
            query = sa.union(
                sa.select(webhook_deliveries.c.store).where(webhook_deliveries.c.done_at.is_(None)),
                sa.select(push_outbox.c.store).where(
                    push_outbox.c.done_at.is_(None), push_outbox.c.available_at <= now
                ),
                sa.select(events.c.store).where(events.c.dispatched_at.is_(None)),
            )
            with self.db.read() as conn:
                names = set(conn.scalars(query)) - set(self.config.stores)
        names |= set(self.config.stores)
        found = (self.get(name) for name in sorted(names))
        return [service for service in found if service is not None]


__all__ = ["EDITABLE_SECTIONS", "StoreDirectory"]
