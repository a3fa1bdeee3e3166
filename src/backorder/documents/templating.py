"""Merchant-edited text, made safe: token messages and sandboxed Jinja2 HTML templates.

Two kinds of text come from a merchant:

* **messages** with tokens, ``"Only {stock} left"`` (seed 001) or
  ``"[cataloginventoryItemQty] in stock, [orderItemQtyBackordered] backordered"`` (seed 004).
  A message is split into literal text and tokens; each token must be one the message
  knows, and rendering joins the literal parts with the tokens' values. So no merchant
  text is ever evaluated (no ``str.format``, no ``eval``, no template engine), and Jinja
  markers in a message are refused outright (a message may be carried into a document
  template as a value, never as its source).
* **document templates** (HTML, top-level ``templates/`` or a store's overrides), run in
  Jinja2's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with autoescape and
  :class:`~jinja2.StrictUndefined`: an unknown variable, a syntax error or an unsafe
  attribute (``__class__``...) is a :class:`TemplateProblem` naming the template and line.
  The sandbox is also *bounded* (:class:`BoundedSandbox`): ranges, string and list
  repetition, padding, the output's size and the render's time are limited
  (:data:`MAX_RANGE`, :data:`MAX_STRING`, :data:`MAX_LOOP_ITEMS`, :data:`MAX_OUTPUT`,
  :data:`RENDER_SECONDS`), so a template cannot exhaust the machine.
"""

from __future__ import annotations

import contextvars
import ctypes
import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.loaders import split_template_path
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


class MessageTemplate:
    """One merchant message with ``{token}`` or ``[token]`` placeholders.

    >>> MessageTemplate("low_stock", "Only {stock} left", {"stock"}).render(stock=3)
    'Only 3 left'
    """

    def __init__(
        self, name: str, text: str, tokens: Collection[str], syntax: Syntax = "brace"
    ) -> None:
        self.name, self.text, self.syntax = name, text, syntax
        marker = _JINJA_MARKERS.search(text)
        if marker:
            raise TemplateProblem(
                name,
                _line_of(text, marker.start()),
                f"template syntax {marker.group(0)!r} is not allowed in a message; "
                f"use {_SHOW[syntax] % 'token'} placeholders",
            )
        for match in _TOKEN[syntax].finditer(text):
            if match.group(1) not in tokens:
                known = ", ".join(_SHOW[syntax] % t for t in sorted(tokens))
                raise TemplateProblem(
                    name,
                    _line_of(text, match.start()),
                    f"unknown token {match.group(0)}; known tokens: {known}",
                )
        pieces = _TOKEN[syntax].split(text)  # literal, token, literal, ..., literal
        self._first = pieces[0]
        self._after = list(zip(pieces[1::2], pieces[2::2], strict=True))
        """Each token with the literal text that follows it."""
        self.tokens = [token for token, _ in self._after]

    def render(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> str:
        """The message with its tokens filled in; a token with no value (or ``None``) is empty.

        The literal text and the values are joined, nothing is evaluated: this runs for every
        backordered order line, where a template engine cost more than the line's decision."""
        if more:
            values = {**(values or {}), **more}
        elif values is None:
            values = {}
        parts = [self._first]
        for token, literal in self._after:
            value = values.get(token)
            parts += ("" if value is None else str(value), literal)
        return "".join(parts)


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def check_message(name: str, text: str, tokens: Collection[str], syntax: Syntax = "brace") -> str:
    """Validate a message (for pydantic validators): returns it unchanged or raises."""
    MessageTemplate(name, text, tokens, syntax)
    return text


# ------------------------------------------------------------------ the bounded sandbox
MAX_RANGE = 10_000
"""Items one ``range()`` in a template may have (Jinja's own sandbox allows 100,000)."""
MAX_LOOP_ITEMS = 200_000
"""Items all of one render's ``range()`` loops may produce together (nested loops)."""
MAX_STRING = 100_000
"""Characters (or items) a repetition (``'x' * n``, ``[0] * n``), a concatenation with
``+``, a ``%`` format width or a padding (``center``, ``ljust``...) may produce."""
MAX_OUTPUT = 5_000_000
"""Characters a rendered document may have."""
RENDER_SECONDS = 10.0
"""Seconds one render may take."""

_PADDING = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\d+)|%[-#0 +]*\d*\.(\d+)")


class _Budget:
    """What one render has used: loop items, and when it must end."""

    def __init__(self, seconds: float) -> None:
        self.items = 0
        self.deadline = time.monotonic() + seconds


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "backorder_template_budget", default=None
)


class _Refused(SecurityError):
    """A template went past one of the bounds (shown as ``refused (limit)``)."""


