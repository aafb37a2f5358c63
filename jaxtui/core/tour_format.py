"""Tour files: walkthroughs a teacher can write, read without Textual or JAX.

A tour is a plain text file (`demos/notes.tour` is the default one):

    # Lines starting with "#" at the left margin are comments.
    title: JAX, following the notes
    about: One line on what the tour covers (shown by `jaxtui tour --list`).

    step: grad returns only the gradient
    pane: grad              # the demo pane; later steps default to the previous one
    action: run             # run | none (the default)
    show: output            # the results tab to bring forward (after the run)
    input: n = 100          # a form value for this step (repeatable)
    text:
        Markdown narrative, indented under `text:`.
    replace:
        grads = grad_fn(w, b, x, y)
    with:
        loss, grads = jax.value_and_grad(loss_fn, argnums=(0, 1))(w, b, x, y)
    append:
        print("added at the end of the demo")

Blocks (`text:`, `code:`, `replace:`, `with:`, `append:`) take the indented lines below
them; on the other lines `  # ...` starts a comment. A step's code is the demo's original
code with that step's changes applied (`code:` replaces all of it), so every step starts
from a known state, whatever came before.
A malformed file raises `TourError`, whose message names the file and line.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jaxtui.inputs import InputSpec

BLOCK_KEYS = ("text", "code", "replace", "with", "append")
STEP_FIELDS = ("pane", "action", "show", "input", *BLOCK_KEYS)
TOUR_FIELDS = ("title", "about")
ACTIONS = ("run", "none")
SUFFIX = ".tour"

_FIELD = re.compile(r"^([A-Za-z][A-Za-z_-]*)\s*:(.*)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class TourError(ValueError):
    """A tour file that cannot be used, with the line that says why."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line
        self.message = message


class UnknownTour(LookupError):
    """A tour name that is neither a built-in tour nor a .tour file."""


@dataclass(frozen=True)
class CodeChange:
    """One edit a step makes to its pane's original code."""

    kind: str  # "code" (replace everything), "replace" (old -> new) or "append"
    text: str  # the new code
    old: str = ""  # for "replace": the code it replaces
    line: int = 0  # where the change starts in the tour file


@dataclass
class Step:
    title: str
    pane: str
    line: int  # the `step:` line
    text: str = ""  # Markdown
    action: str = "none"
    show: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)  # name -> text as typed in the form
    changes: list[CodeChange] = field(default_factory=list)
    field_lines: dict[str, int] = field(default_factory=dict)  # "show", "input:n"... -> line


@dataclass
class Tour:
    name: str
    title: str
    about: str
    steps: list[Step]
    source: str  # the path (or "<text>") used in error messages


class ChangeDoesNotApply(ValueError):
    """A `replace:` whose old code is not in the demo (the demo changed since the tour)."""

    def __init__(self, change: CodeChange, source: str = "") -> None:
        first = change.old.strip().splitlines()[0] if change.old.strip() else ""
        where = f"{source}:{change.line}: " if source else ""
        super().__init__(f"{where}the code to replace is not in the demo: {first!r}")
        self.change = change


# -- parsing -------------------------------------------------------------------------------
def parse_tour(text: str, *, source: str = "<text>", name: str = "") -> Tour:
    """Parse a tour file's text. Raises TourError naming the line of the first problem."""
    parser = _Parser(source)
    for number, line in enumerate(text.splitlines(), start=1):
        parser.feed(number, line)
    return parser.finish(name or Path(source).stem)


