"""The hook specifications: how plugins extend backorder.

A plugin is any module or object with functions named like these and decorated with
:data:`hookimpl`; it is found through the ``backorder`` entry-point group. A platform
plugin registers :class:`~backorder.platform.Platform` objects through
``backorder_platforms``; the core calls a store's platform directly. The other hooks are
for what many plugins do together: notifiers, document renderers, CLI commands, and the
HTTP routes a plugin adds to ``backorder serve`` (a platform's app callbacks).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from backorder.config import StoreConfig
    from backorder.models import DomainEvent
    from backorder.platform import Platform
    from backorder.web import WebApp

__all__ = [
    "PROJECT",
    "backorder_notify",
    "backorder_notify_subscriptions",
    "backorder_platforms",
    "backorder_register_commands",
    "backorder_render_document",
    "backorder_web_routes",
    "hookimpl",
    "hookspec",
]

PROJECT = "backorder"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def backorder_platforms() -> Sequence[Platform]:
    """Register the platforms this plugin serves, as objects (plugin API 2).

    The core looks a store's platform up by its name (``store.platform``) and calls the
    object's methods: see :class:`backorder.platform.Platform`.

    :return: platform objects, e.g. ``[BigCommercePlatform()]``.
    """


@hookspec(firstresult=True)
def backorder_render_document(html: str, fmt: str) -> bytes | None:
    """Render a document's HTML into ``fmt`` (``"pdf"``...).

    :param html: the complete HTML document.
    :param fmt: the output format wanted.
    :return: the rendered bytes, or ``None`` when this renderer cannot make ``fmt``.
    """


@hookspec
def backorder_notify(store: StoreConfig, event: DomainEvent) -> None:
    """Deliver a domain event (assigned, backorder_enabled...) to people or systems.

    Each plugin implementing this hook is a notifier. It is called once per event it
    subscribes to (see :func:`backorder_notify_subscriptions`), after the event commits.
    An exception leaves the event pending for this notifier alone: it is retried later
    with backoff, and notifiers that succeeded are not called again for it.

    :param store: the store the event happened in.
    :param event: the event.
    """


@hookspec
def backorder_notify_subscriptions(store: StoreConfig) -> Collection[str] | None:
    """Say which event types this plugin's ``backorder_notify`` wants for a store.

    Events no notifier wants are recorded but never pending. A notifier without this hook
    is sent every event.

    :param store: the store asking.
    :return: event type names (``"assigned"``, ``"order_backordered"``...), or ``None``
        for all of them.
    """


@hookspec
def backorder_register_commands(cli: click.Group) -> None:
    """Add commands to the ``backorder`` CLI.

    A platform's own commands and sandbox come from its :class:`~backorder.platform.Platform`
    object; this hook is for commands of any other plugin.

    :param cli: the top-level click group; add commands or subgroups to it.
    """


@hookspec
def backorder_web_routes(web: WebApp) -> Sequence[Any]:
    """Add HTTP routes to ``backorder serve``: a platform's app callbacks (BigCommerce's
    ``/bigcommerce/auth``, ``/load``, ``/uninstall``, ``/remove_user``), its own pages.

    Routes are Starlette routes mounted at the server's root, beside ``/webhooks/{store}``
    and the web app at ``/admin``; keep them under a prefix of the plugin's name. The
    routes reach the stores, install new ones and sign people into the web app through
    ``web`` (see :class:`backorder.web.WebApp`); the core knows nothing of the platform.

    :param web: the server's stores (config-file and installed), database, the plugin's
        options (``web.plugin_options(name)``, the config's ``[plugins.NAME]`` table) and
        the web app's sign-in (``web.sign_in``) and framing (``web.allow_framing``).
    :return: Starlette routes (``starlette.routing.Route``, ``Mount``...).
    """
