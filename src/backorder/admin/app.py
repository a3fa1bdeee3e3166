"""The web app as a Starlette app, and the routes ``backorder serve`` mounts.

:func:`web_routes` gives the server the plugins' routes (hook ``backorder_web_routes``:
BigCommerce's app callbacks) and the web app mounted at ``/admin``.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from backorder.admin.access import Access
from backorder.admin.guard import Guard
from backorder.admin.pages import Ui
from backorder.admin.views import auth, dashboard, imports, items, report, settings
from backorder.config import Config
from backorder.plugins import PluginManager
from backorder.storage.db import Database
from backorder.stores import StoreDirectory
from backorder.web import ADMIN_PREFIX, WebApp

STATIC = Path(__file__).with_name("static")


def admin_app(web: WebApp) -> Starlette:
    """The merchant's web app (mount it at :data:`~backorder.web.ADMIN_PREFIX`)."""
    routes = [
        Route("/", auth.home),
        Route("/login", auth.login, methods=["GET", "POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Route("/{store}/", dashboard.dashboard),
        Route("/{store}/sync", dashboard.sync, methods=["POST"]),
        Route("/{store}/items", items.items),
        Route("/{store}/items/assign", items.assign, methods=["POST"]),
        Route("/{store}/items/unassign", items.unassign, methods=["POST"]),
        Route("/{store}/items/{sku:path}", items.item, methods=["GET", "POST"]),
        Route("/{store}/settings", settings.settings, methods=["GET", "POST"]),
        Route("/{store}/settings/preview", settings.preview, methods=["POST"]),
        Route("/{store}/report", report.report),
        Route("/{store}/report.csv", report.report_csv),
        Route("/{store}/import", imports.import_page, methods=["GET", "POST"]),
        Route("/{store}/export.csv", imports.export),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                Guard,
                max_bytes=web.config.admin.max_upload_bytes,
                frame_ancestors=web.frame_ancestors,
            )
        ],
    )
    app.state.ui = Ui(web)
    return app


def web_routes(
    config: Config, db: Database, pm: PluginManager, stores: StoreDirectory
) -> tuple[list[BaseRoute], WebApp]:
    """The plugins' routes and the web app, for :func:`backorder.server.create_app`."""
    web = WebApp(config, db, pm, stores, Access(config.admin, db),
                 list(config.admin.frame_ancestors))
    contributed = [route for routes in pm.hook.backorder_web_routes(web=web) for route in routes]
    return [*contributed, Mount(ADMIN_PREFIX, app=admin_app(web))], web


__all__ = ["admin_app", "web_routes"]
