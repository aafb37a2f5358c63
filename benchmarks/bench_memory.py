"""UI memory while typing: the process's RSS after 2,000 keystrokes in the code editor
(target: under 120 MB), against a bare Textual app with a plain TextArea typed into the same
way, in the same run (medians of repeats).

Each measurement is a fresh process: the app runs headless (Textual's Pilot), the editor has
focus, and the keys are real key events (`pilot.press`), lines of Python with Enter between
them. jaxtui runs without a kernel: the kernel is another process, and typing does not talk
to it (live mode off). `--upstream` adds a bare Textual TextArea with language="python", which
shows the tree-sitter leak jaxtui's editor works around (jaxtui/ui/widgets/pane.py).

Run: python benchmarks/bench_memory.py [--repeats N] [--keys N] [--upstream]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MB = 120
LINE = "y = jnp.sin(x) * 2 + w[0]  # typed"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def keystrokes(count: int) -> list[str]:
    keys: list[str] = []
    while len(keys) < count:
        keys.extend(LINE)
        keys.append("enter")
    return keys[:count]


async def type_keys(pilot, keys: list[str]) -> None:
    for key in keys:
        await pilot.press(key)
    await pilot.pause()


async def measure(kind: str, count: int) -> tuple[float, float]:
    """(RSS before typing, RSS after `count` keys), in MB, for one app kind."""
    from textual.app import App, ComposeResult
    from textual.widgets import TextArea

    code = (REPO / "demos" / "grad.py").read_text()
    if kind == "jaxtui":
        from jaxtui.ui.app import JaxTUI

        app: App[None] = JaxTUI(start_kernel=False, cursor_blink=False)
    else:
        class Bare(App[None]):
            def compose(self) -> ComposeResult:
                yield TextArea(code, language="python" if kind == "textual-python" else None)

        app = Bare()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        if kind == "jaxtui":
            from conftest import views_built  # the deferred views, as a user waits for them

            await views_built(pilot, timeout=30)
            editor = app.current_pane.editor  # type: ignore[attr-defined]
        else:
            editor = app.query_one(TextArea)
        editor.focus()
        editor.move_cursor((editor.document.line_count - 1, 0))
        await pilot.pause(0.3)
        gc.collect()
        before = rss_mb()
        await type_keys(pilot, keystrokes(count))
        assert LINE in editor.text, "the keys did not reach the editor"
        gc.collect()
        return before, rss_mb()


def one_run(kind: str, count: int) -> tuple[float, float]:
    """Measure in a fresh process, so no run inherits another's heap."""
    with tempfile.TemporaryDirectory(prefix="jaxtui-bench-state-") as state:
        code = (f"import asyncio, sys; sys.path[:0] = [{str(REPO)!r}, {str(REPO / 'tests')!r}]\n"
                f"from benchmarks.bench_memory import measure\n"
                f"print(*asyncio.run(measure({kind!r}, {count})))")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                              env={**__import__("os").environ, "JAXTUI_STATE_DIR": state}, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind}: {done.stderr[-2000:]}")
    before, after = map(float, done.stdout.split()[-2:])
    return before, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--upstream", action="store_true",
                        help="also a bare Textual TextArea with Python highlighting (the leak)")
    args = parser.parse_args()
    kinds = ["textual", "jaxtui"] + (["textual-python"] if args.upstream else [])
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    for _ in range(args.repeats):  # interleaved, so machine load hits every kind alike
        for kind in kinds:
            results[kind].append(one_run(kind, args.keys))
    labels = {"textual": "bare Textual app, plain TextArea (baseline)",
              "jaxtui": "jaxtui, the Python code editor",
              "textual-python": "bare Textual TextArea(language='python')"}
    print(f"UI RSS after {args.keys} keystrokes, median of {args.repeats}:")
    for kind in kinds:
        before = statistics.median(b for b, _ in results[kind])
        after = statistics.median(a for _, a in results[kind])
        per_key = (after - before) * 1024 / args.keys
        verdict = ""
        if kind == "jaxtui":
            verdict = f"  {'PASS' if after < TARGET_MB else 'FAIL'} target < {TARGET_MB} MB"
        print(f"  {labels[kind]:<46} {before:6.1f} -> {after:6.1f} MB ({per_key:5.1f} KB/key){verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
