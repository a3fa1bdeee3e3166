"""A stateful local stand-in for the Lightspeed eCom API (a Starlette ASGI app).

It keeps variants, products, delivery timeframes, orders and webhooks in memory and
behaves as the platform does where this plugin depends on it (sources in the README):

- HTTP Basic with the shop's key and secret (401 otherwise); ``/{lang}/{resource}.json``;
- writes wrapped in the resource's singular name (``PUT variants/{id}.json {"variant":
  {...}}``, ``PUT products/{id}.json {"product": {...}}``, ``{"webhook": {...}}``), as the
  official PHP client sends them; ``PUT variants/bulk.json`` takes the client's
  ``{"variant": [...]}`` wrapper and refuses any other (what goes inside is unconfirmed);
- ``page`` / ``limit`` paging (``limit`` above 250 is a 400);
- the three rate-limit windows per key in ``X-RateLimit-*`` (``a/b/c``) and 20 requests a
  second per shop, both answered with 429 when used up;
- checkout (``POST /__sandbox/checkout``) that follows each variant's ``stockTracking``:
  ``enabled`` refuses what is not in stock, ``indicator`` sells below zero, ``disabled``
  does not count; a hidden product is not for sale; new variants take the shop's "Allow
  backorders" default;
- webhooks registered, listed and updated (``webhooks.json``); each change to a
  ``variants`` / ``orders`` resource queues a delivery to every active JSON hook of that
  group, signed ``x-signature = md5(body + secret)``. :meth:`SandboxShop.deliver` (or
  ``POST /__sandbox/deliver``) POSTs the queued ones to their addresses; one not answered
  2xx stays queued. ``GET /__sandbox/deliveries`` lists them all;
- faults: ``POST /__sandbox/faults {"method", "path", "status", "times"}``.

In process, serve it with :class:`backorder.http.SyncASGITransport`; on a port, with
``backorder sandbox lightspeed_ecom``. The sandbox is the plugin's ``sandbox`` extra
(``pip install 'backorder-lightspeed-ecom[sandbox]'``).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

from backorder.http import Clock, needs_extra
from backorder_lightspeed_ecom.ratelimit import DEFAULT_LIMITS, PER_SHOP_PER_SECOND
from backorder_lightspeed_ecom.webhooks import sign

with needs_extra("backorder-lightspeed-ecom", "sandbox"):
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

WINDOW_SECONDS = (300, 3600, 86400)
MAX_PAGE = 250
VISIBILITY = ("visible", "hidden", "auto")
Post = Callable[[str, dict[str, str], bytes], int]
"""Sends one delivery: ``post(address, headers, body) -> HTTP status``."""


def http_post(address: str, headers: dict[str, str], body: bytes) -> int:
    """A delivery over real HTTP, as Lightspeed sends it."""
    return httpx.post(address, headers=headers, content=body, timeout=10).status_code


def _link(kind: str, ident: int) -> dict[str, Any]:
    return {"resource": {"id": ident, "url": f"{kind}/{ident}", "link": f"{kind}/{ident}.json"}}


class SandboxShop:
    """The shop's state; every change goes through one lock."""

    def __init__(
        self,
        key: str = "sandbox-key",
        secret: str = "sandbox-secret",
        *,
        limits: tuple[int, int, int] = DEFAULT_LIMITS,
        per_second: int = PER_SHOP_PER_SECOND,
        allow_backorders_default: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self.key, self.secret = key, secret
        self.limits, self.per_second = limits, per_second
        self.allow_backorders_default = allow_backorders_default
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.variants: dict[int, dict[str, Any]] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self.deliverydates: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.order_products: dict[int, list[dict[str, Any]]] = {}
        self.webhooks: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self._next = 1000
        self._window_start = [self.clock.now()] * 3
        self._window_used = [0, 0, 0]
        self._recent: deque[float] = deque()

    def use_clock(self, clock: Clock) -> None:
        """Count the rate-limit windows on another clock (tests), starting afresh."""
        self.clock = clock
        self._window_start = [clock.now()] * 3
        self._window_used = [0, 0, 0]
        self._recent.clear()

    # ------------------------------------------------------------------ helpers
    def next_id(self) -> int:
        self._next += 1
        return self._next

    @staticmethod
    def now() -> str:
        return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()

    def add_deliverydate(self, name: str, in_stock: str, out_stock: str) -> int:
        ident = self.next_id()
        self.deliverydates[ident] = {
            "id": ident,
            "name": name,
            "inStockMessage": in_stock,
            "outStockMessage": out_stock,
        }
        return ident

    def delivery_text(self, variant_id: int) -> str:
        """What the product page says about delivery for this variant: its product's timeframe,
        ``inStockMessage`` while it has stock (or is untracked), ``outStockMessage`` when sold
        out (how a theme picks between them is unconfirmed, see the README)."""
        variant = self.variants[variant_id]
        product = self.products[variant["product"]["resource"]["id"]]
        link = product.get("deliverydate")
        if not link:
            return ""
        timeframe = self.deliverydates[link["resource"]["id"]]
        in_stock = variant["stockTracking"] == "disabled" or variant["stockLevel"] > 0
        return str(timeframe["inStockMessage" if in_stock else "outStockMessage"])

    def add_product(self, title: str, deliverydate: int | None = None) -> int:
        ident = self.next_id()
        self.products[ident] = {
            "id": ident,
            "title": title,
            "fulltitle": title,
            "createdAt": self.now(),
            "updatedAt": self.now(),
            "isVisible": True,
            "visibility": "visible",
            "deliverydate": _link("deliverydates", deliverydate) if deliverydate else False,
            "variants": {"resource": {"url": f"variants?product={ident}"}},
        }
        return ident

    def add_variant(self, product: int, **fields: Any) -> int:
        """A new variant; without ``stockTracking`` it takes the shop default."""
        ident = self.next_id()
        default = "indicator" if self.allow_backorders_default else "enabled"
        variant = {
            "id": ident,
            "createdAt": self.now(),
            "updatedAt": self.now(),
            "isDefault": not any(
                v["product"]["resource"]["id"] == product for v in self.variants.values()
            ),
            "sku": "",
            "articleCode": "",
            "title": "Default",
            "priceIncl": 10.0,
            "stockTracking": default,
            "stockLevel": 0,
            "stockAlert": 0,
            "stockMinimum": 0,
            "stockSold": 0,
            "stockBuyMinimum": 1,
            "stockBuyMaximum": 10000,
            "product": _link("products", product),
        }
        variant.update(fields)
        self.variants[ident] = variant
        return ident

    def _emit(self, group: str, action: str, resource: str, record: dict[str, Any]) -> None:
        """Queue one signed delivery of ``{resource: record}`` per matching active hook."""
        for hook in self.webhooks:
            if (
                hook["isActive"]
                and hook["format"] == "json"  # the sandbox speaks JSON only
                and hook["itemGroup"] == group
                and hook["itemAction"] in ("*", action)
            ):
                body = json.dumps({resource: record}).encode()
                self.deliveries.append(
                    {
                        "hook": hook["id"],
                        "address": hook["address"],
                        "group": group,
                        "action": action,
                        "headers": {
                            "content-type": "application/json",
                            "x-signature": sign(body, self.secret),
                        },
                        "body": body.decode(),
                        "status": None,
                    }
                )

    def pending(self) -> list[dict[str, Any]]:
        """Deliveries not yet answered 2xx."""
        return [d for d in self.deliveries if not (d["status"] and 200 <= d["status"] < 300)]

    def deliver(self, post: Post = http_post, *, limit: int | None = None) -> int:
        """POST the pending deliveries (the oldest ``limit``, or all) to their hooks'
        addresses; returns how many were taken (2xx). The others stay pending for the next
        call, as a failed delivery is retried."""
        with self.lock:
            pending = self.pending()[:limit]
        taken = 0
        for delivery in pending:  # outside the lock: the receiver may call this sandbox
            try:
                status = post(delivery["address"], delivery["headers"], delivery["body"].encode())
            except httpx.HTTPError:
                status = 0
            delivery["status"] = status
            taken += 200 <= status < 300
        return taken

    def update_variant(self, ident: int, fields: dict[str, Any]) -> dict[str, Any]:
        variant = self.variants[ident]
        for name, value in fields.items():
            if name in ("id", "product", "createdAt"):
                continue
            if name == "stockTracking" and value not in ("disabled", "enabled", "indicator"):
                raise ValueError(f"stockTracking: invalid value {value!r}")
            if name.startswith("stock") and name != "stockTracking" and not isinstance(value, int):
                raise ValueError(f"{name}: must be an integer")
            variant[name] = value
        variant["updatedAt"] = self.now()
        self._emit("variants", "updated", "variant", variant)
        return variant

    def update_product(self, ident: int, fields: dict[str, Any]) -> dict[str, Any]:
        product = self.products[ident]
        if "deliverydate" in fields:  # a timeframe id; false/null/0: none
            chosen = fields["deliverydate"]
            if chosen in (None, False, 0):
                product["deliverydate"] = False
            elif isinstance(chosen, int) and chosen in self.deliverydates:
                product["deliverydate"] = _link("deliverydates", chosen)
            else:
                raise ValueError("product.deliverydate: an existing delivery timeframe id or false")
        if "visibility" in fields:
            if fields["visibility"] not in VISIBILITY:
                raise ValueError(f"visibility: one of {', '.join(VISIBILITY)}")
            product["visibility"] = fields["visibility"]
            product["isVisible"] = fields["visibility"] != "hidden"
        product["updatedAt"] = self.now()
        return product

    def add_webhook(self, fields: dict[str, Any]) -> dict[str, Any]:
        ident = self.next_id()
        hook = {"id": ident, "createdAt": self.now(), "isActive": True}
        hook |= {"itemAction": "*", "format": "json", "language": "en"}
        self.webhooks.append(hook)
        return self.update_webhook(ident, fields)

    def update_webhook(self, ident: int, fields: dict[str, Any]) -> dict[str, Any]:
        hook = next((h for h in self.webhooks if h["id"] == ident), None)
        if hook is None:
            raise KeyError(f"webhook {ident}")
        merged = {**hook, **{k: v for k, v in fields.items() if k not in ("id", "createdAt")}}
        if merged.get("itemGroup") not in ("variants", "orders", "products", "customers"):
            raise ValueError("webhook.itemGroup: not a supported group")
        if merged.get("format") not in ("json", "xml"):
            raise ValueError("webhook.format: json or xml")
        if not merged.get("address"):
            raise ValueError("webhook.address: required")
        language = merged["language"]
        code = language.get("code") if isinstance(language, dict) else language
        merged["language"] = {"id": 1, "code": code}  # answered as an object
        merged["updatedAt"] = self.now()
        hook.update(merged)
        return hook

    def checkout(self, lines: list[dict[str, Any]], email: str | None) -> dict[str, Any]:
        """A storefront order, refused whole when one ``enabled`` variant lacks stock or a
        product is hidden."""
        for line in lines:
            variant = self.variants.get(int(line["variant"]))
            if variant is None:
                raise KeyError(f"variant {line['variant']}")
            product = self.products[variant["product"]["resource"]["id"]]
            if not product["isVisible"]:
                raise OverflowError(f"product {product['id']} is not for sale (hidden)")
            if variant["stockTracking"] == "enabled" and variant["stockLevel"] < line["quantity"]:
                raise OverflowError(f"variant {variant['id']} is sold out")
        order_id = self.next_id()
        products = []
        for line in lines:
            variant = self.variants[int(line["variant"])]
            qty = int(line["quantity"])
            if variant["stockTracking"] != "disabled":
                variant["stockLevel"] -= qty
            variant["stockSold"] += qty
            variant["updatedAt"] = self.now()
            product_id = variant["product"]["resource"]["id"]
            products.append(
                {
                    "id": self.next_id(),
                    "productTitle": self.products[product_id]["title"],
                    "variantTitle": variant["title"],
                    "sku": variant["sku"],
                    "articleCode": variant["articleCode"],
                    "quantityOrdered": qty,
                    "quantityInvoiced": 0,
                    "quantityShipped": 0,
                    "quantityRefunded": 0,
                    "quantityReturned": 0,
                    "product": _link("products", product_id),
                    "variant": _link("variants", variant["id"]),
                }
            )
        order = {
            "id": order_id,
            "number": f"ORD{order_id}",
            "status": "processing_awaiting_payment",
            "shipmentStatus": "not_shipped",
            "email": email,
            "createdAt": self.now(),
            "updatedAt": self.now(),
            "products": {"resource": {"url": f"orders/{order_id}/products"}},
        }
        self.orders[order_id] = order
        self.order_products[order_id] = products
        self._emit("orders", "created", "order", order)
        for line in lines:
            self._emit("variants", "updated", "variant", self.variants[int(line["variant"])])
        return order

    def cancel_order(self, order_id: int) -> dict[str, Any]:
        """The merchant cancels the order: ``status`` becomes ``cancelled`` and the
        ``orders`` hook fires. The sandbox restocks nothing itself (whether Lightspeed does
        is unconfirmed, see the README): the app's stock push brings the level back."""
        order = self.orders[order_id]
        order.update(status="cancelled", updatedAt=self.now())
        self._emit("orders", "updated", "order", order)
        return order

    def ship_order(self, order_id: int, lines: dict[str, int]) -> dict[str, Any]:
        """A shipment: each named SKU's ``quantityShipped`` rises, ``shipmentStatus`` becomes
        ``shipped`` or ``partially_shipped`` and the ``orders`` hook fires."""
        order = self.orders[order_id]
        products = self.order_products[order_id]
        for line in products:
            line["quantityShipped"] += lines.get(line["sku"], 0)
        done = all(p["quantityShipped"] >= p["quantityOrdered"] for p in products)
        order.update(shipmentStatus="shipped" if done else "partially_shipped",
                     updatedAt=self.now())  # fmt: skip
        self._emit("orders", "updated", "order", order)
        return order

    # -------------------------------------------------------------- rate limits
    def count_request(self) -> tuple[bool, dict[str, str]]:
        """Book one request; returns (allowed, rate-limit headers)."""
        now = self.clock.now()
        for i, length in enumerate(WINDOW_SECONDS):
            if now - self._window_start[i] >= length:
                self._window_start[i], self._window_used[i] = now, 0
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        allowed = (
            all(self._window_used[i] < self.limits[i] for i in range(3))
            and len(self._recent) < self.per_second
        )
        if allowed:
            self._recent.append(now)
            for i in range(3):
                self._window_used[i] += 1
        reset = [max(int(WINDOW_SECONDS[i] - (now - self._window_start[i])), 1) for i in range(3)]
        remaining = [max(self.limits[i] - self._window_used[i], 0) for i in range(3)]
        headers = {
            "X-RateLimit-Limit": "/".join(map(str, self.limits)),
            "X-RateLimit-Remaining": "/".join(map(str, remaining)),
            "X-RateLimit-Reset": "/".join(map(str, reset)),
        }
        return allowed, headers

    def take_fault(self, method: str, path: str) -> int | None:
        for fault in self.faults:
            if fault["method"] in (method, "*") and fault["path"] == path and fault["times"] > 0:
                fault["times"] -= 1
                return int(fault["status"])
        return None


def seed_demo(shop: SandboxShop) -> SandboxShop:
    """A small catalog covering the three stockTracking values, and one order."""
    with shop.lock:
        week = shop.add_deliverydate("1 week", "Ships today", "Ships within 1 week")
        tee = shop.add_product("Organic tee", deliverydate=week)
        small = shop.add_variant(
            tee, sku="TEE-S", title="Small", stockTracking="indicator", stockLevel=3
        )
        shop.add_variant(tee, sku="TEE-M", title="Medium", stockTracking="enabled", stockLevel=5)
        mug = shop.add_product("Enamel mug")
        shop.add_variant(mug, sku="MUG", stockTracking="enabled", stockLevel=10, stockAlert=3)
        card = shop.add_product("Gift card")
        shop.add_variant(card, sku="", stockTracking="disabled")
        shop.checkout([{"variant": small, "quantity": 1}], "first@example.com")
    return shop


# --------------------------------------------------------------------- the app
def _wrapped(body: Any, name: str) -> dict[str, Any]:
    """The fields of a write, which Lightspeed takes wrapped: ``{"variant": {...}}``."""
    fields = body.get(name) if isinstance(body, dict) else None
    if not isinstance(fields, dict) or set(body) != {name}:
        raise ValueError(f'body: expected {{"{name}": {{...}}}}')
    return dict(fields)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message}}, status, headers=headers)


