"""The merchant's web app (``/admin/{store}/``), server-rendered with Starlette and Jinja2.

Screens: dashboard, assign products, settings with a live storefront preview, the
backorder report and import/export (seeds 000 and 001). Every action goes through the
store's :class:`~backorder.engine.StoreService`, as the CLI's do. :mod:`.settings` is
importable without the ``server`` extra (the config file loads it); the app itself is
:func:`backorder.admin.app.admin_app`.
"""
