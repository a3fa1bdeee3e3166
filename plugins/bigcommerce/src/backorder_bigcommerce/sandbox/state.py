"""The sandbox store's state and rules: catalog, inventory, orders, hooks, limits, faults.

Plain Python, no HTTP: :mod:`.app` maps routes onto these methods. Every rule the
plugin depends on is enforced here as BigCommerce documents it (or, where it does not,
as :mod:`backorder_bigcommerce.unconfirmed` assumes): batch limits, page sizes, the
rate-limit window, the native 409, tracking modes of inventory adjustments.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from backorder.http import Clock
from backorder_bigcommerce import limits
from backorder_bigcommerce import unconfirmed as u

EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z: simulated clocks start here
DEFAULT_LOCATION = 1
HOOK_RETRY_SECONDS = (60, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 50400, 86400)
"""After a failed delivery BigCommerce retries after these waits; after the last one
(about 48 hours in all) it deactivates the hook (overview.mdx, "Callback retry mechanism")."""
OUT_OF_STOCK_MESSAGE = (
    "Quantities of one or more products are out of stock or did not meet quantity requirements."
)


SCRIPT_ENUMS = {
    "kind": ("src", "script_tag"),
    "load_method": ("default", "async", "defer"),
    "location": ("head", "footer"),
    "visibility": ("storefront", "all_pages", "checkout", "order_confirmation"),
    "consent_category": ("essential", "functional", "analytics", "targeting"),
}
"""The Scripts API's enumerations (BigCommerce scripts OpenAPI, script_Base)."""


