"""The ``core`` platform: a store whose catalog and stock live only in backorder's database.

It is the embedded default (the demo store) and the reference a third party can read:
every hook a platform needs, with no remote API behind it. Its catalog, when it has
one, is a YAML or JSON file named by ``connection.catalog_file``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from backorder.hookspecs import hookimpl
from backorder.models import CatalogItem, ItemInput, StockLevel
from backorder.webhooks import WebhookEvent, WebhookRejected

NAME = "core"
_catalog_adapter = TypeAdapter(list[CatalogItem])


def _mine(store) -> bool:
    return store.platform == NAME


def _catalog(store) -> list[CatalogItem]:
    path = store.connection.get("catalog_file")
    if not path:
        return []
    try:
        return _catalog_adapter.validate_python(yaml.safe_load(Path(path).read_text("utf-8")))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


@hookimpl
def backorder_platforms() -> Sequence[str]:
    return [NAME]


@hookimpl
def backorder_translate_item(platform: str, fields: Mapping[str, Any]) -> ItemInput | None:
    if platform != NAME:
        return None
    return ItemInput.model_validate(dict(fields))


@hookimpl
def backorder_fetch_catalog(store) -> Sequence[CatalogItem] | None:
    return _catalog(store) if _mine(store) else None


@hookimpl
def backorder_fetch_levels(store, skus: Sequence[str]) -> Sequence[StockLevel] | None:
    if not _mine(store):
        return None
    wanted = set(skus)
    return [
        StockLevel(sku=item.sku, on_hand=item.on_hand, source_ref="catalog_file")
        for item in _catalog(store)
        if item.on_hand is not None and (not wanted or item.sku in wanted)
    ]


@hookimpl
def backorder_parse_webhook(store, headers: Mapping[str, str], body: bytes):
    """Stock pushes ``{"kind": "stock", "delivery_id", "sku", "on_hand"}`` with a shared token."""
    if not _mine(store):
        return None
    expected = store.secret("webhook_token")
    given = {k.lower(): v for k, v in headers.items()}.get("x-backorder-token", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRejected("header X-Backorder-Token: missing or wrong")
    try:
        event = WebhookEvent.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "(body)"
        if not where.isprintable() or where != where.strip():
            where = repr(where)  # a key of blanks or control characters, shown as such
        raise WebhookRejected(f"body field {where}: {first['msg']}") from None
    return [event]
