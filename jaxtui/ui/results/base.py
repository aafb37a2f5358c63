"""The base class of every results view, and what the pane tells them.

A run's life, in the order the views hear it: `run_started`, then `run_event` for each event
the kernel streams (printed text, plot points, timing records), then `show_result` (the
`RunResult` as a dict) or `run_failed` (the kernel died, was killed, or never started).
Live mode sends `show_inspection` instead (the inspection views use it; the rest keep the
run's). `link_source_line` follows the editor's cursor. Every method has a default that does
nothing, so a view overrides only what it shows.

Views are built after the first frame (widgets/deferred.py); one built late catches up through
`ResultsTabs` (tabs.py), which replays the last run to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

if TYPE_CHECKING:
    from jaxtui.core.catalog import Demo

Result = dict[str, Any]  # a RunResult as the kernel sends it (jaxtui/protocol.py)

# Copy and save, for views whose text is worth keeping: add to the view's BINDINGS.
COPY_SAVE_BINDINGS: list[BindingType] = [
    Binding("y", "copy_view", "Copy", tooltip="Copy the selection, or the whole view (OSC 52)"),
    Binding("Y,shift+y", "copy_all", "Copy all", show=False, tooltip="Copy the whole view (OSC 52)"),
    Binding("s", "save_view", "Save", tooltip="Save the view to a file in the working directory"),
]


if TYPE_CHECKING:
    _WidgetAPI = Widget  # what the methods below may use of the widget they are mixed into
else:
    _WidgetAPI = object


class ResultsView(_WidgetAPI):
    """One results tab's view (see the module docstring for the order of calls), mixed into
    a Textual widget: `class TimingView(VerticalScroll, ResultsView)`.

    A mixin, not a Widget subclass: Textual follows only the first widget base for CSS type
    names and copies `can_focus` into every subclass, so a widget base class would hide the
    real one's styles and focus. Find views with `ResultsTabs.views(kind)`, not a CSS query.
    """

    HELP_TITLE: ClassVar[str] = "Results"  # F1's title and the name in copy/save messages
    HELP: ClassVar[str] = ""
    SAVE_NAME: ClassVar[str] = ""  # jaxtui-<demo>-<SAVE_NAME>.txt; "" = nothing to save
    demo: Demo | None = None  # the pane's demo: set by ResultsTabs before the view mounts

    class SourceLinked(Message):
        """The view's cursor is on lines that came from these source lines (1-based)."""

        def __init__(self, view: ResultsView, lines: list[int]) -> None:
            super().__init__()
            self.view = view
            self.lines = lines

    # -- what the pane tells every view ---------------------------------------------------
    def run_started(self, title: str) -> None:
        """A run began; `title` says what runs (and where)."""

    def run_event(self, kind: str, data: dict[str, Any]) -> None:
        """An event of the run in progress (jaxtui/protocol.py EV_*), in the kernel's order."""

    def show_result(self, result: Result) -> None:
        """The run's final result."""

    def run_failed(self, message: str) -> None:
        """The run ended without a result (kernel died, was killed, could not start)."""

    def show_inspection(self, result: Result) -> None:
        """A live-mode inspection (only the marked functions' views)."""

    def link_source_line(self, line: int) -> None:
        """The editor's cursor is on this line of the demo file."""

    # -- copy and save ---------------------------------------------------------------------
    @property
    def text(self) -> str:
        """All of the view as plain text (what copy-all and save take)."""
        return ""

    @property
    def selected_text(self) -> str:
        """The selection (a find leaves its match selected), or ""."""
        return ""

    @property
    def demo_name(self) -> str:
        return self.demo.name if self.demo is not None else "jaxtui"

    def _copy(self, text: str, what: str) -> None:
        if not text:
            self.app.notify(f"The {self.HELP_TITLE} view has nothing to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        lines = text.count("\n") + 1
        self.app.notify(f"Copied {what} ({lines:,} line{'s' if lines != 1 else ''}) to the clipboard "
                        "(OSC 52).")

    def action_copy_view(self) -> None:
        """`y`: the selection when there is one, else the whole view."""
        selected = self.selected_text
        if selected:
            shown = selected if len(selected) <= 40 and "\n" not in selected else selected[:37] + "…"
            self._copy(selected, f"the selection {shown!r} (Y copies the whole view)")
        else:
            self.action_copy_all()

    def action_copy_all(self) -> None:
        self._copy(self.text, f"the whole {self.HELP_TITLE} view")

    def save_path(self) -> Path:
        return Path.cwd() / f"jaxtui-{self.demo_name}-{self.SAVE_NAME}.txt"

    def action_save_view(self) -> None:
        if not self.SAVE_NAME or not self.text:
            self.app.notify(f"The {self.HELP_TITLE} view has nothing to save yet.", severity="warning")
            return
        path = self.save_path()
        try:
            path.write_text(self.text + "\n", encoding="utf-8")
        except OSError as exc:
            self.app.notify(f"Could not save the {self.HELP_TITLE} view: {exc}", severity="error")
            return
        self.app.notify(f"Saved the {self.HELP_TITLE} view to {path}")
