"""The hook specifications: how plugins extend backorder.

A plugin is any module or object with functions named like these and decorated with
:data:`hookimpl`; it is found through the ``backorder`` entry-point group. A platform
plugin registers :class:`~backorder.platform.Platform` objects through
``backorder_platforms``; the core calls a store's platform directly. The other hooks are
for what many plugins do together: notifiers, document renderers, CLI commands.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from backorder.config import StoreConfig
    from backorder.models import DomainEvent
    from backorder.platform import Platform

__all__ = [
    "PROJECT",
    "backorder_notify",
    "backorder_notify_subscriptions",
    "backorder_platforms",
    "backorder_register_commands",
    "backorder_render_document",
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
