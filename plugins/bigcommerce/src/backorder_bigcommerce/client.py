"""The BigCommerce REST client: auth, pacing under the rate limit, retries, pages, batches.

- Every call carries ``X-Auth-Token``; v3 and v2 share ``{api_url}/stores/{hash}``.
- After each response the client reads ``X-Rate-Limit-Requests-Left`` and
  ``X-Rate-Limit-Time-Reset-Ms``; when the window is spent it waits for the reset
  *before* the next call, so it never needs a 429 (:class:`RateLimitPacer`). A 429 anyway
  (another app on the store) waits the reset it names and repeats the call: a 429 was not
  processed. A 429 without the rate-limit headers means the platform is under high load
  (api-rate-limits.mdx, "Seeing a 429 response?"): the call waits its ``Retry-After``, else
  a growing backoff, and after the policy's retries fails with :class:`RateLimited`.
- Retries follow the core's one policy (:mod:`backorder.http.retry`): 5xx and timeouts are
  retried with exponential backoff and full jitter, but only for idempotent calls (GET,
  PUT, DELETE). A POST that timed out may have been applied, so it is not repeated
  blindly: :class:`AmbiguousWrite` is raised for the caller to check.
- Bodies are built from and parsed into the models of :mod:`.schemas`.
- Pages are counted by the client (from 1 up to ``total_pages``, or to an empty page): the
  server's ``current_page`` is never trusted to end the loop.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from backorder.http import Clock, Pacer, PlatformCallError, PlatformHttp, RetryPolicy
from backorder_bigcommerce import limits
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce import unconfirmed as u

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_POLICY = RetryPolicy(retries=5, backoff=0.5)
RESET_HEADER = "X-Rate-Limit-Time-Reset-Ms"
LEFT_HEADER = "X-Rate-Limit-Requests-Left"


class BigCommerceError(PlatformCallError):
    """An API call failed; ``status`` and ``body`` say how."""

    PLATFORM, LABEL = "bigcommerce", "BigCommerce"
    URL_SETTING, CREDENTIALS = "api_url", ("access_token",)
    # the OAuth scopes of the API account's token (specs/bigcommerce/*.yml, "OAuth scopes")
    PERMISSIONS = "its OAuth scopes (Products, Store Inventory: modify; Orders: read-only)"
    NOT_FOUND = "the id asked for, and connection.store_hash ({store_hash})"

    @classmethod
    def from_response(cls, method, url, response, **kwargs) -> PlatformCallError:
        if cls is BigCommerceError:
            if response.status_code == 429:
                return RateLimited.from_response(method, url, response, **kwargs)
            if response.status_code == 409 and "/v2/orders" in str(url):
                error = OutOfStock.from_response(method, url, response, **kwargs)
                if error.errors:  # type: ignore[attr-defined]
                    return error
        return super().from_response(method, url, response, **kwargs)

    @staticmethod
    def detail(body: Any, response: httpx.Response) -> str:
        if isinstance(body, dict):
            return str(body.get("title") or body.get("message") or body)[:300]
        if isinstance(body, list) and body and isinstance(body[0], dict):
            return str(body[0].get("message") or body[0].get("title") or body[0])[:300]
        return str(body or response.reason_phrase)[:300]


class AmbiguousWrite(BigCommerceError):
    """A non-idempotent call timed out or failed with 5xx: it may or may not have applied."""


class RateLimited(BigCommerceError):
    """Still answered 429 after the retries. Without rate-limit headers BigCommerce is under
    high load ("Seeing a 429 response?", api-rate-limits.mdx): try again later."""

    @staticmethod
    def detail(body: Any, response: httpx.Response) -> str:
        if RESET_HEADER in response.headers:
            return "rate limited: the store's API quota is spent (other apps share it)"
        return (
            "rate limited without rate-limit headers: BigCommerce is under high load, "
            "try again later"
        )


class OutOfStock(BigCommerceError):
    """Native backorders: an order above stock + backorder limit (HTTP 409).

    The beta guide ("Error response for unavailable quantities", backorders-beta) documents
    the body as an array ``[{status, message, details: {errors: [{type: "OutOfStock",
    variant_id, location_id, available_quantity, available_quantity_for_backorder}]}}]``.
    ``errors`` holds those entries; ``skus`` the SKUs they name once the client has looked
    them up (:meth:`BigCommerceClient.create_order`).
    """

    def __init__(self, *args: Any, skus: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors = out_of_stock_errors(self.body)
        self.skus = list(skus)

    def naming(self, skus: dict[int, str]) -> OutOfStock:
        """The same refusal, its message naming each SKU (``skus``: variant id -> SKU)."""
        named = [skus.get(e.variant_id or 0) or f"variant {e.variant_id}" for e in self.errors]
        parts = [
            f"{name} ({e.available_quantity} in stock, "
            f"{e.available_quantity_for_backorder} more on backorder)"
            for name, e in zip(named, self.errors, strict=True)
        ]
        detail = "out of stock: " + "; ".join(parts)
        return OutOfStock(self.method, self.url, self.status, detail, body=self.body, skus=named)


def out_of_stock_errors(body: Any) -> list[s.OutOfStockError]:
    """The ``OutOfStock`` entries of a 409 body (the documented array; one object is read
    the same way). Anything else gives none."""
    entries = body if isinstance(body, list) else [body]
    found: list[s.OutOfStockError] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        try:
            found += s.OutOfStockBody.model_validate(entry).details.errors
        except ValidationError:
            continue
    return [e for e in found if e.type == "OutOfStock"]


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _header_ms(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


class RateLimitPacer(Pacer):
    """BigCommerce's window: when ``X-Rate-Limit-Requests-Left`` reaches 0, or a 429 names
    its reset, the next call waits ``X-Rate-Limit-Time-Reset-Ms``. A 429 without a usable
    reset is left to the retry policy (``Retry-After``, else the backoff)."""

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
        reset = _header_ms(response, RESET_HEADER)
        left = _header_ms(response, LEFT_HEADER)
        if reset is None or reset <= 0:
            return
        if response.status_code == 429 or (left is not None and left <= 0):
            self.resume_at = max(self.resume_at, self.clock.now() + reset / 1000)

    def wait_after_429(self, response: httpx.Response) -> float | None:
        # before_call waits the reset the 429 named; without one the policy decides
        reset = _header_ms(response, RESET_HEADER)
        return 0.0 if reset is not None and reset > 0 else None


@dataclass
class BatchOutcome:
    """What a batched update did: calls made, and the items BigCommerce did not save
    (id -> why; a 207 Multi-Status names them, see :func:`multi_status_failures`)."""

    calls: int = 0
    failed: dict[int, str] = field(default_factory=dict)


def multi_status_failures(sent: Sequence[s.ProductPutCollectionItem], body: Any) -> dict[int, str]:
    """The products of a batch a 207 answer did not save: missing from ``data``, or shown
    there with other values than we sent (the *unconfirmed* reading
    ``u.MULTI_STATUS_DATA_IS_SAVED``)."""
    answer = s.ProductsMultiStatus.model_validate(body or {})
    why = (answer.errors.title if answer.errors else "") or "not saved (HTTP 207)"
    if not u.MULTI_STATUS_DATA_IS_SAVED:
        return {item.id: why for item in sent}
    saved = {product.id: product for product in answer.data}
    failed: dict[int, str] = {}
    for item in sent:
        product = saved.get(item.id)
        wanted = item.model_dump(exclude_none=True, exclude={"id"})
        if product is None or any(getattr(product, k, None) != v for k, v in wanted.items()):
            failed[item.id] = why
    return failed


@dataclass(frozen=True)
class HookCheck:
    """One scope's hook for our destination: ``problem`` is None when it is in order."""

    scope: str
    hook: s.WebhookFull | None
    problem: str | None
    action: str = ""
    """What :meth:`BigCommerceClient.ensure_hooks` did: created, reactivated, updated."""


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

    def _pages_v3(
        self, path: str, params: dict, model: type[M], limit: int | None = None
    ) -> Iterator[M]:
        """Every page of a v3 list, counted here: pages 1, 2, ... up to ``total_pages``,
        stopping early at an empty page (a wrong ``current_page`` changes nothing)."""
        page = 1
        while True:
            query = {**params, "page": page} | ({"limit": limit} if limit else {})
            body = model.model_validate(self.request("GET", path, params=query))
            yield body
            pagination = body.meta.pagination  # type: ignore[attr-defined]
            if not body.data or pagination is None or page >= pagination.total_pages:  # type: ignore[attr-defined]
                return
            page += 1

    # ------------------------------------------------------------------- catalog
    def products(self, *, ids: Iterable[int] | None = None) -> list[s.ProductFull]:
        """Every product with its variants: one call per 250 products."""
        params: dict[str, Any] = {"include": "variants"}
        if ids is None:
            return [
                product
                for page in self._pages_v3(
                    "/v3/catalog/products", params, s.ProductsPage, limits.PAGE_LIMIT
                )
                for product in page.data
            ]
        out: list[s.ProductFull] = []
        for part in chunks(sorted(set(ids)), limits.PAGE_LIMIT):
            params["id:in"] = ",".join(map(str, part))
            for page in self._pages_v3(
                "/v3/catalog/products", params, s.ProductsPage, limits.PAGE_LIMIT
            ):
                out += page.data
        return out

    def product(self, product_id: int) -> s.ProductFull:
        body = self.request(
            "GET", f"/v3/catalog/products/{product_id}", params={"include": "variants"}
        )
        return s.ProductResponse.model_validate(body).data

    def variant(self, product_id: int, variant_id: int) -> s.ProductVariantFull:
        body = self.request("GET", f"/v3/catalog/products/{product_id}/variants/{variant_id}")
        return s.VariantResponse.model_validate(body).data

    def variants_of(self, product_ids: Iterable[int]) -> list[s.ProductVariantFull]:
        """Every variant of some products (``product_id:in``)."""
        out: list[s.ProductVariantFull] = []
        for part in chunks(sorted(set(product_ids)), limits.PAGE_LIMIT):
            params = {"product_id:in": ",".join(map(str, part))}
            for page in self._pages_v3(
                "/v3/catalog/variants", params, s.VariantsPage, limits.PAGE_LIMIT
            ):
                out += page.data
        return out

    def update_products(self, items: Sequence[s.ProductPutCollectionItem]) -> BatchOutcome:
        """Batch product updates, 10 per call. A 207 Multi-Status ("a partial failure",
        products_catalog.v3.yml) is not an error: its unsaved products are in ``failed``."""
        outcome = BatchOutcome()
        for part in chunks(list(items), limits.BATCH_PRODUCTS):
            response = self.http.request(
                "PUT", "/v3/catalog/products", json=[i.body() for i in part]
            )
            outcome.calls += 1
            if response.status_code == 207:
                outcome.failed.update(multi_status_failures(part, response.json()))
        return outcome

    def update_variants(self, items: Sequence[s.ProductVariantPut]) -> int:
        """Batch variant updates, 50 per call."""
        calls = 0
        for part in chunks(list(items), limits.BATCH_VARIANTS):
            self.request("PUT", "/v3/catalog/variants", json=[i.body() for i in part])
            calls += 1
        return calls

    # ----------------------------------------------------------------- inventory
    def set_levels(self, items: Sequence[s.AdjustmentItem], reason: str) -> int:
        """Absolute adjustments, 2,000 per call (idempotent: the same figures again)."""
        calls = 0
        for part in chunks(list(items), limits.BATCH_INVENTORY):
            body = s.AdjustmentsAbsoluteRequest(reason=reason, items=list(part)).body()
            s.SimpleTransactionResponse.model_validate(
                self.request("PUT", "/v3/inventory/adjustments/absolute", json=body)
            )
            calls += 1
        return calls

    def set_location_settings(self, location_id: int, settings: Sequence[s.LocationItemSetting]):
        """Per-location item settings (native ``backorder_limit``), 2,000 per call."""
        for part in chunks(list(settings), limits.BATCH_INVENTORY):
            body = s.LocationItemsSettingsRequest(settings=list(part)).body()
            s.SimpleTransactionResponse.model_validate(
                self.request("PUT", f"/v3/inventory/locations/{location_id}/items", json=body)
            )

    def inventory_items(self, skus: Sequence[str] | None = None) -> list[s.ItemResponse]:
        out: list[s.ItemResponse] = []
        parts = list(chunks(list(skus), u.SKU_FILTER_CHUNK)) if skus else [None]
        for part in parts:
            params = {"sku:in": ",".join(part)} if part else {}
            for page in self._pages_v3(
                "/v3/inventory/items", params, s.ItemsPage, limits.INVENTORY_PAGE_LIMIT
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
        """Place an order (the sandbox's shopper). Natively, an order above stock + limit
        raises :class:`OutOfStock` naming the SKUs."""
        try:
            return s.OrderResp.model_validate(self.request("POST", "/v2/orders", json=order.body()))
        except OutOfStock as refused:
            try:
                variants = self.variants_of(line.product_id for line in order.products)
            except BigCommerceError:
                variants = []  # the refusal still stands; it names variant ids instead
            raise refused.naming({v.id: v.sku for v in variants}) from None

    # --------------------------------------------------------------------- hooks
    def hooks(self) -> list[s.WebhookFull]:
        """Every hook of the store (``GET /v3/hooks`` is paged: ``page``, ``meta.pagination``)."""
        return [
            hook for page in self._pages_v3("/v3/hooks", {}, s.WebhooksResp) for hook in page.data
        ]

    def create_hook(self, hook: s.WebhookBase) -> s.WebhookFull:
        return s.WebhookResp.model_validate(
            self.request("POST", "/v3/hooks", json=hook.body())
        ).data

    def update_hook(self, hook_id: int, change: s.WebhookPut) -> s.WebhookFull:
        return s.WebhookResp.model_validate(
            self.request("PUT", f"/v3/hooks/{hook_id}", json=change.body())
        ).data

    def delete_hook(self, hook_id: int) -> None:
        self.request("DELETE", f"/v3/hooks/{hook_id}")

    def remove_hooks(self, destination: str) -> int:
        """Delete every hook that delivers to ``destination`` (an uninstall); returns how many."""
        gone = [hook for hook in self.hooks() if hook.destination == destination]
        for hook in gone:
            self.delete_hook(hook.id)
        return len(gone)

    def check_hooks(
        self, scopes: Sequence[str], destination: str, headers: dict[str, str]
    ) -> list[HookCheck]:
        """Each scope's hook for ``destination``: missing, inactive (BigCommerce deactivates a
        hook whose deliveries keep failing for 48 hours), or sending other headers."""
        mine = [h for h in self.hooks() if h.destination == destination]
        checks = []
        for scope in scopes:
            found = sorted(
                (h for h in mine if h.scope == scope), key=lambda h: (not h.is_active, h.id)
            )
            hook = found[0] if found else None
            if hook is None:
                problem: str | None = "missing"
            elif not hook.is_active:
                problem = "inactive"
            elif hook.headers is not None and hook.headers != headers:
                problem = "headers differ"
            else:
                problem = None
            checks.append(HookCheck(scope, hook, problem))
        return checks

    def ensure_hooks(
        self, scopes: Sequence[str], destination: str, headers: dict[str, str]
    ) -> list[HookCheck]:
        """Register the missing scopes, reactivate inactive hooks and put back our headers;
        returns what was repaired. Safe to repeat.

        Reactivation is the documented one: ``is_active: true`` through "Update a webhook"
        (``PUT /v3/hooks/{id}``; overview.mdx, "Callback retry mechanism"). A POST that timed
        out may have been applied: the hooks are listed again to find out, never re-sent
        blindly.
        """
        repaired: list[HookCheck] = []
        for check in self.check_hooks(scopes, destination, headers):
            if check.problem is None:
                continue
            if check.hook is not None:
                hook = self.update_hook(
                    check.hook.id, s.WebhookPut(is_active=True, headers=headers)
                )
                action = "reactivated" if check.problem == "inactive" else "updated"
                repaired.append(HookCheck(check.scope, hook, check.problem, action))
                continue
            new = s.WebhookBase(
                scope=check.scope, destination=destination, is_active=True, headers=headers
            )
            try:
                made = self.create_hook(new)
            except AmbiguousWrite:
                again = [
                    h
                    for h in self.hooks()
                    if (h.scope, h.destination) == (check.scope, destination)
                ]
                if not again:
                    raise
                made = again[0]
            repaired.append(HookCheck(check.scope, made, check.problem, "created"))
        return repaired


def call_counter(client: BigCommerceClient) -> Callable[[], int]:
    start = client.stats.calls
    return lambda: client.stats.calls - start
