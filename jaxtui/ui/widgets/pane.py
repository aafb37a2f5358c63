"""One pane per demo, built from the demo file: inputs form, code editor, results tabs.

Every feature pane is this same widget with different data; nothing here knows about grad
or jit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.document._syntax_aware_document import SyntaxAwareDocument
from textual.message import Message
from textual.widgets import Input, TextArea
from textual.widgets.text_area import Selection

from jaxtui import protocol as P
from jaxtui.core.catalog import Demo
from jaxtui.core.cluster import KernelCluster
from jaxtui.core.live_schedule import DEFAULT_DELAY_S, LiveInspector
from jaxtui.core.state import BeforeReset, SavedDemo, atomic_write, before_reset, demo_key, snapshot
from jaxtui.inputs import declared_inputs
from jaxtui.ui.results.base import ResultsView
from jaxtui.ui.results.tabs import ResultsTabs
from jaxtui.ui.widgets.deferred import after_visible
from jaxtui.ui.widgets.in_order import InOrderKeys
from jaxtui.ui.widgets.inputs_form import InputsForm
from jaxtui.ui.widgets.text_view import LinkedLines

if TYPE_CHECKING:
    from jaxtui.ui.app import JaxTUI


class _ParseFromBytes:
    """Stands in for a SyntaxAwareDocument's tree-sitter Parser, to stop a leak of ~190 KB
    per keystroke.

    Textual re-parses after every edit with `parser.parse(read_callable, old_tree)`, and
    py-tree-sitter 0.25.2 keeps a reference to every bytes object a read callable returns:
    once per line at each parse, and again each time the highlight query's predicates
    (`#match?`, `#eq?`) read a node's text through the callable the tree remembers. Nothing
    is freed. Parsing the document's text as one bytes object gives the same tree, and the
    tree then reads node text from those bytes, so nothing leaks (benchmarks/bench_memory.py).
    """

    def __init__(self, document: SyntaxAwareDocument) -> None:
        self.document = document
        self.parser = document._parser

    def parse(self, source: object, old_tree: Any = None) -> Any:
        # `source` is the document's read callable; its text is the same content
        return self.parser.parse(self.document.text.encode("utf-8"), old_tree)


class CodeEditor(InOrderKeys, LinkedLines):
    """The demo's code: Python highlighting, line numbers, undo; Tab indents. Lines that a
    results view's cursor links back to (the source of a jaxpr equation) are tinted."""

    ALLOW_MAXIMIZE = True  # ctrl+g in the editor: the code takes the screen

    HELP = ("The demo's code. Edit it freely and press ctrl+r (or f5) to run it on the kernel. "
            "Tab indents; Escape moves focus on. Syntax errors and exceptions move the cursor "
            "to the line they name.")

    def __init__(self, code: str, first_line: int = 1, **kwargs: Any) -> None:
        # Plain text until the first frame is up: preparing tree-sitter's highlight query
        # costs ~40 ms, and TextArea(language=...) prepares it twice.
        super().__init__(code, language=None, theme="monokai", soft_wrap=False,
                         tab_behavior="indent", show_line_numbers=True,
                         line_number_start=first_line, **kwargs)

    @property
    def cursor_line(self) -> int:
        """The cursor's line, numbered as the gutter shows it (the demo file's lines)."""
        return self.cursor_location[0] + self.line_number_start

    def rows(self, lines: Iterable[int]) -> list[int]:
        """0-based rows of these file lines."""
        return [line - self.line_number_start for line in lines]

    def on_mount(self) -> None:
        after_visible(self.app, self._highlight)  # after the lesson is on screen

    def _set_document(self, text: str, language: str | None) -> None:
        super()._set_document(text, language)
        if isinstance(self.document, SyntaxAwareDocument):
            self.document._parser = _ParseFromBytes(self.document)  # type: ignore[assignment]

    def _highlight(self) -> None:
        if not self.is_attached:
            return  # the pane went away (the app quit) before the lesson was up
        cursor, scroll = self.selection, self.scroll_offset
        self.language = "python"  # rebuilds the document: keep the cursor where it was
        self.selection = cursor
        self.scroll_to(scroll.x, scroll.y, animate=False)

    def undo(self) -> None:
        # An undo puts back the cursor of its own edit, but Textual re-wraps first, with the
        # cursor where it is now: below the end of a shorter restored text (f12 replaced a
        # short edit with the long original, then the cursor moved down), that raised
        # "line index out of bounds". The top of the document exists in every version.
        self.selection = Selection.cursor((0, 0))
        super().undo()

    def redo(self) -> None:
        self.selection = Selection.cursor((0, 0))  # as undo: a redo can shorten the text
        super().redo()

    def go_to(self, line: int, col: int | None = None, *, focus: bool = True) -> None:
        """Put the cursor on `line` (numbered as the gutter shows it)."""
        row = max(0, min(line - self.line_number_start, self.document.line_count - 1))
        column = max(0, (col or 1) - 1)
        self.move_cursor((row, column), center=True)
        if focus:
            self.focus()


