"""The sandbox's HTTP face: a Starlette ASGI app over :class:`.state.SandboxState`.

Routes mirror BigCommerce's (``/stores/{hash}/v3/...`` and ``/v2/...``); every API call
is authenticated with ``X-Auth-Token``, counted against the rate-limit window (headers
on every response, 429 past the quota) and may be hit by a switched-on fault.
``/_sandbox/*`` is the operator's side door (faults, webhook delivery, state).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from backorder.http import FAULT_HEADER
from backorder_bigcommerce.sandbox.apps import AppFlow
from backorder_bigcommerce.sandbox.state import Answer, ApiError, SandboxState


def _json(status: int, body: Any, headers: dict[str, str], problem: bool = False) -> Response:
    media = "application/problem+json" if problem else "application/json"
    return Response(json.dumps(body), status_code=status, headers=headers, media_type=media)


def build_app(
    state: SandboxState, *, real_timeouts: bool = False, apps: AppFlow | None = None
) -> Starlette:
    """The ASGI app; with ``real_timeouts`` a timeout fault stalls for real (loopback).
    ``apps`` adds the single-click app flow: ``POST /oauth2/token`` (BigCommerce's
    ``login.bigcommerce.com``) and control-panel pages that frame an app."""

    def api(handler):
        accepts_body = "body" in inspect.signature(handler).parameters

        async def endpoint(request: Request) -> Response:
            path = request.url.path
            problem = "/v3/inventory/" in path
            if request.path_params.pop("store_hash") != state.store_hash:
                return _json(404, {"status": 404, "title": "Store not found"}, {})
            if request.headers.get("x-auth-token") != state.token:
                return _json(401, {"status": 401, "title": "Unauthorized"}, {})
            headers: dict[str, str] = {}
            try:
                headers, fault = state.admit(path)
                kwargs: dict[str, Any] = dict(request.path_params)
                if accepts_body:
                    raw = await request.body()
                    try:
                        kwargs["body"] = json.loads(raw or b"null")
                    except ValueError:
                        raise ApiError(
                            400, {"status": 400, "title": "Malformed JSON"}, headers
                        ) from None
                result = handler(dict(request.query_params), **kwargs)
            except ApiError as exc:
                return _json(exc.status, exc.body, {**headers, **exc.headers}, problem)
            status = 201 if request.method == "POST" and "/v2/" not in path else 200
            if request.method == "POST" and path.endswith("/v3/hooks"):
                status = 200
            if isinstance(result, Answer):
                status, result = result.status, result.body
            if fault == "timeout":
                if real_timeouts:
                    await anyio.sleep(state.faults.timeout_delay)
                headers = {**headers, FAULT_HEADER: "timeout"}
            return _json(status, result, headers)

        return endpoint

    s = state
    v3, v2 = "/stores/{store_hash}/v3", "/stores/{store_hash}/v2"
    routes = [
        Route(f"{v3}/catalog/products", api(lambda q: s.list_products(q)), methods=["GET"]),
        Route(f"{v3}/catalog/products", api(lambda q, body: s.put_products(body)), methods=["PUT"]),
        Route(
            f"{v3}/catalog/products/{{product_id:int}}",
            api(
                lambda q, product_id: s.get_product(product_id, "variants" in q.get("include", ""))
            ),
            methods=["GET"],
        ),
        Route(
            f"{v3}/catalog/products/{{product_id:int}}/variants/{{variant_id:int}}",
            api(lambda q, product_id, variant_id: s.get_variant(product_id, variant_id)),
            methods=["GET"],
        ),
        Route(f"{v3}/catalog/variants", api(lambda q: s.list_variants(q)), methods=["GET"]),
        Route(f"{v3}/catalog/variants", api(lambda q, body: s.put_variants(body)), methods=["PUT"]),
        Route(
            f"{v3}/inventory/adjustments/absolute",
            api(lambda q, body: s.adjust_absolute(body)),
            methods=["PUT"],
        ),
        Route(f"{v3}/inventory/items", api(lambda q: s.inventory_items(q)), methods=["GET"]),
        Route(
            f"{v3}/inventory/locations/{{location_id:int}}/items",
            api(lambda q, location_id, body: s.location_settings(location_id, body)),
            methods=["PUT"],
        ),
        Route(f"{v3}/content/scripts", api(lambda q: s.list_scripts(q)), methods=["GET"]),
        Route(
            f"{v3}/content/scripts",
            api(lambda q, body: {"data": s.create_script(body), "meta": {}}),
            methods=["POST"],
        ),
        Route(
            f"{v3}/content/scripts/{{uuid}}",
            api(lambda q, uuid, body: {"data": s.update_script(uuid, body), "meta": {}}),
            methods=["PUT"],
        ),
        Route(
            f"{v3}/content/scripts/{{uuid}}",
            api(lambda q, uuid: s.delete_script(uuid)),
            methods=["DELETE"],
        ),
        Route(f"{v3}/hooks", api(lambda q: s.list_hooks(q)), methods=["GET"]),
        Route(
            f"{v3}/hooks/{{hook_id:int}}",
            api(lambda q, hook_id, body: {"data": s.update_hook(hook_id, body), "meta": {}}),
            methods=["PUT"],
        ),
        Route(
            f"{v3}/hooks",
            api(lambda q, body: {"data": s.create_hook(body), "meta": {}}),
            methods=["POST"],
        ),
        Route(
            f"{v3}/hooks/{{hook_id:int}}",
            api(lambda q, hook_id: {"data": s.delete_hook(hook_id), "meta": {}}),
            methods=["DELETE"],
        ),
        Route(f"{v2}/orders", api(lambda q, body: s.create_order(body)), methods=["POST"]),
        Route(
            f"{v2}/orders/{{order_id:int}}",
            api(lambda q, order_id: s.get_order(order_id)),
            methods=["GET"],
        ),
        Route(
            f"{v2}/orders/{{order_id:int}}",
            api(lambda q, order_id, body: s.update_order(order_id, body)),
            methods=["PUT"],
        ),
        Route(
            f"{v2}/orders/{{order_id:int}}/shipments",
            api(lambda q, order_id, body: s.create_shipment(order_id, body)),
            methods=["POST"],
        ),
        Route(
            f"{v2}/orders/{{order_id:int}}/products",
            api(lambda q, order_id: s.order_products(order_id, q)),
            methods=["GET"],
        ),
        Route("/_sandbox/faults", _faults(state), methods=["GET", "POST"]),
        Route("/_sandbox/state", _summary(state), methods=["GET"]),
    ]
    if apps is not None:
        routes += _app_routes(apps)
    return Starlette(routes=routes)


def _app_routes(apps: AppFlow) -> list[Route]:
    async def token(request: Request) -> Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return JSONResponse({"error": "a JSON object is required"}, status_code=400)
        try:
            return JSONResponse(apps.token(body))
        except ApiError as exc:
            return JSONResponse(exc.body, status_code=exc.status)

    async def install(request: Request) -> Response:
        client_id = request.path_params["client_id"]
        if client_id not in apps.apps:
            return JSONResponse({"error": "no such app"}, status_code=404)
        return HTMLResponse(apps.control_panel("Install app", apps.auth_url(client_id)))

    async def open_app(request: Request) -> Response:
        client_id = request.path_params["client_id"]
        if client_id not in apps.apps:
            return JSONResponse({"error": "no such app"}, status_code=404)
        user = request.query_params.get("user", "")
        user_id = int(user) if user.isdigit() else next(iter(apps.apps[client_id].users))
        return HTMLResponse(apps.control_panel("Backorder", apps.callback_url(
            client_id, "load", user_id)))

    return [
        Route("/oauth2/token", token, methods=["POST"]),
        Route("/manage/marketplace/apps/{client_id}", install, methods=["GET"]),
        Route("/manage/app/{client_id}", open_app, methods=["GET"]),
    ]


def _faults(state: SandboxState):
    async def endpoint(request: Request) -> Response:
        if request.method == "POST":
            for key, value in (await request.json()).items():
                if not hasattr(state.faults, key):
                    return JSONResponse({"error": f"unknown fault {key!r}"}, status_code=422)
                setattr(state.faults, key, value)
        return JSONResponse(vars(state.faults))

    return endpoint


def _summary(state: SandboxState):
    async def endpoint(request: Request) -> Response:
        return JSONResponse(
            {
                "products": [state.product_json(p, True) for p in state.products.values()],
                "orders": len(state.orders),
                "hooks": len(state.hooks),
                "pending_deliveries": len(state.outbox),
                "requests": state.requests,
            }
        )

    return endpoint
