"""Lightspeed's per-variant stock settings <-> the core's backorder policy.

| Lightspeed ``stockTracking`` | CSV ``Stock_Track`` / ``Stock_Disable_Sold_Out`` | core |
| --- | --- | --- |
| ``disabled`` | ``N`` / (``Y`` or empty) | ``tracked = False`` |
| ``enabled`` | ``Y`` / ``Y`` | ``mode = off`` |
| ``indicator`` | ``Y`` / ``N`` | ``mode = notify`` ("On backorder" is shown) |

Lightspeed has no backorder limit, so a translated item's ``threshold`` is unlimited
unless a core ``threshold`` is given with it. A tracked item whose fields do not say
whether sold-out sales are allowed (``Stock_Track=Y`` alone) follows the shop default
"Allow backorders" (off unless the shop turned it on, seed 003).

``stockAlert`` / ``Stock_Alert`` is the variant's "Inventory warning level" (Lightspeed's
"Product column titles" article); :func:`low_stock_level_of` maps it onto the core's
low-stock level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from backorder.models import BackorderState, CatalogItem, ItemInput, ItemView, Mode
from backorder_lightspeed_ecom.models import StockTracking, Variant, link_id

TITLE_COLUMN = re.compile(r"^[A-Z]{2}_Title_Short$")
CSV_FIELDS = {
    "Internal_ID",
    "Internal_Variant_ID",
    "SKU",
    "Stock_Track",
    "Stock_Disable_Sold_Out",
    "Stock_Level",
    "Stock_Min",
    "Stock_Alert",
}
NATIVE_FIELDS = {
    "id",
    "articleCode",
    "title",
    "product",
    "stockTracking",
    "stockLevel",
    "stockAlert",
    "stockMinimum",
    "stockBuyMinimum",
    "stockBuyMaximum",
    "stockSold",
    "updatedAt",
}
# Reasons where our ledger, not the platform, changed the stock: only then is stockLevel pushed.
PUSH_LEVEL_REASONS = {"assign", "edit", "tick", "unassign:track", "order_cancel", "order_return"}
HIDDEN = "hidden"
"""A product's ``visibility`` when the storefront must not sell it."""


def fallback_sku(variant_id: int | str) -> str:
    """The SKU of a variant that has none in Lightspeed."""
    return f"lightspeed-{variant_id}"


def variant_sku(variant: Variant) -> str:
    return (variant.sku or "").strip() or fallback_sku(variant.id)


def tracking_of(tracked: bool, mode: Mode | None) -> StockTracking:
    if not tracked:
        return StockTracking.DISABLED
    return StockTracking.ENABLED if mode is Mode.OFF else StockTracking.INDICATOR


def low_stock_level_of(stock_alert: int) -> int:
    """The core's low-stock level for a variant's ``stockAlert`` (0 = no warning).

    Lightspeed names the field "Inventory warning level" without saying whether it warns at
    that level or once the stock is below it (unconfirmed, README). This reads it the way
    BigCommerce's spec words its own "inventory warning level" and seed 001 words the
    low-stock level: below it. The core shows low stock below its level too, so the
    figures are the same; were Lightspeed to warn *at* the level, this would add one
    (and :func:`stock_alert_of` subtract it).
    """
    return stock_alert


def stock_alert_of(low_stock_level: int) -> int:
    """The ``stockAlert`` / ``Stock_Alert`` for a core low-stock level (inverse of the above)."""
    return low_stock_level


def policy_of(tracking: StockTracking) -> dict[str, Any]:
    """The ItemInput fields one ``stockTracking`` value stands for."""
    if tracking is StockTracking.DISABLED:
        return {"tracked": False}
    if tracking is StockTracking.ENABLED:
        return {"tracked": True, "mode": Mode.OFF}
    return {"tracked": True, "mode": Mode.NOTIFY}


# ----------------------------------------------------------------------- values
def yes_no(value: Any, column: str) -> bool | None:
    """A CSV Y/N cell; empty means "not given"."""
    text = "" if value is None else str(value).strip().upper()
    if text == "":
        return None
    if text in ("Y", "N"):
        return text == "Y"
    raise ValueError(f"column {column}: expected Y or N, got {value!r}")


def integer(value: Any, column: str, *, minimum: int | None = None) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"column {column}: expected a whole number, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"column {column}: expected a whole number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ValueError(f"column {column}: must be at least {minimum}, got {number}")
    return number


def title_column(fields: Mapping[str, Any]) -> str | None:
    found = [key for key in fields if TITLE_COLUMN.match(key)]
    if len(found) > 1:
        raise ValueError(f"columns {', '.join(found)}: give one XX_Title_Short column, not several")
    return found[0] if found else None


