"""Editable demo inputs: how a demo declares them and how a typed value is checked.

A demo declares a knob with `demo.input("n", 1000, "array size", min=1)`. The UI reads
those declarations from the source with `ast` (it never runs or imports the demo), shows
one form field each, and checks what the user types with `parse_value` before anything
runs. The kernel applies the same check again, so both sides agree on what is valid.
Imports neither jax nor textual.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any


def format_limit(value: float) -> str:
    """A bound as the code would write it: 10_000_000 (not 1e+07), 0.5."""
    return f"{int(value):_}" if float(value).is_integer() and abs(value) < 1e18 else f"{value:g}"


class InputError(ValueError):
    """A value that does not fit its input's declaration."""


@dataclass
class InputSpec:
    name: str
    default: Any
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: list[Any] | None = None
    line: int = 0  # where the declaration is, 1-based
    kind: str = field(init=False)

    def __post_init__(self) -> None:
        self.kind = kind_of(self.default)

    def format(self, value: Any) -> str:
        """The text a form field shows for a value."""
        return repr(value) if self.kind in ("str", "tuple", "list", "none") else str(value)


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    for t in (int, float, str, tuple, list):
        if isinstance(value, t):
            return t.__name__
    if value is None:
        return "none"
    return "any"


def parse_value(spec: InputSpec, text: str | Any) -> Any:
    """Turn what the user typed into a value of the input's kind, or raise InputError."""
    if not isinstance(text, str):
        value = text
    else:
        raw = text.strip()
        if raw == "":
            raise InputError("a value is required")
        if spec.kind == "str" and not (raw[:1] in "'\"" and raw[-1:] == raw[:1]):
            value = raw  # plain words are fine for a string input
        elif spec.kind == "bool" and raw.lower() in ("true", "false", "yes", "no", "1", "0", "on", "off"):
            value = raw.lower() in ("true", "yes", "1", "on")
        else:
            try:
                value = ast.literal_eval(raw)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                raise InputError(f"not a Python literal: {raw!r}") from None
    return _check(spec, value)


def _check(spec: InputSpec, value: Any) -> Any:
    kind = spec.kind
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind == "int" and isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)  # 1e6 is a fine way to type a million
    if kind == "tuple" and isinstance(value, list):
        value = tuple(value)
    if (kind not in ("any", "none") and kind_of(value) != kind
            and not (kind == "tuple" and spec.choices and value in spec.choices)):
        raise InputError(f"expected {_article(kind)}, got {kind_of(value)} {value!r}")
    if spec.choices is not None and value not in spec.choices:
        raise InputError("must be one of " + ", ".join(repr(c) for c in spec.choices))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if spec.min is not None and value < spec.min:
            raise InputError(f"must be >= {format_limit(spec.min)}")
        if spec.max is not None and value > spec.max:
            raise InputError(f"must be <= {format_limit(spec.max)}")
    return value


def _article(kind: str) -> str:
    return {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
            "tuple": "a tuple such as (0, 1)", "list": "a list"}.get(kind, kind)


_INPUT_WORD = re.compile(r"\binput\b")


def declared_inputs(source: str) -> list[InputSpec]:
    """The `demo.input(...)` declarations in a demo's source, in order.

    Only literal arguments are understood; a call whose name or default is not a literal is
    skipped (it still runs, with its default). Source that does not parse declares nothing.
    """
    # Only statements with the word `input` on one of their lines can hold a `demo.input(...)`
    # call: walking the rest of the tree would be most of the work (a few ms at start-up).
    lines = {n for n, text in enumerate(source.splitlines(), 1) if _INPUT_WORD.search(text)}
    if not lines:
        return []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    statements = [stmt for stmt in tree.body
                  if any(stmt.lineno <= n <= (stmt.end_lineno or stmt.lineno) for n in lines)]
    specs: list[InputSpec] = []
    seen: set[str] = set()
    for node in (node for stmt in statements for node in ast.walk(stmt)):
        if not (isinstance(node, ast.Call) and _is_demo_call(node.func, "input")):
            continue
        try:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
        except ValueError:
            continue
        if not args or not isinstance(args[0], str) or args[0] in seen:
            continue
        names = ("name", "default", "help")
        params = dict(zip(names, args)) | kwargs
        try:
            spec = InputSpec(**{k: v for k, v in params.items() if k in InputSpec.__dataclass_fields__})
        except TypeError:
            continue
        spec.line = node.lineno
        seen.add(spec.name)
        specs.append(spec)
    specs.sort(key=lambda s: s.line)
    return specs


def _is_demo_call(func: ast.expr, attr: str) -> bool:
    return isinstance(func, ast.Attribute) and func.attr == attr and (
        isinstance(func.value, ast.Name) and func.value.id == "demo"
    )
