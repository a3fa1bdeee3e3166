"""Persistence: SQLAlchemy Core tables, Alembic migrations and the stock ledger."""

from backorder.storage.db import Database

__all__ = ["Database"]
