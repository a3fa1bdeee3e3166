"""The built-in ``notify`` plugin: every store's events to its recipients."""

from __future__ import annotations

from backorder.hookspecs import hookimpl
from backorder.notify import message, transports


@hookimpl
def backorder_notify(store, event) -> None:
    settings = store.notifications
    if not settings.wants(event.type):
        return
    msg = message.build(store.name, event)
    if settings.transport == "smtp":
        transports.send_smtp(settings, msg)
    else:
        transports.write_file(settings, store.name, event, msg)
