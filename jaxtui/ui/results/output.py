"""The Output tab: what a run printed (streamed as it comes), its values and its error."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import RichLog

from jaxtui import protocol as P
from jaxtui.render.report import error_text, footer
from jaxtui.ui.results.base import Result, ResultsView

MAX_LINES = 5000  # older lines scroll away; the full text is in the run result


class OutputView(RichLog, ResultsView):
    """Streamed stdout/stderr, then values, corrections and the error of the last run."""

    HELP_TITLE = "Output"
    SAVE_NAME = "output"

    HELP = ("Output of the last run: printed text as it arrives, then the values the demo "
            "showed (arrays with shape, dtype and device), then any error with your code's "
            "frames first.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, max_lines=MAX_LINES,
                         auto_scroll=True, **kwargs)
        self._partial = ""
        self._streamed = False
        self.plain_lines: list[str] = []  # what was written, as plain text (tests, copy)

    @property
    def text(self) -> str:
        return "\n".join(self.plain_lines)

    def run_started(self, title: str) -> None:
        self._streamed = False
        self.begin(title)

    def run_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == P.EV_STREAM:
            self._streamed = True
            self.stream(data.get("text", ""), data.get("name", "stdout"))

    def run_failed(self, message: str) -> None:
        self.message(message, style="bold red")

    def show_result(self, result: Result) -> None:
        self.show_run(result, streamed=self._streamed)

    def _line(self, text: str | Text, style: str = "") -> None:
        plain = text.plain if isinstance(text, Text) else text
        self.plain_lines.append(plain)
        self.write(text if isinstance(text, Text) else Text(text, style=style))

    def _lines(self, text: str, style: str = "") -> None:
        for line in text.splitlines():
            self._line(line, style)

    def begin(self, title: str) -> None:
        self.clear()
        self.plain_lines = []
        self._partial = ""
        self._line(Text(f"▶ {title}", style="bold"))

    def stream(self, text: str, name: str = "stdout") -> None:
        """Append streamed text; a partial last line waits for its newline."""
        text = self._partial + text
        *complete, self._partial = text.split("\n")
        for line in complete:
            self._line(line, "yellow" if name == "stderr" else "")

    def _flush_partial(self) -> None:
        if self._partial:
            self._line(self._partial)
            self._partial = ""

    def message(self, text: str, style: str = "italic") -> None:
        self._flush_partial()
        self._lines(text, style)

    def show_run(self, result: Result, *, streamed: bool) -> None:
        self._flush_partial()
        if not streamed and result.get("stdout"):
            self._lines(result["stdout"].rstrip("\n"))
        for value in result.get("values") or []:
            self._line("")
            self._lines(value["text"], "")
        if result.get("error"):
            self._line("")
            self._lines(error_text(result["error"]), "bold red")
        self._line("")
        self._line(footer(result), "green" if result.get("ok") else "red")
