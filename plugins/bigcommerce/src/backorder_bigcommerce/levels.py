"""Stock figures read from BigCommerce, as the core's :class:`~backorder.models.StockLevel`.

App mode: BigCommerce's own count of an untracked product, which our sales do not reduce
(``platform_count``: only its changes are applied). Native mode: BigCommerce counts for
itself, so its figure is absolute; it becomes *our* count (stock less the units on
backorder) by the reading ``unconfirmed.ON_HAND_EXCLUDES_BACKORDERED`` settles: with it
BigCommerce's on-hand excludes backordered units ("BigCommerce tracks backordered
quantities separately from on-hand inventory", beta guide) and they are subtracted.
"""

from __future__ import annotations

from collections.abc import Collection

from backorder.models import StockLevel
from backorder_bigcommerce import schemas as s
from backorder_bigcommerce import unconfirmed as u
from backorder_bigcommerce.client import BigCommerceClient
from backorder_bigcommerce.connection import Connection

FILTER_MOST = 10 * u.SKU_FILTER_CHUNK
"""Above this many SKUs one read of every item costs fewer calls than ``sku:in`` filters."""


def our_count(row: s.ItemResponse, native: bool) -> int:
    """An inventory item's figure, summed over its locations, in our terms."""
    on_hand = sum(location.total_inventory_onhand for location in row.locations)
    if native and u.ON_HAND_EXCLUDES_BACKORDERED:
        return on_hand - sum(location.backordered for location in row.locations)
    return on_hand


def read_levels(
    client: BigCommerceClient, conn: Connection, skus: Collection[str] | None = None
) -> list[StockLevel]:
    """The inventory figures of some SKUs (every item when ``skus`` is None)."""
    wanted = None if skus is None else set(skus)
    query = sorted(wanted) if wanted is not None and len(wanted) <= FILTER_MOST else None
    if wanted is not None and not wanted:
        return []
    native = conn.mode == "native"
    return [
        StockLevel(sku=row.identity.sku, on_hand=our_count(row, native), basis=conn.level_basis)
        for row in client.inventory_items(query)
        if row.identity.sku and (wanted is None or row.identity.sku in wanted)
    ]
