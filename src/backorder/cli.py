"""The old home of the command line, kept so ``from backorder.cli import main`` still works.

The commands live in :mod:`backorder.commands`.
"""

from backorder.commands import main

__all__ = ["main"]
