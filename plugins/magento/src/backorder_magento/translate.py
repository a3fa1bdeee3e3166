"""Magento stock items ⇄ the core's items.

To the core (:func:`to_item_input`): backorders 0/1/2 → mode off/silent/notify; with
backorders on, a negative ``min_qty`` is the threshold (``-min_qty``) and ``min_qty >= 0``
is unlimited; with backorders off a positive ``min_qty`` is the out-of-stock threshold;
``manage_stock`` 0 → untracked; min/max sale qty and (enabled) qty increments → the
policy's quantity rules; a *manual* ``is_in_stock = 0`` → not purchasable.

Back to Magento (:func:`to_stock_item_update`): the ``stockItem`` body a PUT sends.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from backorder.models import POLICY_FIELDS, ItemInput, ItemView, Mode
from backorder_magento.models import (
    USE_CONFIG_FLAGS,
    ItemOptions,
    StockItem,
    stock_item_from_fields,
)
from backorder_magento.stock_rules import effective, set_in_stock_automatically

MODES = {0: Mode.OFF, 1: Mode.SILENT, 2: Mode.NOTIFY}
BACKORDERS = {mode: value for value, mode in MODES.items()}

MAGENTO_FIELDS = set(StockItem.model_fields) | {"config"}
CORE_FIELDS = set(ItemInput.model_fields)
CORE_ONLY = CORE_FIELDS - {"sku", "name"}


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
    ``cataloginventory/item_options/*``; fields given with the core's names win over the
    values translated from Magento's.
    """
    native, core = split_fields(fields)
    if "config" in native:
        config = ItemOptions.from_mapping(native.pop("config"))
    config = config or ItemOptions()
    try:
        item = stock_item_from_fields(native)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    if not item.sku:
        raise ValueError("sku: required")
    eff = effective(item, config)
    translated: dict[str, Any] = {
        "sku": item.sku,
        "name": item.name or "",
        "tracked": eff.manage_stock,
        "on_hand": _whole(item.qty, "qty"),
        "mode": MODES[eff.backorders],
        "min_sale_qty": _whole(eff.min_sale_qty, "min_sale_qty") or 1,
        "max_sale_qty": _whole(eff.max_sale_qty, "max_sale_qty") or None,
    }
    if item.product_id is not None:
        translated["product_id"] = str(item.product_id)
    if eff.qty_increments:
        translated["qty_increments"] = _whole(eff.qty_increments, "qty_increments", minimum=1)
    if eff.backorders:
        limit = -eff.min_qty if eff.min_qty < 0 else None
        translated["threshold"] = None if limit is None else _whole(limit, "min_qty")
    elif eff.min_qty < 0:
        raise ValueError(
            "min_qty: a negative Out-of-Stock Threshold needs backorders 1 or 2 "
            "(it is the backorder limit)"
        )
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
    body: dict[str, Any] = {
        "use_config_manage_stock": False,
        "manage_stock": view.tracked,
        "use_config_backorders": False,
        "backorders": BACKORDERS[view.mode],
        "use_config_min_qty": False,
        "min_qty": -view.threshold
        if view.mode is not Mode.OFF and view.threshold is not None
        else policy.out_of_stock_threshold,
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


__all__ = ["BACKORDERS", "MODES", "USE_CONFIG_FLAGS", "to_item_input", "to_stock_item_update"]
