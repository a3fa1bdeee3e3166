"""Storefront messages reach shoppers (issue 15).

- :mod:`.readmodel`: the ``storefront_items`` table, each item's computed view, rewritten
  in every change's transaction, so the public API never reads the ledger.
- :mod:`.api`: the public read-only API ``GET /storefront/{store}/items`` and the script
  ``/storefront/backorder.js`` (:file:`static/backorder.js`), mounted by ``backorder serve``.
"""
