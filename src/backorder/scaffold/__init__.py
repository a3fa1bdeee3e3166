"""``backorder new-plugin NAME``: a platform plugin package that passes its own tests.

The skeleton is a working plugin against an in-memory fake platform (``fake.py``): an
entry point, the platform object and its hook (``plugin.py``), the conformance suite wired
to the fake (``tests/test_conformance.py``) and a README. Replace the fake with the real
platform's API client one method at a time, keeping the suite green.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from string import Template

from backorder.errors import InvalidInput

__all__ = ["new_plugin"]

NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

FILES = {
    "pyproject.toml": "pyproject.toml.tmpl",
    "README.md": "README.md.tmpl",
    "src/backorder_$name/__init__.py": "init.py.tmpl",
    "src/backorder_$name/fake.py": "fake.py.tmpl",
    "src/backorder_$name/plugin.py": "plugin.py.tmpl",
    "tests/conftest.py": "conftest.py.tmpl",
    "tests/test_conformance.py": "test_conformance.py.tmpl",
}
"""Path in the new package (``$name`` filled in) -> its template in this package."""


def new_plugin(name: str, directory: Path) -> list[Path]:
    """Write the package ``backorder-NAME`` into ``directory/backorder-NAME``.

    :returns: the files written.
    :raises backorder.errors.InvalidInput: NAME is not a lowercase identifier, or the
        folder exists already (nothing is overwritten).
    """
    if not NAME.match(name):
        raise InvalidInput(
            f"plugin name {name!r}: use 2-40 lowercase letters, digits and _ (a letter first)"
        )
    root = directory / f"backorder-{name.replace('_', '-')}"
    if root.exists():
        raise InvalidInput(f"{root}: exists already; choose another name or folder")
    values = {"name": name, "Name": "".join(p.title() for p in name.split("_")),
              "dist": f"backorder-{name.replace('_', '-')}"}
    templates = files(__name__) / "templates"
    written = []
    for target, template in FILES.items():
        path = root / Template(target).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (templates / template).read_text("utf-8")
        path.write_text(Template(text).substitute(values), "utf-8")
        written.append(path)
    return written
