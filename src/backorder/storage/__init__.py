"""Persistence: the schema (SQLAlchemy Core, Alembic migrations), the statements of record
(:mod:`.records`) and the fast paths that write the same rows set-based (:mod:`.fastpath`)."""

from backorder.storage.db import Database

__all__ = ["Database"]
