"""A small Magento 2 REST client (httpx, bearer token of an integration).

``base_url`` is the REST root including the store code, e.g.
``https://shop.example/rest/default`` (or ``/rest/all`` for global scope); every path
below is appended as ``{base_url}/V1/...``.

Retries (numbers in :class:`~backorder_magento.retry.RetryPolicy`):

- a 429 was not processed, so any call is repeated after its ``Retry-After`` (capped);
- a connection that never opened (``ConnectError``/``ConnectTimeout``) sent nothing, so
  any call is repeated after the backoff;
- a 5xx (500/502/503/504) or a lost response (read timeout, dropped connection) may have
  been applied: only idempotent calls are repeated — the GETs, and the stock-item PUT,
  which sets absolute values. Writes that carry ``qty`` (the MSI source-items POST, a PUT
  with ``qty``) are not: Magento moves quantities itself (shipments deduct them), and a
  late second copy would undo such a move. They raise :class:`AmbiguousWrite` instead.

When the retries are used up the last failure is raised as :class:`MagentoError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

from backorder_magento.models import StockItem
from backorder_magento.retry import RETRY_STATUSES, RetryPolicy

log = logging.getLogger(__name__)

PAGE_SIZE = 100
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before the request left: repeating them can never apply it twice."""


class MagentoError(Exception):
    """A Magento API error: the call, the HTTP status (``None``: no response) and Magento's
    message with its parameters filled in."""

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        call = f" {method} {path}" if method and path else ""
        code = "no response" if status is None else str(status)
        super().__init__(f"Magento API{call}: {code}: {message}")
        self.status, self.method, self.path = status, method, path


class AmbiguousWrite(MagentoError):
    """A write that is not safe to repeat failed in a way that may have applied it.

    Read the state back before deciding to send it again.
    """


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    message = str(body.get("message", "")) if isinstance(body, dict) else str(body)
    params = body.get("parameters") if isinstance(body, dict) else None
    if isinstance(params, dict):
        for key, value in params.items():
            message = message.replace(f"%{key}", str(value))
    elif isinstance(params, list):
        for index, value in enumerate(params, start=1):
            message = message.replace(f"%{index}", str(value))
    return message


def _gave_up(problem: str, attempt: int) -> str:
    return f"{problem} (gave up after {attempt + 1} attempts)"


def _unsure(problem: str) -> str:
    return f"{problem}; it may have been applied, so it was not sent again"


def _sku(sku: str) -> str:
    return quote(sku, safe="")


class MagentoClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/V1",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            transport=transport,
            timeout=timeout,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> MagentoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(
        self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> Any:
        """One API call with the retries of the module docstring; returns the JSON body.

        ``idempotent`` (default: by HTTP method) says whether a copy that may already have
        been applied can be sent again.
        """
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        where = {"method": method, "path": f"/V1{path}"}
        retries = self.retry.retries
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if not idempotent and not isinstance(exc, NOT_SENT):
                    raise AmbiguousWrite(None, _unsure(problem), **where) from exc
                if last:
                    raise MagentoError(None, _gave_up(problem, attempt), **where) from exc
                self._wait(self.retry.backoff_delay(attempt), where, problem, attempt)
                continue
            status = response.status_code
            if status == 429 and not last:
                delay = self.retry.retry_after_delay(response.headers.get("retry-after"), attempt)
                self._wait(delay, where, "429", attempt)
                continue
            if status in RETRY_STATUSES:
                if not idempotent:
                    raise AmbiguousWrite(status, _unsure(_message(response)), **where)
                if not last:
                    self._wait(self.retry.backoff_delay(attempt), where, str(status), attempt)
                    continue
            if status >= 400:
                message = _message(response)
                if attempt and (status == 429 or status in RETRY_STATUSES):
                    message = _gave_up(message, attempt)
                raise MagentoError(status, message, **where)
            return response.json()
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, delay: float, where: dict[str, str], problem: str, attempt: int) -> None:
        log.warning(
            "Magento %s %s: %s; retry %d of %d in %.2fs",
            where["method"], where["path"], problem, attempt + 1, self.retry.retries, delay,
        )  # fmt: skip
        self.sleep(delay)

    # ------------------------------------------------------------- catalog
    def products(self, page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every product (``GET /V1/products``), page by page, with its stock item attached."""
        page = 1
        while True:
            body = self._call(
                "GET",
                "/products",
                params={
                    "searchCriteria[pageSize]": page_size,
                    "searchCriteria[currentPage]": page,
                },
            )
            items = body.get("items") or []
            yield from items
            if not items or page * page_size >= int(body.get("total_count", 0)):
                return
            page += 1

    # ----------------------------------------------------- CatalogInventory
    def stock_item(self, sku: str) -> StockItem:
        """``GET /V1/stockItems/{sku}``."""
        return StockItem.model_validate(self._call("GET", f"/stockItems/{_sku(sku)}"))

    def update_stock_item(self, sku: str, item_id: int, changes: dict[str, Any]) -> int:
        """``PUT /V1/products/{sku}/stockItems/{itemId}``; returns the item id.

        Absolute values, so repeated after a lost response, unless it writes ``qty``.
        """
        return int(
            self._call(
                "PUT",
                f"/products/{_sku(sku)}/stockItems/{item_id}",
                idempotent="qty" not in changes,
                json={"stockItem": changes},
            )
        )

    def stock_status(self, sku: str) -> dict[str, Any]:
        """``GET /V1/stockStatuses/{sku}``: ``stock_status`` 0/1, ``qty``, the stock item."""
        return self._call("GET", f"/stockStatuses/{_sku(sku)}")

    def low_stock(
        self, qty: float, *, scope_id: int = 0, page_size: int = PAGE_SIZE
    ) -> Iterator[StockItem]:
        """``GET /V1/stockItems/lowStock``: items whose qty is below ``qty``, page by page."""
        page = 1
        while True:
            body = self._call(
                "GET",
                "/stockItems/lowStock",
                params={
                    "scopeId": scope_id,
                    "qty": qty,
                    "pageSize": page_size,
                    "currentPage": page,
                },
            )
            items = body.get("items") or []
            yield from (StockItem.model_validate(item) for item in items)
            if len(items) < page_size:
                return
            page += 1

    # ------------------------------------------------------------------ MSI
    def salable_qty(self, sku: str, stock_id: int = 1) -> float:
        """``GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}``."""
        return float(
            self._call("GET", f"/inventory/get-product-salable-quantity/{_sku(sku)}/{stock_id}")
        )

    def is_salable_for_requested_qty(
        self, sku: str, qty: float, stock_id: int = 1
    ) -> dict[str, Any]:
        """``GET /V1/inventory/is-product-salable-for-requested-qty/{sku}/{stockId}/{qty}``."""
        return self._call(
            "GET",
            f"/inventory/is-product-salable-for-requested-qty/{_sku(sku)}/{stock_id}/{qty:g}",
        )

    def save_source_items(self, items: list[dict[str, Any]]) -> None:
        """MSI source items: ``sourceItems[]{sku, source_code, quantity, status}``.

        Never repeated after a lost response or a 5xx (quantities: see the module docstring).
        """
        self._call("POST", "/inventory/source-items", json={"sourceItems": items})

    # --------------------------------------------------------------- orders
    def order(self, order_id: str) -> dict[str, Any]:
        """``GET /V1/orders/{id}`` (entity id)."""
        return self._call("GET", f"/orders/{quote(str(order_id), safe='')}")
