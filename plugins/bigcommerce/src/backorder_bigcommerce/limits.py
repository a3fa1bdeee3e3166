"""BigCommerce's documented batch and page limits, each with the words of its source.

The spec files are BigCommerce's official OpenAPI files (``shared/specs/bigcommerce``).
What no source states is in :mod:`.unconfirmed`. The sandbox enforces these same numbers.
"""

from __future__ import annotations

BATCH_PRODUCTS = 10
"""``PUT /catalog/products``: "Batches are limited to 10 products." (products_catalog.v3.yml,
``PUT /catalog/products`` description; its 413 example: "The maximum items allowed in the
array is 10.")"""
BATCH_VARIANTS = 50
"""``PUT /catalog/variants``: "Currently the limit is 50 variants however this is subject to
change." (product-variants_catalog.v3.yml, ``PUT /catalog/variants``; above it a 413, "The
maximum items allowed in the array is 50")."""
BATCH_INVENTORY = 2000
"""``PUT /inventory/adjustments/absolute`` and ``PUT /inventory/locations/{id}/items``: "Limit
of 2000 items for payload length." (inventory.v3.yml, both operations' **Limits**)."""
PAGE_LIMIT = 250
"""``GET /catalog/products``: ``limit`` has ``maximum: 250`` (products_catalog.v3.yml,
``LimitParam``; default 50)."""
INVENTORY_PAGE_LIMIT = 1000
"""``GET /inventory/items``: "Limit of 1000 items for payload length." (inventory.v3.yml)."""