def load_tour(path: Path) -> Tour:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TourError(str(path), 1, f"not UTF-8 text ({exc.reason})") from None
    return parse_tour(text, source=str(path), name=path.stem)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.title = ""
        self.about = ""
        self.title_line = 0
        self.steps: list[Step] = []
        self.step: Step | None = None
        self.seen: set[str] = set()  # single-valued fields of the current step
        self.block: tuple[str, int, str, list[str]] | None = None  # key, line, inline value, lines
        self.pending_replace: tuple[str, int] | None = None  # old code, line

    def error(self, line: int, message: str) -> TourError:
        return TourError(self.source, line, message)

    def feed(self, number: int, line: str) -> None:
        if self.block is not None and (not line.strip() or line[:1] in " \t"):
            self.block[3].append(line)
            return
        if not line.strip():
            return
        if line[:1] in " \t":
            raise self.error(number, "an indented line outside a block: indent text under "
                                     f"one of {', '.join(k + ':' for k in BLOCK_KEYS)}")
        self._close_block()
        if line.startswith("#"):
            return
        match = _FIELD.match(line)
        if not match:
            raise self.error(number, f"expected 'field: value', got {line.strip()[:40]!r} "
                                     "(narrative goes indented under 'text:')")
        key, value = match.group(1).lower(), match.group(2).strip()
        if key == "step":
            self._start_step(number, value)
        elif self.step is None:
            self._tour_field(number, key, value)
        else:
            self._step_field(number, key, value)

    # -- fields --------------------------------------------------------------------------------
    def _tour_field(self, number: int, key: str, value: str) -> None:
        if key in STEP_FIELDS:
            raise self.error(number, f"'{key}:' belongs to a step; start one with 'step: TITLE'")
        if key not in TOUR_FIELDS:
            raise self.error(number, f"unknown field '{key}' (before the first step: "
                                     f"{', '.join(TOUR_FIELDS)}, then 'step:')")
        if not value:
            raise self.error(number, f"'{key}:' needs a value")
        if key == "title":
            self.title, self.title_line = value, number
        else:
            self.about = value

    def _start_step(self, number: int, title: str) -> None:
        self._finish_step()
        if not title:
            raise self.error(number, "'step:' needs a title, e.g. 'step: grad returns only the gradient'")
        pane = self.steps[-1].pane if self.steps else ""
        self.step = Step(title=title, pane=pane, line=number)
        self.seen = set()

    def _step_field(self, number: int, key: str, value: str) -> None:
        step = self.step
        assert step is not None
        if key in TOUR_FIELDS:
            raise self.error(number, f"'{key}:' belongs at the top of the file, before the first step")
        if key not in STEP_FIELDS:
            raise self.error(number, f"unknown field '{key}' (a step has: {', '.join(STEP_FIELDS)})")
        if key == "with" and self.pending_replace is None:
            raise self.error(number, "'with:' must follow a 'replace:' block")
        if key != "with" and self.pending_replace is not None:
            raise self.error(self.pending_replace[1], "'replace:' needs a 'with:' block right after it")
        if key in ("pane", "action", "show", "text", "code") and key in self.seen:
            raise self.error(number, f"a second '{key}:' in this step")
        self.seen.add(key)
        step.field_lines.setdefault(key, number)
        if key in BLOCK_KEYS:
            self.block = (key, number, value, [])
            return
        value = re.sub(r"\s+#.*$", "", value)  # `pane: grad  # a comment`
        if key == "pane":
            if not _NAME.match(value):
                raise self.error(number, f"'pane:' needs a demo name (grad, jit, ...), got {value!r}")
            step.pane = value
        elif key == "action":
            if value not in ACTIONS:
                raise self.error(number, f"unknown action {value!r} (actions: {', '.join(ACTIONS)})")
            step.action = value
        elif key == "show":
            if not _NAME.match(value):
                raise self.error(number, f"'show:' needs a results tab (output, jaxpr, timing, ...), "
                                         f"got {value!r}")
            step.show = value.lower()
        elif key == "input":
            name, eq, typed = value.partition("=")
            name, typed = name.strip(), typed.strip()
            if not eq or not _NAME.match(name) or not typed:
                raise self.error(number, f"'input:' needs NAME = VALUE, got {value!r}")
            if name in step.inputs:
                raise self.error(number, f"input {name!r} is set twice in this step")
            step.inputs[name] = typed
            step.field_lines[f"input:{name}"] = number

    # -- blocks -------------------------------------------------------------------------------
    def _close_block(self) -> None:
        if self.block is None:
            return
        key, number, inline, lines = self.block
        self.block = None
        while lines and not lines[-1].strip():
            lines.pop()
        rest = textwrap.dedent("\n".join(lines)).strip("\n")
        body = "\n".join(part for part in (inline, rest) if part)  # `text: first line` is allowed
        if not body.strip():
            raise self.error(number, f"'{key}:' has nothing under it (indent its lines)")
        step = self.step
        assert step is not None
        if key == "text":
            step.text = body
        elif key == "replace":
            self.pending_replace = (body, number)
        elif key == "with":
            assert self.pending_replace is not None
            old, line = self.pending_replace
            self.pending_replace = None
            step.changes.append(CodeChange("replace", body + "\n", old=old, line=line))
        elif key == "code":
            if step.changes:
                raise self.error(number, "'code:' replaces all of the demo: put it before any "
                                         "'replace:' or 'append:' in the step")
            step.changes.append(CodeChange("code", body + "\n", line=number))
        else:  # append
            step.changes.append(CodeChange("append", body + "\n", line=number))

    def _finish_step(self) -> None:
        self._close_block()
        if self.pending_replace is not None:
            raise self.error(self.pending_replace[1], "'replace:' needs a 'with:' block right after it")
        step = self.step
        if step is None:
            return
        if not step.pane:
            raise self.error(step.line, "the first step must name its pane ('pane: grad')")
        if not step.text:
            raise self.error(step.line, f"step {step.title!r} has no 'text:' (its narrative)")
        self.steps.append(step)
        self.step = None

    def finish(self, name: str) -> Tour:
        self._finish_step()
        if not self.title:
            raise self.error(1, "a tour needs a 'title: ...' line before its first step")
        if not self.steps:
            raise self.error(self.title_line, "a tour needs at least one 'step: TITLE'")
        return Tour(name=name, title=self.title, about=self.about, steps=self.steps, source=self.source)


