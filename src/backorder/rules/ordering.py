"""What one order line gets: quantity rules, then the in-stock / backordered split."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from backorder.models import (
    BackorderPolicy,
    ItemState,
    LineDecision,
    Mode,
    RefusalReason,
    StoreSettings,
    trusted,
)
from backorder.rules.availability import (
    backorders_allowed,
    effective_policy,
    salable_qty,
)

BACKORDER_NOTICE = (
    "We don't have as many \"{name}\" as you requested, but we'll back order the remaining "
    "{backordered}."
)
"""The default notice of a ``notify`` line with units on backorder (``{token}`` placeholders).

A platform gives its own wording (``Platform.backorder_notice``) and a store overrides either
(``storefront.backorder_notice``); the engine passes the rendering function as ``notice``."""

NOTICE_TOKENS = ("name", "sku", "qty", "in_stock", "backordered")
"""The tokens a backorder notice may use: the item's name (its SKU when it has none), its SKU,
the units requested, and of those the units served from stock and on backorder."""

Notice = Callable[[Mapping[str, Any]], str]
"""Renders a backorder notice from the values of :data:`NOTICE_TOKENS`."""


def default_notice(values: Mapping[str, Any]) -> str:
    """:data:`BACKORDER_NOTICE` with its tokens filled in."""
    return BACKORDER_NOTICE.format_map(values)


def check_quantity(qty: int, policy: BackorderPolicy) -> str | None:
    """Order quantity rules in a fixed order; the first broken rule is the error."""
    if qty < policy.min_sale_qty:
        return f"min_sale_qty: the fewest you may buy is {policy.min_sale_qty}"
    if policy.max_sale_qty is not None and qty > policy.max_sale_qty:
        return f"max_sale_qty: the most you may buy is {policy.max_sale_qty}"
    if qty % policy.qty_increments:
        return f"qty_increments: buy in multiples of {policy.qty_increments}"
    return None


def _decision(**fields) -> LineDecision:
    """A decision from values the rules computed themselves: valid by construction, so it
    skips re-validation (this runs for every order line)."""
    return trusted(LineDecision, fields)


def _refused(line_no: int, sku: str, qty: int, error: str) -> LineDecision:
    return _decision(
        line_no=line_no,
        sku=sku,
        requested=qty,
        in_stock=0,
        backordered=0,
        accepted=False,
        error=error,
        message=None,
        reason=RefusalReason.of(error),
    )


def decide_line(
    line_no: int,
    item: ItemState | None,
    settings: StoreSettings,
    qty: int,
    sku: str,
    notice: Notice = default_notice,
) -> LineDecision:
    """Split a request of ``qty`` into in-stock and backordered units, or refuse it.

    A request above salable qty is refused ("buying over threshold") or, when the
    store says ``over_threshold = "clamp"``, cut down to what may still be sold. A line
    with units on backorder in ``notify`` mode carries ``notice`` as its message.
    """
    if item is None:
        return _refused(line_no, sku, qty, "unknown_sku: no such item in this store")
    policy = effective_policy(settings, item)
    if item.purchasing_disabled:
        return _refused(line_no, sku, qty, "not_purchasable: the item is not for sale")
    if error := check_quantity(qty, policy):
        return _refused(line_no, sku, qty, error)
    granted = qty
    salable = salable_qty(item, policy)
    if salable is not None and qty > salable:
        over = "over_threshold" if backorders_allowed(item, policy) else "out_of_stock"
        error = f"{over}: only {salable} can be bought"
        if settings.over_threshold == "refuse" or salable <= 0:
            return _refused(line_no, sku, qty, error)
        granted = salable
    in_stock = min(granted, max(item.on_hand, 0)) if item.tracked else granted
    backordered = granted - in_stock
    message = None
    if backordered and policy.mode is Mode.NOTIFY:
        message = notice({
            "name": item.name or sku, "sku": sku, "qty": qty,
            "in_stock": in_stock, "backordered": backordered,
        })
    return _decision(
        line_no=line_no,
        sku=sku,
        requested=qty,
        in_stock=in_stock,
        backordered=backordered,
        accepted=True,
        message=message,
        error=None if granted == qty else f"clamped: {qty - granted} not sold",
        reason=None if granted == qty else RefusalReason.CLAMPED,
    )


def record_line(line_no: int, item: ItemState, qty: int, decided: LineDecision) -> LineDecision:
    """A line the platform already sold: booked whole, whatever the rules would have said.

    The split still follows the stock (in stock first, the rest backordered); a broken
    rule is kept as a note so a report can show the oversell.
    """
    in_stock = min(qty, max(item.on_hand, 0)) if item.tracked else qty
    error = (None if decided.accepted and decided.error is None
             else f"recorded past the rules: {decided.error}")
    return _decision(
        line_no=line_no, sku=item.sku, requested=qty, in_stock=in_stock,
        backordered=qty - in_stock, accepted=True, message=decided.message,
        error=error, reason=RefusalReason.of(error),
    )


def refuse_whole(decisions: list[LineDecision]) -> list[LineDecision]:
    """The lines of a refused order: an order is booked whole or not at all, so a line
    the rules passed is not accepted either, and says why (``order_refused``)."""
    if all(d.accepted for d in decisions):
        return decisions
    return [
        d if not d.accepted else _refused(
            d.line_no, d.sku, d.requested, "order_refused: another line of the order was refused"
        )
        for d in decisions
    ]
