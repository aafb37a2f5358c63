"""Find and load demo files: the built-in demos and a user's own file.

A demo file's module docstring is its lesson (Markdown, first heading = title); the rest
of the file is the code shown in the editor and run by the kernel. Imports neither jax
nor textual: the UI reads demos without running them.
"""

from __future__ import annotations

import ast
import tokenize
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from jaxtui.inputs import InputSpec, declared_inputs

ORDER = ("grad", "jit", "vmap", "lax", "pmap", "stax", "multihost", "tpu", "playground")


class UnknownDemo(LookupError):
    """A demo name that is neither a built-in demo nor an existing .py file."""


class UnreadableDemo(UnknownDemo):
    """A demo file that cannot be read or decoded. str(): one line that says why."""


def read_source(path: Path) -> str:
    """The file's text, decoded as Python decodes it: a PEP 263 coding line or a UTF-8 BOM
    names the encoding, UTF-8 otherwise. Raises UnreadableDemo with one line that says why."""
    try:
        with tokenize.open(path) as f:
            return f.read()
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        reason = f"not valid {exc.encoding} at line {line} (byte {exc.object[exc.start]:#04x}); " \
                 "save it as UTF-8 or declare its encoding (# -*- coding: latin-1 -*-)"
    except SyntaxError as exc:  # tokenize's own: bad bytes in the first lines, an unknown codec
        reason = exc.msg.replace(f" for {str(path)!r}", "")
        if reason.startswith("invalid or missing encoding declaration"):
            reason = "not valid utf-8, and no coding line (# -*- coding: latin-1 -*-) names its encoding"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    raise UnreadableDemo(f"cannot read {path}: {reason}")


def demos_dir() -> Path:
    """The built-in demos: packaged inside jaxtui when installed, top-level in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "demos", package.parent / "demos"):
        if (candidate / "grad.py").is_file():
            return candidate
    raise FileNotFoundError(f"jaxtui's demos were not found next to {package}")


@dataclass
class Demo:
    """A demo file. Its lesson, code, title and inputs are parsed on first use: the app
    lists every demo at start-up but parses only the one it shows first."""

    name: str
    path: Path
    builtin: bool = True

    @cached_property
    def source(self) -> str:
        return read_source(self.path)

    @cached_property
    def _parts(self) -> tuple[str, str, int]:
        return split_lesson(self.source)

    @property
    def lesson(self) -> str:
        """The module docstring (Markdown)."""
        return self._parts[0]

    @property
    def code(self) -> str:
        """What the editor shows and the kernel runs: the file without its docstring."""
        return self._parts[1]

    @property
    def first_line(self) -> int:
        """The file's line number of the code's first line: the editor numbers its lines
        from here, and the kernel runs the code at these lines, so every line number the
        user sees (errors, jaxpr source, corrections) is the file's own."""
        return self._parts[2]

    def file_text(self, code: str) -> str:
        """The whole file with `code` in place of its code (the lesson docstring kept)."""
        head = self.source.splitlines(keepends=True)[: self.first_line - 1]
        return "".join(head) + code

    def reload(self) -> None:
        """Read the file again (after jaxtui wrote it): its code is the new original."""
        for cached in ("source", "_parts"):
            self.__dict__.pop(cached, None)
        _ = self.source

    def run_params(self, code: str | None = None, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the kernel's `exec` and `inspect` take to run this demo (its code, or `code`)."""
        return {"code": self.code if code is None else code, "filename": str(self.path),
                "first_line": self.first_line, "demo": self.name, "inputs": inputs or {}}

    @cached_property
    def title(self) -> str:
        """The lesson's first heading, or the demo's name."""
        for line in self.lesson.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
        return self.name

    @cached_property
    def inputs(self) -> list[InputSpec]:
        return declared_inputs(self.code)

    @property
    def summary(self) -> str:
        """The lesson's first sentence, on one line, for `jaxtui list`."""
        paragraph: list[str] = []
        for line in self.lesson.splitlines():
            line = line.strip()
            if line.startswith("#"):
                continue
            if not line:
                if paragraph:
                    break
                continue
            paragraph.append(line)
        text = " ".join(paragraph).replace("**", "")
        sentence = text.split(". ")[0].rstrip(".") or self.title
        if len(sentence) <= 100:
            return sentence
        return sentence[:99].rsplit(" ", 1)[0].rstrip(",;:") + "…"  # cut between words


def split_lesson(source: str) -> tuple[str, str, int]:
    """(docstring, code without the docstring, the file line the code starts at). Source
    that does not parse is all code."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "", source, 1
    doc = ast.get_docstring(tree, clean=True) or ""
    if not doc or not tree.body:
        return doc, source, 1
    end = tree.body[0].end_lineno or 0
    rest = source.splitlines(keepends=True)[end:]
    while rest and not rest[0].strip():
        rest.pop(0)
        end += 1
    return doc, "".join(rest), end + 1


def load(path: Path, *, builtin: bool = False, name: str | None = None) -> Demo:
    demo = Demo(name=name or path.stem, path=path, builtin=builtin)
    _ = demo.source  # read now: a missing or unreadable file fails here, not later in the UI
    return demo


def builtin_names() -> list[str]:
    found = sorted(p.stem for p in demos_dir().glob("*.py") if not p.stem.startswith("_"))
    return [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]


def builtin_demos() -> list[Demo]:
    root = demos_dir()
    return [load(root / f"{name}.py", builtin=True) for name in builtin_names()]


def resolve(name_or_path: str) -> Demo:
    """A built-in demo by name, or a user's .py file by path."""
    names = builtin_names()
    if name_or_path in names:
        return load(demos_dir() / f"{name_or_path}.py", builtin=True)
    path = Path(name_or_path).expanduser()
    if path.suffix == ".py" and path.is_file():
        return load(path.resolve())
    hint = f"no such file: {path}" if path.suffix == ".py" else f"unknown demo {name_or_path!r}"
    raise UnknownDemo(f"{hint}. Valid demos: {', '.join(names)} (or a path to a .py file)")
