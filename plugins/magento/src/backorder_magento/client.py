"""A small Magento 2 REST client (httpx, bearer token of an integration).

``base_url`` is the REST root including the store code, e.g.
``https://shop.example/rest/default`` (or ``/rest/all`` for global scope); every path
below is appended as ``{base_url}/V1/...``.

Retries follow the core's one policy (:mod:`backorder.http.retry`; the count is the
connection's ``retries``):

- a 429 was not processed, so any call is repeated after its ``Retry-After`` (capped);
- a connection that never opened (``ConnectError``/``ConnectTimeout``) sent nothing, so
  any call is repeated after the backoff;
- a 5xx (500/502/503/504) or a lost response (read timeout, dropped connection) may have
  been applied: only idempotent calls are repeated — the GETs, and the stock-item PUT,
  which sets absolute values. Writes that carry ``qty`` (the MSI source-items POST, a PUT
  with ``qty``) are never sent twice: Magento moves quantities itself (shipments deduct
  them), and a late second copy would undo such a move. They raise :class:`AmbiguousWrite`
  instead.

When the retries are used up the last failure is raised as :class:`MagentoError`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from backorder.http import Clock, PlatformCallError, PlatformHttp, RetryPolicy
from backorder_magento import PLATFORM
from backorder_magento.models import StockItem

PAGE_SIZE = 100


BEARER_HINT = (
    "; an integration access token is accepted as a Bearer token on Magento 2.4.4+ only "
    "with oauth/consumer/enable_integration_as_bearer = 1 (Stores > Configuration > "
    "Services > OAuth > Consumer Settings > Allow OAuth Access Tokens to be used as "
    "standalone Bearer tokens = Yes)"
)
"""Added to every 401: Magento answers an integration token used as Bearer without the
setting with the same "consumer isn't authorized" message as a missing ACL resource
(``Magento\\Integration\\Model\\Config\\AuthorizationConfig::isIntegrationAsBearerEnabled``;
Adobe Commerce Web API docs, "Token-based authentication", Integration tokens)."""


class MagentoError(PlatformCallError):
    """A Magento API error: the call, the HTTP status (``None``: no response) and Magento's
    message with its parameters filled in (a 401 also names the Bearer setting)."""

    PLATFORM, LABEL = PLATFORM, "Magento"
    URL_SETTING, CREDENTIALS = "base_url", ("token",)
    PERMISSIONS = "the integration's API resources (System > Extensions > Integrations)"
    NOT_FOUND = (
        "the id asked for (an order's entity id, not its increment id), and the store code "
        "in connection.base_url ({base_url})"
    )

    @staticmethod
    def detail(body: Any, response: httpx.Response) -> str:
        said = MagentoError._said(body, response)
        return said + BEARER_HINT if response.status_code == 401 else said

    @staticmethod
    def _said(body: Any, response: httpx.Response) -> str:
        if not isinstance(body, dict):
            return str(body)[:200] if body else response.reason_phrase
        message = str(body.get("message", ""))
        params = body.get("parameters")
        if isinstance(params, dict):
            for key, value in params.items():
                message = message.replace(f"%{key}", str(value))
        elif isinstance(params, list):
            for index, value in enumerate(params, start=1):
                message = message.replace(f"%{index}", str(value))
        return message


class AmbiguousWrite(MagentoError):
    """A write that is not safe to repeat failed in a way that may have applied it.

    Read the state back before deciding to send it again.
    """


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
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.http = PlatformHttp(
            base_url.rstrip("/") + "/V1",
            error=MagentoError,
            ambiguous=AmbiguousWrite,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            transport=transport,
            timeout=timeout,
            policy=retry,
            clock=clock,
            rng=rng,
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
        return self.http.json(method, path, safe=idempotent, **kwargs)

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

    def set_custom_attributes(self, sku: str, values: dict[str, str]) -> None:
        """``PUT /V1/products/{sku}`` with only ``custom_attributes``: the other product
        fields stay as they are (catalogProductRepositoryV1 save, a partial product)."""
        attributes = [{"attribute_code": code, "value": value} for code, value in values.items()]
        self._call(
            "PUT",
            f"/products/{_sku(sku)}",
            json={"product": {"sku": sku, "custom_attributes": attributes}},
        )

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
        self._call(
            "POST", "/inventory/source-items", idempotent=False, json={"sourceItems": items}
        )

    # --------------------------------------------------------------- orders
    def order(self, order_id: str) -> dict[str, Any]:
        """``GET /V1/orders/{id}`` (entity id)."""
        return self._call("GET", f"/orders/{quote(str(order_id), safe='')}")
