"""Every BigCommerce behaviour the plugin relies on that the public docs do not confirm.

Kept in one place (the plugin's README lists them) so that a confirmed answer is a
one-line change. The sandbox imports the same constants, so it behaves as assumed here.
"""

from __future__ import annotations

BATCH_PRODUCTS = 10
"""``PUT /catalog/products`` items per call (413 above). Documented by support, not in the spec."""
BATCH_VARIANTS = 50
"""``PUT /catalog/variants`` items per call (422 ``batch_errors`` above)."""
BATCH_INVENTORY = 2000
"""Inventory adjustments and location settings per call."""
PAGE_LIMIT = 250
"""Largest catalog page (``limit``)."""
INVENTORY_PAGE_LIMIT = 1000
"""Largest ``GET /inventory/items`` page ("limit of 1000 items for payload length")."""
ORDER_PRODUCTS_LIMIT = 250
"""Largest ``GET /v2/orders/{id}/products`` page (v2 lists: page/limit, bare arrays)."""

BACKORDER_LIMIT_NULL_IS_UNLIMITED = True
"""Native beta: ``backorder_limit: null`` means no limit (the beta docs do not say)."""
BACKORDER_LIMIT_FIELD = "backorder_limit"
"""Native beta: the per-location settings field (absent from the beta spec file)."""
QTY_BACKORDERED_FIELD = "quantity_backordered"
"""Native beta: the v2 order-product field with the units BigCommerce backordered."""
OUT_OF_STOCK_STATUS = 409
"""Native beta: an order above stock + limit is refused with this status and
``details.errors[]{type: "OutOfStock", ...}``."""

TRACKING_ON_UNASSIGNS = True
"""Seed 001 FAQ: turning tracking back on in BigCommerce unassigns the product. We learn
it from ``store/product/updated`` by re-reading ``inventory_tracking``."""
STOCK_FIGURE_APPLIED_ONCE = True
"""One-way sync keys a BigCommerce stock figure by its value (``sync:{sku}:{level}``):
a figure already applied is not applied again, so re-syncing does not wipe the
backorders our ledger took since (BigCommerce does not count sales of an untracked
product). A figure that changes back to an earlier value is applied by its webhook."""
