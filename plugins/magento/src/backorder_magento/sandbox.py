"""A local stand-in for a Magento 2 store's REST API (Starlette), for tests and demos.

It keeps products with legacy stock items, MSI reservations and orders in memory and
applies :mod:`backorder_magento.stock_rules` where Magento would: a stock-item PUT runs
``StockItemRepository::save``'s ``is_in_stock`` flips (Magento 2.4.8); an MSI source-items
POST writes ``qty`` and ``is_in_stock`` straight into the legacy item, as MSI's
``SetDataToLegacyStockItem`` does; an order placed through the sandbox-only
``POST /V1/sandbox/orders`` runs the cart checks, appends a reservation and stores each
line's ``qty_backordered``.

Auth: ``Authorization: Bearer <token>``, the token being an integration access token. As on
Magento 2.4.4+, it is refused (401, "The consumer isn't authorized to access %resources.")
unless the store allows integration tokens as Bearer tokens
(``oauth/consumer/enable_integration_as_bearer``: ``SandboxStore(integration_as_bearer=...)``,
on by default here, off by default on Magento).

Fault switches (:mod:`backorder_magento.sandbox_faults`): ``store.add_fault(...)`` or
``POST /V1/sandbox/faults {"method", "path", "status", "times", "retry_after"}`` (``GET``
lists them, ``DELETE`` clears them); ``store.stale_reads = N`` or
``PUT /V1/sandbox/stale-reads {"reads": N}``. Every API request is logged in
``store.requests`` as ``(method, "/V1/...")``; the ``/V1/sandbox/faults`` and
``/V1/sandbox/stale-reads`` controls are neither logged nor faulted.

Run it: ``backorder sandbox magento --port 8089`` (REST root ``http://127.0.0.1:8089/rest/default``),
or in process: ``httpx.Client(transport=backorder.http.SyncASGITransport(create_app(store)))``.
The sandbox is the plugin's ``sandbox`` extra (``pip install 'backorder-magento[sandbox]'``).
"""

from __future__ import annotations

import copy
import math
from typing import Any

from pydantic import ValidationError

from backorder.errors import first_problem
from backorder.http import FAULT_HEADER, needs_extra
from backorder_magento.models import ItemOptions, StockItem
from backorder_magento.sandbox_faults import Fault, FaultStatus, take_fault
from backorder_magento.stock_rules import (
    check_quote_item_qty,
    is_salable_for_requested_qty,
    salable_qty,
    save_stock_item,
)

with needs_extra("backorder-magento", "sandbox"):
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

DEFAULT_TOKEN = "sandbox-token"

SEED_PRODUCTS: list[dict[str, Any]] = [
    {"sku": "MB-01", "name": "Joust Duffle Bag", "qty": 12},
    {"sku": "MB-02", "name": "Strive Shoulder Pack", "qty": 0, "backorders": 2,
     "use_config_backorders": False, "min_qty": -5, "use_config_min_qty": False},
    {"sku": "MB-03", "name": "Crown Summit Backpack", "qty": 0, "backorders": 1,
     "use_config_backorders": False, "is_in_stock": False},
    {"sku": "MB-04", "name": "Wayfarer Messenger Bag", "qty": 0, "is_in_stock": False,
     "stock_status_changed_auto": 1},
    {"sku": "MB-05", "name": "Rival Field Messenger", "qty": 3, "use_config_manage_stock": False,
     "manage_stock": False},
]  # fmt: skip


