"""Merchant-edited text, made safe: token messages and sandboxed Jinja2 HTML templates.

Two kinds of text come from a merchant:

* **messages** with tokens, ``"Only {stock} left"`` (seed 001) or
  ``"[cataloginventoryItemQty] in stock, [orderItemQtyBackordered] backordered"`` (seed 004).
  A message is split into literal text and tokens; each token must be one the message
  knows, and becomes a plain variable lookup in a tiny Jinja2 template whose literal
  parts are passed in as *data*, never as template source. So no merchant text is ever
  evaluated (no ``str.format``, no ``eval``, no Jinja syntax), and Jinja markers in a
  message are refused outright.
* **document templates** (HTML, top-level ``templates/`` or a store's overrides), run in
  Jinja2's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with autoescape and
  :class:`~jinja2.StrictUndefined`: an unknown variable, a syntax error or an unsafe
  attribute (``__class__``...) is a :class:`TemplateProblem` naming the template and line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from backorder.errors import InvalidInput

Syntax = Literal["brace", "bracket"]

_TOKEN = {
    "brace": re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}"),
    "bracket": re.compile(r"\[([A-Za-z_][A-Za-z0-9_]*)\]"),
}
_SHOW = {"brace": "{%s}", "bracket": "[%s]"}
_JINJA_MARKERS = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}")


class TemplateProblem(InvalidInput):
    """A template or message that cannot be used; says which one, on which line, and why."""

    def __init__(self, template: str, line: int | None, problem: str) -> None:
        self.template, self.line, self.problem = template, line, problem
        where = f"{template} line {line}" if line else template
        super().__init__(f"{where}: {problem}")


def _text(value: Any) -> Any:
    """How a value prints: nothing for ``None`` (unlimited, unknown), else itself."""
    return "" if value is None else value


# Messages are plain text (escaped later by whatever HTML they are placed in), so the
# message environment does not autoescape; the document environment does.
_message_env = ImmutableSandboxedEnvironment(autoescape=False, finalize=_text)


class MessageTemplate:
    """One merchant message with ``{token}`` or ``[token]`` placeholders.

    >>> MessageTemplate("low_stock", "Only {stock} left", {"stock"}).render(stock=3)
    'Only 3 left'
    """

    def __init__(
        self, name: str, text: str, tokens: Collection[str], syntax: Syntax = "brace"
    ) -> None:
        self.name, self.text, self.syntax = name, text, syntax
        self.tokens: list[str] = []
        marker = _JINJA_MARKERS.search(text)
        if marker:
            raise TemplateProblem(
                name,
                _line_of(text, marker.start()),
                f"template syntax {marker.group(0)!r} is not allowed in a message; "
                f"use {_SHOW[syntax] % 'token'} placeholders",
            )
        literals: list[str] = []
        source: list[str] = []
        pos = 0
        for match in _TOKEN[syntax].finditer(text):
            token = match.group(1)
            if token not in tokens:
                known = ", ".join(_SHOW[syntax] % t for t in sorted(tokens))
                raise TemplateProblem(
                    name,
                    _line_of(text, match.start()),
                    f"unknown token {match.group(0)}; known tokens: {known}",
                )
            literals.append(text[pos : match.start()])
            source.append(f"{{{{ _literal[{len(literals) - 1}] }}}}{{{{ {token} }}}}")
            self.tokens.append(token)
            pos = match.end()
        literals.append(text[pos:])
        source.append(f"{{{{ _literal[{len(literals) - 1}] }}}}")
        self._literals = tuple(literals)
        self._template = _message_env.from_string("".join(source))

    def render(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> str:
        """The message with its tokens filled in; a token with no value (or ``None``) is empty."""
        context: dict[str, Any] = dict.fromkeys(self.tokens)
        context.update(values or {}, **more)
        context["_literal"] = self._literals
        return self._template.render(context)


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def check_message(name: str, text: str, tokens: Collection[str], syntax: Syntax = "brace") -> str:
    """Validate a message (for pydantic validators): returns it unchanged or raises."""
    MessageTemplate(name, text, tokens, syntax)
    return text


# ------------------------------------------------------------------ document templates
def _date(value: dt.datetime | dt.date | None, fmt: str = "%Y-%m-%d") -> str:
    return "" if value is None else value.strftime(fmt)


def document_environment(
    search: list[Path], files: Mapping[str, Path] | None = None, builtin: Path | None = None
) -> ImmutableSandboxedEnvironment:
    """A sandboxed, autoescaping environment reading templates from ``search`` in order.

    ``files`` maps a template name to a file that replaces it; ``builtin`` is also reachable
    as ``builtin/NAME`` so an override can ``{% extends "builtin/pick_list.html" %}``.
    """
    files = dict(files or {})

    def from_files(name: str):
        path = files.get(name)
        if path is None:
            return None
        path = Path(path)
        if not path.is_file():
            raise TemplateProblem(name, None, f"override file {path} does not exist")
        mtime = path.stat().st_mtime
        return path.read_text("utf-8"), str(path), lambda: path.stat().st_mtime == mtime

    loaders: list[jinja2.BaseLoader] = [jinja2.FunctionLoader(from_files)]
    loaders += [jinja2.FileSystemLoader(str(folder)) for folder in search]
    if builtin is not None:
        loaders.append(jinja2.PrefixLoader({"builtin": jinja2.FileSystemLoader(str(builtin))}))
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_text,
    )
    env.filters["date"] = _date
    return env


def render_template(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render ``name``; any template error becomes a :class:`TemplateProblem` with its line."""
    return _guarded(name, lambda: env.get_template(name).render(context))


def _guarded(name: str, work: Callable[[], str]) -> str:
    try:
        return work()
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(
            exc.filename or exc.name or name, exc.lineno, exc.message or ""
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(name, None, f"template {exc.name!r} not found") from None
    except TemplateProblem:
        raise
    except (SecurityError, jinja2.TemplateError, TypeError, ValueError, LookupError) as exc:
        where, line = _template_frame(exc, name)
        kind = "refused (sandbox)" if isinstance(exc, SecurityError) else type(exc).__name__
        raise TemplateProblem(where, line, f"{kind}: {exc}") from None


def _template_frame(exc: BaseException, default: str) -> tuple[str, int | None]:
    """The innermost template file and line of an error raised while rendering.

    Jinja2 rewrites tracebacks so that template frames carry the template's file name
    and line number; the last such frame is where the error happened.
    """
    where, line = default, None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".htm", ".css")) or filename == "<template>":
            where, line = filename, tb.tb_lineno
        tb = tb.tb_next
    return where, line
