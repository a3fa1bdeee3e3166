"""Every hook is documented: a docstring with every parameter, and a row in the README."""

import inspect
import re
from pathlib import Path

import pytest

from backorder import hookspecs

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
HOOKS = [name for name in hookspecs.__all__ if name.startswith("backorder_")]


def test_all_lists_every_hook():
    defined = {n for n, f in vars(hookspecs).items() if n.startswith("backorder_") and callable(f)}
    assert set(HOOKS) == defined


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_in_the_readme(name):
    assert re.search(rf"\| `{name}` \|", README), f"README's hook table lacks {name}"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_docstring_names_every_parameter(name):
    func = getattr(hookspecs, name)
    doc = inspect.getdoc(func) or ""
    assert len(doc.splitlines()[0]) > 20, f"{name} needs a one-line summary"
    for param in inspect.signature(func).parameters:
        assert f":param {param}:" in doc, f"{name}: parameter {param} undocumented"
