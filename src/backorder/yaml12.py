"""YAML 1.2 (core schema) scalars for the files people write: scenarios, catalog files.

PyYAML implements YAML 1.1, where ``no``, ``off``, ``y`` and ``on`` are booleans, ``0123``
is octal and ``1:20`` is the number 80. A WooCommerce ``backorders: no`` or a product named
``No`` would arrive as ``False``. YAML 1.2's core schema, used here, makes only
``true``/``false`` booleans, only ``null``/``~``/empty null, and numbers only what looks
like one in JSON (plus ``0o``/``0x`` and ``.inf``/``.nan``); everything else stays a string.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["Yaml12Loader", "load"]


class Yaml12Loader(yaml.SafeLoader):
    """:class:`yaml.SafeLoader` with the YAML 1.2 core schema's implicit scalars."""


_REPLACED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
             "tag:yaml.org,2002:null"}
Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CORE = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
     list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     list("-+.0123456789")),
]
for _tag, _pattern, _first in _CORE:
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), _first)


def _int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # "0123" is 123: YAML 1.2 has no leading-zero octal


def _float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith("inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    return float("nan") if text == ".nan" else float(text)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _float)


def load(text: str) -> Any:
    """Parse one YAML document with the 1.2 core schema.

    :raises yaml.YAMLError: the text is not YAML.
    """
    return yaml.load(text, Loader=Yaml12Loader)


def problem(exc: yaml.YAMLError) -> str:
    """A YAML error in one line: where (line and column, from 1) and what (PyYAML's own
    message spans lines and quotes the text)."""
    mark = getattr(exc, "problem_mark", None)
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {what}" if mark else what