# ------------------------------------------------------------------ translation
def _put(out: dict[str, Any], key: str, value: Any, source: str) -> None:
    if value is None:
        return
    if key in out and out[key] != value:
        raise ValueError(f"{source}: contradicts {key}={out[key]!r} given with it")
    out[key] = value


def from_csv_fields(
    fields: Mapping[str, Any], *, allow_backorders_default: bool = False
) -> dict[str, Any]:
    """CSV columns -> ItemInput fields. Errors name the column.

    ``Stock_Track=Y`` without ``Stock_Disable_Sold_Out`` takes the shop default "Allow
    backorders" (``allow_backorders_default``), as a new product does in Lightspeed.
    """
    out: dict[str, Any] = {}
    title = title_column(fields)
    track = yes_no(fields.get("Stock_Track"), "Stock_Track")
    disable_sold_out = yes_no(fields.get("Stock_Disable_Sold_Out"), "Stock_Disable_Sold_Out")
    if track is False and disable_sold_out is False:
        raise ValueError(
            "columns Stock_Track, Stock_Disable_Sold_Out: Stock_Disable_Sold_Out=N asks for "
            "backorders, which need Stock_Track=Y (tracking is N)"
        )
    if track is False:
        out["tracked"] = False
    elif track is True:
        if disable_sold_out is None:
            disable_sold_out = not allow_backorders_default
        out["tracked"] = True
        out["mode"] = Mode.OFF if disable_sold_out else Mode.NOTIFY
    elif disable_sold_out is not None:
        raise ValueError("column Stock_Track: required with Stock_Disable_Sold_Out (Y or N)")
    variant_id = integer(fields.get("Internal_Variant_ID"), "Internal_Variant_ID", minimum=1)
    product_id = integer(fields.get("Internal_ID"), "Internal_ID", minimum=1)
    sku = str(fields.get("SKU") or "").strip()
    if variant_id is not None:
        out["variant_id"] = str(variant_id)
        out["sku"] = sku or fallback_sku(variant_id)
    elif sku:
        out["sku"] = sku
    if product_id is not None:
        out["product_id"] = str(product_id)
    if title:
        out["name"] = str(fields[title] or "").strip()
        if "sku" not in out and out["name"]:
            out["sku"] = f"new:{out['name']}"  # a new product: Lightspeed gives it ids on import
    _put(out, "on_hand", integer(fields.get("Stock_Level"), "Stock_Level"), "column Stock_Level")
    alert = integer(fields.get("Stock_Alert"), "Stock_Alert", minimum=0)
    if alert is not None:
        _put(out, "low_stock_level", low_stock_level_of(alert), "column Stock_Alert")
    integer(fields.get("Stock_Min"), "Stock_Min", minimum=0)  # validated; no core counterpart
    return out