class ApiError(Exception):
    """An HTTP error response: status and JSON body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class Answer:
    """A success with a status of its own (a 207 Multi-Status)."""

    status: int
    body: Any


def _error(status: int, title: str, **extra) -> ApiError:
    return ApiError(status, {"status": status, "title": title, "type": "about:blank", **extra})


@dataclass
class Faults:
    """Switchable faults: 5xx, timeouts, 429s, stale inventory reads, duplicate deliveries,
    partly saved batches, wrong page numbers."""

    fail_next: int = 0
    fail_status: int = 503
    timeout_next: int = 0
    timeout_delay: float = 0.0  # real seconds to stall (loopback server only)
    throttle_next: int = 0
    """Answer 429 this many times, without rate-limit headers (BigCommerce under high load)."""
    retry_after: str | None = None
    """A ``Retry-After`` header on those 429s."""
    match: str = ""  # only requests whose path contains this
    stale_seconds: float = 0.0
    duplicate_deliveries: bool = False
    unsaved_products: list[int] = field(default_factory=list)
    """``PUT /catalog/products``: these products are not saved; the batch answers 207."""
    page_skew: int = 0
    """v3 lists report ``current_page`` off by this much (the page served is the one asked)."""


@dataclass
class Delivery:
    """One webhook delivery waiting to be sent: tried ``attempts`` times, next at ``due``."""

    hook_id: int
    envelope: dict[str, Any]
    attempts: int = 0
    due: float = 0.0


@dataclass
class RateWindow:
    quota: int = 150
    window_ms: int = 30_000
    started: float | None = None
    used: int = 0

    def take(self, now: float) -> tuple[bool, dict[str, str]]:
        """Count one request; ``(allowed, headers)``."""
        if self.started is None or now >= self.started + self.window_ms / 1000:
            self.started, self.used = now, 0
        allowed = self.used < self.quota
        if allowed:
            self.used += 1
        reset = max(0, round((self.started + self.window_ms / 1000 - now) * 1000))
        return allowed, {
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(reset),
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Requests-Left": str(self.quota - self.used),
        }


@dataclass
class Product:
    id: int
    name: str
    sku: str
    tracking: str = "product"
    availability: str = "available"
    availability_description: str = ""
    warning_level: int = 0
    order_min: int = 0
    order_max: int = 0
    variant_ids: list[int] = field(default_factory=list)
    has_options: bool = False
    modified: float = 0.0


@dataclass
class Variant:
    id: int
    product_id: int
    sku: str
    level: int = 0
    warning_level: int = 0
    purchasing_disabled: bool = False
    purchasing_disabled_message: str = ""
    option_value: str | None = None
    # native backorders (beta), per location
    backorder_limit: dict[int, int | None] = field(default_factory=dict)
    backordered: dict[int, int] = field(default_factory=dict)
    stale: tuple[int, float] | None = None  # (old level, served until)


class SandboxState:
    def __init__(
        self,
        store_hash: str = "sandbox",
        token: str = "sandbox-token",
        clock: Clock | None = None,
        quota: int = 150,
        window_ms: int = 30_000,
        native_backorders: bool = False,
    ) -> None:
        self.store_hash, self.token = store_hash, token
        self.clock = clock or Clock()
        self.rate = RateWindow(quota, window_ms)
        self.faults = Faults()
        self.native_backorders = native_backorders
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.by_sku: dict[str, Variant] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.order_lines: dict[int, list[dict[str, Any]]] = {}
        self.hooks: dict[int, dict[str, Any]] = {}
        self.scripts: dict[str, dict[str, Any]] = {}
        """Storefront scripts by uuid (``/v3/content/scripts``): what was published."""
        self.outbox: list[Delivery] = []
        self.delivered: list[dict[str, Any]] = []
        self.requests = 0
        self._ids = {
            "product": 100, "variant": 1000, "order": 5000, "line": 1, "hook": 1, "shipment": 0,
            "script": 0,
        }

    # ------------------------------------------------------------------ seeding
    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def add_product(
        self,
        name: str,
        sku: str,
        level: int = 0,
        *,
        variants: list[tuple[str, int]] | None = None,
        tracking: str | None = None,
        warning_level: int = 0,
    ) -> Product:
        """A simple product (one base variant) or one with option variants ``(sku, level)``."""
        product = Product(self._next("product"), name, sku, warning_level=warning_level)
        product.has_options = bool(variants)
        product.tracking = tracking or ("variant" if variants else "product")
        rows = variants or [(sku, level)]
        for index, (vsku, vlevel) in enumerate(rows):
            variant = Variant(self._next("variant"), product.id, vsku, vlevel)
            variant.option_value = f"option {index + 1}" if variants else None
            product.variant_ids.append(variant.id)
            self.variants[variant.id] = variant
            self.by_sku[vsku] = variant
        self.products[product.id] = product
        product.modified = self.clock.now()
        return product

    # ------------------------------------------------------------- cross-cutting
    def admit(self, path: str) -> tuple[dict[str, str], str | None]:
        """Rate limit and faults for one request: ``(headers, fault)``; raises 429/5xx."""
        self.requests += 1
        allowed, headers = self.rate.take(self.clock.now())
        if not allowed:
            raise ApiError(429, {"status": 429, "title": "Too many requests"}, headers)
        f = self.faults
        if f.match in path:
            if f.throttle_next > 0:
                f.throttle_next -= 1
                extra = {"Retry-After": f.retry_after} if f.retry_after else {}
                raise ApiError(429, {"status": 429, "title": "Too many requests"}, extra)
            if f.fail_next > 0:
                f.fail_next -= 1
                raise ApiError(
                    f.fail_status, {"status": f.fail_status, "title": "Sandbox fault"}, headers
                )
            if f.timeout_next > 0:
                f.timeout_next -= 1
                return headers, "timeout"
        return headers, None

    def level(self, variant: Variant) -> int:
        """The level a read sees: stale for a while after a write when that fault is on."""
        if variant.stale and self.clock.now() < variant.stale[1]:
            return variant.stale[0]
        return variant.level

    def _set_level(self, variant: Variant, new: int, method: str, *, below_zero=False) -> None:
        new = new if below_zero else max(0, new)
        old = variant.level
        if new == old:
            return
        if self.faults.stale_seconds:
            variant.stale = (old, self.clock.now() + self.faults.stale_seconds)
        variant.level = new
        product = self.products[variant.product_id]
        order = "order/" if method == "relative" else ""
        inventory = {"product_id": product.id, "method": method, "value": new - old}
        if product.has_options:
            inventory["variant_id"] = variant.id
            self.emit(
                f"store/sku/inventory/{order}updated",
                {"type": "sku", "id": variant.id, "inventory": inventory},
            )
        else:
            self.emit(
                f"store/product/inventory/{order}updated",
                {"type": "product", "id": product.id, "inventory": inventory},
            )

    def _paged(self, ids: list, params: dict[str, str], render, **limits_) -> dict:
        """A v3 list page; ``current_page`` is off by the ``page_skew`` fault."""
        return _paged(ids, params, render, skew=self.faults.page_skew, **limits_)

    # ------------------------------------------------------------------- catalog
    def product_json(self, product: Product, include_variants: bool) -> dict[str, Any]:
        variants = [self.variants[vid] for vid in product.variant_ids]
        level = sum(self.level(v) for v in variants)
        body: dict[str, Any] = {
            "id": product.id,
            "name": product.name,
            "type": "physical",
            "sku": product.sku,
            "weight": 1,
            "price": 10,
            "inventory_level": level,
            "inventory_warning_level": product.warning_level,
            "inventory_tracking": product.tracking,
            "availability": product.availability,
            "availability_description": product.availability_description,
            "order_quantity_minimum": product.order_min,
            "order_quantity_maximum": product.order_max,
            "is_visible": True,
            "date_modified": _iso(product.modified),
        }
        if not product.has_options:  # null is not allowed by product_Full: left out
            body["base_variant_id"] = product.variant_ids[0]
        if include_variants:
            body["variants"] = [self.variant_json(v) for v in variants]
        return body

    def variant_json(self, variant: Variant) -> dict[str, Any]:
        option = (
            [
                {
                    "id": variant.id,
                    "label": variant.option_value,
                    "option_id": 1,
                    "option_display_name": "Option",
                }
            ]
            if variant.option_value
            else []
        )
        body = {
            "id": variant.id,
            "product_id": variant.product_id,
            "sku": variant.sku,
            "inventory_level": self.level(variant),
            "inventory_warning_level": variant.warning_level,
            "purchasing_disabled": variant.purchasing_disabled,
            "purchasing_disabled_message": variant.purchasing_disabled_message,
            "option_values": option,
        }
        if variant.option_value:
            body["sku_id"] = variant.id
        return body

    def list_products(self, params: dict[str, str]) -> dict[str, Any]:
        ids = sorted(self.products)
        if params.get("id:in"):
            wanted = {int(x) for x in params["id:in"].split(",") if x}
            ids = [i for i in ids if i in wanted]
        include = "variants" in params.get("include", "").split(",")
        return self._paged(
            ids,
            params,
            lambda i: self.product_json(self.products[i], include),
            default=50,
            maximum=limits.PAGE_LIMIT,
        )

    def get_product(self, product_id: int, include_variants: bool) -> dict[str, Any]:
        return {"data": self.product_json(self._product(product_id), include_variants), "meta": {}}

    def get_variant(self, product_id: int, variant_id: int) -> dict[str, Any]:
        variant = self.variants.get(variant_id)
        if variant is None or variant.product_id != product_id:
            raise _error(404, "The requested variant was not found.")
        return {"data": self.variant_json(variant), "meta": {}}

    def _product(self, product_id: int) -> Product:
        try:
            return self.products[product_id]
        except KeyError:
            raise _error(404, f"The requested product {product_id} was not found.") from None

    def put_products(self, items: list[dict[str, Any]]) -> dict[str, Any] | Answer:
        """Batch update; products named by the ``unsaved_products`` fault keep their fields,
        and the batch answers 207 with every product as it is and the failures in ``errors``."""
        if len(items) > limits.BATCH_PRODUCTS:
            raise _error(
                413,
                f"The request payload is too large. The maximum items allowed in "
                f"the array is {limits.BATCH_PRODUCTS}",
            )
        for item in items:
            if not isinstance(item.get("id"), int):
                raise _error(422, "id is required for a batch update")
            self._product(item["id"])
        out, unsaved = [], {}
        for item in items:
            product = self.products[item["id"]]
            if product.id in self.faults.unsaved_products:
                unsaved[str(product.id)] = "The product could not be saved."
                out.append(self.product_json(product, False))
                continue
            changed = False
            for key, attr in (
                ("name", "name"),
                ("inventory_tracking", "tracking"),
                ("availability", "availability"),
                ("availability_description", "availability_description"),
            ):
                if key in item and getattr(product, attr) != item[key]:
                    setattr(product, attr, item[key])
                    changed = True
            if "inventory_level" in item:
                if product.has_options:
                    raise _error(
                        422, "inventory_level of a product with variants is set per variant"
                    )
                self._set_level(
                    self.variants[product.variant_ids[0]], item["inventory_level"], "absolute"
                )
            if changed:
                product.modified = self.clock.now()
                self.emit("store/product/updated", {"type": "product", "id": product.id})
            out.append(self.product_json(product, False))
        if unsaved:
            errors = {"status": 207, "title": "Some products were not saved", "type": "about:blank"}
            return Answer(207, {"data": out, "errors": errors | {"errors": unsaved}, "meta": {}})
        return {"data": out, "meta": {}}

    def list_variants(self, params: dict[str, str]) -> dict[str, Any]:
        ids = sorted(self.variants)
        if params.get("product_id:in"):
            wanted = {int(x) for x in params["product_id:in"].split(",") if x}
            ids = [i for i in ids if self.variants[i].product_id in wanted]
        return self._paged(
            ids,
            params,
            lambda i: self.variant_json(self.variants[i]),
            default=50,
            maximum=limits.PAGE_LIMIT,
        )

    def put_variants(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        if len(items) > limits.BATCH_VARIANTS:
            raise _error(
                413,
                f"The request payload is too large. The maximum items allowed in "
                f"the array is {limits.BATCH_VARIANTS}",
            )
        missing = [i.get("id") for i in items if i.get("id") not in self.variants]
        if missing:
            raise ApiError(
                422,
                {
                    "batch_errors": [
                        {
                            "status": 422,
                            "title": f"variant {m} not found",
                            "type": "about:blank",
                            "errors": {},
                        }
                        for m in missing
                    ]
                },
            )
        out = []
        for item in items:
            variant = self.variants[item["id"]]
            product = self.products[variant.product_id]
            changed = False
            for key in ("purchasing_disabled", "purchasing_disabled_message"):
                if key in item and getattr(variant, key) != item[key]:
                    setattr(variant, key, item[key])
                    changed = True
            if "inventory_level" in item:
                self._set_level(variant, item["inventory_level"], "absolute")
            if changed:
                product.modified = self.clock.now()
                self.emit("store/product/updated", {"type": "product", "id": product.id})
            out.append(self.variant_json(variant))
        return {"data": out, "meta": {}}

    # ----------------------------------------------------------------- inventory
    def _inventory_target(self, item: dict[str, Any]) -> Variant:
        if "product_id" in item:
            product = self._product(item["product_id"])
            if product.has_options and product.tracking == "variant":
                raise _error(
                    422,
                    f"[Item with product_id {product.id} is tracked by variant, "
                    "please update stock by variant id]",
                )
            if product.has_options:
                raise _error(422, f"product {product.id} has variants: adjust a variant")
            return self.variants[product.variant_ids[0]]
        variant = (
            self.variants.get(item["variant_id"])
            if "variant_id" in item
            else self.by_sku.get(item.get("sku", ""))
        )
        if variant is None:
            raise _error(422, f"unknown item {item}")
        if self.products[variant.product_id].tracking == "product" and "variant_id" in item:
            raise _error(
                422,
                f"[Item with variant_id {variant.id} is tracked by product, "
                "please update stock by product id]",
            )
        return variant

    def adjust_absolute(self, body: dict[str, Any]) -> dict[str, Any]:
        items = body.get("items") or []
        if len(items) > limits.BATCH_INVENTORY:
            raise _error(422, f"At most {limits.BATCH_INVENTORY} items per adjustment")
        targets = [(self._inventory_target(i), i) for i in items]
        for item in items:
            if item.get("location_id") != DEFAULT_LOCATION:
                raise _error(422, f"location {item.get('location_id')} does not exist")
        for variant, item in targets:
            self._set_level(variant, int(item["quantity"]), "absolute")
        return {"transaction_id": f"tx-{self.requests}"}

    def location_settings(self, location_id: int, body: dict[str, Any]) -> dict[str, Any]:
        if location_id != DEFAULT_LOCATION:
            raise _error(404, f"location {location_id} not found")
        settings = body.get("settings") or []
        if len(settings) > limits.BATCH_INVENTORY:
            raise _error(422, f"At most {limits.BATCH_INVENTORY} items per request")
        targets = [(self._inventory_target({**s.get("identity", {})}), s) for s in settings]
        for variant, setting in targets:
            if "warning_level" in setting:
                variant.warning_level = setting["warning_level"]
            if "backorder_limit" in setting:
                if not self.native_backorders:
                    raise _error(422, "backordering is not enabled for this store")
                variant.backorder_limit[location_id] = setting["backorder_limit"]
        return {"transaction_id": f"tx-{self.requests}"}

    def inventory_items(self, params: dict[str, str]) -> dict[str, Any]:
        ids = sorted(self.variants)
        if params.get("sku:in"):
            wanted = set(params["sku:in"].split(","))
            ids = [i for i in ids if self.variants[i].sku in wanted]

        def row(vid: int) -> dict[str, Any]:
            v = self.variants[vid]
            settings: dict[str, Any] = {
                "safety_stock": 0,
                "is_in_stock": True,
                "warning_level": v.warning_level,
            }
            location: dict[str, Any] = {"location_id": DEFAULT_LOCATION}
            if self.native_backorders:
                settings["backorder_limit"] = v.backorder_limit.get(DEFAULT_LOCATION, 0)
                location[u.QTY_BACKORDERED_READ_FIELD] = v.backordered.get(DEFAULT_LOCATION, 0)
            level = self.level(v)
            location |= {
                "location_code": "BC-LOCATION-1",
                "location_name": "Default location",
                "available_to_sell": max(level, 0),
                "total_inventory_onhand": level,
                "location_enabled": True,
                "settings": settings,
            }
            return {
                "identity": {"sku": v.sku, "variant_id": v.id, "product_id": v.product_id},
                "locations": [location],
            }

        return self._paged(ids, params, row, default=50, maximum=limits.INVENTORY_PAGE_LIMIT)

    # -------------------------------------------------------------------- orders
    def create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        lines = body.get("products") or []
        if not lines or not body.get("billing_address"):
            raise _error(400, "products and billing_address are required")
        plan, shortages = [], []
        for line in lines:
            product = self._product(line["product_id"])
            variant = self.variants.get(line.get("variant_id") or product.variant_ids[0])
            if variant is None or variant.product_id != product.id:
                raise _error(400, f"variant {line.get('variant_id')} is not of {product.id}")
            qty = int(line["quantity"])
            if product.availability == "disabled" or variant.purchasing_disabled:
                raise _error(422, f"{variant.sku} is not available for purchase")
            take = qty
            backordered = 0
            if product.tracking != "none":
                have = max(variant.level, 0)
                if self.native_backorders:
                    limit = variant.backorder_limit.get(DEFAULT_LOCATION, 0)
                    room = (
                        None
                        if limit is None
                        else max(limit - variant.backordered.get(DEFAULT_LOCATION, 0), 0)
                    )
                    if room is not None and qty > have + room:
                        shortages.append(
                            {
                                "type": "OutOfStock",
                                "message": (
                                    f"Insufficient stock of variant(id: {variant.id}), available "
                                    f"stock: {have}, available quantity for backorder: {room}. "
                                    f"order(id: ), channel(id: 1), location(id: {DEFAULT_LOCATION})"
                                    "."
                                ),
                                "variant_id": variant.id,
                                "location_id": DEFAULT_LOCATION,
                                "available_quantity": have,
                                "available_quantity_for_backorder": room,
                            }
                        )
                    take, backordered = min(qty, have), max(qty - have, 0)
                elif qty > have:
                    raise _error(422, f"{variant.sku}: only {have} in stock")
            plan.append((product, variant, qty, take, backordered))
        if shortages:  # the beta guide's shape: an array of {status, message, details}
            body = {
                "status": 409,
                "message": OUT_OF_STOCK_MESSAGE,
                "details": {"errors": shortages},
            }
            raise ApiError(409, [body])
        order_id = self._next("order")
        rows = []
        for product, variant, qty, take, backordered in plan:
            if product.tracking != "none":
                if self.native_backorders and not u.ON_HAND_EXCLUDES_BACKORDERED:
                    # the other reading: the count itself goes below zero
                    self._set_level(variant, variant.level - qty, "relative", below_zero=True)
                else:
                    self._set_level(variant, variant.level - take, "relative")
                if backordered:
                    variant.backordered[DEFAULT_LOCATION] = (
                        variant.backordered.get(DEFAULT_LOCATION, 0) + backordered
                    )
            row = {
                "id": self._next("line"),
                "order_id": order_id,
                "product_id": product.id,
                "variant_id": variant.id,
                "name": product.name,
                "sku": variant.sku,
                "quantity": qty,
                "type": "physical",
            }
            if self.native_backorders:
                row["quantity_backordered"] = backordered
            rows.append(row)
        now = self.clock.now()
        self.orders[order_id] = {
            "id": order_id,
            "status_id": int(body.get("status_id", 11)),
            "billing_address": body["billing_address"],
            "date_created": _rfc2822(now),
            "items_total": sum(r["quantity"] for r in rows),
        }
        self.order_lines[order_id] = rows
        self.emit("store/order/created", {"type": "order", "id": order_id})
        return self.orders[order_id]

    def update_order(self, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """``PUT /v2/orders/{id}`` with ``status_id``: a changed status fires
        ``store/order/statusUpdated`` (webhooks.v3.yml). App mode: the sandbox moves no
        stock (the app tracks it, BigCommerce's tracking is off)."""
        order = self.get_order(order_id)
        new = body.get("status_id")
        if not isinstance(new, int) or isinstance(new, bool) or not 0 <= new <= 14:
            raise _error(400, "status_id: an order status id (0-14) is required")
        previous = order["status_id"]
        order["status_id"] = new
        if new != previous:
            self.emit("store/order/statusUpdated", {
                "type": "order", "id": order_id,
                "status": {"previous_status_id": previous, "new_status_id": new},
            })
        return order

    def create_shipment(self, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /v2/orders/{id}/shipments`` with ``items: [{order_product_id, quantity}]``:
        each line's ``quantity_shipped`` rises, ``store/shipment/created`` fires and the
        order becomes Shipped (2) or Partially Shipped (3)."""
        self.get_order(order_id)
        lines = {row["id"]: row for row in self.order_lines[order_id]}
        items = body.get("items") or []
        for item in items:
            row = lines.get(item.get("order_product_id"))
            qty = item.get("quantity")
            if row is None or not isinstance(qty, int) or qty <= 0:
                raise _error(400, "items: order_product_id of this order and quantity > 0")
            if row.get("quantity_shipped", 0) + qty > row["quantity"]:
                raise _error(400, f"order product {row['id']}: more than ordered")
        for item in items:
            row = lines[item["order_product_id"]]
            row["quantity_shipped"] = row.get("quantity_shipped", 0) + item["quantity"]
        shipment_id = self._next("shipment")
        self.emit("store/shipment/created",
                  {"type": "shipment", "id": shipment_id, "orderId": order_id})
        done = all(r.get("quantity_shipped", 0) >= r["quantity"] for r in lines.values())
        self.update_order(order_id, {"status_id": 2 if done else 3})
        return {"id": shipment_id, "order_id": order_id, "items": items}

    def get_order(self, order_id: int) -> dict[str, Any]:
        if order_id not in self.orders:
            raise _error(404, "The requested order was not found.")
        return self.orders[order_id]

    def order_products(self, order_id: int, params: dict[str, str]) -> list[dict[str, Any]]:
        self.get_order(order_id)
        limit = min(int(params.get("limit", 50)), 250)
        page = int(params.get("page", 1))
        return self.order_lines[order_id][(page - 1) * limit : page * limit]

    # ------------------------------------------------------------------- scripts
    def list_scripts(self, params: dict[str, str]) -> dict[str, Any]:
        ids = sorted(self.scripts, key=lambda u: self.scripts[u]["date_created"])
        return self._paged(ids, params, lambda i: self.scripts[i], default=50, maximum=250)

    def _checked_script(self, body: Any, old: dict[str, Any] | None = None) -> dict[str, Any]:
        """The Scripts API's rules (BigCommerce scripts OpenAPI, script_Base/script_Post)."""
        if not isinstance(body, dict):
            raise _error(422, "body must be an object")
        merged = {**(old or {}), **body}
        for key, allowed in SCRIPT_ENUMS.items():
            if key in merged and merged[key] not in allowed:
                raise _error(422, f"{key}: must be one of {', '.join(allowed)}")
        if not merged.get("name"):
            raise _error(422, "name is required")
        if merged.get("kind") == "script_tag":
            tag = merged.get("html") or ""
            if len(tag) > 65536 or tag.lower().count("<script") != 1:
                raise _error(422, "html must hold exactly one script tag (at most 65536 chars)")
        elif merged.get("kind") == "src" and not merged.get("src"):
            raise _error(422, "src is required for kind src")
        return merged

    def create_script(self, body: Any) -> dict[str, Any]:
        script = self._checked_script(body)
        uuid = f"b0c0{self._next('script'):028x}"
        now = f"2026-01-01T00:00:{int(self.clock.now()) % 60:02d}+00:00"
        script.update(uuid=uuid, date_created=now, date_modified=now)
        script.setdefault("enabled", True)
        self.scripts[uuid] = script
        return script

    def update_script(self, uuid: str, body: Any) -> dict[str, Any]:
        if uuid not in self.scripts:
            raise _error(404, "script not found")
        self.scripts[uuid] = self._checked_script(body, self.scripts[uuid])
        return self.scripts[uuid]

    def delete_script(self, uuid: str) -> dict[str, Any]:
        script = self.scripts.pop(uuid, None)
        if script is None:
            raise _error(404, "script not found")
        return {}

    # --------------------------------------------------------------------- hooks
    def list_hooks(self, params: dict[str, str]) -> dict[str, Any]:
        ids = sorted(self.hooks)
        if params.get("is_active") in ("true", "false"):
            active = params["is_active"] == "true"
            ids = [i for i in ids if self.hooks[i]["is_active"] is active]
        return self._paged(ids, params, lambda i: self.hooks[i], default=50, maximum=250)

    def update_hook(self, hook_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """``PUT /hooks/{id}``: how a deactivated hook is turned back on."""
        hook = self.hooks.get(hook_id)
        if hook is None:
            raise _error(404, f"webhook {hook_id} not found")
        for key in ("scope", "destination", "is_active", "headers"):
            if key in body:
                hook[key] = body[key] if key != "headers" else (body[key] or {})
        hook["updated_at"] = int(EPOCH + self.clock.now())
        return hook

    def create_hook(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("scope") or not body.get("destination"):
            raise _error(422, "scope and destination are required")
        hook_id = self._next("hook")
        now = int(EPOCH + self.clock.now())
        self.hooks[hook_id] = {
            "id": hook_id,
            "client_id": "sandbox",
            "store_hash": self.store_hash,
            "scope": body["scope"],
            "destination": body["destination"],
            "is_active": body.get("is_active", True),
            "headers": body.get("headers") or {},
            "created_at": now,
            "updated_at": now,
        }
        return self.hooks[hook_id]

    def delete_hook(self, hook_id: int) -> dict[str, Any]:
        hook = self.hooks.pop(hook_id, None)
        if hook is None:
            raise _error(404, "Webhook not found")
        self.outbox = [d for d in self.outbox if d.hook_id != hook_id]
        return hook

    def emit(self, scope: str, data: dict[str, Any]) -> None:
        created = int(EPOCH + self.clock.now())
        digest = hashlib.sha1(
            json.dumps(
                [scope, data, created, len(self.outbox) + len(self.delivered)], sort_keys=True
            ).encode()
        ).hexdigest()
        envelope = {
            "scope": scope,
            "store_id": "1025646",
            "data": data,
            "hash": digest,
            "created_at": created,
            "producer": f"stores/{self.store_hash}",
        }
        now = self.clock.now()
        for hook in self.hooks.values():
            if hook["is_active"] and hook["scope"] in (scope, _wildcard(scope)):
                copies = 2 if self.faults.duplicate_deliveries else 1
                self.outbox += [Delivery(hook["id"], envelope, due=now) for _ in range(copies)]

    def deliver(self, post) -> int:
        """POST every due delivery with ``post(url, headers, body) -> status``; returns how
        many succeeded.

        A failed one is retried after the waits of :data:`HOOK_RETRY_SECONDS`; once the last
        retry fails the hook is deactivated (``is_active: false``) and nothing more is sent
        to it until it is turned back on, as BigCommerce does.
        """
        now = self.clock.now()
        due = [d for d in self.outbox if d.due <= now]
        self.outbox = [d for d in self.outbox if d.due > now]
        done = 0
        for delivery in due:
            hook = self.hooks.get(delivery.hook_id)
            if hook is None or not hook["is_active"]:
                continue
            headers = {"Content-Type": "application/json", **hook["headers"]}
            body = json.dumps(delivery.envelope).encode()
            try:
                status = post(hook["destination"], headers, body)
            except Exception:  # an unreachable receiver: a failed attempt
                status = 0
            if 200 <= status < 300:
                done += 1
                self.delivered.append(delivery.envelope)
            elif delivery.attempts < len(HOOK_RETRY_SECONDS):
                delivery.due = now + HOOK_RETRY_SECONDS[delivery.attempts]
                delivery.attempts += 1
                self.outbox.append(delivery)
            else:
                hook["is_active"] = False
        return done


def _wildcard(scope: str) -> str:
    return scope.rsplit("/", 1)[0] + "/*"


def _iso(seconds: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(EPOCH + seconds, dt.UTC).isoformat(timespec="seconds")


def _rfc2822(seconds: float) -> str:
    import email.utils

    return email.utils.formatdate(EPOCH + seconds, usegmt=True).replace("GMT", "+0000")


def _paged(
    ids: list, params: dict[str, str], render, *, default: int, maximum: int, skew: int = 0
) -> dict:
    limit = min(max(int(params.get("limit", default)), 1), maximum)
    page = max(int(params.get("page", 1)), 1)
    total = len(ids)
    pages = max((total + limit - 1) // limit, 1)
    rows = [render(i) for i in ids[(page - 1) * limit : page * limit]]
    links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    return {
        "data": rows,
        "meta": {
            "pagination": {
                "total": total,
                "count": len(rows),
                "per_page": limit,
                "current_page": max(page + skew, 1),
                "total_pages": pages,
                "links": links,
            }
        },
    }
