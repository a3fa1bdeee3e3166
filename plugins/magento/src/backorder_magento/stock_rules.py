"""Magento's stock semantics as pure functions (no I/O), reproduced from Magento 2.4 sources.

Versions: MSI (``magento/inventory``) 1.2.7 = Magento 2.4.7 unless a rule says otherwise;
the ``is_in_stock`` flips and the MSI "not enough" message follow Magento 2.4.8 (MSI 1.2.8).
Each function names its source class; the plugin README lists them with their paths.

- :func:`effective` — ``CatalogInventory\\Model\\Stock\\Item`` getters (per-item value or
  config by ``use_config_*``), with MSI's ``AdaptMinQtyToBackordersPlugin`` on ``getMinQty``.
- :func:`verify_stock` — ``StockStateProvider::verifyStock`` with MSI's
  ``AdaptVerifyStockToNegativeMinQtyPlugin`` (a negative ``min_qty`` is a backorder limit).
- :func:`check_qty` — ``StockStateProvider::checkQty``.
- :func:`check_quote_item_qty` — ``StockStateProvider::checkQuoteItemQty``: the cart checks in
  Magento's order with Magento's messages and error codes.
- :func:`salable_qty`, :func:`backorder_qty`, :func:`is_salable_for_requested_qty` — MSI's
  ``GetProductSalableQty``, ``GetBackorderQty`` and the
  ``IsProductSalableForRequestedQtyConditionChain`` (codes and order of ``InventorySales``'s
  ``di.xml``).
- :func:`save_stock_item` — ``StockItemRepository::save`` → ``updateStockStatus`` (2.4.8).
- :func:`set_in_stock_automatically` — ``ResourceModel\\Stock::updateSetInStock``.

Quantities are floats as in Magento (``qty`` is DECIMAL(12,4)); ``reservations`` is MSI's
signed sum of ``inventory_reservation`` rows for the SKU (0 for legacy stock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from backorder_magento.models import (
    BACKORDERS_NO,
    BACKORDERS_YES_NONOTIFY,
    BACKORDERS_YES_NOTIFY,
    ItemOptions,
    StockItem,
)

BACKORDERS_ALLOWED = (BACKORDERS_YES_NONOTIFY, BACKORDERS_YES_NOTIFY)

MSG_MIN_SALE = "The fewest you may purchase is {0}."
MSG_MAX_SALE = "The requested qty exceeds the maximum qty allowed in shopping cart"
MSG_INCREMENTS = "You can buy this product only in quantities of {0} at a time."
MSG_DECIMAL = "You cannot use decimal quantity for this product."
MSG_OUT_OF_STOCK = "This product is out of stock."
MSG_NOT_AVAILABLE = "The requested qty is not available"
MSG_BACKORDER_NOTIFY = (
    "We don't have as many quantity as you requested, but we'll back order the remaining "
    "{backordered}."
)
"""MSI 1.2.7 (Magento 2.4.7) ``InventorySales\\Model\\IsProductSalableCondition\\
BackOrderNotifyCustomerCondition``, code ``back_order-not-enough``; ``{backordered}`` is its %1."""

# MSI's IsProductSalableForRequestedQty errors: (code, message), each from its condition class
# in InventorySales/Model/IsProductSalableForRequestedQtyCondition/.
MSI_NO_SOURCE_IN_STOCK = (  # IsAnySourceItemInStockCondition (required), MSI 1.2.7
    "is_any_source_item_in_stock-no_source_items_in_stock",
    "There are no source items with the in stock status",
)
MSI_BACKORDERS_DISABLED = ("back_order-disabled", "Backorders are disabled")  # BackOrderCondition
MSI_MANAGE_STOCK_ENABLED = (  # ManageStockCondition
    "manage_stock-enabled",
    "Manage stock is enabled",
)
MSI_NOT_ENOUGH = (  # IsSalableWithReservationsCondition, Magento 2.4.8 (MSI 1.2.8, LYNX-530)
    "is_salable_with_reservations-not_enough_qty",
    "Not enough items for sale",
)
MSG_MSI_NOT_ENOUGH = MSI_NOT_ENOUGH[1]
QUOTE_MSG_QTY = "Please correct the quantity for some products."
QUOTE_MSG_STOCK = "Some of the products are out of stock."


def fmt(number: float) -> str:
    """A number as PHP prints ``$x * 1`` in a phrase: ``3``, ``1.5``, ``0.5``."""
    text = f"{number:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class Effective:
    """An item's settings after ``use_config_*`` fallback (what Magento's getters return)."""

    manage_stock: bool
    backorders: int
    min_qty: float
    min_sale_qty: float
    max_sale_qty: float
    notify_stock_qty: float
    qty_increments: float | None  # None: increments off (``getQtyIncrements()`` is false)
    is_qty_decimal: bool


def effective(item: StockItem, config: ItemOptions) -> Effective:
    """``Stock\\Item::getManageStock/getBackorders/getMinQty/...`` for one item."""

    def pick(field: str, flag: str):
        return getattr(config, field) if getattr(item, flag) else getattr(item, field)

    backorders = int(pick("backorders", "use_config_backorders"))
    increments: float | None = None
    if pick("enable_qty_increments", "use_config_enable_qty_inc"):
        raw = pick("qty_increments", "use_config_qty_increments")
        increments = float(raw) if item.is_qty_decimal else float(int(raw))
        if increments <= 0:
            increments = None
    return Effective(
        manage_stock=bool(pick("manage_stock", "use_config_manage_stock")),
        backorders=backorders,
        min_qty=adapt_min_qty(float(pick("min_qty", "use_config_min_qty")), backorders),
        min_sale_qty=float(pick("min_sale_qty", "use_config_min_sale_qty")),
        max_sale_qty=float(pick("max_sale_qty", "use_config_max_sale_qty")),
        notify_stock_qty=float(pick("notify_stock_qty", "use_config_notify_stock_qty")),
        qty_increments=increments,
        is_qty_decimal=item.is_qty_decimal,
    )


def adapt_min_qty(min_qty: float, backorders: int) -> float:
    """What ``getMinQty()`` answers once MSI's ``AdaptMinQtyToBackordersPlugin`` ran.

    MSI 1.2.7 (Magento 2.4.7) ``InventoryCatalog\\Plugin\\CatalogInventory\\Api\\Data\\
    StockItemInterface\\AdaptMinQtyToBackordersPlugin::afterGetMinQty``: with backorders on
    only a negative value counts (the backorder limit; 0 or more reads 0 = unlimited); with
    backorders off only a positive one (the out-of-stock threshold; a negative one reads 0).
    """
    if backorders:
        return min_qty if min_qty < 0 else 0.0
    return min_qty if min_qty > 0 else 0.0


def backorder_limit(eff: Effective) -> float | None:
    """Units that may be backordered: ``-min_qty`` when negative, ``None`` = unlimited, 0 = off."""
    if eff.backorders not in BACKORDERS_ALLOWED:
        return 0
    return -eff.min_qty if eff.min_qty < 0 else None


def verify_stock(qty: float | None, eff: Effective) -> bool:
    """May the item stay in stock at ``qty``?

    ``CatalogInventory\\Model\\StockStateProvider::verifyStock`` (Magento 2.4.7): out when
    backorders are off and ``qty <= min_qty``. With backorders on, MSI 1.2.7's
    ``InventoryCatalog\\Plugin\\CatalogInventory\\Model\\Spi\\StockStateProvider\\
    AdaptVerifyStockToNegativeMinQtyPlugin::afterVerifyStock``: out only when ``min_qty`` is
    negative and ``qty < min_qty`` — strictly, so a limit used up to the unit (``qty ==
    min_qty``) stays in stock (with nothing left to sell: salable qty 0).
    """
    if qty is None:
        return not eff.manage_stock
    if eff.backorders == BACKORDERS_NO:
        return qty > eff.min_qty
    return not (eff.min_qty < 0 and qty < eff.min_qty)


def verify_notification(qty: float | None, eff: Effective) -> bool:
    """Below "Notify for Quantity Below" (sets ``low_stock_date``)."""
    return float(qty or 0) < eff.notify_stock_qty


def check_qty(qty: float | None, eff: Effective, requested: float) -> bool:
    """``checkQty``: enough stock for ``requested``, counting backorders and their limit."""
    if not eff.manage_stock:
        return True
    if float(qty or 0) - eff.min_qty - requested < 0:
        if eff.backorders in BACKORDERS_ALLOWED:
            return eff.min_qty >= 0  # a negative min_qty is the backorder limit
        return False
    return True


def exact_division(dividend: float, divisor: float) -> float:
    """``Magento\\Framework\\Math\\Division::getExactDivision``: the remainder, float-tolerant."""
    epsilon = divisor / 10000
    remainder = math.fmod(dividend, divisor)
    if abs(remainder - divisor) < epsilon or abs(remainder) < epsilon:
        return 0.0
    return remainder


@dataclass(frozen=True)
class QtyCheck:
    """The result object of ``checkQuoteItemQty`` (the fields a cart shows)."""

    has_error: bool = False
    error_code: str | None = None
    message: str | None = None
    quote_message: str | None = None
    item_backorders: float = 0.0


def _error(code: str, message: str, quote_message: str = QUOTE_MSG_QTY) -> QtyCheck:
    return QtyCheck(True, code, message, quote_message)


def check_quote_item_qty(
    item: StockItem,
    config: ItemOptions,
    qty: float,
    summary_qty: float | None = None,
    reservations: float = 0,
) -> QtyCheck:
    """Validate a cart line the way Magento does; the first failing check answers.

    Order: min sale qty, max sale qty, qty increments, decimal qty, manage stock off
    (accepted), out-of-stock flag, not enough qty. As in Magento's code, the decimal check
    runs after the increments check and its message wins when both fail.
    ``summary_qty`` is the SKU's total across the cart (defaults to ``qty``).
    """
    eff = effective(item, config)
    summary = qty if summary_qty is None else summary_qty
    if eff.min_sale_qty and qty < eff.min_sale_qty:
        return _error("qty_min", MSG_MIN_SALE.format(fmt(eff.min_sale_qty)))
    if eff.max_sale_qty and qty > eff.max_sale_qty:
        return _error("qty_max", MSG_MAX_SALE)
    result = QtyCheck()
    if eff.qty_increments and exact_division(qty, eff.qty_increments) != 0:
        result = _error("qty_increments", MSG_INCREMENTS.format(fmt(eff.qty_increments)))
    if not eff.is_qty_decimal and math.floor(qty) != qty:
        return _error("qty_decimal", MSG_DECIMAL)
    if result.has_error or not eff.manage_stock:
        return result
    if not item.is_in_stock:
        return _error("out_stock", MSG_OUT_OF_STOCK, QUOTE_MSG_STOCK)
    stock = float(item.qty or 0) + reservations
    if not check_qty(stock, eff, summary) or not check_qty(stock, eff, qty):
        return _error("qty_available", MSG_NOT_AVAILABLE, MSG_NOT_AVAILABLE)
    if stock - summary >= 0:
        return result
    available = stock - (summary - qty)  # stock left for this line after the cart's other lines
    backordered = qty - available if available > 0 else qty
    message = None
    if eff.backorders == BACKORDERS_YES_NOTIFY:
        message = MSG_BACKORDER_NOTIFY.format(backordered=fmt(backordered))
    return QtyCheck(message=message, item_backorders=max(backordered, 0.0))


def salable_qty(item: StockItem, config: ItemOptions, reservations: float = 0) -> float:
    """MSI ``GetProductSalableQty``: ``qty + reservations - min_qty``; 0 when not salable.

    ``None`` is never returned: for unlimited backorders Magento still reports this figure
    (use :func:`backorder_limit` to know whether it binds).
    """
    eff = effective(item, config)
    if item.qty is None or (eff.manage_stock and not item.is_in_stock):
        return 0.0
    return float(item.qty) + reservations - eff.min_qty


def backorder_qty(
    item: StockItem, config: ItemOptions, requested: float, reservations: float = 0
) -> float:
    """MSI ``GetBackorderQty``: clamp(requested - (qty + reservations), 0, requested).

    Stored on the order item as ``qty_backordered``. 0 unless stock is managed and
    backorders are 1 or 2.
    """
    eff = effective(item, config)
    if not eff.manage_stock or eff.backorders not in BACKORDERS_ALLOWED:
        return 0.0
    backordered = requested - salable_qty(item, config, reservations) - eff.min_qty
    return min(max(backordered, 0.0), requested)


def backorder_notice(
    item: StockItem, config: ItemOptions, requested: float, reservations: float = 0
) -> str | None:
    """MSI ``BackOrderNotifyCustomerCondition``: the notice for backorders = 2, else ``None``."""
    eff = effective(item, config)
    if not eff.manage_stock or eff.backorders != BACKORDERS_YES_NOTIFY:
        return None
    backordered = backorder_qty(item, config, requested, reservations)
    return MSG_BACKORDER_NOTIFY.format(backordered=fmt(backordered)) if backordered > 0 else None


@dataclass(frozen=True)
class SalableResult:
    salable: bool
    errors: tuple[tuple[str, str], ...] = ()  # (code, message)


def is_salable_for_requested_qty(
    item: StockItem, config: ItemOptions, requested: float, reservations: float = 0
) -> SalableResult:
    """MSI ``IsProductSalableForRequestedQtyConditionChain`` as ``InventorySales/etc/di.xml``
    wires it for the REST endpoint (``IsProductSalableForRequestedQtyConditionChainOnAddToCart``,
    MSI 1.2.7 = Magento 2.4.7, unchanged in 1.2.8).

    Required conditions, every one run and their errors joined: ``is_correct_qty`` (min
    sale qty, max sale qty, qty increments, decimal qty: its first failure) and
    ``is_any_source_item_in_stock`` (stock managed and no source in stock). Then the
    sufficient ones by ``sort_order``, the first that passes wins, else all their errors in
    order: ``back_order`` (10: backorders on with ``min_qty >= 0``), ``manage_stock`` (20:
    stock not managed), ``is_salable_with_reservations`` (30: salable qty >= requested, to 4
    decimals as ``bccomp``).
    """
    eff = effective(item, config)
    required = [*_correct_qty_errors(eff, requested)]
    if eff.manage_stock and not item.is_in_stock:
        required.append(MSI_NO_SOURCE_IN_STOCK)
    if required:
        return SalableResult(False, tuple(required))
    if eff.backorders != BACKORDERS_NO and eff.min_qty >= 0:
        return SalableResult(True)
    if not eff.manage_stock:
        return SalableResult(True)
    if round(salable_qty(item, config, reservations) - requested, 4) >= 0:
        return SalableResult(True)
    return SalableResult(False, (MSI_BACKORDERS_DISABLED, MSI_MANAGE_STOCK_ENABLED, MSI_NOT_ENOUGH))


def _correct_qty_errors(eff: Effective, requested: float) -> list[tuple[str, str]]:
    """MSI ``IsCorrectQtyCondition``: its first failing check, as (code, message)."""
    if eff.min_sale_qty and requested < eff.min_sale_qty:
        return [("is_correct_qty-min_sale_qty", MSG_MIN_SALE.format(fmt(eff.min_sale_qty)))]
    if eff.max_sale_qty and requested > eff.max_sale_qty:
        return [("is_correct_qty-max_sale_qty", MSG_MAX_SALE)]
    if eff.qty_increments and exact_division(requested, eff.qty_increments) != 0:
        msg = MSG_INCREMENTS.format(fmt(eff.qty_increments))
        return [("is_correct_qty-qty_increment", msg)]
    if not eff.is_qty_decimal and math.floor(requested) != requested:
        return [("is_correct_qty-is_qty_decimal", MSG_DECIMAL)]
    return []


def save_stock_item(before: StockItem, changes: dict, config: ItemOptions) -> StockItem:
    """What ``StockItemRepository::save`` stores for ``before`` updated with ``changes``.

    Magento 2.4.8 ``CatalogInventory\\Model\\Stock\\StockItemRepository::updateStockStatus``
    (with ``hasStockStatusChanged``), for managed stock:

    - an item :func:`verify_stock` refuses goes out of stock with
      ``stock_status_changed_auto = 1`` (if it was in stock);
    - otherwise a save that changes ``is_in_stock`` itself (the merchant's choice) resets the
      flag to 0, and an item out of stock with the flag still 1 comes back in stock — so
      turning backorders on for an item that sold out puts it back in stock, while one a
      merchant set out of stock stays out.

    Unmanaged stock resets the flag to 0. (Magento 2.4.7 and older reset the flag on every
    save instead, which left sold-out items out of stock when backorders were turned on.)
    """
    item = before.model_copy(update=changes)
    eff = effective(item, config)
    if not eff.manage_stock:
        return item.model_copy(update={"stock_status_changed_auto": 0})
    in_stock, auto = item.is_in_stock, item.stock_status_changed_auto
    if not verify_stock(item.qty, eff):
        if in_stock:
            in_stock, auto = False, 1
    else:
        if before.item_id is None or item.is_in_stock != before.is_in_stock:
            auto = 0
        if not in_stock and auto:
            in_stock = True
    return item.model_copy(update={"is_in_stock": in_stock, "stock_status_changed_auto": auto})


def set_in_stock_automatically(item: StockItem, config: ItemOptions) -> StockItem:
    """``ResourceModel\\Stock::updateSetInStock`` for one item.

    Back in stock only if it went out automatically (``stock_status_changed_auto = 1``),
    stock is managed and ``qty > min_qty``: a manual out-of-stock is never flipped back.
    """
    eff = effective(item, config)
    if (
        not item.is_in_stock
        and item.stock_status_changed_auto == 1
        and eff.manage_stock
        and float(item.qty or 0) > eff.min_qty
    ):
        return item.model_copy(update={"is_in_stock": True})
    return item


def set_out_of_stock_automatically(item: StockItem, config: ItemOptions) -> StockItem:
    """``ResourceModel\\Stock::updateSetOutOfStock`` for one item (backorders off, low qty)."""
    eff = effective(item, config)
    if (
        item.is_in_stock
        and eff.manage_stock
        and eff.backorders == BACKORDERS_NO
        and float(item.qty or 0) <= eff.min_qty
    ):
        return item.model_copy(update={"is_in_stock": False, "stock_status_changed_auto": 1})
    return item


def is_stuck_out_of_stock(item: StockItem, config: ItemOptions) -> bool:
    """The seed's troubleshooting case: ``is_in_stock = 0`` although backorders allow selling.

    Stock is managed, backorders are 1 or 2, and something is left to sell (no limit, or
    ``qty > min_qty``) — so Magento itself would keep the item in stock
    (:func:`verify_stock`), but nothing flips it back: it was set out of stock by hand (a
    save that changes ``is_in_stock`` resets ``stock_status_changed_auto``), saved by
    Magento 2.4.7 or older (whose every save reset that flag), or backorders were turned on
    in the global config, which saves no item.
    """
    eff = effective(item, config)
    limit = backorder_limit(eff)
    return (
        not item.is_in_stock
        and eff.manage_stock
        and eff.backorders in BACKORDERS_ALLOWED
        and (limit is None or float(item.qty or 0) > eff.min_qty)
    )