# -- applying a step's code changes -----------------------------------------------------------
def step_code(step: Step, original: str, *, source: str = "") -> str:
    """The code a step shows: `original` with the step's changes applied, in order."""
    code = original
    for change in step.changes:
        if change.kind == "code":
            code = change.text
        elif change.kind == "append":
            code = code.rstrip("\n") + "\n\n" + change.text
        else:
            code = _replace(code, change, source)
    return code


def _replace(code: str, change: CodeChange, source: str) -> str:
    if change.old in code:
        return code.replace(change.old, change.text.rstrip("\n"), 1)
    # Tolerate re-indentation and trailing spaces: compare stripped lines, keep the demo's
    # indentation of the first matched line.
    old = [line.strip() for line in change.old.strip("\n").splitlines()]
    lines = code.splitlines(keepends=True)
    for i in range(len(lines) - len(old) + 1):
        if [line.strip() for line in lines[i:i + len(old)]] == old:
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            new = textwrap.indent(change.text.rstrip("\n"), indent) + "\n"
            return "".join(lines[:i]) + new + "".join(lines[i + len(old):])
    raise ChangeDoesNotApply(change, source)


def first_changed_line(before: str, after: str) -> int | None:
    """The 1-based line of `after` where it first differs from `before` (None: identical)."""
    if before == after:
        return None
    a, b = before.splitlines(), after.splitlines()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i + 1
    return min(len(a), len(b)) + 1


# -- finding tours ----------------------------------------------------------------------------
def tours_dir() -> Path:
    """Tours ship beside the built-in demos (jaxtui/demos in a wheel, demos/ in a checkout)."""
    from jaxtui.core.catalog import demos_dir

    return demos_dir()


def builtin_tour_names() -> list[str]:
    names = sorted(p.stem for p in tours_dir().glob(f"*{SUFFIX}"))
    return (["notes"] if "notes" in names else []) + [n for n in names if n != "notes"]


def find_tour(name_or_path: str | None = None) -> Tour:
    """A built-in tour by name (default: notes), or a .tour file by path.

    Raises UnknownTour for a name that is neither, TourError for a malformed file.
    """
    target = name_or_path or "notes"
    names = builtin_tour_names()
    if target in names:
        return load_tour(tours_dir() / f"{target}{SUFFIX}")
    path = Path(target).expanduser()
    if path.is_file():
        return load_tour(path.resolve())
    known = ", ".join(names) or "none"
    raise UnknownTour(f"no tour {target!r}: built-in tours are {known}; or give a path to a {SUFFIX} file")


# -- checking a tour against the demos ---------------------------------------------------------
def check_tour(tour: Tour, demos: Mapping[str, tuple[str, Sequence[InputSpec]]]) -> list[TourError]:
    """Problems a parser cannot see: unknown panes, inputs the demo does not declare or
    values it refuses, replacements that no longer match the demo's code.

    `demos` maps a pane name to (original code, its InputSpecs).
    """
    from jaxtui.inputs import InputError, parse_value

    problems: list[TourError] = []
    for step in tour.steps:
        if step.pane not in demos:
            line = step.field_lines.get("pane", step.line)
            problems.append(TourError(tour.source, line, f"unknown pane {step.pane!r} "
                                                         f"(panes: {', '.join(demos)})"))
            continue
        code, specs = demos[step.pane]
        by_name = {s.name: s for s in specs}
        for name, typed in step.inputs.items():
            line = step.field_lines[f"input:{name}"]
            spec = by_name.get(name)
            if spec is None:
                known = ", ".join(by_name) or "none"
                problems.append(TourError(tour.source, line, f"pane {step.pane!r} has no input "
                                                             f"{name!r} (inputs: {known})"))
                continue
            try:
                parse_value(spec, typed)
            except InputError as exc:
                problems.append(TourError(tour.source, line, f"input {name}: {exc}"))
        try:
            step_code(step, code)
        except ChangeDoesNotApply as exc:
            problems.append(TourError(tour.source, exc.change.line, str(exc)))
    return problems
