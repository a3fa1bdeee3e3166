"""The Lightspeed eCom REST client (httpx, sync).

- Hosts: ``https://api.webshopapp.com`` (EU cluster) and ``https://api.shoplightspeed.com``
  (US cluster); URLs ``/{lang}/{resource}.json``; HTTP Basic with the API key and secret.
- Lists page with ``page`` / ``limit`` (at most 250 a page); a short page is the last.
- Variants change in bulk with ``PUT /{lang}/variants/bulk.json`` (batch size: *unconfirmed*,
  50 by default, ``bulk_size`` in the connection).
- Rate limits (:class:`~backorder_lightspeed_ecom.ratelimit.LightspeedPacer`): the three
  ``X-RateLimit-*`` windows are read from every response; a used-up window is waited out
  (up to ``max_rate_wait`` seconds, else :class:`RateLimitError`), a 429 is retried after
  the window resets, and every request first takes a slot of the shop's 20-a-second
  throttle.
- Retries follow the core's one policy (:mod:`backorder.http.retry`, ``retries`` in the
  connection): 5xx and lost answers are retried for reads and the (absolute) variant
  PUTs, never for a POST such as a webhook registration.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from backorder.config import StoreConfig
from backorder.http import Clock, PlatformCallError, PlatformHttp, Retries, RetryPolicy
from backorder_lightspeed_ecom.models import DeliveryDate, Order, OrderProduct, Product, Variant
from backorder_lightspeed_ecom.ratelimit import (
    PLATFORM,
    LightspeedPacer,
    RateLimitError,
    ShopThrottle,
    shop_throttle,
)

__all__ = ["Connection", "LightspeedClient", "LightspeedError", "RateLimitError"]

CLUSTERS = {"eu": "https://api.webshopapp.com", "us": "https://api.shoplightspeed.com"}
MAX_PAGE = 250


class LightspeedError(PlatformCallError):
    """The API refused or failed a request; the message names the method, URL and status."""

    PLATFORM, LABEL = PLATFORM, "Lightspeed"

    @staticmethod
    def detail(body: Any, response: httpx.Response) -> str:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
        return response.text[:200] or response.reason_phrase


class Connection(BaseModel):
    """``StoreConfig.connection`` for a Lightspeed store (secrets by ``*_env`` names)."""

    model_config = ConfigDict(extra="ignore")

    cluster: Literal["eu", "us"] = "eu"
    base_url: str | None = None
    """Overrides the cluster's host (a sandbox)."""
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    page_size: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE)
    bulk_size: int = Field(default=50, ge=1)
    max_rate_wait: float = Field(default=300.0, ge=0)
    retries: Retries = 3
    timeout: float = 30.0
    allow_backorders_default: bool = False
    """The shop's "Allow backorders" default: applies to variants first seen in a sync."""

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
            raise ValueError(
                f"store {store.name!r}: connection.api_key and connection.api_secret "
                "(or api_key_env / api_secret_env) are required"
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

    def bulk_update_variants(self, updates: Sequence[dict[str, Any]]) -> int:
        """``PUT variants/bulk`` in batches of ``bulk_size``; each update carries its ``id``."""
        size = self.conn.bulk_size
        for start in range(0, len(updates), size):
            self.request(
                "PUT", "variants/bulk", json={"variants": list(updates[start : start + size])}
            )
        return len(updates)

    def create_webhook(self, item_group: str, item_action: str, address: str) -> dict[str, Any]:
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
        return self.request("POST", "webhooks", json=body)["webhook"]
