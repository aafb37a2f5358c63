"""Every "Things to try" snippet in every lesson runs as the lesson says (issue 15, item 1).

A snippet is an indented code block under an item of a lesson's "Things to try" list. Each
one is pasted at the end of its demo and run headless (`jaxtui run FILE --json`): it must
run cleanly, or, where its line says `# fails: SomeError`, fail with that error on that
line. What each snippet's item promises (shapes, primitives, errors) is checked too.
"""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import DEMOS, PYTHON
from jaxtui.core.catalog import load

CODE_INDENT = " " * 6  # a code block inside a Markdown list item
FAILS = re.compile(r"#\s*fails:\s*(\w+)")


def things_to_try(lesson: str) -> list[str]:
    """The code blocks of the lesson's "Things to try" list, dedented, in order."""
    if "Things to try" not in lesson:
        return []
    section = lesson.split("Things to try", 1)[1]
    blocks: list[str] = []
    current: list[str] | None = None
    for line in section.splitlines():
        if line.startswith(CODE_INDENT) or (current is not None and not line.strip()):
            if current is None:
                current = []
            current.append(line[len(CODE_INDENT):])
        elif current is not None:
            blocks.append(textwrap.dedent("\n".join(current)).strip("\n"))
            current = None
    if current:
        blocks.append(textwrap.dedent("\n".join(current)).strip("\n"))
    return [b for b in blocks if b.strip()]


SNIPPETS = [(path.stem, i, code) for path in sorted(DEMOS.glob("*.py"))
            for i, code in enumerate(things_to_try(load(path, builtin=True).lesson))]


def run_with(tmp_path: Path, demo: str, extra: str, *inputs: str) -> tuple[dict[str, Any], int]:
    """The demo's source with `extra` pasted at the end, run headless; (result, first line
    of `extra` in the file)."""
    source = (DEMOS / f"{demo}.py").read_text(encoding="utf-8").rstrip("\n") + "\n\n\n"
    path = tmp_path / f"{demo}_try.py"
    path.write_text(source + extra + "\n", encoding="utf-8")
    args = [a for pair in inputs for a in ("--input", pair)]
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(path), "--json", *args], capture_output=True,
                          text=True, timeout=180, check=False)
    assert proc.stdout.strip(), proc.stderr[-2000:]
    return json.loads(proc.stdout), source.count("\n") + 1


def test_the_playground_has_snippets_to_try():
    assert len([s for s in SNIPPETS if s[0] == "playground"]) == 4


@pytest.mark.parametrize(("demo", "index", "code"), SNIPPETS, ids=[f"{d}-{i}" for d, i, _ in SNIPPETS])
def test_each_snippet_runs_as_the_lesson_says(tmp_path, demo, index, code):
    result, first = run_with(tmp_path, demo, code)
    assert result["ok"], (result["error"], result["stdout"][-2000:])
    added = [ins for ins in result["inspections"] if ins["line"] >= first]
    failing = {m.group(1): first + i for i, line in enumerate(code.splitlines()) if (m := FAILS.search(line))}
    for ins in added:
        if failing:
            error = ins["error"]
            assert error is not None and error["type"] in failing, ins["name"]
            assert error["line"] == failing[error["type"]], "the error names the snippet's line"
        else:
            assert ins["error"] is None and ins["compiled"], (ins["name"], ins["error"])
    if "demo.inspect(" in code:
        assert added, "the snippet's marked functions show in the views"


# -- what each playground item promises ------------------------------------------------------------

def _views(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ins["name"]: ins for ins in result["inspections"]}


def _snippet(part: str) -> str:
    (code,) = [c for d, _, c in SNIPPETS if d == "playground" and part in c]
    return code


def test_a_python_for_unrolls_and_fori_loop_keeps_one_body(tmp_path):
    result, _ = run_with(tmp_path, "playground", _snippet("def h(x)"))
    views = _views(result)
    unrolled, rolled = views["h: a Python for"]["jaxpr"], views["h: fori_loop"]["jaxpr"]
    assert len(re.findall(r"= sin ", unrolled)) == 3
    assert len(re.findall(r"= sin ", rolled)) == 1 and "scan[" in rolled


def test_vmap_needs_in_axes_and_jacfwd_is_n_by_n(tmp_path):
    result, _ = run_with(tmp_path, "playground", _snippet("jax.vmap(f"))
    shown = {v["label"]: v for v in result["values"]}
    n = result["inputs"]["n"]
    assert shown["vmap(f) over 4 rows"]["shape"] == [4, n]
    assert shown["jacfwd(f)"]["shape"] == [n, n]
    # the lesson's reason: with the default in_axes (0, 0) the sizes do not match
    plain, _ = run_with(tmp_path, "playground", "jax.vmap(f)(jnp.ones((4, n)), y)")
    assert not plain["ok"] and "vmap got inconsistent sizes" in plain["error"]["message"]


def test_growing_n_grows_the_bytes_not_the_flops_per_byte(tmp_path):
    small, _ = run_with(tmp_path, "playground", "", "n=1000")
    large, _ = run_with(tmp_path, "playground", "", "n=100000")
    f_small, f_large = _views(small)["f(x, y)"]["cost"], _views(large)["f(x, y)"]["cost"]
    assert f_large["bytes accessed"] > 50 * f_small["bytes accessed"]
    per_byte = [c["flops"] / c["bytes accessed"] for c in (f_small, f_large)]
    assert per_byte[1] == pytest.approx(per_byte[0], rel=0.1)
