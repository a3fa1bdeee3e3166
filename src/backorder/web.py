"""What ``backorder serve`` hands plugins that add HTTP routes (hook ``backorder_web_routes``).

A platform's app flow (BigCommerce's one-click install) needs to install stores, open a
store's web app for a person the platform vouches for, and let the platform's control
panel show the web app in a frame. :class:`WebApp` offers exactly that, so the core
needs to know nothing of the platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from backorder.admin.access import Access
    from backorder.config import Config
    from backorder.plugins import PluginManager
    from backorder.storage.db import Database
    from backorder.stores import StoreDirectory

ADMIN_PREFIX = "/admin"


@dataclass
class WebApp:
    """The server as a plugin's routes see it.

    :param config: the config file.
    :param db: the database every store shares.
    :param pm: the plugin manager.
    :param stores: config-file and installed stores (``install``, ``uninstall``, ``get``).
    :param access: the web app's users and sessions.
    """

    config: Config
    db: Database
    pm: PluginManager
    stores: StoreDirectory
    access: Access
    frame_ancestors: list[str] = field(default_factory=list)

    def plugin_options(self, name: str) -> dict[str, Any]:
        """The config's ``[plugins.NAME]`` table (empty when absent)."""
        return dict(self.config.plugins.get(name, {}))

    def allow_framing(self, *origins: str) -> None:
        """Let these origins show the web app in a frame (CSP ``frame-ancestors``)."""
        self.frame_ancestors.extend(o for o in origins if o not in self.frame_ancestors)

    def admin_url(self, store: str) -> str:
        return f"{ADMIN_PREFIX}/{store}/"

    def sign_in(
        self,
        request: Request,
        response: Response,
        user: str,
        *,
        stores: Sequence[str],
        embedded: bool = False,
    ) -> None:
        """Open a web-app session for ``user`` (who must exist: ``access.users.save``),
        limited to ``stores``; ``embedded``: shown in a platform's control-panel frame."""
        session = self.access.sessions.signed_in(user, stores=tuple(stores), embedded=embedded)
        self.access.sessions.write(response, request, session)


__all__ = ["ADMIN_PREFIX", "WebApp"]