def create_app(shop: SandboxShop | None = None) -> Starlette:
    shop = shop or seed_demo(SandboxShop())
    expected = "Basic " + base64.b64encode(f"{shop.key}:{shop.secret}".encode()).decode()

    def api(handler: Callable[[Request, Any], tuple[int, Any]]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            with shop.lock:
                shop.requests.append((request.method, request.url.path))
                if request.headers.get("authorization") != expected:
                    return _error(401, "Unauthorized: wrong API key or secret")
                allowed, headers = shop.count_request()
                if not allowed:
                    return _error(429, "Too Many Requests", headers)
                status = shop.take_fault(request.method, request.url.path)
                if status is not None:
                    return _error(status, "sandbox fault", headers)
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    return _error(400, "body: not JSON", headers)
                try:
                    status, payload = handler(request, body)
                except KeyError as exc:
                    return _error(404, f"Not found: {exc.args[0]}", headers)
                except ValueError as exc:
                    return _error(400, str(exc), headers)
                return JSONResponse(copy.deepcopy(payload), status, headers=headers)

        return endpoint

    def page(request: Request, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        limit = int(request.query_params.get("limit", 50))
        number = int(request.query_params.get("page", 1))
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit: must be between 1 and {MAX_PAGE}")
        return records[(number - 1) * limit : number * limit]

    def variants(request, body):
        if request.method == "POST":
            fields = dict((body or {}).get("variant") or {})
            product = int(fields.pop("product", 0))
            if product not in shop.products:
                raise ValueError("variant.product: required, an existing product id")
            ident = shop.add_variant(product, **fields)
            shop._emit("variants", "created", "variant", shop.variants[ident])
            return 201, {"variant": shop.variants[ident]}
        rows = sorted(shop.variants.values(), key=lambda v: v["id"])
        return 200, {"variants": page(request, rows)}

    def variants_count(request, body):
        return 200, {"count": len(shop.variants)}

    def variant(request, body):
        ident = int(request.path_params["id"])
        if ident not in shop.variants:
            raise KeyError(f"variant {ident}")
        if request.method == "PUT":
            return 200, {"variant": shop.update_variant(ident, _wrapped(body, "variant"))}
        return 200, {"variant": shop.variants[ident]}

    def bulk(request, body):
        updates = (body or {}).get("variant")
        if not isinstance(updates, list) or set(body) != {"variant"}:
            raise ValueError('body: expected {"variant": [...]}, the variants/bulk wrapper')
        missing = [u.get("id") for u in updates if u.get("id") not in shop.variants]
        if missing:
            raise KeyError(f"variants {missing}")
        saved = copy.deepcopy(shop.variants)
        try:
            done = [shop.update_variant(u["id"], u) for u in updates]
        except ValueError:
            shop.variants = saved
            raise
        return 200, {"variants": done}

    def products(request, body):
        return 200, {
            "products": page(request, sorted(shop.products.values(), key=lambda p: p["id"]))
        }

    def product(request, body):
        ident = int(request.path_params["id"])
        if ident not in shop.products:
            raise KeyError(f"product {ident}")
        if request.method == "PUT":
            return 200, {"product": shop.update_product(ident, _wrapped(body, "product"))}
        return 200, {"product": shop.products[ident]}

    def deliverydates(request, body):
        if request.method == "POST":
            fields = _wrapped(body, "deliverydate")
            name = fields.get("name")
            if not isinstance(name, str) or not name:
                raise ValueError("deliverydate.name: required")
            ident = shop.add_deliverydate(
                name, str(fields.get("inStockMessage", "")), str(fields.get("outStockMessage", ""))
            )
            return 201, {"deliverydate": shop.deliverydates[ident]}
        rows = sorted(shop.deliverydates.values(), key=lambda d: d["id"])
        return 200, {"deliverydates": page(request, rows)}

    def deliverydate(request, body):
        ident = int(request.path_params["id"])
        if ident not in shop.deliverydates:
            raise KeyError(f"deliverydate {ident}")
        if request.method == "DELETE":
            for product in shop.products.values():
                if (product.get("deliverydate") or {}).get("resource", {}).get("id") == ident:
                    product["deliverydate"] = False
            del shop.deliverydates[ident]
            return 200, {}
        if request.method == "PUT":
            fields = _wrapped(body, "deliverydate")
            record = shop.deliverydates[ident]
            for key in ("name", "inStockMessage", "outStockMessage"):
                if key in fields:
                    record[key] = str(fields[key])
        return 200, {"deliverydate": shop.deliverydates[ident]}

    def orders(request, body):
        return 200, {"orders": page(request, sorted(shop.orders.values(), key=lambda o: o["id"]))}

    def order(request, body):
        return 200, {"order": shop.orders[int(request.path_params["id"])]}

    def order_products(request, body):
        return 200, {
            "orderProducts": page(request, shop.order_products[int(request.path_params["id"])])
        }

    def webhooks(request, body):
        if request.method == "POST":
            return 201, {"webhook": shop.add_webhook(_wrapped(body, "webhook"))}
        return 200, {"webhooks": page(request, list(shop.webhooks))}

    def webhook(request, body):
        ident = int(request.path_params["id"])
        if request.method == "PUT":
            return 200, {"webhook": shop.update_webhook(ident, _wrapped(body, "webhook"))}
        found = next((h for h in shop.webhooks if h["id"] == ident), None)
        if found is None:
            raise KeyError(f"webhook {ident}")
        return 200, {"webhook": found}

    async def control(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        action = request.path_params["action"]
        with shop.lock:
            if action == "checkout":
                try:
                    order = shop.checkout(body["lines"], body.get("email"))
                except OverflowError as exc:
                    return _error(409, str(exc))
                except KeyError as exc:
                    return _error(404, f"Not found: {exc.args[0]}")
                return JSONResponse({"order": order}, 201)
            if action in ("cancel", "ship"):
                ident = body.get("order")
                if ident not in shop.orders:
                    return _error(404, f"Not found: order {ident}")
                if action == "cancel":
                    return JSONResponse({"order": shop.cancel_order(ident)})
                return JSONResponse({"order": shop.ship_order(ident, body.get("lines") or {})})
            if action == "faults":
                shop.faults.append({"method": "*", "times": 1, **body})
                return JSONResponse({"faults": shop.faults})
            if action == "settings":
                if "allow_backorders_default" in body:
                    shop.allow_backorders_default = bool(body["allow_backorders_default"])
                return JSONResponse({"allow_backorders_default": shop.allow_backorders_default})
            if action == "deliveries":
                out = list(shop.deliveries)
                if request.method == "DELETE":
                    shop.deliveries.clear()
                return JSONResponse({"deliveries": out})
        if action == "deliver":
            return JSONResponse({"delivered": await run_in_threadpool(shop.deliver)})
        return _error(404, f"no sandbox action {action!r}")

    L = "/{lang:str}"
    routes = [
        Route(f"{L}/variants.json", api(variants), methods=["GET", "POST"]),
        Route(f"{L}/variants/count.json", api(variants_count), methods=["GET"]),
        Route(f"{L}/variants/bulk.json", api(bulk), methods=["PUT"]),
        Route(f"{L}/variants/{{id:int}}.json", api(variant), methods=["GET", "PUT"]),
        Route(f"{L}/products.json", api(products), methods=["GET"]),
        Route(f"{L}/products/{{id:int}}.json", api(product), methods=["GET", "PUT"]),
        Route(f"{L}/deliverydates.json", api(deliverydates), methods=["GET", "POST"]),
        Route(
            f"{L}/deliverydates/{{id:int}}.json",
            api(deliverydate),
            methods=["GET", "PUT", "DELETE"],
        ),
        Route(f"{L}/orders.json", api(orders), methods=["GET"]),
        Route(f"{L}/orders/{{id:int}}.json", api(order), methods=["GET"]),
        Route(f"{L}/orders/{{id:int}}/products.json", api(order_products), methods=["GET"]),
        Route(f"{L}/webhooks.json", api(webhooks), methods=["GET", "POST"]),
        Route(f"{L}/webhooks/{{id:int}}.json", api(webhook), methods=["GET", "PUT"]),
        Route("/__sandbox/{action:str}", control, methods=["GET", "POST", "DELETE"]),
    ]
    app = Starlette(routes=routes)
    app.state.shop = shop
    return app


def serve(host: str, port: int, key: str, secret: str) -> None:  # pragma: no cover - CLI
    with needs_extra("backorder-lightspeed-ecom", "sandbox"):
        import uvicorn

    shop = seed_demo(SandboxShop(key, secret))
    uvicorn.run(create_app(shop), host=host, port=port, log_level="info")