class DemoPane(Container):
    """Inputs + editor on one side, results tabs on the other (stacked when narrow)."""

    class Edited(Message):
        """The code or an input changed: typed, reset, restored or set by a tour."""

        def __init__(self, pane: DemoPane) -> None:
            super().__init__()
            self.pane = pane

    def __init__(self, demo: Demo, *, cursor_blink: bool = True, saved: SavedDemo | None = None,
                 sketch_form: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sketch_form = sketch_form  # the form's fields as text in the first frame (inputs_form.py)
        self.demo = demo
        self.saved = saved  # edits from an earlier session, restored at mount
        # What the last reset replaced (kept in the saved state: undoable after a restart)
        self.before_reset: BeforeReset | None = saved.before_reset if saved else None
        self.cursor_blink = cursor_blink
        self.last_result: dict[str, Any] | None = None
        self._live: LiveInspector | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="code-side"):
            yield InputsForm(self.demo.inputs, sketch=self.sketch_form, classes="inputs")
            code = self.saved.code if self.saved and self.saved.code is not None else self.demo.code
            editor = CodeEditor(code, first_line=self.demo.first_line, classes="editor")
            editor.cursor_blink = self.cursor_blink
            yield editor
        cluster = isinstance(getattr(self.app, "kernel", None), KernelCluster)  # its Processes tab
        yield ResultsTabs(self.demo, cluster=cluster, classes="results")

    @property
    def editor(self) -> CodeEditor:
        return self.query_one(CodeEditor)

    @property
    def results(self) -> ResultsTabs:
        return self.query_one(ResultsTabs)

    @property
    def form(self) -> InputsForm:
        return self.query_one(InputsForm)

    # -- saved work (jaxtui/core/state.py) ------------------------------------------------
    def on_mount(self) -> None:
        if self.saved and self.saved.code is not None:
            self.follow_code(self.saved.inputs)  # the saved code may declare other inputs
        elif self.saved and self.saved.inputs:
            self.set_inputs(self.saved.inputs)

    def follow_code(self, texts: dict[str, str] | None = None) -> None:
        """The form shows the inputs the code in the editor declares (kept texts where the
        names stay). Code that does not parse keeps the form as it is."""
        try:
            ast.parse(self.editor.text)
        except SyntaxError:
            return
        if not self.form.follow(declared_inputs(self.editor.text), self.input_texts() | (texts or {})):
            self.set_inputs(texts or {})  # the same fields: only their values

    @on(TextArea.Changed, ".editor")  # not the read-only views, nor their find bars
    @on(Input.Changed, ".input-value")
    def _note_edit(self) -> None:
        self.post_message(self.Edited(self))

    @property
    def modified(self) -> bool:
        """The code or an input differs from the demo's original."""
        return self.editor.text != self.demo.code or self.input_texts() != self.default_inputs()

    @property
    def state_key(self) -> str:
        return demo_key(self.demo.name, self.demo.path, self.demo.builtin)

    def saved_state(self) -> SavedDemo | None:
        """What to save (None once the pane is gone: the app is closing)."""
        if not self.is_attached or not self.query(CodeEditor):
            return None
        return snapshot(self.demo.code, self.editor.text, self.default_inputs(), self.input_texts(),
                        self.before_reset)

    def input_texts(self) -> dict[str, str]:
        """Each input's text as typed (valid or not)."""
        return self.form.texts()

    def default_inputs(self) -> dict[str, str]:
        return {spec.name: spec.format(spec.default) for spec in self.form.specs}

    def set_inputs(self, texts: dict[str, str]) -> None:
        self.form.set_texts(texts)

    def replace_code(self, code: str) -> None:
        """Replace all of the code as one edit, so ctrl+z brings the old code back."""
        if self.editor.text != code:
            self.editor.replace(code, self.editor.document.start, self.editor.document.end)

    def reset(self) -> None:
        """Back to the demo's original code and input values (undoable in the editor, and by
        `undo_reset`, which the saved state keeps across restarts)."""
        self.before_reset = before_reset(self.demo.code, self.editor.text, self.default_inputs(),
                                         self.input_texts())
        self.replace_code(self.demo.code)
        if not self.form.follow(self.demo.inputs, {}):
            self.set_inputs(self.default_inputs())
        self.post_message(self.Edited(self))  # autosave: what it replaced is saved now

    def undo_reset(self) -> bool:
        """Bring back the code and inputs the last reset replaced (one undoable edit);
        False when no reset is on record."""
        before = self.before_reset
        if before is None:
            return False
        self.replace_code(before.code if before.code is not None else self.demo.code)
        if not self.form.follow(declared_inputs(self.editor.text), before.inputs):
            self.set_inputs(self.default_inputs() | before.inputs)
        return True

    def save_code(self) -> str:
        """Write the code where it belongs; returns what was done, for a toast. The user's own
        file gets the code back (atomically, the previous content kept as FILE.bak); a built-in
        demo is never overwritten: a copy goes to the working directory."""
        text = self.demo.file_text(self.editor.text)
        if self.demo.builtin:
            path = Path.cwd() / f"jaxtui-{self.demo.name}.py"
            atomic_write(path, text)
            return f"Saved a copy of the {self.demo.name} demo to {path} (run it: jaxtui {path.name})."
        path = self.demo.path
        backup = path.with_name(path.name + ".bak")
        atomic_write(backup, path.read_text(encoding="utf-8"))
        atomic_write(path, text)
        self.demo.reload()  # the file is the new original: the pane is no longer "modified"
        self.post_message(self.Edited(self))
        return f"Saved to {path}; its previous content is in {backup.name}."

    def run_params(self, *, focus_invalid: bool = True) -> dict[str, Any] | None:
        """What to send the kernel, or None when an input is invalid (it is marked)."""
        inputs = self.form.collect()
        if inputs is None:
            bad = self.form.first_invalid()
            if bad is not None and focus_invalid:
                bad.input.focus()
            return None
        params = self.demo.run_params(self.editor.text, inputs)
        if self.editor.text != self.demo.code:
            # Edited code is not the file on disk: tracebacks name the pane's buffer instead.
            params["filename"] = f"{self.demo.name} (edited)"
        return params

    # -- a run's life: told to every results view (jaxtui/ui/results/) -----------------------
    def begin_run(self, note: str = "") -> None:
        self.results.run_started(f"running {self.demo.name}{note}…")

    def on_kernel_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == P.EV_PROGRESS:
            done, total = data.get("done", 0), data.get("total", 0)
            self.app.sub_title = f"{data.get('label', '')} {done}/{total}"
        self.results.run_event(kind, data)

    def show_result(self, result: dict[str, Any]) -> None:
        self.follow_code()  # a demo.input added or removed in the editor: the form follows
        self.results.show_result(result)
        self.last_result = result  # after the views have it (the benchmark waits on this)
        self.relink()
        error = result.get("error")
        if error and error.get("line") and error.get("kind") in ("syntax", "exception"):
            self.editor.go_to(error["line"], error.get("col"))

    def show_failure(self, message: str) -> None:
        self.results.run_failed(message)

    # -- live mode and linking (core/live_schedule.py, results/inspection.py) -------------------
    @property
    def live(self) -> LiveInspector:
        """Inspects the code again after each pause in typing, while live mode is on."""
        if self._live is None:
            self._live = LiveInspector(cast("JaxTUI", self.app).kernel, lambda: self.run_params(focus_invalid=False),
                                       self.show_live,
                                       delay_s=getattr(self.app, "live_delay_s", DEFAULT_DELAY_S),
                                       # a worker of this pane: it ends when the pane does
                                       spawn=lambda job: self.run_worker(job, group="live", exit_on_error=False))
        return self._live

    @on(TextArea.Changed, ".editor")
    @on(Input.Changed)
    def _live_edit(self) -> None:
        if getattr(self.app, "live_mode", False):
            self.live.edited()

    def show_live(self, result: dict[str, Any]) -> None:
        """A live update: the inspection views only; Output, Timing and Plots keep the run's."""
        self.results.show_inspection(result)
        self.relink()

    def relink(self) -> None:
        """Tint what came from the editor's cursor line in every view."""
        self.results.link_source_line(self.editor.cursor_line)

    @on(TextArea.SelectionChanged, ".editor")
    def _link_from_editor(self) -> None:
        self.editor.set_linked(())
        self.relink()

    @on(ResultsView.SourceLinked)
    def _link_from_view(self, event: ResultsView.SourceLinked) -> None:
        self.editor.set_linked(self.editor.rows(event.lines))
        if event.lines:
            for view in self.results.views(ResultsView):
                if view is not event.view:
                    view.link_source_line(event.lines[0])