def _bounded_range(*args: int) -> Iterator[int]:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise _Refused(f"range() of {len(numbers):,} items: at most {MAX_RANGE:,}")
    budget = _budget.get()
    if budget is not None:
        budget.items += len(numbers)
        if budget.items > MAX_LOOP_ITEMS:
            raise _Refused(f"loops over more than {MAX_LOOP_ITEMS:,} range() items in all")
        if time.monotonic() > budget.deadline:
            raise _Refused(f"rendering took longer than {RENDER_SECONDS:g} s")
    return iter(numbers)


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` (string concatenation, which the sandbox's operator hooks do
    not see) as ``environment.bounded_concat(a ~ b)``."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with limits on what a template may make the machine do."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    code_generator_class = _BoundedCodeGenerator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _bounded_range
        for name in ("center", "indent", "wordwrap", "truncate"):
            self.filters[name] = _bounded_filter(self.filters[name], name)
        self.filters["join"] = _bounded_join(self.filters["join"])
        self.filters["replace"] = _bounded_replace(self.filters["replace"])
        self.filters["format"] = _bounded_format(self.filters["format"])

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` / ``format_map`` in a template (the sandbox wraps both here)."""
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_brace_format(value.__self__)
        return wrapped

    @staticmethod
    def bounded_concat(value: Any) -> Any:
        """The result of ``a ~ b`` (see :class:`_BoundedCodeGenerator`), if not too long:
        a string doubled in a loop stops at the first step past the limit."""
        if len(value) > MAX_OUTPUT:
            raise _Refused(f"a string longer than {MAX_OUTPUT:,} characters")
        return value

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _sized(seq)
                if size is not None and isinstance(times, int) and size * times > MAX_STRING:
                    raise _Refused(
                        f"repetition of {size * times:,} items: at most {MAX_STRING:,}"
                    )
        elif (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and (right > 256 or abs(left).bit_length() * max(right, 0) > 4096)
        ):
            raise _Refused(f"{left} ** {right} is too large a number")
        elif operator == "+":
            sizes = (_sized(left), _sized(right))
            if None not in sizes and sum(s for s in sizes if s is not None) > MAX_STRING:
                raise _Refused(f"a concatenation longer than {MAX_STRING:,} items")
        elif operator == "%" and isinstance(left, str):
            _check_percent_format(left, right if isinstance(right, tuple) else (right,))
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(__obj, "__name__", "")
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str | bytes):
            if name in _PADDING:
                _check_width(f"{name}()", args, kwargs)
            elif name == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1])
            elif name == "join" and args:
                args = (_check_join(args[0], owner), *args[1:])
        budget = _budget.get()
        if budget is not None and time.monotonic() > budget.deadline:
            raise _Refused(f"rendering took longer than {RENDER_SECONDS:g} s")
        return super().call(__context, __obj, *args, **kwargs)


def _check_percent_format(text: str, values: tuple) -> None:
    for match in _FORMAT_WIDTH.finditer(text):
        width = int(match.group(1) or match.group(2))
        if width > MAX_STRING:
            raise _Refused(f"a format width of {width:,}: at most {MAX_STRING:,}")
    if "*" in text:
        _check_width("format", values, {})


_BRACE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*?(\d+)")


def _check_brace_format(text: str) -> None:
    for match in _BRACE_WIDTH.finditer(text):
        if int(match.group(1)) > MAX_STRING:
            raise _Refused(f"a format width of {int(match.group(1)):,}: at most {MAX_STRING:,}")


def _check_replace(text: Any, old: Any, new: Any) -> None:
    size, old_size, new_size = _sized(text), _sized(old), _sized(new)
    if size is None or old_size is None or new_size is None:
        return
    most = size + (size // max(old_size, 1) + 1) * new_size
    if most > MAX_OUTPUT:
        raise _Refused(f"replace() could make {most:,} characters: at most {MAX_OUTPUT:,}")


def _check_join(items: Any, separator: Any) -> list:
    items = list(items)
    total = sum(len(x) if isinstance(x, str | bytes) else 32 for x in items)
    total += len(separator) * max(len(items) - 1, 0)
    if total > MAX_OUTPUT:
        raise _Refused(f"join() of {total:,} characters: at most {MAX_OUTPUT:,}")
    return items


def _bounded_join(original: Callable[..., Any]) -> Callable[..., Any]:
    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        if attribute is None:
            value = _check_join(value, d)
        return original(eval_ctx, value, d, attribute)

    join.jinja_pass_arg = original.jinja_pass_arg  # type: ignore[attr-defined]
    return join


def _bounded_replace(original: Callable[..., Any]) -> Callable[..., Any]:
    def replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> Any:
        _check_replace(str(s), str(old), str(new))
        return original(eval_ctx, s, old, new, count)

    replace.jinja_pass_arg = original.jinja_pass_arg  # type: ignore[attr-defined]
    return replace


def _bounded_format(original: Callable[..., Any]) -> Callable[..., Any]:
    def format_(value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            _check_percent_format(value, args)
        return original(value, *args, **kwargs)

    return format_


def _check_width(name: str, args: tuple, kwargs: dict) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and value > MAX_STRING:
            raise _Refused(f"{name} to {value:,} characters: at most {MAX_STRING:,}")


def _bounded_filter(original: Callable[..., Any], name: str) -> Callable[..., Any]:
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_width(name, args, kwargs)
        return original(value, *args, **kwargs)

    for attr in ("jinja_pass_arg",):  # keep how Jinja passes the environment/context
        if hasattr(original, attr):
            setattr(bounded, attr, getattr(original, attr))
    return bounded


class _RenderTimeout(Exception):
    """Raised inside the rendering thread when its time is up (see :func:`_deadline`)."""


def _deadline(seconds: float, work: Callable[[], str]) -> str:
    """Run ``work`` in this thread; past ``seconds`` it is interrupted with
    :class:`_RenderTimeout`.

    A render is pure Python, so a loop the bounds above did not catch (``{% for %}``
    over a long list, nested loops) is stopped by raising an exception in this thread
    from a timer (``PyThreadState_SetAsyncExc``, checked between bytecodes). The lock
    makes sure it is never raised once ``work`` has finished.
    """
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False}

    def interrupt() -> None:
        with lock:
            if not state["done"]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(target), ctypes.py_object(_RenderTimeout)
                )

    timer = threading.Timer(seconds, interrupt)
    timer.daemon = True
    timer.start()
    try:
        return work()
    finally:
        with lock:
            state["done"] = True
        timer.cancel()


# ------------------------------------------------------------------ document templates
def _date(value: dt.datetime | dt.date | None, fmt: str = "%Y-%m-%d") -> str:
    return "" if value is None else value.strftime(fmt)


class ConfinedLoader(jinja2.FileSystemLoader):
    """A folder of templates whose files must stay inside it: a file that is a link
    leading out of the folder (``invoice.html -> /etc/passwd``) is refused, not read."""

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        pieces = split_template_path(template)
        for folder in self.searchpath:
            candidate = Path(folder, *pieces)
            if candidate.is_file():
                _check_inside(candidate, Path(folder), template)
                break
        return super().get_source(environment, template)


def _check_inside(path: Path, root: Path, name: str) -> None:
    real = path.resolve()
    if not real.is_relative_to(root.resolve()):
        raise TemplateProblem(
            name, None, f"{path} leads to {real}, outside {root}: refused"
        )


def document_environment(
    search: list[Path],
    files: Mapping[str, Path] | None = None,
    builtin: Path | None = None,
    *,
    root: Path | None = None,
) -> ImmutableSandboxedEnvironment:
    """A sandboxed, autoescaping environment reading templates from ``search`` in order.

    ``files`` maps a template name to a file that replaces it; ``builtin`` is also reachable
    as ``builtin/NAME`` so an override can ``{% extends "builtin/pick_list.html" %}``.
    A template found in a ``search`` folder must resolve inside that folder (no link
    out of it); with ``root`` (the config's folder), the ``search`` folders and the
    ``files`` must resolve inside ``root`` as well (checked again at every load: a link
    made after the config was read is refused too).
    """
    files = dict(files or {})

    def from_files(name: str):
        path = files.get(name)
        if path is None:
            return None
        path = Path(path)
        if not path.is_file():
            raise TemplateProblem(name, None, f"override file {path} does not exist")
        if root is not None:
            _check_inside(path, root, name)
        mtime = path.stat().st_mtime
        return path.read_text("utf-8"), str(path), lambda: path.stat().st_mtime == mtime

    loaders: list[jinja2.BaseLoader] = [jinja2.FunctionLoader(from_files)]
    for folder in search:
        if root is not None and folder != builtin:
            _check_inside(Path(folder), root, str(folder))
        loaders.append(ConfinedLoader(str(folder)))
    if builtin is not None:
        loaders.append(jinja2.PrefixLoader({"builtin": ConfinedLoader(str(builtin))}))
    env = BoundedSandbox(
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
    """Render ``name``; any template error becomes a :class:`TemplateProblem` with its line.

    The render is bounded: :data:`RENDER_SECONDS` of time and :data:`MAX_OUTPUT`
    characters of output (counted as it is produced, stopped at the limit)."""

    def render() -> str:
        template = env.get_template(name)
        parts, size = [], 0
        for part in template.generate(context):
            size += len(part)
            if size > MAX_OUTPUT:
                raise TemplateProblem(
                    template.filename or name, None,
                    f"refused (limit): output longer than {MAX_OUTPUT:,} characters",
                )
            parts.append(part)
        return "".join(parts)

    token = _budget.set(_Budget(RENDER_SECONDS))
    try:
        return _guarded(name, lambda: _deadline(RENDER_SECONDS, render))
    finally:
        _budget.reset(token)


def _guarded(name: str, work: Callable[[], str]) -> str:
    try:
        return work()
    except _RenderTimeout as exc:
        where, line = _template_frame(exc, name)
        raise TemplateProblem(
            where, line, f"refused (limit): rendering took longer than {RENDER_SECONDS:g} s"
        ) from None
    except _Refused as exc:
        where, line = _template_frame(exc, name)
        raise TemplateProblem(where, line, f"refused (limit): {exc}") from None
    except (OverflowError, MemoryError, RecursionError) as exc:
        where, line = _template_frame(exc, name)
        raise TemplateProblem(where, line, f"refused (limit): {type(exc).__name__}") from None
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