class SandboxStore:
    """The sandbox's data: products by SKU, reservations, orders, and the global config."""

    def __init__(
        self,
        products: list[dict[str, Any]] | None = None,
        config: ItemOptions | None = None,
        token: str = DEFAULT_TOKEN,
        integration_as_bearer: bool = True,
    ) -> None:
        self.token = token
        self.integration_as_bearer = integration_as_bearer
        """``oauth/consumer/enable_integration_as_bearer``: off, the token is refused (401)."""
        self.config = config or ItemOptions()
        self.products: dict[str, dict[str, Any]] = {}
        self.items: dict[str, StockItem] = {}
        self.reservations: dict[str, float] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.custom_attributes: dict[str, dict[str, Any]] = {}
        """Per SKU, the custom attributes written (the published storefront messages)."""
        self.faults: list[Fault | dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.stale_reads = 0
        self._stale: dict[str, tuple[StockItem, int]] = {}  # sku -> (before the write, reads)
        for index, raw in enumerate(copy.deepcopy(products or SEED_PRODUCTS), start=1):
            sku, name = raw["sku"], raw.get("name", raw["sku"])
            self.products[sku] = {"id": index, "sku": sku, "name": name, "type_id": "simple"}
            item = StockItem.model_validate({"item_id": index, "product_id": index, **raw})
            self.items[sku] = save_stock_item(item, {}, self.config)

    # ------------------------------------------------------------ fault switches
    def add_fault(
        self, path: str, status: FaultStatus, *, method: str = "*", times: int = 1,
        retry_after: int = 1,
    ) -> Fault:  # fmt: skip
        """Fail the next ``times`` requests to ``path`` (see :class:`Fault`)."""
        fault = Fault(method=method, path=path, status=status, times=times,
                      retry_after=retry_after)  # fmt: skip
        self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        return take_fault(self.faults, method, path)

    def write_item(self, sku: str, item: StockItem) -> None:
        """Store a stock item; with ``stale_reads`` its next reads answer the old one."""
        if self.stale_reads:
            self._stale[sku] = (self.items[sku], self.stale_reads)
        self.items[sku] = item

    def read_item(self, sku: str) -> StockItem:
        """The stock item a read answers: stale for ``stale_reads`` reads after a write."""
        before, reads = self._stale.pop(sku, (None, 0))
        if before is None:
            return self.items[sku]
        if reads > 1:
            self._stale[sku] = (before, reads - 1)
        return before

    # --------------------------------------------------------------------- reads
    def product_json(self, sku: str) -> dict[str, Any]:
        attributes = [{"attribute_code": code, "value": value}
                      for code, value in self.custom_attributes.get(sku, {}).items()]
        return {
            **self.products[sku],
            **({"custom_attributes": attributes} if attributes else {}),
            "extension_attributes": {"stock_item": self.stock_item_json(sku)},
        }

    def stock_item_json(self, sku: str, item: StockItem | None = None) -> dict[str, Any]:
        if item is None:
            item = self.read_item(sku)
        return item.model_dump(exclude={"sku", "name", "extension_attributes"})

    def place_order(self, lines: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        """Check every line like a cart, then reserve and record ``qty_backordered``."""
        from backorder_magento.stock_rules import backorder_qty

        totals: dict[str, float] = {}
        for line in lines:
            totals[line["sku"]] = totals.get(line["sku"], 0) + float(line["qty"])
        order_items: list[dict[str, Any]] = []
        for line in lines:
            sku, qty = line["sku"], float(line["qty"])
            if sku not in self.items:
                return 404, {"message": "The product that was requested doesn't exist."}
            result = check_quote_item_qty(
                self.items[sku], self.config, qty, totals[sku], self.reservations.get(sku, 0)
            )
            if result.has_error:
                return 400, {"message": result.message, "parameters": [], "code": result.error_code}
            backordered = backorder_qty(
                self.items[sku], self.config, qty, self.reservations.get(sku, 0)
            )
            order_items.append(
                {
                    "item_id": len(order_items) + 1,
                    "sku": sku,
                    "name": self.products[sku]["name"],
                    "product_id": self.products[sku]["id"],
                    "product_type": "simple",
                    "qty_ordered": qty,
                    "qty_backordered": backordered or None,
                    "parent_item_id": None,
                }
            )
            self.reservations[sku] = self.reservations.get(sku, 0) - qty
        entity_id = len(self.orders) + 1
        order = {
            "entity_id": entity_id,
            "increment_id": f"{100000000 + entity_id}",
            "customer_email": lines[0].get("customer_email") if lines else None,
            "created_at": "2026-01-05 12:00:00",
            "items": order_items,
        }
        self.orders[str(entity_id)] = order
        return 200, order

    # ----------------------------------------------------------- order lifecycle
    def _order_items(self, entity_id: str) -> list[dict[str, Any]]:
        order = self.orders.get(str(entity_id))
        if order is None:
            raise KeyError(f"no order {entity_id}")
        return order["items"]

    @staticmethod
    def _open(item: dict[str, Any]) -> float:
        return item["qty_ordered"] - item.get("qty_canceled", 0) - item.get("qty_shipped", 0)

    def cancel_order(self, entity_id: str, delivery_id: str) -> dict[str, Any]:
        """``Order::cancel()``: every item's open qty is canceled and its reservation
        compensated (MSI); returns the integration module's ``order_cancel_after`` push."""
        for item in self._order_items(entity_id):
            open_qty = self._open(item)
            item["qty_canceled"] = item.get("qty_canceled", 0) + open_qty
            self.reservations[item["sku"]] = self.reservations.get(item["sku"], 0) + open_qty
        self.orders[str(entity_id)]["state"] = "canceled"
        return {"delivery_id": delivery_id, "event": "order_cancel_after",
                "order_id": str(entity_id)}  # fmt: skip

    def ship_order(
        self, entity_id: str, lines: dict[str, float], delivery_id: str
    ) -> dict[str, Any]:
        """A shipment: ``qty_shipped`` rises, the source qty is deducted and the reservation
        compensated (MSI's source deduction); returns the shipment save push."""
        for item in self._order_items(entity_id):
            qty = lines.get(item["sku"], 0)
            if qty:
                item["qty_shipped"] = item.get("qty_shipped", 0) + qty
                stock = self.items[item["sku"]]
                self.items[item["sku"]] = stock.model_copy(update={"qty": (stock.qty or 0) - qty})
                self.reservations[item["sku"]] = self.reservations.get(item["sku"], 0) + qty
        return {"delivery_id": delivery_id, "event": "sales_order_shipment_save_after",
                "order_id": str(entity_id),
                "items": [{"sku": sku, "qty": qty} for sku, qty in lines.items()]}  # fmt: skip

    def refund_order(
        self, entity_id: str, lines: dict[str, float], back_to_stock: bool, delivery_id: str
    ) -> dict[str, Any]:
        """A credit memo: ``qty_refunded`` rises; with ``back_to_stock`` the units go back
        to the source; returns the credit memo save push."""
        for item in self._order_items(entity_id):
            qty = lines.get(item["sku"], 0)
            if qty:
                item["qty_refunded"] = item.get("qty_refunded", 0) + qty
                if back_to_stock:
                    stock = self.items[item["sku"]]
                    back = (stock.qty or 0) + qty
                    self.items[item["sku"]] = stock.model_copy(update={"qty": back})
        return {"delivery_id": delivery_id, "event": "sales_order_creditmemo_save_after",
                "order_id": str(entity_id),
                "items": [{"sku": sku, "qty": qty, "back_to_stock": back_to_stock}
                          for sku, qty in lines.items()]}  # fmt: skip


def _error(status: int, message: str, parameters: Any = None) -> JSONResponse:
    return JSONResponse({"message": message, "parameters": parameters or []}, status_code=status)


def _unauthorized() -> JSONResponse:
    return _error(
        401,
        "The consumer isn't authorized to access %resources.",
        {"resources": "Magento_CatalogInventory::cataloginventory"},
    )


def _fault_response(fault: Fault) -> JSONResponse:
    if fault.status == 429:
        response = _error(429, "Too Many Requests")
        response.headers["Retry-After"] = str(fault.retry_after)
        return response
    return _error(int(fault.status), "sandbox fault")


def _api_path(request: Request) -> str:
    """The request path from ``/V1`` on (without ``/rest/{store_code}``)."""
    prefix = f"/rest/{request.path_params.get('store_code', '')}"
    return request.scope["path"].removeprefix(prefix)


def _first_problem(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        where, problem = first_problem(exc)
        return f"{where or 'body'}: {problem}"
    return "body is not JSON"


def create_app(store: SandboxStore | None = None) -> Starlette:
    store = store or SandboxStore()

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "") == f"Bearer {store.token}"
        return given and store.integration_as_bearer

    def guarded(handler):
        async def answer(request: Request):
            sku = request.path_params.get("sku")
            if sku is not None and sku not in store.items:
                return _error(404, "The product that was requested doesn't exist. "
                              "Verify the product and try again.")  # fmt: skip
            return await handler(request)

        async def endpoint(request: Request):
            path = _api_path(request)
            store.requests.append((request.method, path))
            if not authorized(request):
                return _unauthorized()
            fault = store.take_fault(request.method, path)
            if fault is not None and fault.status != "timeout":
                return _fault_response(fault)
            response = await answer(request)
            if fault is not None:  # done, but "the response never arrives"
                response.headers[FAULT_HEADER] = "timeout"
            return response

        return endpoint

    def control(handler):
        async def endpoint(request: Request):
            return await handler(request) if authorized(request) else _unauthorized()

        return endpoint

    async def save_product(request: Request):
        """``PUT /V1/products/{sku}``: the sandbox keeps the custom attributes it is sent
        (what was published) and answers the product."""
        sku = request.path_params["sku"]
        try:
            body = await request.json()
            product = body["product"]
            attributes = product.get("custom_attributes") or []
            pairs = {a["attribute_code"]: a.get("value") for a in attributes}
        except (ValueError, KeyError, TypeError, AttributeError):
            return _error(400, "\"product\" is required. Enter and try again.")
        if product.get("sku", sku) != sku:
            return _error(400, "The sku in the body does not match the URL.")
        store.custom_attributes.setdefault(sku, {}).update(pairs)
        return JSONResponse(store.product_json(sku))

    async def products(request: Request):
        size = int(request.query_params.get("searchCriteria[pageSize]", 20) or 20)
        page = int(request.query_params.get("searchCriteria[currentPage]", 1) or 1)
        skus = list(store.products)
        chunk = skus[(page - 1) * size : page * size]
        return JSONResponse(
            {
                "items": [store.product_json(sku) for sku in chunk],
                "search_criteria": {"page_size": size, "current_page": page},
                "total_count": len(skus),
            }
        )

    async def stock_item(request: Request):
        return JSONResponse(store.stock_item_json(request.path_params["sku"]))

    async def update_stock_item(request: Request):
        sku = request.path_params["sku"]
        try:
            body = await request.json()
            changes = dict(body["stockItem"])
        except (ValueError, KeyError, TypeError):
            return _error(400, '"%fieldName" is required. Enter and try again.',
                          {"fieldName": "stockItem"})  # fmt: skip
        changes.pop("item_id", None)
        try:
            merged = StockItem.model_validate({**store.items[sku].model_dump(), **changes})
        except ValidationError as exc:
            first = exc.errors()[0]
            return _error(400, f"Invalid value of \"{first.get('input')}\" provided for the "
                          f"{first['loc'][0]} field.")  # fmt: skip
        known = {k: getattr(merged, k) for k in changes if k in StockItem.model_fields}
        store.write_item(sku, save_stock_item(store.items[sku], known, store.config))
        return JSONResponse(store.items[sku].item_id)

    async def stock_status(request: Request):
        sku = request.path_params["sku"]
        item = store.read_item(sku)
        return JSONResponse(
            {
                "product_id": item.product_id,
                "stock_id": item.stock_id,
                "qty": item.qty,
                "stock_status": int(item.is_in_stock),
                "stock_item": store.stock_item_json(sku, item),
            }
        )

    async def low_stock(request: Request):
        qty = float(request.query_params.get("qty", 0))
        size = int(request.query_params.get("pageSize", 10))
        page = int(request.query_params.get("currentPage", 1))
        low = [s for s, item in store.items.items() if float(item.qty or 0) < qty]
        chunk = low[(page - 1) * size : page * size]
        return JSONResponse(
            {"items": [store.stock_item_json(s) for s in chunk], "total_count": len(low)}
        )

    async def salable(request: Request):
        sku = request.path_params["sku"]
        return JSONResponse(
            salable_qty(store.items[sku], store.config, store.reservations.get(sku, 0))
        )

    async def salable_for_qty(request: Request):
        sku = request.path_params["sku"]
        try:
            qty = float(request.path_params["qty"])
            if not math.isfinite(qty):
                raise ValueError
        except ValueError:
            return _error(400, "Invalid type for value: \"%1\". Expected Type: \"float\".",
                          [request.path_params["qty"]])  # fmt: skip
        result = is_salable_for_requested_qty(
            store.items[sku], store.config, qty, store.reservations.get(sku, 0)
        )
        errors = [{"code": code, "message": message} for code, message in result.errors]
        return JSONResponse({"salable": result.salable, "errors": errors})

    async def source_items(request: Request):
        try:
            rows = (await request.json())["sourceItems"]
        except (ValueError, KeyError, TypeError):
            return _error(400, '"%fieldName" is required. Enter and try again.',
                          {"fieldName": "sourceItems"})  # fmt: skip
        for row in rows:
            sku = row.get("sku")
            if sku not in store.items:
                return _error(400, "Validation Failed", [f"SKU {sku} does not exist"])
            # MSI's SetDataToLegacyStockItem: qty and status written as given, no flips
            changes = {"qty": float(row["quantity"]), "is_in_stock": bool(row.get("status", 1))}
            store.write_item(sku, store.items[sku].model_copy(update=changes))
        return JSONResponse([])

    async def order(request: Request):
        found = store.orders.get(request.path_params["order_id"])
        if found is None:
            return _error(404, "The entity that was requested doesn't exist. "
                          "Verify the entity and try again.")  # fmt: skip
        return JSONResponse(found)

    async def place_order(request: Request):
        try:
            lines = (await request.json())["items"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "body: give items[{sku, qty}]")
        status, body = store.place_order(lines)
        return JSONResponse(body, status_code=status)

    def fault_list() -> JSONResponse:
        faults = [f.model_dump() if isinstance(f, Fault) else f for f in store.faults]
        return JSONResponse({"faults": faults, "stale_reads": store.stale_reads})

    async def faults(request: Request):
        if request.method == "DELETE":
            store.faults.clear()
        elif request.method == "POST":
            try:
                store.faults.append(Fault.model_validate(await request.json()))
            except ValueError as exc:  # bad JSON or a pydantic ValidationError
                return _error(400, f"fault: {_first_problem(exc)}")
        return fault_list()

    async def stale_reads(request: Request):
        try:
            reads = (await request.json())["reads"]
            if not isinstance(reads, int) or isinstance(reads, bool) or reads < 0:
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _error(400, 'body: give {"reads": N} with N >= 0')
        store.stale_reads = reads
        return fault_list()

    prefix = "/rest/{store_code}/V1"
    routes = [
        Route(f"{prefix}/products", guarded(products)),
        Route(f"{prefix}/products/{{sku}}", guarded(save_product), methods=["PUT"]),
        Route(f"{prefix}/stockItems/lowStock", guarded(low_stock)),
        Route(f"{prefix}/stockItems/{{sku}}", guarded(stock_item)),
        Route(
            f"{prefix}/products/{{sku}}/stockItems/{{item_id}}",
            guarded(update_stock_item),
            methods=["PUT"],
        ),
        Route(f"{prefix}/stockStatuses/{{sku}}", guarded(stock_status)),
        Route(
            f"{prefix}/inventory/get-product-salable-quantity/{{sku}}/{{stock_id:int}}",
            guarded(salable),
        ),
        Route(
            f"{prefix}/inventory/is-product-salable-for-requested-qty/{{sku}}/{{stock_id:int}}/{{qty}}",
            guarded(salable_for_qty),
        ),
        Route(f"{prefix}/inventory/source-items", guarded(source_items), methods=["POST"]),
        Route(f"{prefix}/orders/{{order_id}}", guarded(order)),
        Route(f"{prefix}/sandbox/orders", guarded(place_order), methods=["POST"]),
        Route(f"{prefix}/sandbox/faults", control(faults), methods=["GET", "POST", "DELETE"]),
        Route(f"{prefix}/sandbox/stale-reads", control(stale_reads), methods=["PUT"]),
    ]
    app = Starlette(routes=routes)
    app.state.store = store
    return app


class ThreadedSandbox:
    """The sandbox served over real HTTP on 127.0.0.1 from a background thread.

    ``with ThreadedSandbox(store, port) as base_url: ...`` (port 0 picks a free one).
    """

    def __init__(self, store: SandboxStore | None = None, port: int = 0) -> None:
        import socket

        with needs_extra("backorder-magento", "sandbox"):
            import uvicorn

        if not port:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
        self.store = store or SandboxStore()
        self.base_url = f"http://127.0.0.1:{port}/rest/default"
        config = uvicorn.Config(create_app(self.store), host="127.0.0.1", port=port,
                                log_level="error")  # fmt: skip
        self.server = uvicorn.Server(config)

    def __enter__(self) -> str:
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.base_url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
