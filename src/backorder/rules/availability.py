"""How many units of an item may be sold, and how it shows to a customer."""

from __future__ import annotations

from backorder.models import (
    BackorderPolicy,
    BackorderState,
    ItemState,
    ItemView,
    Mode,
    Status,
    StoreSettings,
)

_policies: dict[tuple[int, tuple], tuple[BackorderPolicy, BackorderPolicy]] = {}


def effective_policy(settings: StoreSettings, item: ItemState) -> BackorderPolicy:
    """The store defaults with the item's explicit overrides laid on top.

    Validated, not ``model_copy(update=...)``: overrides read back from storage are plain
    JSON (``"off"``), and ``policy.mode is Mode.OFF`` must hold for them too. A policy is
    validated once per (defaults, overrides) pair; orders ask for the same ones again.
    """
    if not item.overrides:
        return settings.defaults
    defaults = settings.defaults
    key = (id(defaults), tuple(sorted(item.overrides.items())))
    cached = _policies.get(key)
    if cached is not None and cached[0] is defaults:  # the id may be a new object's
        return cached[1]
    policy = BackorderPolicy.model_validate({**defaults.model_dump(), **item.overrides})
    if len(_policies) > 10_000:
        _policies.clear()
    _policies[key] = (defaults, policy)
    return policy


def backorders_allowed(item: ItemState, policy: BackorderPolicy) -> bool:
    """True while the item may sell below zero: assigned, tracked, mode on, not switched off."""
    return (
        item.assigned
        and item.tracked
        and policy.mode is not Mode.OFF
        and item.state is not BackorderState.DISABLED
    )


def salable_qty(item: ItemState, policy: BackorderPolicy) -> int | None:
    """Units that may still be sold; ``None`` means unlimited.

    An item that cannot be bought (``purchasing_disabled``) has 0, tracked or not: as
    MSI's salable qty is 0 when no source is in stock. Otherwise, backorders on: stock +
    threshold (seed 001), unlimited when the threshold is; backorders off: what is on hand
    above the out-of-stock threshold (0 unless set); untracked items are unlimited.
    """
    if item.purchasing_disabled:
        return 0
    if not item.tracked:
        return None
    if backorders_allowed(item, policy):
        if policy.threshold is None:
            return None
        return max(item.on_hand + policy.threshold, 0)
    return max(item.on_hand - policy.out_of_stock_threshold, 0)


def backordered_units(item: ItemState) -> int:
    """Units sold and not yet covered by stock (stock 0, one backordered -> on hand -1)."""
    return max(-item.on_hand, 0) if item.tracked else 0


def purchasable(item: ItemState, policy: BackorderPolicy) -> bool:
    if item.purchasing_disabled:
        return False
    salable = salable_qty(item, policy)
    return salable is None or salable > 0


def below_low_stock(on_hand: int, level: int) -> bool:
    """Low stock: the stock "drops below" the low-stock level (seed 001 §4.2.1), strictly;
    a level of 0 never applies (stock below 0 is on backorder or sold out, not low)."""
    return level > 0 and on_hand < level


def status(item: ItemState, policy: BackorderPolicy) -> Status:
    if not purchasable(item, policy):
        return Status.UNAVAILABLE
    if item.tracked and item.state is BackorderState.ENABLED:
        return Status.BACKORDER
    if item.tracked and below_low_stock(item.on_hand, policy.low_stock_level):
        return Status.LOW_STOCK
    return Status.IN_STOCK


def view(item: ItemState, settings: StoreSettings) -> ItemView:
    """Everything a storefront, a report or a platform push needs to know about an item."""
    policy = effective_policy(settings, item)
    return ItemView(
        sku=item.sku,
        product_id=item.product_id,
        variant_id=item.variant_id,
        name=item.name,
        assigned=item.assigned,
        tracked=item.tracked,
        on_hand=item.on_hand,
        salable=salable_qty(item, policy),
        status=status(item, policy),
        purchasable=purchasable(item, policy),
        mode=policy.mode,
        threshold=policy.threshold,
        backordered=backordered_units(item),
        state=item.state,
        disabled_reason=item.disabled_reason,
        incoming_qty=item.incoming_qty,
        back_in_stock_date=item.back_in_stock_date,
        policy=policy,
    )
