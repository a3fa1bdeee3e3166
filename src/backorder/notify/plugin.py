"""The built-in ``notify`` plugin: every store's events to its recipients."""

from __future__ import annotations

from backorder.hookspecs import hookimpl
from backorder.models import EventType
from backorder.notify import message, transports


def _send(store, event, msg, to: list[str] | None = None) -> None:
    settings = store.notifications
    if settings.transport == "smtp":
        transports.send_smtp(settings, msg, to)
    else:
        transports.write_file(settings, store.name, event, msg, to)


@hookimpl
def backorder_notify_subscriptions(store) -> set[str]:
    """What this store's settings send: the switched-on events when it has recipients,
    and ``eta_changed`` when customers are told of new dates."""
    settings = store.notifications
    wanted = {t.value for t in EventType if settings.wants(t)}
    if settings.customer_eta.enabled:
        wanted.add(EventType.ETA_CHANGED.value)
    return wanted


@hookimpl
def backorder_notify(store, event) -> None:
    settings = store.notifications
    customer = event.data.get("customer_email")
    if event.type is EventType.ETA_CHANGED and settings.customer_eta.enabled and customer:
        _send(store, event,
              message.customer_eta(settings.customer_eta, event, store.settings.timezone),
              [customer])
    if settings.wants(event.type):
        _send(store, event, message.build(store.name, event))
