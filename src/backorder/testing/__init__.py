"""Test support for plugin authors.

- :mod:`backorder.testing.pytest_plugin` is loaded by pytest automatically once
  ``backorder`` is installed: fixtures ``plugin_manager``, ``register_plugin``,
  ``backorder_db`` and ``store_service``.
- :class:`backorder.testing.conformance.PlatformConformance` is the suite a platform
  plugin runs against itself: subclass it in your tests and provide its fixtures.
- :func:`backorder.testing.cassettes.recorder` is the one vcrpy cassette convention
  (replay only; ``BACKORDER_RECORD_CASSETTES=1`` records again; credentials filtered).
"""

from backorder.testing.conformance import PlatformConformance

__all__ = ["PlatformConformance"]
