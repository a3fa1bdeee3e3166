"""The optional features and the pip extra each needs: ``backorder[pdf]``, ``backorder[server]``.

The core imports without them; a command that needs one calls :func:`require_extra` first,
so a missing package is one clear line naming the extra to install.
"""

from __future__ import annotations

import importlib

from backorder.errors import MissingExtra

EXTRAS: dict[str, tuple[str, ...]] = {
    "pdf": ("weasyprint",),
    "server": ("starlette", "uvicorn"),
}
"""Extra name -> the modules it installs (each named like its distribution)."""


def require_extra(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtra` unless every module of ``backorder[extra]`` imports."""
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            raise MissingExtra(
                f"{feature} needs {module}, which is not installed: "
                f"pip install 'backorder[{extra}]'"
            ) from None
