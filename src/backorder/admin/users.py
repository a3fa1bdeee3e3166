"""Who may open the web app, and which stores: the config's ``[admin.users]`` and the
``admin_users`` table (users a platform signs in, users added with ``backorder admin``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from backorder.admin.passwords import hash_password, needs_rehash, verify_password
from backorder.admin.settings import AdminSettings
from backorder.storage.db import Database
from backorder.storage.schema import admin_users

ALL_STORES = "*"


@dataclass(frozen=True)
class User:
    name: str
    stores: frozenset[str]
    password_hash: str | None = None
    from_config: bool = False

    def may_open(self, store: str) -> bool:
        return ALL_STORES in self.stores or store in self.stores


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Users:
    """Config-file users first (they cannot be changed from here), then the database's."""

    def __init__(
        self, settings: AdminSettings, db: Database, clock: Callable[[], dt.datetime] = _utcnow
    ) -> None:
        self.settings, self.db, self.clock = settings, db, clock

    def get(self, name: str) -> User | None:
        configured = self.settings.users.get(name)
        if configured is not None:
            return User(name, frozenset(configured.stores), configured.password_hash, True)
        if not name or len(name) > 255:
            return None
        t = admin_users
        with self.db.read() as conn:
            row = conn.execute(sa.select(t).where(t.c.username == name)).first()
        if row is None:
            return None
        return User(row.username, frozenset(row.stores), row.password_hash)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user, when ``password`` is theirs; a stored hash made with older argon2
        parameters is replaced by a current one on the way."""
        user = self.get(name)
        if not verify_password(user.password_hash if user else None, password):
            return None
        assert user is not None and user.password_hash is not None
        if not user.from_config and needs_rehash(user.password_hash):
            self.save(name, stores=user.stores, password=password)
        return user

    def save(
        self, name: str, *, stores: Iterable[str], password: str | None = None,
        keep_password: bool = True,
    ) -> User:
        """Add or change a database user (a config-file user is changed in the file)."""
        if name in self.settings.users:
            raise ValueError(f"user {name!r} is defined in the config file; change it there")
        t = admin_users
        now = self.clock()
        stores = sorted(set(stores))
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(t).where(t.c.username == name)).first()
            password_hash = hash_password(password) if password is not None else None
            if row is None:
                conn.execute(t.insert().values(
                    username=name, password_hash=password_hash, stores=stores,
                    created_at=now, updated_at=now,
                ))
            else:
                values = {"stores": stores, "updated_at": now}
                if password is not None or not keep_password:
                    values["password_hash"] = password_hash
                conn.execute(t.update().where(t.c.id == row.id).values(**values))
        user = self.get(name)
        assert user is not None
        return user

    def remove(self, name: str) -> bool:
        """Delete a database user; their sessions end at their next request."""
        with self.db.transaction() as conn:
            return bool(
                conn.execute(admin_users.delete().where(admin_users.c.username == name)).rowcount
            )

    def remove_store(self, store: str) -> int:
        """Delete the database users who could open only ``store`` (an uninstalled store's)."""
        t = admin_users
        with self.db.transaction() as conn:
            rows = conn.execute(sa.select(t.c.id, t.c.stores)).all()
            gone = [row.id for row in rows if list(row.stores) == [store]]
            if gone:
                conn.execute(t.delete().where(t.c.id.in_(gone)))
        return len(gone)


__all__ = ["ALL_STORES", "User", "Users"]
