"""A platform plugin written only from the README ("Writing a platform plugin", "Plugin
reference"), against an in-memory fake platform: the conformance suite's test subject.

``DocsPlatform(broken={...})`` switches off one thing the suite checks, so a test can
show that the suite fails a plugin with that fault:

- ``no_signature``: deliveries are not authenticated;
- ``any_secret``: a delivery signed with any known shop's secret is taken;
- ``any_store``: a store without a shop of its own is served the last shop used (a
  client cached across stores: writes land in another store's shop);
- ``inert_apply``: ``apply_items`` sends nothing;
- ``fixed_ref``: ``fetch_levels`` names every reading of a SKU the same;
- ``mapping``: "yes" (backorders, customer not told) maps to notify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backorder import (
    BasePlatform,
    CatalogItem,
    ItemInput,
    ItemView,
    LineRequest,
    Mode,
    NotFound,
    OrderIn,
    StockLevel,
    StoreConfig,
    WebhookEvent,
    WebhookRejected,
    hookimpl,
)

NAME = "docsplat"
MODES = {"no": Mode.OFF, "yes": Mode.SILENT, "notify": Mode.NOTIFY}
"""The fake platform's backorder setting -> the core mode."""


@dataclass
class FakeShop:
    """What the fake platform holds for one shop."""

    secret: str
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    messages: dict[str, dict[str, str]] = field(default_factory=dict)


SHOPS: dict[str, FakeShop] = {}
"""The fake platform's shops by id (a store's ``connection.shop``)."""


class DocsPlatform(BasePlatform):
    name = NAME

    def __init__(self, broken: Collection[str] = ()) -> None:
        self.broken = frozenset(broken)
        self._last: FakeShop | None = None

    # ------------------------------------------------------------- connection
    def _shop(self, store: StoreConfig) -> FakeShop:
        shop_id = store.connection.get("shop")
        if shop_id is None and "any_store" in self.broken and self._last is not None:
            return self._last
        if shop_id not in SHOPS:
            raise NotFound(f"store {store.name!r}: connection.shop {shop_id!r} is no shop")
        self._last = SHOPS[shop_id]
        return self._last

    # ------------------------------------------------------------- translating
    def translate_item(self, fields: Mapping[str, Any]) -> ItemInput:
        native = dict(fields)
        core: dict[str, Any] = {"sku": native.pop("sku"), "on_hand": native.pop("level", 0)}
        if "backorders" in native:
            mode = MODES[native.pop("backorders")]
            if "mapping" in self.broken and mode is Mode.SILENT:
                mode = Mode.NOTIFY
            core["mode"] = mode
        if "limit" in native:
            core["threshold"] = native.pop("limit")
        for key, value in core.items():  # the merge rule: one field said two ways must agree
            if key in native and native[key] != value:
                raise ValueError(f"field {key}: {native[key]!r} here, {value!r} natively")
        return ItemInput.model_validate({**native, **core})

    # ------------------------------------------------------------------ reading
    def fetch_catalog(self, store: StoreConfig) -> Sequence[CatalogItem]:
        shop = self._shop(store)
        return [
            CatalogItem(sku=sku, product_id=sku, name=row.get("name", ""), on_hand=row["level"])
            for sku, row in sorted(shop.items.items())
        ]

    def fetch_levels(self, store: StoreConfig, skus: Sequence[str]) -> Sequence[StockLevel]:
        shop = self._shop(store)
        run = uuid.uuid4().hex[:12]  # source_ref names this reading (README: source_ref)
        return [
            StockLevel(
                sku=sku, on_hand=row["level"],
                source_ref=sku if "fixed_ref" in self.broken else f"{run}:{sku}",
            )
            for sku, row in sorted(shop.items.items())
            if not skus or sku in skus
        ]

    def fetch_order(self, store: StoreConfig, order_id: str) -> OrderIn:
        lines = self._shop(store).orders.get(order_id)
        if lines is None:
            raise NotFound(f"no order {order_id!r}")
        return OrderIn(
            order_id=order_id, lines=[LineRequest(sku=sku, qty=qty) for sku, qty in lines]
        )

    # ------------------------------------------------------------------ writing
    def apply_items(self, store: StoreConfig, items: Sequence[ItemView], reason: str) -> None:
        shop = self._shop(store)
        if "inert_apply" in self.broken:
            return
        for view in items:
            row = shop.items.get(view.sku)
            if row is None:
                continue
            row["backorders"] = "no" if view.mode is Mode.OFF or not view.purchasable else (
                "notify" if view.mode is Mode.NOTIFY else "yes"
            )
            row["limit"] = view.threshold
            row["purchasable"] = view.purchasable

    def publish_storefront(
        self, store: StoreConfig, sku: str, messages: Mapping[str, str]
    ) -> None:
        self._shop(store).messages[sku] = dict(messages)

    # ----------------------------------------------------------------- webhooks
    def parse_webhook(
        self, store: StoreConfig, headers: Mapping[str, str], body: bytes
    ) -> Sequence[WebhookEvent]:
        shop = self._shop(store)
        given = {k.lower(): v for k, v in headers.items()}.get("x-docs-signature", "")
        secrets = [s.secret for s in SHOPS.values()] if "any_secret" in self.broken else [
            shop.secret
        ]
        if "no_signature" not in self.broken and not any(
            hmac.compare_digest(given, sign(body, secret)) for secret in secrets
        ):
            raise WebhookRejected("header X-Docs-Signature: missing or wrong")
        try:
            data = json.loads(body)
            return [WebhookEvent(kind="stock", delivery_id=str(data["id"]), sku=data["sku"],
                                 on_hand=data["level"])]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected(f"body: not a stock delivery ({exc})") from None


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DocsPlugin:
    """The plugin object registered with the manager (an entry point would name a module)."""

    def __init__(self, broken: Collection[str] = ()) -> None:
        self.platform = DocsPlatform(broken)

    @hookimpl
    def backorder_platforms(self):
        return [self.platform]
