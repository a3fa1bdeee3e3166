"""Magento's stock semantics as pure functions (no I/O), reproduced from Magento 2.4 sources.

- :func:`effective` — ``Model\\Stock\\Item`` getters: per-item value or config by ``use_config_*``.
- :func:`verify_stock` — ``StockStateProvider::verifyStock`` with MSI's
  ``AdaptVerifyStockToNegativeMinQtyPlugin`` (a negative ``min_qty`` is a backorder limit).
- :func:`check_qty` — ``StockStateProvider::checkQty``.
- :func:`check_quote_item_qty` — ``StockStateProvider::checkQuoteItemQty``: the cart checks in
  Magento's order with Magento's messages and error codes.
- :func:`salable_qty`, :func:`backorder_qty`, :func:`is_salable_for_requested_qty` — MSI's
  ``GetProductSalableQty``, ``GetBackorderQty`` and ``IsProductSalableForRequestedQty``.
- :func:`save_stock_item`, :func:`set_in_stock_automatically` — the ``is_in_stock`` flips of
  ``StockItemRepository::save`` and ``ResourceModel\\Stock::updateSetInStock``.

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
    "We don't have as many quantity as you requested, but we'll back order the remaining {0}."
)
MSG_MSI_NOT_ENOUGH = "Not enough items for sale"
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

    increments: float | None = None
    if pick("enable_qty_increments", "use_config_enable_qty_inc"):
        raw = pick("qty_increments", "use_config_qty_increments")
        increments = float(raw) if item.is_qty_decimal else float(int(raw))
        if increments <= 0:
            increments = None
    return Effective(
        manage_stock=bool(pick("manage_stock", "use_config_manage_stock")),
        backorders=int(pick("backorders", "use_config_backorders")),
        min_qty=float(pick("min_qty", "use_config_min_qty")),
        min_sale_qty=float(pick("min_sale_qty", "use_config_min_sale_qty")),
        max_sale_qty=float(pick("max_sale_qty", "use_config_max_sale_qty")),
        notify_stock_qty=float(pick("notify_stock_qty", "use_config_notify_stock_qty")),
        qty_increments=increments,
        is_qty_decimal=item.is_qty_decimal,
    )


def backorder_limit(eff: Effective) -> float | None:
    """Units that may be backordered: ``-min_qty`` when negative, ``None`` = unlimited, 0 = off."""
    if eff.backorders not in BACKORDERS_ALLOWED:
        return 0
    return -eff.min_qty if eff.min_qty < 0 else None


def verify_stock(qty: float | None, eff: Effective) -> bool:
    """May the item stay in stock at ``qty``? (``verifyStock`` + MSI's negative-min-qty plugin)."""
    if qty is None:
        return not eff.manage_stock
    limited = eff.backorders != BACKORDERS_NO and eff.min_qty < 0
    return not ((eff.backorders == BACKORDERS_NO or limited) and qty <= eff.min_qty)


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
        message = MSG_BACKORDER_NOTIFY.format(fmt(backordered))
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
    return MSG_BACKORDER_NOTIFY.format(fmt(backordered)) if backordered > 0 else None


@dataclass(frozen=True)
class SalableResult:
    salable: bool
    errors: tuple[tuple[str, str], ...] = ()  # (code, message)


def is_salable_for_requested_qty(
    item: StockItem, config: ItemOptions, requested: float, reservations: float = 0
) -> SalableResult:
    """MSI ``IsProductSalableForRequestedQty``: required qty checks, then sufficient conditions.

    Sufficient (first that passes wins): stock not managed; backorders on with
    ``min_qty >= 0`` (unlimited); enough salable qty (``qty + reservations - min_qty``).
    """
    eff = effective(item, config)
    if eff.min_sale_qty and requested < eff.min_sale_qty:
        msg = MSG_MIN_SALE.format(fmt(eff.min_sale_qty))
        return SalableResult(False, (("is_correct_qty-min_sale_qty", msg),))
    if eff.max_sale_qty and requested > eff.max_sale_qty:
        return SalableResult(False, (("is_correct_qty-max_sale_qty", MSG_MAX_SALE),))
    if eff.qty_increments and exact_division(requested, eff.qty_increments) != 0:
        msg = MSG_INCREMENTS.format(fmt(eff.qty_increments))
        return SalableResult(False, (("is_correct_qty-qty_increment", msg),))
    if not eff.is_qty_decimal and math.floor(requested) != requested:
        return SalableResult(False, (("is_correct_qty-is_qty_decimal", MSG_DECIMAL),))
    if not eff.manage_stock:
        return SalableResult(True)
    if eff.backorders != BACKORDERS_NO and eff.min_qty >= 0:
        return SalableResult(True)
    if round(salable_qty(item, config, reservations) - requested, 4) >= 0:
        return SalableResult(True)
    return SalableResult(
        False,
        (
            ("manage_stock-disabled", "Manage stock is disabled"),
            ("back_order-disabled", "Backorders are disabled"),
            ("is_salable_with_reservations-not_enough_qty", MSG_MSI_NOT_ENOUGH),
        ),
    )


def save_stock_item(
    before: StockItem, changes: dict, config: ItemOptions, *, automatic: bool = False
) -> StockItem:
    """What ``StockItemRepository::save`` stores for ``before`` updated with ``changes``.

    - managed stock that fails :func:`verify_stock` goes out of stock with
      ``stock_status_changed_auto = 1``;
    - otherwise the flag is reset to 0 unless the change itself is automatic
      (``automatic=True``: an order, a cancel, the stock-status cron) — so a merchant's save
      that keeps ``is_in_stock = 0`` makes that out-of-stock *manual* from then on;
    - an automatic change of an item that went out automatically comes back in stock once
      ``qty > min_qty`` (:func:`set_in_stock_automatically`).
    """
    item = before.model_copy(update=changes)
    eff = effective(item, config)
    if automatic:
        item = set_in_stock_automatically(item, config)
    if eff.manage_stock and not verify_stock(item.qty, eff):
        return item.model_copy(update={"is_in_stock": False, "stock_status_changed_auto": 1})
    auto = item.stock_status_changed_auto if automatic else 0
    return item.model_copy(update={"stock_status_changed_auto": auto})


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

    Stock is managed, backorders are 1 or 2, and the backorder limit (if any) is not used
    up — so Magento itself would keep the item in stock (:func:`verify_stock`), but nothing
    flips a manual (or reset) out-of-stock back.
    """
    eff = effective(item, config)
    return (
        not item.is_in_stock
        and eff.manage_stock
        and eff.backorders in BACKORDERS_ALLOWED
        and verify_stock(item.qty, eff)
    )
