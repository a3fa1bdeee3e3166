"""The single-click app's callbacks: install, load, uninstall, remove_user.

Served by ``backorder serve`` through the hook ``backorder_web_routes`` when the config
has a ``[plugins.bigcommerce]`` table (:class:`~backorder_bigcommerce.oauth.AppSettings`):

- ``GET /bigcommerce/auth`` (browser, in the control panel's iframe): the code is
  exchanged for the store's access token, the store is installed as ``bc-{hash}`` (a row
  of the ``stores`` table, its token sealed with ``BACKORDER_SECRET_KEY``), the webhooks
  the plugin needs are registered with a fresh secret header, the installing user is
  signed into the store's web app, and the catalog is synced after the answer.
- ``GET /bigcommerce/load`` (browser, iframe): the ``signed_payload_jwt`` is verified; the
  user (added when new: BigCommerce's multiple users) is signed into that store's web app,
  limited to that store.
- ``GET /bigcommerce/uninstall`` (server): hooks removed, the store stops being served and
  its token is erased; its data stays (a reinstall picks it up).
- ``GET /bigcommerce/remove_user`` (server): the user loses access at their next request.

A payload that does not verify is refused with 401 and logged without the token.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from backorder.errors import BackorderError
from backorder.web import WebApp
from backorder_bigcommerce.connection import NAME, client_for
from backorder_bigcommerce.oauth import (
    STORE_CONTEXT,
    AppSettings,
    PayloadRejected,
    app_settings,
    exchange_code,
    verify_payload,
)
from backorder_bigcommerce.webhooks import SCOPES

log = logging.getLogger("backorder_bigcommerce.app")


def store_name(store_hash: str) -> str:
    return f"bc-{store_hash}"


def user_name(store_hash: str, user_id: int) -> str:
    return f"{NAME}:{store_hash}:{user_id}"


def _refused(request: Request, status: int, reason: str) -> Response:
    client = request.client.host if request.client else "-"
    log.warning("refused %s %s from %s: %s", request.method, request.url.path, client, reason)
    return PlainTextResponse(reason, status_code=status)


class OneClickApp:
    """The four callbacks, over one deployment's stores and users."""

    def __init__(self, web: WebApp, app: AppSettings) -> None:
        self.web, self.app = web, app

    def destination(self, name: str) -> str:
        return f"{self.app.app_url.rstrip('/')}/webhooks/{name}"

    def routes(self) -> list[Route]:
        return [
            Route(f"/{NAME}/auth", self.auth, methods=["GET"]),
            Route(f"/{NAME}/load", self.load, methods=["GET"]),
            Route(f"/{NAME}/uninstall", self.uninstall, methods=["GET"]),
            Route(f"/{NAME}/remove_user", self.remove_user, methods=["GET"]),
        ]

    # ---------------------------------------------------------------- install
    def install(self, store_hash: str, access_token: str, user_id: int) -> str:
        """Install (or re-authorize) the store, register its hooks, add the user."""
        name = store_name(store_hash)
        current = self.web.stores.get(name)
        webhook_secret = (current.store.secret("webhook_secret") if current else None) or (
            secrets.token_urlsafe(32)
        )
        store = self.web.stores.install(
            name,
            NAME,
            external_id=store_hash,
            connection={
                "store_hash": store_hash,
                "api_url": self.app.api_url,
                "mode": "app",
                "webhook_header": self.app.webhook_header,
            },
            secrets={"access_token": access_token, "webhook_secret": webhook_secret},
            sections=self.app.store,
        )
        client_for(store).ensure_hooks(
            SCOPES, self.destination(name), {self.app.webhook_header: webhook_secret}
        )
        self.web.access.users.save(user_name(store_hash, user_id), stores=[name])
        log.info("installed %s (store %s) for user %s", name, store_hash, user_id)
        return name

    def sync(self, name: str) -> None:
        service = self.web.stores.get(name)
        if service is None:
            return
        try:
            new, changed = service.sync_from_platform()
            log.info("%s: first sync: %d new item(s), stock changed for %d", name, new, changed)
        except (BackorderError, ValueError) as exc:
            log.warning("%s: first sync failed (%s); `Sync catalog` retries", name, exc)

    async def auth(self, request: Request) -> Response:
        query = request.query_params
        code, scope, context = query.get("code", ""), query.get("scope", ""), query.get(
            "context", "")
        found = STORE_CONTEXT.match(context)
        if not code or len(code) > 512 or not found or len(scope) > 2048:
            return _refused(request, 400, "auth callback: code and context=stores/{hash} needed")
        try:
            token = await run_in_threadpool(
                exchange_code, self.app, code=code, scope=scope, context=context
            )
            if token.store_hash != found.group(1):
                return _refused(request, 400, "auth callback: the token is for another store")
            name = await run_in_threadpool(
                self.install, token.store_hash, token.access_token, token.user.id
            )
        except BackorderError as exc:
            log.warning("install of %s failed: %s", context, exc)
            return PlainTextResponse(f"The install did not complete: {exc}", status_code=502)
        response = RedirectResponse(self.web.admin_url(name), status_code=303)
        self.web.sign_in(
            request, response, user_name(token.store_hash, token.user.id), stores=[name],
            embedded=True,
        )
        response.background = BackgroundTask(self.sync, name)  # after the answer
        return response

    # ------------------------------------------------------------ signed calls
    async def _verified(self, request: Request):
        try:
            claims = verify_payload(self.app, request.query_params.get("signed_payload_jwt"))
            return claims, store_name(claims.store_hash)
        except PayloadRejected as exc:
            return _refused(request, 401, str(exc)), None

    async def load(self, request: Request) -> Response:
        claims, name = await self._verified(request)
        if name is None:
            return claims
        if await run_in_threadpool(self.web.stores.get, name) is None:
            return _refused(request, 404, f"{name} is not installed")
        user = user_name(claims.store_hash, claims.user.id)

        def known() -> None:  # BigCommerce's multiple users: a new user is added on load
            if self.web.access.users.get(user) is None:
                self.web.access.users.save(user, stores=[name])

        await run_in_threadpool(known)
        response = RedirectResponse(self.web.admin_url(name), status_code=303)
        self.web.sign_in(request, response, user, stores=[name], embedded=True)
        return response

    async def uninstall(self, request: Request) -> Response:
        claims, name = await self._verified(request)
        if name is None:
            return claims

        def remove() -> dict[str, Any] | None:
            service = self.web.stores.get(name)
            if service is None:
                return None
            try:
                hooks = client_for(service.store).remove_hooks(self.destination(name))
            except Exception as exc:  # revoked already, or BigCommerce down: go on
                log.warning("%s: its hooks could not be removed (%s)", name, type(exc).__name__)
                hooks = 0
            self.web.stores.uninstall(name)
            users = self.web.access.users.remove_store(name)
            log.info("uninstalled %s: %d hook(s) and %d user(s) removed", name, hooks, users)
            return {"uninstalled": name, "hooks_removed": hooks}

        done = await run_in_threadpool(remove)
        if done is None:
            return _refused(request, 404, f"{name} is not installed")
        return JSONResponse(done)

    async def remove_user(self, request: Request) -> Response:
        claims, name = await self._verified(request)
        if name is None:
            return claims
        user = user_name(claims.store_hash, claims.user.id)
        removed = await run_in_threadpool(self.web.access.users.remove, user)
        return JSONResponse({"removed": user if removed else None})


def routes(web: WebApp) -> list[Route]:
    """The callbacks, when the config names the app (``[plugins.bigcommerce]``)."""
    app = app_settings(web.plugin_options(NAME))
    if app is None:
        return []
    web.allow_framing(*app.control_panel)
    return OneClickApp(web, app).routes()


__all__ = ["OneClickApp", "routes", "store_name", "user_name"]
