"""Every BigCommerce behaviour the plugin relies on that no public source confirms.

Kept in one place (the README's "Unconfirmed" list names exactly these, a test checks it)
so that a confirmed answer is a one-line change. The sandbox imports the same constants,
so it behaves as assumed here. Documented limits are in :mod:`.limits`; the sources of
everything else the plugin relies on are listed in the README.
"""

from __future__ import annotations

ORDER_PRODUCTS_LIMIT = 250
"""Largest ``GET /v2/orders/{id}/products`` page. orders.v2.oas2.yml gives ``limit`` a default
of 50 and no maximum; a shorter page than this is read as the last one."""
SKU_FILTER_CHUNK = 100
"""SKUs per ``sku:in`` filter of ``GET /inventory/items`` (inventory.v3.yml states no maximum
for the list)."""

BACKORDER_LIMIT_NULL_IS_UNLIMITED = True
"""Native beta: ``backorder_limit: null`` means no limit. The beta guide names the field
("set the ``backorder_limit`` for items at a location") but not what ``null`` means, and the
beta spec file does not list it."""
ON_HAND_EXCLUDES_BACKORDERED = True
"""Native beta: BigCommerce's stock figure (``inventory_level``, ``total_inventory_onhand``)
does not include backordered units, which it counts apart in ``qty_backordered``; our count
(stock less the units on backorder) is then ``on hand - qty_backordered``. The beta guide
says: "When backorders are enabled, BigCommerce tracks backordered quantities separately
from on-hand inventory". ``False`` is the other reading: BigCommerce's figure itself goes
below zero by the backordered units, and is our count as it is."""
QTY_BACKORDERED_READ_FIELD = "qty_backordered"
"""Native beta: the field of a ``GET /inventory/items`` location entry with the units on
backorder there. The guide names ``qty_backordered`` for adjustments and says the inventory
endpoints "read current backorder levels", without the read shape."""
MULTI_STATUS_DATA_IS_SAVED = True
"""A 207 from ``PUT /catalog/products`` lists in ``data`` each product as saved, so a product
whose fields there differ from what we sent (or that is missing) is the failed one.
products_catalog.v3.yml gives the 207 ``data`` (``product_Full``) and ``errors``
(``errorMultiStatus``, free-form ``errors``) but not how they name the failed product."""
VARIANT_WARNING_IS_BELOW = True
"""A variant's ``inventory_warning_level`` means what the product's does: low stock once the
level "drops below" it (products_catalog.v3.yml and inventory.v3.yml ``warning_level``). The
variants file says instead "When the variant hits this inventory level, it is considered low
stock", which would be one unit earlier; ``False`` reads it so."""

SCRIPTS_PAGE_LIMIT = 250
"""Largest ``GET /content/scripts`` page. The scripts OpenAPI (api-evangelist's copy of
BigCommerce's file; none is in ../shared/specs) gives ``limit`` without a maximum."""

UNCONFIRMED = (
    "ORDER_PRODUCTS_LIMIT",
    "SKU_FILTER_CHUNK",
    "BACKORDER_LIMIT_NULL_IS_UNLIMITED",
    "ON_HAND_EXCLUDES_BACKORDERED",
    "QTY_BACKORDERED_READ_FIELD",
    "MULTI_STATUS_DATA_IS_SAVED",
    "VARIANT_WARNING_IS_BELOW",
    "SCRIPTS_PAGE_LIMIT",
)
"""The names above, for the test that keeps the README's list in step."""
