"""The public, read-only storefront API and script, mounted by ``backorder serve``.

``GET /storefront/{store}/items?sku=A&sku=B&product_id=..&variant_id=..&qty=N`` answers,
per item, what a shopper may be told: status, whether it can be bought, when a new order
would ship, and the store's storefront messages (:func:`backorder.storefront.storefront_messages`,
``qty`` giving the cart alerts). It reads the read model only (:mod:`.readmodel`), tells
the on-hand count only when the store's ``show_stock`` says so, and nothing else internal.

Browsers are answered only from the store's configured ``storefront.origins`` (CORS); a
request without an ``Origin``, or from another origin, gets a 403. Answers carry an ETag
and a short ``max-age``; each client address has a request budget (429 beyond it); one
call asks for at most :data:`MAX_KEYS` SKUs, products and variants together. Every bad
request gets a 4xx with a JSON ``{"error": ...}`` naming what is wrong.

``GET /storefront/backorder.js`` is the storefront script (no dependencies, no build step).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backorder.models import ItemView, Status
from backorder.storefront import storefront_messages
from backorder.storefront_api import readmodel

if TYPE_CHECKING:  # Starlette is the server extra: imported where the routes are built
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import BaseRoute

    from backorder.engine import StoreService

SCRIPT = Path(__file__).with_name("static") / "backorder.js"
MAX_KEYS = 50
"""SKUs, product ids and variant ids one call may ask for, together."""
MAX_QTY = 100_000
MAX_AGE = 15
"""Seconds a browser or CDN may reuse an answer."""
RATE = 120
"""Requests per client address per :data:`RATE_WINDOW` seconds."""
RATE_WINDOW = 60.0
STORE_TTL = 2.0
"""Seconds a store's settings (messages, origins) are reused before being read again."""
PARAMS = {"sku": "sku", "product_id": "product_ids", "variant_id": "variant_ids", "qty": "qty"}
KEY = re.compile(r"^[^\x00-\x1f\x7f]{1,255}$")
ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
SECURITY = {"X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "cross-origin"}


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class RateLimiter:
    """A fixed window per client address: at most ``rate`` requests per ``window`` seconds."""

    def __init__(self, rate: int | None = None, window: float = RATE_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = RATE if rate is None else rate
        self.window, self.clock = window, clock
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """0 when this request may go (and counts it), else seconds until it may."""
        now = self.clock()
        with self._lock:
            start, count = self._counts.get(client, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            if count >= self.rate:
                return start + self.window - now
            self._counts[client] = (start, count + 1)
            if len(self._counts) > 100_000:  # forget finished windows
                self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self.window}
            return 0.0


def parse_query(request: Request) -> dict[str, Any]:
    """The query's keys and quantity, checked; :class:`BadRequest` names what is wrong."""
    asked: dict[str, Any] = {"sku": [], "product_ids": [], "variant_ids": [], "qty": None}
    for name, value in request.query_params.multi_items():
        field = PARAMS.get(name)
        if field is None:
            raise BadRequest(400, f"unknown parameter {name[:40]!r}: use sku, product_id, "
                                  "variant_id and qty")
        if field == "qty":
            if asked["qty"] is not None:
                raise BadRequest(400, "qty given twice")
            if not value.isdigit() or not 1 <= int(value) <= MAX_QTY:
                raise BadRequest(400, f"qty must be a whole number from 1 to {MAX_QTY}")
            asked["qty"] = int(value)
            continue
        for part in value.split(","):
            pattern = KEY if field == "sku" else ID
            if not pattern.match(part):
                raise BadRequest(400, f"malformed {name} {part[:40]!r}")
            asked[field].append(part)
    keys = len(asked["sku"]) + len(asked["product_ids"]) + len(asked["variant_ids"])
    if keys == 0:
        raise BadRequest(400, "ask for at least one sku, product_id or variant_id")
    if keys > MAX_KEYS:
        raise BadRequest(400, f"{keys} keys asked: at most {MAX_KEYS} skus, product_ids and "
                              "variant_ids per call")
    return asked


def ships(view: ItemView, qty: int) -> dict[str, Any]:
    """When a new order of ``qty`` would ship: ``now``, ``later`` (on a date, if known) or
    ``never`` (cannot be bought)."""
    if not view.purchasable or (view.salable is not None and qty > view.salable):
        return {"when": "never", "date": None}
    if not view.tracked or view.on_hand >= qty:
        return {"when": "now", "date": None}
    date = view.back_in_stock_date
    return {"when": "later", "date": date.date().isoformat() if date else None}


def item_answer(view: ItemView, service: StoreService, qty: int | None) -> dict[str, Any]:
    """What a shopper may know of one item (nothing of the ledger, orders or secrets)."""
    storefront = service.store.storefront
    messages = storefront_messages(
        view, storefront, qty=qty, timezone=service.settings.timezone
    )
    answer: dict[str, Any] = {
        "sku": view.sku,
        "product_id": view.product_id,
        "variant_id": view.variant_id,
        "status": "unavailable" if not view.purchasable else view.status.value,
        "purchasable": view.purchasable,
        "backorder": view.purchasable and view.status is Status.BACKORDER,
        "max_qty": view.salable,
        "ships": ships(view, qty or 1),
        "messages": messages,
    }
    if storefront.show_stock and view.tracked:
        answer["stock"] = max(view.on_hand, 0)
    return answer


class Answers:
    """One store's item answers, each worked out once per stored view and quantity.

    An item's answer depends only on its stored view (the read model's JSON text: a new
    text with every change of the item), the quantity asked and the store's settings (one
    :class:`StoreService`: an edit in the web app builds another, and with it another
    cache). Kept as the answer's JSON bytes with the keys that found it."""

    LIMIT = 20_000
    """Answers remembered, then forgotten all at once: bounds the memory."""

    def __init__(self, service: StoreService) -> None:
        self.service = service
        self._known: dict[tuple[str, int | None], tuple[bytes, tuple[str | None, ...]]] = {}

    def get(self, text: str, qty: int | None) -> tuple[bytes, tuple[str | None, ...]]:
        hit = self._known.get((text, qty))
        if hit is None:
            view = ItemView.model_validate_json(text)
            body = json.dumps(item_answer(view, self.service, qty), separators=(",", ":"),
                              ensure_ascii=False).encode()
            hit = (body, (view.sku, view.product_id, view.variant_id))
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            self._known[(text, qty)] = hit
        return hit


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status,
                        headers={**SECURITY, "Cache-Control": "no-store", **(headers or {})})


def storefront_routes(
    service_of: Callable[[str], StoreService | None],
    limiter: RateLimiter | None = None,
) -> list[BaseRoute]:
    """The API and script routes; ``service_of`` finds a store's service by name (None:
    no such store)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    from starlette.routing import Route

    limiter = limiter or RateLimiter()
    known: dict[str, tuple[float, StoreService | None]] = {}
    caches: dict[int, tuple[Any, Answers]] = {}

    def answers_of(service: StoreService) -> Answers:
        """The service's answer cache (a store's edited settings come as another service)."""
        return readmodel.kept_for(caches, service, lambda: Answers(service))

    def store_of(name: str) -> StoreService | None:
        """The store's service, looked up again after :data:`STORE_TTL` seconds (a store's
        settings edited in the web app show within that; each lookup reads the database)."""
        now = time.monotonic()
        hit = known.get(name)
        if hit is not None and hit[0] > now:
            return hit[1]
        service = service_of(name)
        if len(known) > 10_000:
            known.clear()
        known[name] = (now + STORE_TTL, service)
        return service

    script = SCRIPT.read_bytes()
    script_etag = '"' + hashlib.sha256(script).hexdigest()[:32] + '"'

    def allowed(request: Request, service: StoreService) -> dict[str, str]:
        origin = request.headers.get("origin")
        if origin is None:
            raise BadRequest(403, "no Origin header: this API answers the store's own pages "
                                  "(storefront.origins)")
        if origin not in service.store.storefront.origins:
            raise BadRequest(403, "origin not allowed: add it to the store's storefront.origins")
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def checked(request: Request) -> tuple[StoreService, dict[str, str]]:
        client = request.client.host if request.client else "-"
        wait = limiter.wait(client)
        if wait:
            raise BadRequest(429, f"too many requests: try again in {int(wait) + 1} s")
        name = request.path_params["store"]
        service = store_of(name) if len(name) <= 64 else None
        if service is None:
            raise BadRequest(404, "no such store")
        return service, allowed(request, service)

    async def items(request: Request) -> Response:
        try:
            service, cors = checked(request)
            asked = parse_query(request)
        except BadRequest as exc:
            retry = {"Retry-After": str(int(limiter.window))} if exc.status == 429 else {}
            return _error(exc.status, str(exc), retry)
        if service.db.is_sqlite:  # one indexed read of a local file, never waiting (WAL)
            texts = _texts(service, asked)
        else:  # a round trip to the server: off the event loop
            texts = await run_in_threadpool(_texts, service, asked)
        if not texts:
            return _error(404, "no such item", cors)
        answers = answers_of(service)
        parts: list[bytes] = []
        found: set[str | None] = set()
        for text in texts:
            part, keys = answers.get(text, asked["qty"])
            parts.append(part)
            found.update(keys)
        missing = [key for field in ("sku", "product_ids", "variant_ids")
                   for key in asked[field] if key not in found]
        body = b'{"items":[%s],"missing":%s}' % (
            b",".join(parts), json.dumps(missing, separators=(",", ":"),
                                         ensure_ascii=False).encode())
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {**SECURITY, **cors, "ETag": etag,
                   "Cache-Control": f"public, max-age={MAX_AGE}"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    def preflight(request: Request) -> Response:
        try:
            _, cors = checked(request)
        except BadRequest as exc:
            return _error(exc.status, str(exc))
        return Response(status_code=204, headers={
            **cors, "Access-Control-Allow-Methods": "GET",
            "Access-Control-Allow-Headers": "If-None-Match", "Access-Control-Max-Age": "600"})

    async def backorder_js(request: Request) -> Response:
        headers = {**SECURITY, "ETag": script_etag, "Cache-Control": "public, max-age=300"}
        if script_etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(script, media_type="text/javascript", headers=headers)

    return [
        Route("/storefront/backorder.js", backorder_js, methods=["GET"]),
        Route("/storefront/{store}/items", items, methods=["GET"]),
        Route("/storefront/{store}/items", preflight, methods=["OPTIONS"]),
    ]


def _texts(service: StoreService, asked: dict[str, Any]) -> list[str]:
    # one statement: no explicit read-only transaction needed, its snapshot is its own
    return readmodel.readers.texts(service.db.engine, service.name, skus=asked["sku"],
                                   product_ids=asked["product_ids"],
                                   variant_ids=asked["variant_ids"])


def _lookup(service: StoreService, asked: dict[str, Any]) -> list[ItemView]:
    """The stored views asked for (the benchmark builds its static answer from one)."""
    return readmodel.readers.lookup(service.db.engine, service.name, skus=asked["sku"],
                                    product_ids=asked["product_ids"],
                                    variant_ids=asked["variant_ids"])


__all__ = ["MAX_KEYS", "RateLimiter", "parse_query", "storefront_routes"]
