"""The code editor's memory: py-tree-sitter 0.25.2 leaks every bytes object Textual's read
callable hands it (~190 KB per keystroke in a Python editor); CodeEditor parses from bytes
instead. Highlighting stays what Textual's own TextArea computes."""

from __future__ import annotations

import gc

from textual.app import App, ComposeResult
from textual.widgets import TextArea

from conftest import DEMOS
from jaxtui.ui.widgets.pane import CodeEditor

CODE = (DEMOS / "grad.py").read_text()
TYPED = "x = jnp.sum(w ** 2)  # typed\n"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


class EditorApp(App[None]):
    def __init__(self, editor: TextArea) -> None:
        super().__init__()
        self.editor = editor

    def compose(self) -> ComposeResult:
        yield self.editor


async def type_into(editor: TextArea, keys: int) -> None:
    editor.move_cursor((20, 0))
    for i in range(keys):
        editor.insert(TYPED[i % len(TYPED)])  # one edit per key, as typing does


async def test_typing_in_the_python_editor_does_not_grow_memory():
    editor = CodeEditor(CODE)
    async with EditorApp(editor).run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        assert editor.language == "python" and editor._highlights  # highlighting is on
        await type_into(editor, 50)  # warm-up: caches and the undo log settle
        gc.collect()
        before = rss_mb()
        await type_into(editor, 400)
        gc.collect()
        grown = rss_mb() - before
    # Without the fix: ~75 MB (190 KB a key). Undo history and caches: a few MB.
    assert grown < 25, f"{grown:.1f} MB for 400 keys"


async def test_highlighting_matches_textuals_after_edits():
    editor = CodeEditor(CODE)
    async with EditorApp(editor).run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await type_into(editor, 200)
        editor.delete((5, 0), (7, 0))
        ours = {row: sorted(spans) for row, spans in editor._highlights.items() if spans}
        text = editor.text
    reference = TextArea(text, language="python")
    async with EditorApp(reference).run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        theirs = {row: sorted(spans) for row, spans in reference._highlights.items() if spans}
    assert ours == theirs
