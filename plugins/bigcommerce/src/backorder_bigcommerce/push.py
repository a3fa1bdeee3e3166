"""Push our decisions to BigCommerce in as few calls as the batch limits allow.

App mode (the seeds' app): assigned products have ``inventory_tracking: none`` and we
steer purchasability — ``availability`` + ``availability_description`` on a simple
product, ``purchasing_disabled`` + ``purchasing_disabled_message`` on a variant.
Native mode (beta): tracking stays on and we set each item's ``backorder_limit`` at the
store's location; BigCommerce then sells into backorder itself.

A :class:`Mirror` remembers the fields last read or written per product and variant, so
an update that would change nothing is not sent (a bulk assign of products already
available costs only the tracking batch).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backorder.errors import PushIncomplete
from backorder.models import ItemView
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce.client import BigCommerceClient
from backorder_bigcommerce.connection import Connection
from backorder_bigcommerce.mapping import availability_text, disabled_message


@dataclass
class Mirror:
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    variants: dict[int, dict[str, Any]] = field(default_factory=dict)

    def remember_catalog(self, products: Sequence[s.ProductFull]) -> None:
        for p in products:
            self.products[p.id] = {
                "inventory_tracking": p.inventory_tracking,
                "availability": p.availability,
                "availability_description": p.availability_description,
            }
            for v in p.variants:
                self.variants[v.id] = {
                    "purchasing_disabled": v.purchasing_disabled,
                    "purchasing_disabled_message": v.purchasing_disabled_message,
                }

    @staticmethod
    def _diff(known: dict[str, Any] | None, wanted: dict[str, Any]) -> dict[str, Any]:
        if known is None:
            return wanted
        return {k: v for k, v in wanted.items() if known.get(k) != v}


_mirrors: weakref.WeakKeyDictionary[BigCommerceClient, Mirror] = weakref.WeakKeyDictionary()


def mirror_for(client: BigCommerceClient) -> Mirror:
    """The client's mirror, dropped with the client: a new client (a new connection, or one
    built after a transport change) starts with nothing remembered, even when Python hands
    it the id of a closed one."""
    return _mirrors.setdefault(client, Mirror())


def apply(
    client: BigCommerceClient,
    conn: Connection,
    items: Sequence[ItemView],
    reason: str,
    texts: Mapping[str, str] | None = None,
):
    """Translate one core change into product, variant and inventory batches; ``texts``
    (SKU -> availability text) replaces the built-in wording (the store's own messages)."""
    mirror = mirror_for(client)
    products: dict[int, dict[str, Any]] = {}
    variants: dict[int, dict[str, Any]] = {}
    variant_ids: dict[int, int] = {}  # variant -> its product
    levels: list[tuple[int, s.AdjustmentItem]] = []
    limits: list[tuple[int, s.LocationItemSetting]] = []
    native = conn.mode == "native"
    for view in items:
        if not view.product_id:
            continue
        pid = int(view.product_id)
        vid = int(view.variant_id) if view.variant_id else None
        if reason == "unassign" or (not view.assigned and not reason.startswith("unassign")):
            continue  # "keep", or an item we do not manage
        product = products.setdefault(pid, {})
        if reason == "unassign:track":
            if not native:
                product["inventory_tracking"] = "variant" if vid else "product"
                levels.append((pid, _adjust(conn, pid, vid, max(view.on_hand, 0))))
            else:
                limits.append((pid, _limit(pid, vid, 0)))
            continue
        if reason == "unassign:not_purchasable":
            product["availability"] = "disabled"
            if native:
                limits.append((pid, _limit(pid, vid, 0)))
            continue
        if native:
            if reason == "assign" and mirror.products.get(pid, {}).get("inventory_tracking") in (
                None,
                "none",
            ):
                product["inventory_tracking"] = "variant" if vid else "product"
            allowed = (
                view.purchasable and view.mode.value != "off" and view.state.value != "disabled"
            )
            limits.append((pid, _limit(pid, vid, view.threshold if allowed else 0)))
        elif reason == "assign":
            product["inventory_tracking"] = "none"
        if vid is None:
            product["availability"] = "available" if view.purchasable else "disabled"
            product["availability_description"] = (
                texts[view.sku] if texts is not None and view.sku in texts
                else availability_text(view)
            )
        else:
            variant_ids[vid] = pid
            variants[vid] = {
                "purchasing_disabled": not view.purchasable,
                "purchasing_disabled_message": "" if view.purchasable else disabled_message(view),
            }
    product_changes = {
        pid: change
        for pid, wanted in products.items()
        if (change := Mirror._diff(mirror.products.get(pid), wanted))
    }
    # tracking first: BigCommerce adjusts stock by the tracking mode it has now. The mirror
    # learns a change only once BigCommerce took it: a failed push is retried in full, and
    # a product a 207 left unsaved is retried with its variants, levels and limits.
    outcome = client.update_products(
        [s.ProductPutCollectionItem(id=pid, **c) for pid, c in product_changes.items()]
    )
    for pid, change in product_changes.items():
        if pid not in outcome.failed:
            mirror.products.setdefault(pid, {}).update(change)
    # a product BigCommerce did not save keeps all its changes for the retry
    saved = [v for v in variant_ids if variant_ids[v] not in outcome.failed]
    variant_changes = {
        vid: change
        for vid in saved
        if (change := Mirror._diff(mirror.variants.get(vid), variants[vid]))
    }
    client.update_variants([s.ProductVariantPut(id=vid, **c) for vid, c in variant_changes.items()])
    for vid, change in variant_changes.items():
        mirror.variants.setdefault(vid, {}).update(change)
    to_set = [level for pid, level in levels if pid not in outcome.failed]
    if to_set:
        client.set_levels(to_set, reason=f"backorder: {reason}")
    to_limit = [limit for pid, limit in limits if pid not in outcome.failed]
    if to_limit:
        client.set_location_settings(conn.location_id, to_limit)
    if outcome.failed:
        raise not_saved(client, items, outcome.failed)


def not_saved(
    client: BigCommerceClient, items: Sequence[ItemView], failed: dict[int, str]
) -> PushIncomplete:
    """The push outbox's error for the products a 207 left unsaved, naming their SKUs."""
    skus = [view.sku for view in items if view.product_id and int(view.product_id) in failed]
    reasons = "; ".join(f"product {pid}: {why}" for pid, why in sorted(failed.items()))
    return PushIncomplete(
        f"BigCommerce PUT {client.http.url('/v3/catalog/products')}: HTTP 207: "
        f"not saved: {', '.join(skus)} ({reasons})",
        failed=skus,
        platform="bigcommerce",
        url=client.http.url("/v3/catalog/products"),
        status=207,
    )


def _adjust(conn: Connection, pid: int, vid: int | None, qty: int) -> s.AdjustmentItem:
    if vid is None:
        return s.AdjustmentItem(location_id=conn.location_id, product_id=pid, quantity=qty)
    return s.AdjustmentItem(location_id=conn.location_id, variant_id=vid, quantity=qty)


def _limit(pid: int, vid: int | None, limit: int | None) -> s.LocationItemSetting:
    identity = s.Identity(variant_id=vid) if vid else s.Identity(product_id=pid)
    return s.LocationItemSetting(identity=identity, backorder_limit=limit)
