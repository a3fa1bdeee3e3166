"""BigCommerce fields <-> core items: catalog rows, native item fields, storefront messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backorder.models import CatalogItem, ItemInput, ItemView, Mode, Status
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce import unconfirmed as u

CORE_FIELDS = set(ItemInput.model_fields)
NATIVE_FIELDS = {
    "id",
    "inventory_level",
    "inventory_warning_level",
    "inventory_tracking",
    "availability",
    "availability_description",
    "purchasing_disabled",
    "purchasing_disabled_message",
    "order_quantity_minimum",
    "order_quantity_maximum",
    "backorder_limit",
}


def low_stock_level(warning_level: int | None, *, variant: bool = False) -> int | None:
    """The core's ``low_stock_level`` for a BigCommerce ``inventory_warning_level``.

    BigCommerce informs the merchant when the level "drops below the warning level"
    (products_catalog.v3.yml ``inventory_warning_level``; inventory.v3.yml ``warning_level``),
    which is the core's low-stock rule (seed 001: "drops below") with the same number. 0 sets
    no warning (a tracked level never drops below 0): ``None``, so the store's default
    applies. A variant's level reads the same unless ``unconfirmed.VARIANT_WARNING_IS_BELOW``
    is turned off ("hits this inventory level": one unit more).
    """
    if not warning_level or warning_level < 0:
        return None
    return warning_level if not variant or u.VARIANT_WARNING_IS_BELOW else warning_level + 1


def _policy(warning_level: int | None, *, variant: bool) -> dict[str, Any]:
    level = low_stock_level(warning_level, variant=variant)
    return {} if level is None else {"low_stock_level": level}


def catalog_items(product: s.ProductFull) -> list[CatalogItem]:
    """A simple product is one item; a product with options is one item per variant. Each
    carries its BigCommerce warning level as the low-stock level (for items new to us)."""
    if not product.has_options:
        return [
            CatalogItem(
                sku=product.sku,
                product_id=str(product.id),
                name=product.name,
                on_hand=product.inventory_level,
                tracked=True,
                policy=_policy(product.inventory_warning_level, variant=False),
            )
        ]
    return [
        CatalogItem(
            sku=v.sku,
            product_id=str(product.id),
            variant_id=str(v.id),
            name=f"{product.name} — {_label(v)}",
            on_hand=v.inventory_level or 0,
            tracked=True,
            policy=_policy(v.inventory_warning_level, variant=True),
        )
        for v in product.variants
    ]


def _label(variant: s.ProductVariantFull) -> str:
    labels = [str(o.get("label")) for o in variant.option_values if o.get("label")]
    return " / ".join(labels) or variant.sku


def translate(fields: Mapping[str, Any]) -> ItemInput:
    """BigCommerce product/variant fields (core fields may be mixed in; they win).

    ``inventory_level`` → on hand; ``inventory_tracking: none`` → untracked;
    ``availability: disabled`` / ``purchasing_disabled`` → not purchasable;
    ``inventory_warning_level`` → low-stock level (:func:`low_stock_level`);
    ``order_quantity_minimum/maximum`` (0 = none) → sale limits; native ``backorder_limit``
    → backorders on with that threshold (``null`` = unlimited, *unconfirmed*).
    """
    unknown = set(fields) - CORE_FIELDS - NATIVE_FIELDS
    if unknown:
        raise ValueError(f"unknown BigCommerce field(s): {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    if "inventory_level" in fields:
        out["on_hand"] = fields["inventory_level"]
    tracking = fields.get("inventory_tracking")
    if tracking is not None:
        if tracking not in ("none", "product", "variant"):
            raise ValueError(f"inventory_tracking: {tracking!r} is not none, product or variant")
        out["tracked"] = tracking != "none"
    availability = fields.get("availability")
    if availability is not None:
        if availability not in ("available", "disabled", "preorder"):
            raise ValueError(
                f"availability: {availability!r} is not available, disabled or preorder"
            )
        out["purchasing_disabled"] = availability == "disabled"
    if fields.get("purchasing_disabled"):
        out["purchasing_disabled"] = True
    level = low_stock_level(fields.get("inventory_warning_level"))
    if level is not None:
        out["low_stock_level"] = level
    if fields.get("order_quantity_minimum"):
        out["min_sale_qty"] = fields["order_quantity_minimum"]
    if fields.get("order_quantity_maximum"):
        out["max_sale_qty"] = fields["order_quantity_maximum"]
    if "backorder_limit" in fields:
        limit = fields["backorder_limit"]
        out["mode"] = Mode.NOTIFY
        out["threshold"] = None if limit is None and u.BACKORDER_LIMIT_NULL_IS_UNLIMITED else limit
    if "id" in fields and "product_id" not in fields:
        out["product_id"] = str(fields["id"])
    out.update({k: v for k, v in fields.items() if k in CORE_FIELDS})
    return ItemInput.model_validate(out)


def availability_text(view: ItemView) -> str:
    """The product's availability text (shown under the title) for its status."""
    if view.status is Status.BACKORDER and view.mode is Mode.NOTIFY:
        when = _when(view)
        return f"On backorder{f': back in stock {when}' if when else ''}"[:255]
    return ""


def disabled_message(view: ItemView) -> str:
    when = _when(view)
    return f"Sold out{f' — back in stock {when}' if when else ''}"[:255]


def _when(view: ItemView) -> str:
    return view.back_in_stock_date.date().isoformat() if view.back_in_stock_date else ""
