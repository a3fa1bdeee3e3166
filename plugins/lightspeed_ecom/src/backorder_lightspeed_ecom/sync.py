"""Store-level flows: catalog sync with the shop default, and orders.

These take a :class:`~backorder.engine.StoreService` and a client and go through the core
for every decision, so the ledger stays the record of what happened.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from backorder.engine import StoreService
from backorder.models import ItemInput, LineRequest, Mode, OrderIn, OrderResult, StockLevel
from backorder_lightspeed_ecom.client import LightspeedClient, connection_of
from backorder_lightspeed_ecom.mapping import (
    catalog_items,
    fallback_sku,
    low_stock_level_of,
    policy_of,
)
from backorder_lightspeed_ecom.models import DeliveryDate, OrderProduct, StockTracking
from backorder_lightspeed_ecom.storefront import merchants


@dataclass
class SyncReport:
    new: int = 0
    levels_changed: int = 0
    defaulted: list[str] = field(default_factory=list)
    """SKUs of new variants the shop default "Allow backorders" switched to backorders."""


def sync_catalog(service: StoreService, client: LightspeedClient) -> SyncReport:
    """Pull variants into the ledger, each with its own stockTracking setting.

    The shop default "Allow backorders" (``connection.allow_backorders_default``, off by
    default) applies to variants that first appear after the store's first sync, as in
    Lightspeed: a tracked new variant gets backorders (``indicator``) pushed to it. The
    first sync takes every variant as it is, and variants already known are never changed.
    """
    allow_default = connection_of(service.store).allow_backorders_default
    known = {item.sku for item in service.items()}
    first_sync = not known
    variants = client.variants()
    titles = {p.id: p.title or "" for p in client.products()}
    by_id = {v.id: v for v in variants}
    entries, pushes, report = [], [], SyncReport()
    for entry in catalog_items(variants, titles):
        if entry.sku in known:
            continue
        variant = by_id[int(entry.variant_id or 0)]
        fields = policy_of(variant.stockTracking)
        if allow_default and not first_sync and variant.stockTracking is StockTracking.ENABLED:
            fields = policy_of(StockTracking.INDICATOR)
            pushes.append({"id": variant.id, "stockTracking": StockTracking.INDICATOR.value})
            report.defaulted.append(entry.sku)
        if fields.get("mode") is Mode.NOTIFY:
            fields["threshold"] = None  # Lightspeed has no backorder limit
        entries.append(
            ItemInput(
                **entry.model_dump(exclude={"on_hand", "tracked", "policy"}),
                on_hand=entry.on_hand or 0,
                assigned=False,
                low_stock_level=low_stock_level_of(variant.stockAlert),
                **fields,
            )
        )
    report.new = service.upsert_catalog(entries)
    if pushes:
        client.update_variants(pushes)
    run = uuid.uuid4().hex[:12]  # a level may return to an earlier figure: key per run
    levels = [
        StockLevel(sku=c.sku, on_hand=c.on_hand, source_ref=f"{run}:v{c.variant_id}")
        for c in catalog_items(variants, titles)
        if c.on_hand is not None and c.sku in known
    ]
    report.levels_changed = service.apply_levels(levels, source="lightspeed sync")
    return report


# ------------------------------------------------------------------------ orders
@dataclass
class RecordedOrder:
    result: OrderResult
    shipping: dict[int, str] = field(default_factory=dict)
    """Line number -> the expected-shipping message from the product's delivery timeframe."""
    unmanaged: list[str] = field(default_factory=list)
    """SKUs of lines whose items the store does not manage (not assigned)."""


def _sku_map(service: StoreService) -> dict[str, str]:
    return {item.variant_id: item.sku for item in service.items() if item.variant_id}


def line_sku(line: OrderProduct, skus: Mapping[str, str]) -> str:
    if line.variant_id is not None and str(line.variant_id) in skus:
        return skus[str(line.variant_id)]
    return (line.sku or "").strip() or fallback_sku(line.variant_id or line.id)


