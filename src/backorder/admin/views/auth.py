"""Signing in and out, and the list of stores a user may open."""

from __future__ import annotations

import math
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from backorder.admin.access import CSRF_FIELD, refuse
from backorder.admin.pages import Ui, forbidden
from backorder.admin.users import ALL_STORES

MAX_FIELD = 255


def _root(request: Request) -> str:
    return request.scope.get("root_path", "")


def _safe_next(request: Request, target: str | None) -> str:
    """Where to go after signing in: a path inside the web app, else its home."""
    root = _root(request)
    if target and target.startswith(root + "/") and not target.startswith("//") and (
        "\\" not in target
    ):
        return target
    return root + "/"


def _login_page(ui: Ui, request: Request, session, *, error: str = "", status: int = 200,
                name: str = "", headers: dict[str, str] | None = None) -> Response:
    response = ui.render(request, "login.html", {
        "root": _root(request), "static": _root(request) + "/static", "csrf": session.csrf,
        "error": error, "username": name, "next": request.query_params.get("next", ""),
    }, status)
    if headers:
        response.headers.update(headers)
    if not session.stored:
        ui.access.sessions.write(response, request, session)
    return response


async def login(request: Request) -> Response:
    ui: Ui = request.app.state.ui
    session, user = await run_in_threadpool(ui.access.identify, request)
    if request.method == "GET":
        if user is not None:
            return RedirectResponse(_safe_next(request, request.query_params.get("next")), 303)
        return _login_page(ui, request, session)
    form = await request.form()
    name = str(form.get("username", ""))[:MAX_FIELD].strip()
    password = str(form.get("password", ""))[:1024]
    token = form.get(CSRF_FIELD)
    if not ui.access.check_csrf(request, session, token if isinstance(token, str) else None):
        return forbidden(ui, request, "missing or wrong CSRF token on sign-in", name or None)
    keys = ui.access.sign_in_keys(request, name)
    wait = ui.access.limiter.wait(*keys)
    if wait > 0:
        refuse(request, "too many failed sign-ins", name)
        minutes = math.ceil(wait / 60)
        return _login_page(
            ui, request, session, status=429, name=name,
            error=f"Too many failed sign-ins. Try again in {minutes} minute(s).",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    found = await run_in_threadpool(ui.access.users.authenticate, name, password) if (
        name and password) else None
    if found is None:
        ui.access.limiter.failed(*keys)
        refuse(request, "wrong user name or password", name or None)
        return _login_page(
            ui, request, session, status=401, name=name,
            error="The user name or password is not right.",
        )
    ui.access.limiter.succeeded(*keys)
    target = _safe_next(request, str(form.get("next", "")) or None)
    response = RedirectResponse(target, status_code=303)
    ui.access.sessions.write(response, request, ui.access.sessions.signed_in(found.name))
    return response


async def logout(request: Request) -> Response:
    ui: Ui = request.app.state.ui
    session, _user = await run_in_threadpool(ui.access.identify, request)
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not ui.access.check_csrf(request, session, token if isinstance(token, str) else None):
        return forbidden(ui, request, "missing or wrong CSRF token on sign-out", session.user)
    response = RedirectResponse(_root(request) + "/login", status_code=303)
    ui.access.sessions.clear(response)
    return response


async def home(request: Request) -> Response:
    """The stores the user may open; straight to the store when there is one."""
    ui: Ui = request.app.state.ui
    session, user = await run_in_threadpool(ui.access.identify, request)
    root = _root(request)
    if user is None:
        return RedirectResponse(root + "/login", status_code=303)
    search = request.query_params.get("q", "")[:64].strip().lower()

    def names() -> list[str]:
        if session.stores is None and ALL_STORES in user.stores:
            return [n for n in ui.web.stores if not search or search in n]  # active ones
        wanted = list(session.stores) if session.stores is not None else sorted(user.stores)
        return [n for n in wanted if (not search or search in n) and ui.web.stores.get(n)]

    stores = await run_in_threadpool(names)
    if len(stores) == 1 and not search:
        return RedirectResponse(f"{root}/{quote(stores[0], safe='')}/", status_code=303)
    response = ui.render(request, "home.html", {
        "root": root, "static": root + "/static", "csrf": session.csrf, "user": user,
        "stores": stores[:500], "more": max(len(stores) - 500, 0), "search": search,
    })
    if not session.stored:
        ui.access.sessions.write(response, request, session)
    return response
