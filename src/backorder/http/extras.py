"""Optional parts of a plugin that need packages of their own (a sandbox's web server).

A plugin declares such packages as an extra (``backorder-bigcommerce[sandbox]``) and
imports them under :func:`needs_extra`, so that a missing package is reported as the
command that installs it rather than as a bare ``ModuleNotFoundError``::

    with needs_extra("backorder-bigcommerce", "sandbox"):
        from starlette.applications import Starlette
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from backorder.errors import PluginLoadError


@contextmanager
def needs_extra(distribution: str, extra: str) -> Iterator[None]:
    """Turn a missing module imported in the block into :class:`PluginLoadError` naming
    ``pip install 'distribution[extra]'``."""
    try:
        yield
    except ModuleNotFoundError as exc:
        package = (exc.name or "?").split(".")[0]
        raise PluginLoadError(
            f"{distribution}: its {extra} needs the package {package!r}, which is not "
            f"installed; run: pip install '{distribution}[{extra}]'"
        ) from exc