def from_native_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Variant JSON fields (``stockTracking``, ``stockLevel``...) -> ItemInput fields."""
    out: dict[str, Any] = {}
    if "stockTracking" in fields:
        try:
            tracking = StockTracking(fields["stockTracking"])
        except ValueError:
            raise ValueError(
                f"field stockTracking: expected disabled, enabled or indicator, "
                f"got {fields['stockTracking']!r}"
            ) from None
        out.update(policy_of(tracking))
    if fields.get("id") is not None:
        out["variant_id"] = str(integer(fields["id"], "id", minimum=1))
    product = fields.get("product")
    if product is not None:
        out["product_id"] = str(product if isinstance(product, int | str) else link_id(product))
    if fields.get("title"):
        out["name"] = str(fields["title"])
    _put(out, "on_hand", integer(fields.get("stockLevel"), "stockLevel"), "field stockLevel")
    alert = integer(fields.get("stockAlert"), "stockAlert", minimum=0)
    if alert is not None:
        _put(out, "low_stock_level", low_stock_level_of(alert), "field stockAlert")
    _put(
        out,
        "min_sale_qty",
        integer(fields.get("stockBuyMinimum"), "stockBuyMinimum", minimum=1),
        "field stockBuyMinimum",
    )
    _put(
        out,
        "max_sale_qty",
        integer(fields.get("stockBuyMaximum"), "stockBuyMaximum", minimum=1),
        "field stockBuyMaximum",
    )
    integer(fields.get("stockMinimum"), "stockMinimum", minimum=0)  # validated; no core counterpart
    sku = str(fields.get("sku") or fields.get("articleCode") or "").strip()
    if not sku and "variant_id" in out:
        sku = fallback_sku(out["variant_id"])
    if sku:
        out["sku"] = sku
    return out


def translate(fields: Mapping[str, Any], *, allow_backorders_default: bool = False) -> ItemInput:
    """Any mix of core fields, Lightspeed variant fields and CSV columns -> ItemInput.

    A core field wins over nothing: given both ways with different values is an error
    (except ``sku``, where the core field names the item). ``allow_backorders_default`` is
    the shop's "Allow backorders" default (see :func:`from_csv_fields`).
    """
    csv_keys = {k for k in fields if k in CSV_FIELDS or TITLE_COLUMN.match(k)}
    native_keys = {k for k in fields if k in NATIVE_FIELDS}
    core = {k: v for k, v in fields.items() if k not in csv_keys | native_keys}
    derived = (
        from_csv_fields(
            {k: fields[k] for k in csv_keys}, allow_backorders_default=allow_backorders_default
        )
        if csv_keys
        else {}
    )
    if native_keys:
        native = from_native_fields({k: fields[k] for k in native_keys | ({"sku"} & set(fields))})
        for key, value in native.items():
            if key != "sku" or "sku" not in derived:
                _put(derived, key, value, f"field {key}")
    for key, value in derived.items():
        if key in core and key != "sku" and core[key] != value:
            raise ValueError(f"field {key}: given as {core[key]!r} and as {value!r}")
        core.setdefault(key, value)
    if derived.get("mode") is Mode.NOTIFY and "threshold" not in core:
        core["threshold"] = None  # Lightspeed has no backorder limit: unlimited
    return ItemInput.model_validate(core)


# -------------------------------------------------------------------- catalog
def catalog_items(variants: Iterable[Variant], titles: Mapping[int, str]) -> list[CatalogItem]:
    """One CatalogItem per variant; a SKU shared by several variants keeps it on the first
    (lowest id) and the others get ``{sku}-{variant id}``, so SKUs stay unique."""
    seen: set[str] = set()
    out = []
    for variant in sorted(variants, key=lambda v: v.id):
        sku = variant_sku(variant)
        if sku in seen:
            sku = f"{sku}-{variant.id}"
        seen.add(sku)
        product_title = titles.get(variant.product_id or -1, "")
        name = " - ".join(part for part in (product_title, variant.title or "") if part)
        tracked = variant.stockTracking is not StockTracking.DISABLED
        out.append(
            CatalogItem(
                sku=sku,
                product_id=str(variant.product_id or variant.id),
                variant_id=str(variant.id),
                name=name,
                on_hand=variant.stockLevel if tracked else None,
                tracked=tracked,
            )
        )
    return out


# ----------------------------------------------------------------------- push
def backorders_on(view: ItemView) -> bool:
    return (
        view.purchasable
        and view.tracked
        and view.mode is not Mode.OFF
        and view.state is not BackorderState.DISABLED
    )


def variant_update(view: ItemView, reason: str) -> dict[str, Any] | None:
    """The ``PUT variants/{id}`` fields (with the ``id``) that make Lightspeed follow our
    decision, or None.

    Unassigned items are left to the merchant unless the unassign asked otherwise:
    ``unassign:track`` hands tracking back with our stock; ``unassign:not_purchasable``
    turns backorders off and keeps Lightspeed's level (the product is hidden, see
    :func:`product_update`). ``stockLevel`` is sent only when our ledger changed the stock
    (see PUSH_LEVEL_REASONS): for orders and synced levels Lightspeed already holds it.
    """
    if not view.variant_id or not view.variant_id.isdigit():
        return None
    update: dict[str, Any] = {"id": int(view.variant_id)}
    if not view.assigned:
        if reason not in ("unassign:track", "unassign:not_purchasable"):
            return None
        update["stockTracking"] = StockTracking.ENABLED.value
        if reason in PUSH_LEVEL_REASONS:
            update["stockLevel"] = view.on_hand
        return update
    if not view.tracked:
        return update | {"stockTracking": StockTracking.DISABLED.value}
    tracking = StockTracking.INDICATOR if backorders_on(view) else StockTracking.ENABLED
    update["stockTracking"] = tracking.value
    if reason in PUSH_LEVEL_REASONS:
        update["stockLevel"] = view.on_hand
    return update


def product_update(view: ItemView, reason: str) -> dict[str, Any] | None:
    """The ``PUT products/{id}`` fields (with the ``id``) a push calls for, or None: an
    unassign that makes the product unbuyable hides it from the storefront (seed 001:
    "disable the product on your online store")."""
    if reason != "unassign:not_purchasable" or view.assigned:
        return None
    if not view.product_id or not view.product_id.isdigit():
        return None
    return {"id": int(view.product_id), "visibility": HIDDEN}
