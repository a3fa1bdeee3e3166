"""The BigCommerce REST client: auth, pacing under the rate limit, retries, pages, batches.

- Every call carries ``X-Auth-Token``; v3 and v2 share ``{api_url}/stores/{hash}``.
- After each response the client reads ``X-Rate-Limit-Requests-Left`` and
  ``X-Rate-Limit-Time-Reset-Ms``; when the window is spent it waits for the reset
  *before* the next call, so it never needs a 429 (:class:`RateLimitPacer`). A 429 anyway
  (another app on the store) waits the reset it names and repeats the call: a 429 was not
  processed.
- Retries follow the core's one policy (:mod:`backorder.http.retry`): 5xx and timeouts are
  retried with exponential backoff and full jitter, but only for idempotent calls (GET,
  PUT, DELETE). A POST that timed out may have been applied, so it is not repeated
  blindly: :class:`AmbiguousWrite` is raised for the caller to check.
- Bodies are built from and parsed into the models of :mod:`.schemas`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from backorder.http import Clock, Pacer, PlatformCallError, PlatformHttp, RetryPolicy
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce import unconfirmed as u

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_POLICY = RetryPolicy(retries=5, backoff=0.5)


class BigCommerceError(PlatformCallError):
    """An API call failed; ``status`` and ``body`` say how."""

    PLATFORM, LABEL = "bigcommerce", "BigCommerce"

    @classmethod
    def from_response(cls, method, url, response, **kwargs) -> PlatformCallError:
        if (
            cls is BigCommerceError
            and response.status_code == u.OUT_OF_STOCK_STATUS
            and method == "POST"
            and "/orders" in str(url)
        ):
            return OutOfStock.from_response(method, url, response, **kwargs)
        return super().from_response(method, url, response, **kwargs)

    @staticmethod
    def detail(body: Any, response: httpx.Response) -> str:
        if isinstance(body, dict):
            return str(body.get("title") or body.get("message") or body)[:300]
        if isinstance(body, list) and body and isinstance(body[0], dict):
            return str(body[0].get("message") or body[0])[:300]
        return str(body)[:300]


class AmbiguousWrite(BigCommerceError):
    """A non-idempotent call timed out or failed with 5xx: it may or may not have applied."""


class OutOfStock(BigCommerceError):
    """Native backorders: the order is above stock + backorder limit (HTTP 409)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        errors = ((self.body or {}).get("details") or {}).get("errors") or []
        self.errors = [s.OutOfStockError.model_validate(e) for e in errors]


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RateLimitPacer(Pacer):
    """BigCommerce's window: when ``X-Rate-Limit-Requests-Left`` reaches 0 (or a 429 came),
    the next call waits ``X-Rate-Limit-Time-Reset-Ms``."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.resume_at = 0.0  # when the spent window resets (clock seconds)

    def before_call(self) -> float:
        wait = self.resume_at - self.clock.now()
        if wait <= 0:
            return 0.0
        self.clock.sleep(wait)
        return wait

    def after_call(self, response: httpx.Response) -> None:
        left = response.headers.get("X-Rate-Limit-Requests-Left")
        reset = response.headers.get("X-Rate-Limit-Time-Reset-Ms")
        if left is None or reset is None:
            return
        if int(left) <= 0 or response.status_code == 429:
            self.resume_at = self.clock.now() + int(reset) / 1000

    def wait_after_429(self, response: httpx.Response) -> float | None:
        # before_call waits the reset the 429 named; without those headers the policy decides
        return 0.0 if "X-Rate-Limit-Time-Reset-Ms" in response.headers else None


class BigCommerceClient:
    """One store's API, paced under its rate limit. Not thread-safe; one per store."""

    def __init__(
        self,
        store_hash: str,
        token: str,
        *,
        api_url: str = "https://api.bigcommerce.com",
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.http = PlatformHttp(
            f"{api_url.rstrip('/')}/stores/{store_hash}",
            error=BigCommerceError,
            ambiguous=AmbiguousWrite,
            headers={
                "X-Auth-Token": token,
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            transport=transport,
            timeout=timeout,
            policy=policy,
            pacer=RateLimitPacer(self.clock),
            clock=self.clock,
            rng=rng,
        )
        self.stats = self.http.stats

    def close(self) -> None:
        self.http.close()

    def request(
        self, method: str, path: str, *, params: dict | None = None, json: Any = None
    ) -> Any:
        """Send one call (``path`` like ``/v3/catalog/products``); return the parsed JSON."""
        return self.http.json(method, path, params=params, json=json)

    def _pages_v3(self, path: str, params: dict, model: type[M], limit: int) -> Iterator[M]:
        page = 1
        while True:
            body = model.model_validate(
                self.request("GET", path, params={**params, "limit": limit, "page": page})
            )
            yield body
            pagination = body.meta.pagination  # type: ignore[attr-defined]
            if pagination.current_page >= pagination.total_pages:
                return
            page += 1

    # ------------------------------------------------------------------- catalog
    def products(self, *, ids: Iterable[int] | None = None) -> list[s.ProductFull]:
        """Every product with its variants: one call per 250 products."""
        params: dict[str, Any] = {"include": "variants"}
        if ids is not None:
            id_list = sorted(set(ids))
            if not id_list:
                return []
            out: list[s.ProductFull] = []
            for part in chunks(id_list, u.PAGE_LIMIT):
                params["id:in"] = ",".join(map(str, part))
                for page in self._pages_v3(
                    "/v3/catalog/products", params, s.ProductsPage, u.PAGE_LIMIT
                ):
                    out += page.data
            return out
        return [
            product
            for page in self._pages_v3("/v3/catalog/products", params, s.ProductsPage, u.PAGE_LIMIT)
            for product in page.data
        ]

    def product(self, product_id: int) -> s.ProductFull:
        body = self.request(
            "GET", f"/v3/catalog/products/{product_id}", params={"include": "variants"}
        )
        return s.ProductResponse.model_validate(body).data

    def variant(self, product_id: int, variant_id: int) -> s.ProductVariantFull:
        body = self.request("GET", f"/v3/catalog/products/{product_id}/variants/{variant_id}")
        return s.VariantResponse.model_validate(body).data

    def update_products(self, items: Sequence[s.ProductPutCollectionItem]) -> int:
        """Batch product updates, 10 per call; returns the number of calls."""
        calls = 0
        for part in chunks(list(items), u.BATCH_PRODUCTS):
            self.request("PUT", "/v3/catalog/products", json=[i.body() for i in part])
            calls += 1
        return calls

    def update_variants(self, items: Sequence[s.ProductVariantPut]) -> int:
        """Batch variant updates, 50 per call."""
        calls = 0
        for part in chunks(list(items), u.BATCH_VARIANTS):
            self.request("PUT", "/v3/catalog/variants", json=[i.body() for i in part])
            calls += 1
        return calls

    # ----------------------------------------------------------------- inventory
    def set_levels(self, items: Sequence[s.AdjustmentItem], reason: str) -> int:
        """Absolute adjustments, 2,000 per call (idempotent: the same figures again)."""
        calls = 0
        for part in chunks(list(items), u.BATCH_INVENTORY):
            body = s.AdjustmentsAbsoluteRequest(reason=reason, items=list(part)).body()
            s.SimpleTransactionResponse.model_validate(
                self.request("PUT", "/v3/inventory/adjustments/absolute", json=body)
            )
            calls += 1
        return calls

    def set_location_settings(self, location_id: int, settings: Sequence[s.LocationItemSetting]):
        """Per-location item settings (native ``backorder_limit``), 2,000 per call."""
        for part in chunks(list(settings), u.BATCH_INVENTORY):
            body = s.LocationItemsSettingsRequest(settings=list(part)).body()
            s.SimpleTransactionResponse.model_validate(
                self.request("PUT", f"/v3/inventory/locations/{location_id}/items", json=body)
            )

    def inventory_items(self, skus: Sequence[str] | None = None) -> list[s.ItemResponse]:
        out: list[s.ItemResponse] = []
        parts = list(chunks(list(skus), 100)) if skus else [None]
        for part in parts:
            params = {"sku:in": ",".join(part)} if part else {}
            for page in self._pages_v3(
                "/v3/inventory/items", params, s.ItemsPage, u.INVENTORY_PAGE_LIMIT
            ):
                out += page.data
        return out

    # -------------------------------------------------------------------- orders
    def order(self, order_id: int | str) -> s.OrderResp:
        return s.OrderResp.model_validate(self.request("GET", f"/v2/orders/{order_id}"))

    def order_products(self, order_id: int | str) -> list[s.OrderProducts]:
        """All lines of an order (v2: ``page``/``limit``, a bare array per page)."""
        out: list[s.OrderProducts] = []
        page = 1
        while True:
            body = self.request(
                "GET",
                f"/v2/orders/{order_id}/products",
                params={"page": page, "limit": u.ORDER_PRODUCTS_LIMIT},
            )
            rows = [s.OrderProducts.model_validate(row) for row in body or []]
            out += rows
            if len(rows) < u.ORDER_PRODUCTS_LIMIT:
                return out
            page += 1

    def create_order(self, order: s.OrderPost) -> s.OrderResp:
        """Place an order (the sandbox's shopper; raises :class:`OutOfStock` natively)."""
        return s.OrderResp.model_validate(self.request("POST", "/v2/orders", json=order.body()))

    # --------------------------------------------------------------------- hooks
    def hooks(self) -> list[s.WebhookFull]:
        return s.WebhooksResp.model_validate(self.request("GET", "/v3/hooks")).data

    def create_hook(self, hook: s.WebhookBase) -> s.WebhookFull:
        return s.WebhookResp.model_validate(
            self.request("POST", "/v3/hooks", json=hook.body())
        ).data

    def ensure_hooks(self, scopes: Sequence[str], destination: str, headers: dict[str, str]):
        """Register the scopes not yet registered for ``destination``; safe to repeat.

        A POST that timed out may have been applied: the hooks are listed again to find
        out, never re-sent blindly.
        """
        have = {h.scope for h in self.hooks() if h.destination == destination}
        made: list[s.WebhookFull] = []
        for scope in scopes:
            if scope in have:
                continue
            hook = s.WebhookBase(
                scope=scope, destination=destination, is_active=True, headers=headers
            )
            try:
                made.append(self.create_hook(hook))
            except AmbiguousWrite:
                if not any(h.scope == scope and h.destination == destination for h in self.hooks()):
                    raise
        return made


def call_counter(client: BigCommerceClient) -> Callable[[], int]:
    start = client.stats.calls
    return lambda: client.stats.calls - start
