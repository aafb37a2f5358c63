"""One pane per demo, built from the demo file: inputs form, code editor, results tabs.

Every feature pane is this same widget with different data; nothing here knows about grad
or jit.
"""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.widgets import TextArea

from jaxtui.catalog import Demo
from jaxtui.widgets.inputs_form import InputsForm
from jaxtui.widgets.results import ResultsTabs


class CodeEditor(TextArea):
    """The demo's code: Python highlighting, line numbers, undo; Tab indents."""

    HELP = ("The demo's code. Edit it freely and press ctrl+r (or f5) to run it on the kernel. "
            "Tab indents; Escape moves focus on. Syntax errors and exceptions move the cursor "
            "to the line they name.")

    def __init__(self, code: str, **kwargs: Any) -> None:
        super().__init__(code, language="python", theme="monokai", soft_wrap=False,
                         tab_behavior="indent", show_line_numbers=True, **kwargs)

    def go_to(self, line: int, col: int | None = None) -> None:
        row = max(0, min(line - 1, self.document.line_count - 1))
        column = max(0, (col or 1) - 1)
        self.move_cursor((row, column), center=True)
        self.focus()


class DemoPane(Container):
    """Inputs + editor on one side, results tabs on the other (stacked when narrow)."""

    def __init__(self, demo: Demo, *, cursor_blink: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.demo = demo
        self.cursor_blink = cursor_blink
        self.run_started = 0.0
        self.streamed = False
        self.last_result: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="code-side"):
            yield InputsForm(self.demo.inputs, classes="inputs")
            editor = CodeEditor(self.demo.code, classes="editor")
            editor.cursor_blink = self.cursor_blink
            yield editor
        yield ResultsTabs(self.demo.lesson, classes="results")

    @property
    def editor(self) -> CodeEditor:
        return self.query_one(CodeEditor)

    @property
    def results(self) -> ResultsTabs:
        return self.query_one(ResultsTabs)

    @property
    def form(self) -> InputsForm:
        return self.query_one(InputsForm)

    @property
    def modified(self) -> bool:
        return self.editor.text != self.demo.code

    def run_params(self) -> dict[str, Any] | None:
        """What to send the kernel, or None when an input is invalid (it is marked)."""
        inputs = self.form.collect()
        if inputs is None:
            bad = self.form.first_invalid()
            if bad is not None:
                bad.input.focus()
            return None
        return {"code": self.editor.text, "filename": str(self.demo.path), "demo": self.demo.name,
                "inputs": inputs}

    # -- a run's life ----------------------------------------------------------------
    def begin_run(self, note: str = "") -> None:
        self.run_started = time.perf_counter()
        self.streamed = False
        self.results.active = "output"
        self.results.output.begin(f"running {self.demo.name}{note}…")

    def on_kernel_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "stream":
            self.streamed = True
            self.results.output.stream(data.get("text", ""), data.get("name", "stdout"))
        elif kind == "plot":
            plots = dict(((self.last_result or {}).get("_live_plots") or {}))
            plots[data["name"]] = data
            self.last_result = {**(self.last_result or {}), "_live_plots": plots}
            self.results.query_one("PlotsView").show_series(list(plots.values()))  # type: ignore[attr-defined]
        elif kind == "progress":
            done, total = data.get("done", 0), data.get("total", 0)
            self.app.sub_title = f"{data.get('label', '')} {done}/{total}"
        elif kind == "timing":  # each record as it is taken: a killed sweep keeps its points
            self.results.query_one("TimingView").add_live(data)  # type: ignore[attr-defined]

    def show_result(self, result: dict[str, Any]) -> None:
        self.last_result = result
        self.results.output.show_result(result, streamed=self.streamed)
        self.results.show_result(result)
        error = result.get("error")
        if error and error.get("line") and error.get("kind") in ("syntax", "exception"):
            self.editor.go_to(error["line"], error.get("col"))

    def show_failure(self, message: str) -> None:
        self.results.active = "output"
        self.results.output.message(message, style="bold red")
        self.results.query_one("TimingView").run_ended()  # type: ignore[attr-defined]
