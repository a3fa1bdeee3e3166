"""The Lightspeed eCom REST client (httpx, sync).

- Hosts: ``https://api.webshopapp.com`` (EU cluster) and ``https://api.shoplightspeed.com``
  (US cluster); URLs ``/{lang}/{resource}.json``; HTTP Basic with the API key and secret.
- Lists page with ``page`` / ``limit`` (at most 250 a page); a short page is the last.
- Every write wraps its fields in the resource's singular name, as the official PHP client
  (``SEOshop/API-PHP-Client``, ``WebshopappApiResourceVariants::update``) does:
  ``PUT /{lang}/variants/{id}.json {"variant": {...}}``. Variants change one call each, paced
  by the rate limit: the bulk resource's wrapper is ``{"variant": ...}``
  (``WebshopappApiResourceVariantsBulk::update``) but no source shows what goes inside it.
- Rate limits (:class:`~backorder_lightspeed_ecom.ratelimit.LightspeedPacer`): the three
  ``X-RateLimit-*`` windows are read from every response; a used-up window is waited out
  (up to ``max_rate_wait`` seconds, else :class:`RateLimitError`), a 429 is retried after
  the window resets, and every request first takes a slot of the shop's 20-a-second
  throttle.
- Retries follow the core's one policy (:mod:`backorder.http.retry`, ``retries`` in the
  connection): 5xx and lost answers are retried for reads and the (absolute) PUTs, never
  for a POST such as a webhook registration.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from backorder.config import StoreConfig
from backorder.errors import PlatformError
from backorder.http import Clock, PlatformCallError, PlatformHttp, Retries, RetryPolicy
from backorder.http.errors import secret_source
from backorder_lightspeed_ecom.models import (
    DeliveryDate,
    Order,
    OrderProduct,
    Product,
    Variant,
    Webhook,
)
from backorder_lightspeed_ecom.ratelimit import (
    PLATFORM,
    LightspeedPacer,
    RateLimitError,
    ShopThrottle,
    shop_throttle,
)

__all__ = [
    "Connection",
    "LightspeedClient",
    "LightspeedError",
    "RateLimitError",
    "UpdatesRefused",
]

CLUSTERS = {"eu": "https://api.webshopapp.com", "us": "https://api.shoplightspeed.com"}
MAX_PAGE = 250


class LightspeedError(PlatformCallError):
    """The API refused or failed a request; the message names the method, URL and status."""

    PLATFORM, LABEL = PLATFORM, "Lightspeed"
    URL_SETTING, CREDENTIALS = "base_url", ("api_key", "api_secret")
    PERMISSIONS = "the API key's permissions (Settings > Developers in the back office)"
    NOT_FOUND = "the id asked for (an order's id, not its number)"

    def what_to_check(self, connection: Mapping[str, Any]) -> str:
        if self.status is None and not connection.get("base_url"):  # the cluster's host
            cluster = connection.get("cluster", "eu")
            return f"check connection.cluster ({cluster}) and that Lightspeed is up"
        return super().what_to_check(connection)

    @staticmethod
    def detail(body: Any, response: httpx.Response) -> str:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
        return response.text[:200] or response.reason_phrase


class UpdatesRefused(PlatformError):
    """Lightspeed refused some of a push's updates; the others were applied."""

    def __init__(self, refused: Sequence[tuple[int, LightspeedError]], total: int) -> None:
        first = refused[0][1]
        super().__init__(
            f"Lightspeed refused {len(refused)} of {total} variant update(s) "
            f"(variants {', '.join(str(i) for i, _ in refused)}); first: {first}",
            platform=PLATFORM,
            url=first.url,
            status=first.status,
        )
        self.refused = list(refused)


class Connection(BaseModel):
    """``StoreConfig.connection`` for a Lightspeed store (secrets by ``*_env`` names)."""

    model_config = ConfigDict(extra="ignore")

    cluster: Literal["eu", "us"] = "eu"
    base_url: str | None = None
    """Overrides the cluster's host (a sandbox)."""
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    page_size: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE)
    max_rate_wait: float = Field(default=300.0, ge=0)
    retries: Retries = 3
    timeout: float = 30.0
    allow_backorders_default: bool = False
    """The shop's "Allow backorders" default (Settings > Workflow > Inventory; off unless the
    merchant turned it on, seed 003): applies to new variants, and to a new item whose
    fields turn tracking on without saying whether sold-out sales are allowed."""
    webhook_address: str | None = None
    """Where Lightspeed delivers webhooks: ``backorder serve``'s ``/webhooks/{store}``."""

    @property
    def root(self) -> str:
        return (self.base_url or CLUSTERS[self.cluster]).rstrip("/")


def connection_of(store: StoreConfig) -> Connection:
    return store.connection_as(Connection)


