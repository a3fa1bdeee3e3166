"""The frame every store page runs in: who may open it, CSRF on every POST, the layout.

:func:`store_page` wraps a view ``async def view(page: Page) -> Response``. Before the
view runs: the request's user is known (else sign-in, or 403 for a POST), may open
this store (else 403, the same answer whether the store exists or not), the store
exists (404), and a POST carries the session's CSRF token (else 403). Nothing a view
does runs before these checks.

Views call the store's :class:`~backorder.engine.StoreService` (in a worker thread: it
is synchronous), as the CLI does.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from backorder.admin import queries
from backorder.admin.access import CSRF_FIELD, refuse
from backorder.admin.sessions import Session
from backorder.admin.users import User
from backorder.engine import StoreService
from backorder.models import Status
from backorder.storage import item_status
from backorder.web import WebApp

TEMPLATES = Path(__file__).with_name("templates")
FLASH_COOKIE = "backorder_flash"

STATUS_LABELS = {
    Status.IN_STOCK.value: "In stock",
    Status.LOW_STOCK.value: "Low stock",
    Status.BACKORDER.value: "Backorder",
    Status.UNAVAILABLE.value: "Unavailable",
}


def _qty(value: int | None) -> str:
    return "unlimited" if value is None else f"{value:,}"


class Ui:
    """What every page shares: the web app's context, the templates, the flash signer."""

    def __init__(self, web: WebApp) -> None:
        self.web = web
        self.access = web.access
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        env.filters["qty"] = _qty
        env.filters["urlpart"] = lambda value: quote(str(value), safe="")
        env.filters["zip_pairs"] = lambda values: [(v, v) for v in values]
        env.globals["STATUS_LABELS"] = STATUS_LABELS
        self.templates = Jinja2Templates(env=env)
        self._flash = URLSafeTimedSerializer(
            self.access.sessions._serializer.secret_key, salt="backorder-admin-flash"
        )

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def set_flash(self, response: Response, text: str) -> None:
        response.set_cookie(
            FLASH_COOKIE, self._flash.dumps(text), max_age=60, httponly=True, samesite="lax",
            path="/",
        )

    def take_flash(self, request: Request) -> str | None:
        raw = request.cookies.get(FLASH_COOKIE)
        if not raw:
            return None
        try:
            return str(self._flash.loads(raw, max_age=60))
        except BadSignature:
            return None


@dataclass
class Layout:
    totals: queries.Totals
    backlog: dict[str, int]


@dataclass
class Page:
    """One request to one store's page, after the checks of :func:`store_page`."""

    request: Request
    ui: Ui
    session: Session
    user: User
    service: StoreService
    form: FormData | None = None

    @property
    def store(self) -> str:
        return self.service.name

    @property
    def root(self) -> str:
        return self.request.scope.get("root_path", "")

    @property
    def base(self) -> str:
        return f"{self.root}/{quote(self.store, safe='')}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.service.settings.timezone)

    async def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(func, *args, **kwargs)

    def layout(self) -> Layout:
        item_status.ensure(self.service.db, self.store, self.service.settings)  # a POST's
        with self.service.db.read() as conn:
            totals = queries.totals(conn, self.store, self.service.settings)
        return Layout(totals, self.service.outbox.backlog())

    async def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        layout = await self.run(self.layout)
        flash = self.ui.take_flash(self.request)
        response = self.ui.render(
            self.request,
            template,
            {
                "page": self,
                "store": self.service.store,
                "settings": self.service.settings,
                "base": self.base,
                "static": f"{self.root}/static",
                "root": self.root,
                "csrf": self.session.csrf,
                "user": self.user,
                "layout": layout,
                "flash": flash,
                "plan_limit": self.service.settings.plan_limit,
                "local": self.local,
                **context,
            },
            status,
        )
        if flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    def redirect(self, url: str, flash: str | None = None) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        if flash:
            self.ui.set_flash(response, flash)
        return response

    def local(self, when: dt.datetime | None, with_time: bool = True) -> str:
        """A datetime in the store's time zone, for people."""
        if when is None:
            return ""
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        return when.astimezone(self.tz).strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")

    def query(self, **changes: Any) -> str:
        """The current query string with ``changes`` (``None`` removes a key)."""
        params = dict(self.request.query_params)
        params.update({k: v for k, v in changes.items() if v is not None})
        for key in [k for k, v in changes.items() if v is None]:
            params.pop(key, None)
        return urlencode({k: v for k, v in params.items() if v != ""})


View = Callable[[Page], Awaitable[Response]]


def forbidden(ui: Ui, request: Request, reason: str, user: str | None, status: int = 403):
    refuse(request, reason, user)
    return ui.render(
        request, "refused.html",
        {"root": request.scope.get("root_path", ""), "status": status,
         "static": request.scope.get("root_path", "") + "/static", "reason": reason},
        status,
    )


def store_page(view: View) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(view)
    async def endpoint(request: Request) -> Response:
        ui: Ui = request.app.state.ui
        session, user = await run_in_threadpool(ui.access.identify, request)
        name = request.path_params["store"]
        if user is None:
            if session.embedded:  # a platform signed this session in: no sign-in page here
                return forbidden(ui, request, "the session's user or store is gone",
                                 session.user)
            if request.method == "GET":
                target = f"{request.scope.get('root_path', '')}/login?" + urlencode(
                    {"next": request.url.path + (f"?{request.url.query}" if request.url.query
                                                 else "")}
                )
                return RedirectResponse(target, status_code=303)
            return forbidden(ui, request, "not signed in", None)
        if not (user.may_open(name) and session.may_open(name)):
            return forbidden(ui, request, f"user may not open store {name!r}", user.name)
        service = await run_in_threadpool(ui.web.stores.get, name)
        if service is None:
            return forbidden(ui, request, f"no store {name!r}", user.name, 404)
        # the stored statuses are those of the settings in force (a read when they are)
        await run_in_threadpool(item_status.ensure, service.db, name, service.settings)
        form = None
        if request.method == "POST":
            form = await request.form()
            token = form.get(CSRF_FIELD)
            if not ui.access.check_csrf(request, session, token if isinstance(token, str)
                                        else None):
                return forbidden(ui, request, "missing or wrong CSRF token", user.name)
        page = Page(request, ui, session, user, service, form)
        response = await view(page)
        if not session.stored:
            ui.access.sessions.write(response, request, session)
        return response

    return endpoint


__all__ = ["STATUS_LABELS", "Page", "Ui", "forbidden", "store_page"]
