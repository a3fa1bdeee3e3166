"""Backorder shipping text on Lightspeed's own product pages, through delivery timeframes.

Lightspeed eCom has no per-variant availability text a theme shows. What it has is the
product's *delivery timeframe* (``product.deliverydate``, a link to a shop-wide
``deliverydates`` record with ``inStockMessage`` and ``outStockMessage``; PHP client
``WebshopappApiResourceDeliverydates``, jessegall SDK ``deliverydate.json`` /
``product.json``). So while a product has a variant on backorder, the plugin points the
product at a timeframe of its own:

* ``name`` ``backorder:{merchant's timeframe id or 0}:{digest of the text}``: the name says
  which timeframe to put back, so no state is kept outside Lightspeed;
* ``inStockMessage``: the merchant's own (in-stock variants of the product read what they
  read before), ``outStockMessage``: our shipping description.

Identical texts over the same merchant timeframe share one record. When no variant of the
product is on backorder any more, the merchant's timeframe goes back on the product and our
record is deleted once no product points at it. A variant counts as on backorder when its
SKU's messages carry a shipping description, or, for its siblings, when Lightspeed sells it
sold out (``indicator``) with no stock left.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from backorder.errors import PlatformError
from backorder_lightspeed_ecom.client import LightspeedClient
from backorder_lightspeed_ecom.mapping import variant_sku
from backorder_lightspeed_ecom.models import DeliveryDate, StockTracking, Variant

PREFIX = "backorder:"


@dataclass(frozen=True)
class Managed:
    """A timeframe of ours, read from its name."""

    original: int | None
    """The merchant's timeframe it stands in for (None: the product had none)."""

    @staticmethod
    def of(timeframe: DeliveryDate | None) -> Managed | None:
        if timeframe is None or not timeframe.name.startswith(PREFIX):
            return None
        original = timeframe.name[len(PREFIX) :].split(":", 1)[0]
        return Managed(int(original) or None if original.isdigit() else None)


def merchants(
    timeframe: DeliveryDate | None, timeframes: Mapping[int, DeliveryDate]
) -> DeliveryDate | None:
    """The merchant's own timeframe: ``timeframe``, or the one it stands in for when it is
    ours (order notes keep the merchant's wording, ``sync.py``)."""
    ours = Managed.of(timeframe)
    if ours is None:
        return timeframe
    return timeframes.get(ours.original) if ours.original else None


def managed_name(original: int | None, text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{PREFIX}{original or 0}:{digest}"


def on_backorder(variant: Variant) -> bool:
    """Lightspeed sells it with none left (``indicator`` at or below 0)."""
    return variant.stockTracking is StockTracking.INDICATOR and variant.stockLevel <= 0


def publish(client: LightspeedClient, sku: str, messages: Mapping[str, str]) -> str | None:
    """Point ``sku``'s product at the timeframe its messages call for; returns the product's
    timeframe name afterwards (None: none), for the CLI and tests."""
    variants = client.variants()
    variant = next((v for v in variants if variant_sku(v) == sku), None)
    if variant is None or variant.product_id is None:
        raise PlatformError(f"lightspeed_ecom: no variant with SKU {sku!r} to publish to")
    product = client.product(variant.product_id)
    timeframes = {d.id: d for d in client.deliverydates()}
    current = timeframes.get(product.deliverydate_id) if product.deliverydate_id else None
    ours = Managed.of(current)
    original = ours.original if ours else product.deliverydate_id
    text = (messages.get("shipping_description") or "").strip()
    siblings = [v for v in variants if v.product_id == product.id and v.id != variant.id]
    if text:
        wanted = _ensure(client, timeframes, original, text)
        if product.deliverydate_id != wanted.id:
            client.update_product(product.id, {"deliverydate": wanted.id})
        _collect(client, current, keep=wanted.id)
        return wanted.name
    if ours is None or any(on_backorder(v) for v in siblings):
        return current.name if current else None  # the merchant's own, or a sibling still waits
    client.update_product(product.id, {"deliverydate": original or False})
    _collect(client, current, keep=original)
    back = timeframes.get(original) if original else None
    return back.name if back else None


def _ensure(
    client: LightspeedClient, timeframes: dict[int, DeliveryDate], original: int | None, text: str
) -> DeliveryDate:
    name = managed_name(original, text)
    for timeframe in timeframes.values():
        if timeframe.name == name:
            return timeframe
    merchant = timeframes.get(original) if original else None
    created = client.create_deliverydate(
        {
            "name": name,
            "inStockMessage": merchant.inStockMessage if merchant else "",
            "outStockMessage": text,
        }
    )
    timeframes[created.id] = created
    return created


def _collect(client: LightspeedClient, old: DeliveryDate | None, keep: int | None) -> None:
    """Delete our timeframe ``old`` once no product points at it any more."""
    if old is None or old.id == keep or Managed.of(old) is None:
        return
    if any(p.deliverydate_id == old.id for p in client.products()):
        return
    client.delete_deliverydate(old.id)