class LightspeedClient:
    def __init__(
        self,
        connection: Connection,
        key: str,
        secret: str,
        *,
        transport: httpx.BaseTransport | None = None,
        throttle: ShopThrottle | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.conn = connection
        clock = clock or Clock()
        self.pacer = LightspeedPacer(
            throttle or shop_throttle(f"{connection.root}|{key}"), clock, connection.max_rate_wait
        )
        self.http = PlatformHttp(
            f"{connection.root}/{connection.language}",
            error=LightspeedError,
            auth=httpx.BasicAuth(key, secret),
            transport=transport,
            timeout=connection.timeout,
            policy=RetryPolicy(retries=connection.retries),
            pacer=self.pacer,
            clock=clock,
            rng=rng,
        )

    @classmethod
    def for_store(cls, store: StoreConfig, **kwargs: Any) -> LightspeedClient:
        key, secret = store.secret("api_key"), store.secret("api_secret")
        if not key or not secret:
            missing = [
                secret_source(store.connection, name)
                for name, value in (("api_key", key), ("api_secret", secret))
                if not value
            ]
            raise ValueError(
                f"store {store.name!r}: connection.api_key and connection.api_secret "
                f"(or api_key_env / api_secret_env) are required: check {' and '.join(missing)}"
            )
        return cls(connection_of(store), key, secret, **kwargs)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> LightspeedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, resource: str) -> str:
        return f"{self.conn.root}/{self.conn.language}/{resource}.json"

    def request(self, method: str, resource: str, **kwargs: Any) -> Any:
        """One call, paced and retried (see the module docstring); returns the JSON."""
        return self.http.json(method, f"{resource}.json", **kwargs)

    def pages(self, resource: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every record of a list resource, page by page."""
        page = 1
        while True:
            body = self.request(
                "GET", resource, params={**params, "page": page, "limit": self.conn.page_size}
            )
            records = (body or {}).get(key, [])
            yield from records
            if len(records) < self.conn.page_size:
                return
            page += 1

    # ------------------------------------------------------------------ resources
    def variants(self) -> list[Variant]:
        return [Variant.model_validate(v) for v in self.pages("variants", "variants")]

    def variant(self, variant_id: int) -> Variant:
        return Variant.model_validate(self.request("GET", f"variants/{variant_id}")["variant"])

    def products(self) -> list[Product]:
        return [Product.model_validate(p) for p in self.pages("products", "products")]

    def product(self, product_id: int) -> Product:
        return Product.model_validate(self.request("GET", f"products/{product_id}")["product"])

    def deliverydates(self) -> list[DeliveryDate]:
        return [
            DeliveryDate.model_validate(d) for d in self.pages("deliverydates", "deliverydates")
        ]

    def create_deliverydate(self, fields: dict[str, Any]) -> DeliveryDate:
        """``POST deliverydates.json`` with ``{"deliverydate": …}`` (the PHP client's
        ``WebshopappApiResourceDeliverydates::create``)."""
        body = self.request("POST", "deliverydates", json={"deliverydate": fields})
        return DeliveryDate.model_validate(body["deliverydate"])

    def delete_deliverydate(self, deliverydate_id: int) -> None:
        self.request("DELETE", f"deliverydates/{deliverydate_id}")

    def order(self, order_id: str | int) -> Order:
        return Order.model_validate(self.request("GET", f"orders/{order_id}")["order"])

    def order_products(self, order_id: str | int) -> list[OrderProduct]:
        return [
            OrderProduct.model_validate(p)
            for p in self.pages(f"orders/{order_id}/products", "orderProducts")
        ]

    def update_variant(self, variant_id: int, fields: dict[str, Any]) -> Variant:
        body = self.request("PUT", f"variants/{variant_id}", json={"variant": fields})
        return Variant.model_validate(body["variant"])

    def update_variants(self, updates: Sequence[dict[str, Any]]) -> int:
        """One ``PUT variants/{id}.json`` per update (each carries its ``id``), paced.

        A variant Lightspeed refuses (4xx: deleted, invalid) does not stop the others; once
        all were sent the refusals are raised together (:class:`UpdatesRefused`). An answer
        that is no refusal (the shop down, the rate limit) stops the push at once.
        """
        refused: list[tuple[int, LightspeedError]] = []
        for update in updates:
            fields = {k: v for k, v in update.items() if k != "id"}
            try:
                self.update_variant(int(update["id"]), fields)
            except LightspeedError as exc:
                if exc.status is None or exc.status >= 500 or exc.status == 429:
                    raise
                refused.append((int(update["id"]), exc))
        if refused:
            raise UpdatesRefused(refused, len(updates))
        return len(updates)

    def update_product(self, product_id: int, fields: dict[str, Any]) -> Product:
        body = self.request("PUT", f"products/{product_id}", json={"product": fields})
        return Product.model_validate(body["product"])

    # ----------------------------------------------------------------- webhooks
    def webhooks(self) -> list[Webhook]:
        return [Webhook.model_validate(w) for w in self.pages("webhooks", "webhooks")]

    def create_webhook(self, item_group: str, item_action: str, address: str) -> Webhook:
        body = {
            "webhook": {
                "isActive": True,
                "itemGroup": item_group,
                "itemAction": item_action,
                "language": self.conn.language,
                "format": "json",
                "address": address,
            }
        }
        return Webhook.model_validate(self.request("POST", "webhooks", json=body)["webhook"])

    def update_webhook(self, webhook_id: int, fields: dict[str, Any]) -> Webhook:
        body = self.request("PUT", f"webhooks/{webhook_id}", json={"webhook": fields})
        return Webhook.model_validate(body["webhook"])
