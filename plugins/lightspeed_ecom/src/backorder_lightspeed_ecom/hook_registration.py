"""The webhooks the plugin needs at Lightspeed, checked and repaired.

``backorder lightspeed-ecom webhooks [--ensure]`` lists the shop's webhooks and says, for
each item group the plugin needs, whether a hook delivers it to this store's address
(``connection.webhook_address``: ``backorder serve``'s ``/webhooks/{store}``), active and in
JSON. ``--ensure`` registers what is missing and switches inactive hooks (or hooks in
another format) back to an active JSON hook. Running it again changes nothing.

Shapes follow the official PHP client (``WebshopappApiResourceWebhooks``: ``POST
webhooks.json {"webhook": {...}}``, ``PUT webhooks/{id}.json``, ``GET webhooks.json``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from backorder_lightspeed_ecom.client import LightspeedClient
from backorder_lightspeed_ecom.models import Webhook

REQUIRED: tuple[str, ...] = ("variants", "orders")
"""Item groups the plugin reads: stock levels and tracking, and new orders."""
ALL_ACTIONS = "*"
"""Every action of a group: a later delivery of the same order or variant (updated, paid)
is applied once anyway, and covers one that was lost."""

State = Literal["ok", "missing", "inactive", "not json"]


@dataclass
class HookCheck:
    group: str
    state: State
    hook: Webhook | None = None
    repaired: str = ""
    """What ``--ensure`` did: ``created`` or ``reactivated``; empty when nothing."""


def _same_address(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _state(hook: Webhook) -> State:
    if not hook.isActive:
        return "inactive"
    return "ok" if hook.format == "json" else "not json"


def check(hooks: Sequence[Webhook], address: str) -> list[HookCheck]:
    """For each required group, the best hook delivering it to ``address`` (an ok one first)."""
    out = []
    for group in REQUIRED:
        candidates = [
            h
            for h in hooks
            if h.itemGroup == group
            and h.itemAction == ALL_ACTIONS
            and _same_address(h.address, address)
        ]
        if not candidates:
            out.append(HookCheck(group, "missing"))
            continue
        best = min(candidates, key=lambda h: (_state(h) != "ok", h.id))
        out.append(HookCheck(group, _state(best), best))
    return out


def ensure(client: LightspeedClient, address: str) -> list[HookCheck]:
    """Register missing hooks, reactivate the others; returns the checks with what was done."""
    checks = check(client.webhooks(), address)
    for item in checks:
        if item.state == "missing":
            item.hook = client.create_webhook(item.group, ALL_ACTIONS, address)
            item.repaired = "created"
        elif item.state != "ok" and item.hook is not None:
            item.hook = client.update_webhook(item.hook.id, {"isActive": True, "format": "json"})
            item.repaired = "reactivated"
    return checks
