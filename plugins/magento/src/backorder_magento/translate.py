"""Magento stock items ⇄ the core's items.

To the core (:func:`to_item_input`): backorders 0/1/2 → mode off/silent/notify; with
backorders on, a negative ``min_qty`` is the threshold (``-min_qty``) and ``min_qty >= 0``
is unlimited; with backorders off a positive ``min_qty`` is the out-of-stock threshold and
a negative one counts as 0 (MSI's ``AdaptMinQtyToBackordersPlugin``); ``manage_stock`` 0 →
untracked; min/max sale qty (``max_sale_qty`` 0 = no limit) and qty increments (only when
enabled) → the policy's quantity rules, always through the ``use_config_*`` fallback — a
Magento field is translated, never passed to the core by name, even where the names are
the same; a *manual* ``is_in_stock = 0`` → not purchasable. Items sold in decimal
quantities (``is_qty_decimal = 1``) are refused: the core counts whole units.

Back to Magento (:func:`to_stock_item_update`): the ``stockItem`` body a PUT sends;
:func:`backorders_and_min_qty` is how a mode and a limit are spelled in Magento.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from backorder.errors import InvalidInput, first_problem
from backorder.models import POLICY_FIELDS, ItemInput, ItemView, Mode
from backorder_magento.models import (
    USE_CONFIG_FLAGS,
    ItemOptions,
    StockItem,
    stock_item_from_fields,
)
from backorder_magento.stock_rules import (
    backorder_limit,
    effective,
    set_in_stock_automatically,
)

MODES = {0: Mode.OFF, 1: Mode.SILENT, 2: Mode.NOTIFY}
BACKORDERS = {mode: value for value, mode in MODES.items()}

MAGENTO_FIELDS = set(StockItem.model_fields) | {"config"}
CORE_FIELDS = set(ItemInput.model_fields)
CORE_ONLY = CORE_FIELDS - MAGENTO_FIELDS - {"sku", "name"}
"""Core fields a Magento item may carry as they are (``threshold``, ``incoming_qty``...);
a name Magento also uses (``min_sale_qty``, ``max_sale_qty``, ``qty_increments``) is
Magento's and goes through the translation."""


def refuse_decimal(item: StockItem) -> None:
    """Refuse an item Magento sells in decimal quantities, naming its SKU.

    :raises backorder.errors.InvalidInput: ``is_qty_decimal = 1`` ("Qty Uses Decimals").
    """
    if item.is_qty_decimal:
        raise InvalidInput(
            f"is_qty_decimal: SKU {item.sku!r} is sold in decimal quantities (Qty Uses "
            "Decimals = Yes); backorder counts whole units: set it to No in Magento or keep "
            "the item out of this store"
        )


def _whole(value: float | None, field: str, *, minimum: int | None = None) -> int:
    number = float(value or 0)
    if not math.isclose(number, round(number)):
        raise ValueError(f"{field}: {value} is not a whole number; the core counts whole units")
    whole = round(number)
    if minimum is not None and whole < minimum:
        raise ValueError(f"{field}: must be at least {minimum}, got {value}")
    return whole


