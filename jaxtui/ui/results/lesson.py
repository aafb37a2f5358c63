"""The Lesson tab: the demo's module docstring, rendered as Markdown.

Rich's Markdown renderer into one Static, not Textual's Markdown widget: that widget builds a
widget per block (about 150 ms for the grad lesson on 2 cores), and the lesson is what a
learner reads first. The view is focusable, so it scrolls from the keyboard.
"""

from __future__ import annotations

from rich.markdown import Markdown
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from jaxtui.ui.results.base import COPY_SAVE_BINDINGS, ResultsView

NO_LESSON = "*This file has no lesson: add a module docstring.*"


class LessonView(VerticalScroll, ResultsView):
    """The lesson, scrollable with the arrows, PageUp/PageDown and Home/End."""

    HELP_TITLE = "Lesson"
    HELP = ("The pane's lesson: what the code shows and where the source notes were wrong. "
            "Scroll with the arrows, PageUp/PageDown and Home/End; y copies it, s saves it. "
            "The lesson is the module docstring of the demo file.")
    SAVE_NAME = "lesson"
    BINDINGS = COPY_SAVE_BINDINGS

    def compose(self) -> ComposeResult:
        yield Static(Markdown(self.text or NO_LESSON, code_theme="monokai", hyperlinks=False),
                     classes="lesson-text")

    @property
    def text(self) -> str:
        return self.demo.lesson if self.demo is not None else ""
