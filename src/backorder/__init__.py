"""backorder: keep selling when stock runs out, under rules the merchant controls."""

from importlib.metadata import PackageNotFoundError, version

# The installed distribution's version: pyproject.toml is its one source.
try:
    __version__ = version("backorder")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