def split_fields(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate Magento fields from core fields; an unknown field is an error naming it."""
    unknown = sorted(set(fields) - MAGENTO_FIELDS - CORE_FIELDS)
    if unknown:
        raise ValueError(f"{unknown[0]}: not a Magento stock item field nor a core item field")
    native = {k: v for k, v in fields.items() if k in MAGENTO_FIELDS}
    core = {k: v for k, v in fields.items() if k in CORE_ONLY}
    return native, core


def to_item_input(fields: Mapping[str, Any], config: ItemOptions | None = None) -> ItemInput:
    """A Magento item (plus optional core fields and ``config``) as a core :class:`ItemInput`.

    ``config`` (in the fields, or passed by the caller from the store) is the global
    ``cataloginventory/item_options/*``. Core-only fields (:data:`CORE_ONLY`, e.g.
    ``threshold``) win over the values translated from Magento's; a field Magento also
    has is always read as Magento's.
    """
    native, core = split_fields(fields)
    if "config" in native:
        config = ItemOptions.from_mapping(native.pop("config"))
    config = config or ItemOptions()
    try:
        item = stock_item_from_fields(native)
    except ValidationError as exc:
        where, problem = first_problem(exc)
        raise ValueError(f"{where}: {problem}") from None
    if not item.sku:
        raise ValueError("sku: required")
    refuse_decimal(item)
    eff = effective(item, config)
    translated: dict[str, Any] = {
        "sku": item.sku,
        "tracked": eff.manage_stock,
        "on_hand": _whole(item.qty, "qty"),
        "mode": MODES[eff.backorders],
        "min_sale_qty": _whole(eff.min_sale_qty, "min_sale_qty") or 1,
        "max_sale_qty": _whole(eff.max_sale_qty, "max_sale_qty") or None,
    }
    if item.name is not None:  # a row without a name (the CSV has none) keeps the stored one
        translated["name"] = item.name
    if item.product_id is not None:
        translated["product_id"] = str(item.product_id)
    if eff.qty_increments:
        translated["qty_increments"] = _whole(eff.qty_increments, "qty_increments", minimum=1)
    if eff.backorders:
        limit = backorder_limit(eff)
        translated["threshold"] = None if limit is None else _whole(limit, "min_qty")
    elif eff.min_qty > 0:
        translated["out_of_stock_threshold"] = _whole(eff.min_qty, "min_qty")
    # An out-of-stock Magento set automatically follows qty, which the core computes itself;
    # one a merchant set (or a save reset to manual) stays until changed by hand.
    settled = set_in_stock_automatically(item, config)
    if eff.manage_stock and not settled.is_in_stock and settled.stock_status_changed_auto != 1:
        translated["purchasing_disabled"] = True
    merged = {**translated, **core}
    given_policy = {k for k in fields if k in POLICY_FIELDS}
    use_default = [f for f in merged.pop("use_default", []) if f not in given_policy]
    return ItemInput.model_validate({**merged, "use_default": use_default})


def backorders_and_min_qty(view: ItemView) -> tuple[int, int]:
    """Magento's ``backorders`` and ``min_qty`` for the view's mode and backorder limit.

    A limit is a negative ``min_qty``; backorders on with ``min_qty`` 0 (or more) is
    *unlimited* in Magento (MSI ``BackOrderCondition``, ``AdaptMinQtyToBackordersPlugin``),
    so a limit of 0 is spelled "backorders off" (``min_qty`` 0: the core then sells only
    what is on hand, as Magento does). With the mode off, ``min_qty`` is the out-of-stock
    threshold.
    """
    if view.mode is Mode.OFF:
        return BACKORDERS[Mode.OFF], view.policy.out_of_stock_threshold
    if view.threshold == 0:
        return BACKORDERS[Mode.OFF], 0
    return BACKORDERS[view.mode], -view.threshold if view.threshold is not None else 0


def to_stock_item_update(view: ItemView, reason: str) -> dict[str, Any]:
    """The ``stockItem`` fields to PUT so Magento enforces what the core decided.

    Settings are written per item (``use_config_* = 0``) while the item is assigned;
    ``unassign:track`` hands them back to the global config. ``qty`` is never written:
    Magento (MSI) owns it and reservations would be overwritten.
    """
    if not view.assigned:
        if reason == "unassign:track":
            return {flag: True for flag in ("use_config_backorders", "use_config_min_qty")}
        if reason == "unassign:not_purchasable":
            return {"is_in_stock": False}
        return {}
    policy = view.policy
    backorders, min_qty = backorders_and_min_qty(view)
    body: dict[str, Any] = {
        "use_config_manage_stock": False,
        "manage_stock": view.tracked,
        "use_config_backorders": False,
        "backorders": backorders,
        "use_config_min_qty": False,
        "min_qty": min_qty,
        "use_config_min_sale_qty": False,
        "min_sale_qty": policy.min_sale_qty,
        "is_in_stock": view.purchasable,
    }
    if policy.max_sale_qty is not None:
        body |= {"use_config_max_sale_qty": False, "max_sale_qty": policy.max_sale_qty}
    if policy.qty_increments > 1:
        body |= {
            "use_config_enable_qty_inc": False,
            "enable_qty_increments": True,
            "use_config_qty_increments": False,
            "qty_increments": policy.qty_increments,
        }
    return body


__all__ = [
    "BACKORDERS",
    "MODES",
    "USE_CONFIG_FLAGS",
    "backorders_and_min_qty",
    "refuse_decimal",
    "to_item_input",
    "to_stock_item_update",
]
