"""The base of the views that show a long text: a find bar over a read-only `TextView`,
with find (`/`, `n`, `N`), copy (`y`, `Y`) and save (`s`). Output and the inspection views."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label

from jaxtui.ui.results.base import COPY_SAVE_BINDINGS, ResultsView
from jaxtui.ui.widgets.in_order import Field
from jaxtui.ui.widgets.text_view import TextView

FIND_HINT = "text (↑/↓: previous/next; enter: to the view, then n/N; esc: close)"


class SearchableView(Vertical, ResultsView):
    """A find bar and a `TextView` (composed by the subclass with `find_bar()`)."""

    # Built after the first frame: its rules live here, not in app.tcss (parsed before it).
    DEFAULT_CSS = """
    SearchableView .inspect-find {
        height: 1;
        background: $boost;
    }

    SearchableView .inspect-find-label, SearchableView .inspect-find-count {
        width: auto;
        padding: 0 1;
    }

    SearchableView .inspect-find-input {
        width: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,ctrl+f", "find", "Find"),
        Binding("n", "find_next", "Next match", show=False),
        Binding("N,shift+n", "find_previous", "Previous match", show=False),
        *COPY_SAVE_BINDINGS,
    ]

    def find_bar(self) -> ComposeResult:
        with Horizontal(classes="inspect-find") as bar:
            bar.display = False
            yield Label("find ", classes="inspect-find-label")
            field = Field(placeholder=FIND_HINT, compact=True, classes="inspect-find-input")
            field.cursor_blink = False
            yield field
            yield Label("", classes="inspect-find-count")

    @property
    def view(self) -> TextView:
        return self.query_one(TextView)

    @property
    def text(self) -> str:
        return self.view.text

    @property
    def selected_text(self) -> str:
        return self.view.selected_text

    # -- find ------------------------------------------------------------------------------
    def action_find(self) -> None:
        self.query_one(".inspect-find").display = True
        self.query_one(".inspect-find-input", Input).focus()

    def _find(self, forward: bool = True, include_current: bool = False) -> None:
        query = self.query_one(".inspect-find-input", Input).value
        number, count = self.view.find(query, forward=forward, include_current=include_current)
        label = self.query_one(".inspect-find-count", Label)
        label.update(f" {number}/{count}" if count else (" no match" if query else ""))

    def action_find_next(self) -> None:
        self._find(True)

    def action_find_previous(self) -> None:
        self._find(False)

    @on(Input.Changed, ".inspect-find-input")
    def _find_as_typed(self, event: Input.Changed) -> None:
        event.stop()  # not an edit of the demo
        self._find(True, include_current=True)

    @on(Input.Submitted, ".inspect-find-input")
    def _find_submitted(self, event: Input.Submitted) -> None:
        """Enter: the match stays selected and the view takes the keys (n, N, y)."""
        event.stop()
        self.view.focus()

    def on_key(self, event: events.Key) -> None:
        field = self.query_one(".inspect-find-input", Input)
        if not field.has_focus or event.key not in ("escape", "up", "down"):
            return
        event.stop()
        event.prevent_default()
        if event.key == "escape":
            self.query_one(".inspect-find").display = False
            self.view.focus()
        else:
            self._find(event.key == "down")
