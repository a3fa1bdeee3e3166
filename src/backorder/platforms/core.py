"""The ``core`` platform: a store whose catalog and stock live only in backorder's database.

It is the embedded default (the demo store) and the reference a third party can read:
a :class:`~backorder.platform.Platform` with no remote API behind it. Its catalog, when it has
one, is a YAML or JSON file named by ``connection.catalog_file``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import TypeAdapter, ValidationError

from backorder import yaml12
from backorder.errors import ConfigError, MalformedDelivery, WebhookRejected, first_problem
from backorder.hookspecs import hookimpl
from backorder.models import CatalogItem, StockLevel
from backorder.platform import BasePlatform, Platform
from backorder.webhooks import WebhookEvent

if TYPE_CHECKING:
    from backorder.config import StoreConfig

_catalog_adapter = TypeAdapter(list[CatalogItem])


def _catalog(store: StoreConfig) -> list[CatalogItem]:
    path = store.connection.get("catalog_file")
    if not path:
        return []
    try:
        return _catalog_adapter.validate_python(yaml12.load(Path(path).read_text("utf-8")))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {yaml12.problem(exc)}") from None
    except ValidationError as exc:
        where, problem = first_problem(exc)
        raise ConfigError(f"{path}: {where}: {problem}") from None


class CorePlatform(BasePlatform):
    """Items, stock and orders that live only in backorder's database."""

    name = "core"

    def fetch_catalog(self, store: StoreConfig) -> Sequence[CatalogItem]:
        return _catalog(store)

    def fetch_levels(self, store: StoreConfig, skus: Sequence[str]) -> Sequence[StockLevel]:
        wanted = set(skus)
        # one reading per version of the file: an edited file is applied, a re-read is not
        path = store.connection.get("catalog_file")
        ref = f"catalog_file@{Path(path).stat().st_mtime_ns}" if path else "catalog_file"
        return [
            StockLevel(sku=item.sku, on_hand=item.on_hand, source_ref=ref)
            for item in _catalog(store)
            if item.on_hand is not None and (not wanted or item.sku in wanted)
        ]

    def authenticate_headers(self, store: StoreConfig, headers: Mapping[str, str]) -> None:
        expected = store.secret("webhook_token")
        given = {k.lower(): v for k, v in headers.items()}.get("x-backorder-token", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected("header X-Backorder-Token: missing or wrong")

    def parse_webhook(
        self, store: StoreConfig, headers: Mapping[str, str], body: bytes
    ) -> Sequence[WebhookEvent]:
        """Stock pushes ``{"kind": "stock", "delivery_id", "sku", "on_hand"}`` with a shared
        token in ``X-Backorder-Token``."""
        self.authenticate_headers(store, headers)
        try:
            event = WebhookEvent.model_validate_json(body)
        except ValidationError as exc:
            where, problem = first_problem(exc)
            where = where or "(body)"
            if not where.isprintable() or where != where.strip():
                where = repr(where)  # a key of blanks or control characters, shown as such
            raise MalformedDelivery(f"body field {where}: {problem}") from None
        return [event]


PLATFORM = CorePlatform()


@hookimpl
def backorder_platforms() -> Sequence[Platform]:
    return [PLATFORM]
