"""What a notification says: subject, text and attachments, built from a domain event."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from backorder.csv_cells import SafeWriter
from backorder.models import DomainEvent, EventType
from backorder.notify.settings import ETA_TOKENS, CustomerEtaSettings

_TITLES = {
    EventType.ASSIGNED: "{sku} assigned to backorder",
    EventType.UNASSIGNED: "{sku} unassigned from backorder",
    EventType.BACKORDER_ENABLED: "Backorder enabled for {sku}",
    EventType.BACKORDER_DISABLED: "Backorder disabled for {sku}",
    EventType.THRESHOLD_EXHAUSTED: "Backorder threshold used up for {sku}",
    EventType.ORDER_BACKORDERED: "Order {order_id}: {backordered} of {sku} backordered",
    EventType.ETA_CHANGED: "Order {order_id}: new date for {sku} ({status})",
    EventType.ORDER_CANCELLED: "Order {order_id}: {units} unit(s) cancelled",
    EventType.ORDER_SHIPPED: "Order {order_id}: {units} unit(s) shipped",
    EventType.ORDER_RETURNED: "Order {order_id}: {units} unit(s) returned",
}

UNASSIGN_COLUMNS = ("SKU", "Stock", "Incoming Stock", "Back in stock date", "Action")
"""The stock data mailed on unassign; the file can be imported again to re-assign."""


@dataclass
class Message:
    subject: str
    body: str
    attachments: dict[str, bytes] = field(default_factory=dict)


def customer_eta(settings: CustomerEtaSettings, event: DomainEvent, timezone: str) -> Message:
    """The customer's message when the promised date of a backordered line changes."""
    from backorder.documents.templating import MessageTemplate

    data = event.data
    zone = ZoneInfo(timezone)

    def day(value: str | None) -> str:
        if not value:
            return ""
        return dt.datetime.fromisoformat(value).astimezone(zone).strftime(settings.date_format)

    when = {
        "released": "are ready to ship",
        "no_date": "have no date yet; we will write again when they do",
    }.get(data.get("status", ""), f"are now expected on {day(data.get('eta'))}")
    values = {
        "order_id": data.get("order_id", ""), "line_no": data.get("line_no", ""),
        "sku": event.sku or "", "name": data.get("name") or event.sku or "",
        "waiting": data.get("waiting", ""), "eta": day(data.get("eta")),
        "previous_eta": day(data.get("previous_eta")), "when": when,
    }
    subject = MessageTemplate("subject", settings.subject, ETA_TOKENS).render(**values)
    body = MessageTemplate("message", settings.message, ETA_TOKENS).render(**values)
    return Message(subject, body)


def build(store: str, event: DomainEvent) -> Message:
    values = {"sku": event.sku or "-", **event.data}
    title = _TITLES[event.type].format_map(_Missing(values))
    lines = [
        f"Store: {store}",
        f"Event: {event.type.value}",
        f"SKU: {event.sku or '-'}",
        f"At: {event.at.isoformat()}",
    ]
    if event.reason:
        lines.append(f"Reason: {event.reason.value.replace('_', ' ')}")
    lines += [
        f"{key.replace('_', ' ').capitalize()}: {_value(key, value)}"
        for key, value in event.data.items()
    ]
    attachments = {}
    if event.type is EventType.UNASSIGNED:
        lines.append("")
        lines.append("The item's stock data is attached as CSV.")
        attachments[f"unassigned-{_safe(event.sku or 'item')}.csv"] = unassign_csv(event)
    return Message(f"[{store}] {title}", "\n".join(lines) + "\n", attachments)


def _value(key: str, value: object) -> object:
    """An order change's lines as "2 x BIKE (line 1), ..."; anything else as it is."""
    if key == "lines" and isinstance(value, list):
        return ", ".join(
            f"{line.get('qty')} x {line.get('sku')} (line {line.get('line_no')})"
            for line in value if isinstance(line, dict)
        )
    return value


def unassign_csv(event: DomainEvent) -> bytes:
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\r\n")
    writer.writerow(UNASSIGN_COLUMNS)
    data = event.data
    writer.writerow(
        [
            event.sku,
            data.get("on_hand", ""),
            data.get("incoming_qty", ""),
            data.get("back_in_stock_date") or "",
            data.get("action", ""),
        ]
    )
    return out.getvalue().encode("utf-8")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "?"
