"""Which database errors mean "another transaction got there first: run it again".

:meth:`backorder.engine.StoreService.transact` retries a unit of work that lost a race.
Races show up in several forms, depending on the statement and on the path it took:

- :class:`~backorder.storage.records.VersionConflict`: a conditional item write found
  another version (optimistic concurrency);
- a unique violation (SQLSTATE ``23505``; SQLite's ``IntegrityError``): the same order id
  or idempotency key was committed by another transaction since we looked. The retry
  reads it and returns the first answer;
- a serialization failure (``40001``) or a deadlock (``40P01``) on PostgreSQL.

The cached-statement paths (:mod:`backorder.storage.fastpath`) run on the driver's own
cursor, so their errors arrive as the driver's (``psycopg.errors.UniqueViolation``,
``sqlite3.IntegrityError``), not wrapped in SQLAlchemy's ``IntegrityError``; both forms
are recognised here by SQLSTATE.
"""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Literal

import sqlalchemy as sa

from backorder.storage.records import VersionConflict

UNIQUE_VIOLATION = "23505"
CONTENTION = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected

BACKOFF_BASE = 0.005
"""Seconds: the first retry after contention waits up to this long, doubling each time."""
BACKOFF_CAP = 0.5
"""Seconds: the longest single wait (with ``MAX_RETRIES`` = 50, at most 25 s in all)."""

Race = Literal["conflict", "contention"]


def _sqlstate(exc: BaseException) -> str | None:
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    state = getattr(orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def lost_race(exc: BaseException) -> Race | None:
    """``"conflict"`` (retry at once), ``"contention"`` (retry after a jittered wait), or
    ``None``: not a race, let it through."""
    if isinstance(exc, VersionConflict | sa.exc.IntegrityError | sqlite3.IntegrityError):
        return "conflict"
    state = _sqlstate(exc)
    if state == UNIQUE_VIOLATION:
        return "conflict"
    if state in CONTENTION:
        return "contention"
    return None


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff: a random wait in ``[0, min(cap, base * 2^attempt))``,
    so workers that deadlocked together do not retry in step."""
    return (rng or random).uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


def wait(attempt: int) -> None:
    time.sleep(backoff(attempt))
