"""Keys that must fit a ``String(255)`` column without two different keys becoming one.

A delivery id or an idempotency key comes from outside (a platform's delivery id, a SKU
plus a reference) and may be longer than the column. Cutting it would make two long keys
that share their first 255 characters the same key, and the second update would be
dropped as a duplicate. :func:`bounded` keeps a short key as it is and replaces a long
one with its start plus its SHA-256: the same long key always maps to the same stored
key (a retry is still recognised), two different ones never collide.
"""

from __future__ import annotations

import hashlib

LIMIT = 255
"""The width of the key columns (``webhook_deliveries.delivery_id``,
``movements.idempotency_key``)."""


def bounded(key: str, limit: int = LIMIT) -> str:
    """``key`` itself when shorter than ``limit``; otherwise its start, ``~`` and its
    SHA-256 in hex, exactly ``limit`` characters long.

    Keys kept verbatim are always shorter than ``limit`` and hashed ones exactly ``limit``
    long, so a verbatim key can never equal a hashed one.
    """
    if len(key) < limit:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[: limit - len(digest) - 1]}~{digest}"