def _placed_at(raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw)
    except ValueError:
        return None


def shipping_message(timeframe: DeliveryDate | None, backordered: int) -> str:
    """A backordered line gets the timeframe's out-of-stock message, others its in-stock one."""
    if timeframe is None:
        return ""
    return timeframe.outStockMessage if backordered else timeframe.inStockMessage


def record_order(service: StoreService, client: LightspeedClient, order_id: str) -> RecordedOrder:
    """Record a Lightspeed order through the core, which computes each line's backordered qty.

    Lightspeed has already taken the units off its own stock level, so before placing, each
    line's item is set to the platform's level plus this order's quantity (the level the
    order met); placing then leaves our on-hand equal to Lightspeed's. Only lines of items
    the store manages (assigned) go through the rules; the others just follow Lightspeed's
    level and are listed in ``unmanaged``. An order the rules refuse (Lightspeed has no
    backorder limit of its own) is returned refused, and the levels still follow Lightspeed.
    """
    previous = service.order(str(order_id))
    if previous is not None:
        return RecordedOrder(previous.model_copy(update={"duplicate": True}))
    order = client.order(order_id)
    products = [p for p in client.order_products(order_id) if p.quantityOrdered > 0]
    skus = _sku_map(service)
    known = {item.sku: item for item in service.items()}
    wanted: dict[str, int] = {}
    after: dict[str, int] = {}
    managed: list[tuple[OrderProduct, LineRequest]] = []
    unmanaged: list[str] = []
    for p in products:
        sku = line_sku(p, skus)
        item = known.get(sku)
        wanted[sku] = wanted.get(sku, 0) + p.quantityOrdered
        if item is not None and item.tracked and p.variant_id and sku not in after:
            after[sku] = client.variant(p.variant_id).stockLevel
        if item is not None and item.assigned:
            name = " - ".join(x for x in (p.productTitle, p.variantTitle) if x) or None
            managed.append((p, LineRequest(sku=sku, qty=p.quantityOrdered, name=name)))
        else:
            unmanaged.append(sku)
    ref = f"order-{order.id}"
    if not managed:
        service.apply_levels(
            [StockLevel(sku=s, on_hand=lvl, source_ref=ref) for s, lvl in after.items()],
            source="lightspeed order",
        )
        empty = OrderResult(order_id=str(order.id), accepted=True, lines=[])
        return RecordedOrder(empty, unmanaged=unmanaged)
    service.apply_levels(
        [
            StockLevel(
                sku=s, on_hand=lvl + wanted[s] if s not in unmanaged else lvl, source_ref=ref
            )
            for s, lvl in after.items()
        ],
        source="lightspeed order",
    )
    result = service.place_order(
        OrderIn(
            order_id=str(order.id),
            lines=[line for _, line in managed],
            customer_email=order.email,
            placed_at=_placed_at(order.createdAt),
        )
    )
    if not result.accepted:
        service.apply_levels(
            [
                StockLevel(sku=s, on_hand=lvl, source_ref=f"{ref}-refused")
                for s, lvl in after.items()
            ],
            source="lightspeed order",
        )
    shipping = _shipping(client, [p for p, _ in managed], result)
    return RecordedOrder(result, shipping, unmanaged)


def _shipping(client, products: list[OrderProduct], result: OrderResult) -> dict[int, str]:
    product_ids = {p.product_id for p in products if p.product_id}
    if not product_ids:
        return {}
    timeframes = {d.id: d for d in client.deliverydates()}
    link = {pid: client.product(pid).deliverydate_id for pid in sorted(product_ids)}
    out = {}
    for p, decision in zip(products, result.lines, strict=True):
        timeframe = merchants(timeframes.get(link.get(p.product_id or 0, 0)), timeframes)
        message = shipping_message(timeframe, decision.backordered)
        if message:
            out[decision.line_no] = message
    return out
