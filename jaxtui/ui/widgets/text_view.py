"""A read-only, scrollable, searchable view of a long text (jaxpr, StableHLO, HLO).

A `TextArea` (not `Static`): 5,000 lines of HLO mount in a fraction of a second and
scroll smoothly, where a `Static` took 1.5 s to mount and 13 s for 20 page-downs (measured
headless at 100x30 with Textual 8.2.8; a `Static(Syntax(...))` took 27 s to mount).
`LinkedLines` tints a set of lines; the code editor uses it too, for the lines a view's
cursor links back to.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import on
from textual.document._wrapped_document import WrappedDocument
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

HIGHLIGHT_MAX_LINES = 1000  # above this, tree-sitter parsing the whole text gets slow
LINK_STYLE = Style(bgcolor="#3b3a5a")  # linked lines: a tint that reads on monokai's dark grey


DARK_THEME, LIGHT_THEME = "monokai", "github_light"  # code colours for dark and light app themes


class _WrappedDocument(WrappedDocument):
    """Textual's wrapped document, with its height in constant time.

    Textual sums every line's row count each time the height is asked for (the virtual
    size, the scroll limits: thousands of times a second while Output streams), which made
    a 100,000-line Output take half a second to answer a key. One row per entry of
    `_offset_to_line_info` is what `wrap` and `wrap_range` keep."""

    @property
    def height(self) -> int:
        return len(self._offset_to_line_info)


class LinkedLines(TextArea):
    """A TextArea that tints some lines (0-based rows): the lines linked to a cursor
    elsewhere (source line <-> jaxpr equations). Its colours follow the app's theme (a light
    app theme gets a light code theme)."""

    linked_rows: frozenset[int] = frozenset()
    follows_app_theme = True

    def on_mount(self) -> None:
        self.follow_theme()

    def _set_document(self, text: str, language: str | None) -> None:
        super()._set_document(text, language)
        self.wrapped_document.__class__ = _WrappedDocument

    def follow_theme(self) -> None:
        if self.follows_app_theme:
            self.theme = DARK_THEME if self.app.current_theme.dark else LIGHT_THEME

    def set_linked(self, rows: Iterable[int], *, reveal: bool = True) -> None:
        """Tint these rows (and scroll the first into view, the cursor stays put)."""
        rows = frozenset(r for r in rows if 0 <= r < self.document.line_count)
        if rows == self.linked_rows:
            return
        self.linked_rows = rows
        self._line_cache.clear()  # the cache key does not know about the tint
        self.refresh()
        if reveal and rows:
            self.reveal_row(min(rows))

    def reveal_row(self, row: int) -> None:
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        if height and not top <= row < top + height:
            self.scroll_to(y=max(0, row - height // 3), animate=False)

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        if line_index in self.linked_rows:
            line.stylize(LINK_STYLE)
        return line


class TextView(LinkedLines):
    """Read-only text with line numbers; optional Python highlighting for short texts.

    New text keeps the cursor and scroll position (live updates of a slightly changed
    jaxpr do not jump to the top) and is not reloaded when it did not change.
    """

    def __init__(self, text: str = "", *, language: str | None = None, **kwargs: Any) -> None:
        super().__init__(text, read_only=True, show_line_numbers=True, soft_wrap=False,
                         theme="monokai", **kwargs)
        self._wanted_language = language
        self.cursor_blink = False
        self._line_starts: list[int] | None = None  # offsets of each line, for search

    def set_text(self, text: str) -> None:
        if text == self.text:
            return
        language = self._wanted_language if text.count("\n") <= HIGHLIGHT_MAX_LINES else None
        if language != self.language:
            try:
                self.language = language
            except Exception:  # noqa: BLE001 - no grammar installed: plain text is fine
                self.language = None
        cursor, scroll = self.cursor_location, self.scroll_offset
        self.linked_rows = frozenset()
        self._line_starts = None
        self.load_text(text)
        if cursor != (0, 0) or scroll.y:
            row = min(cursor[0], self.document.line_count - 1)
            self.move_cursor((row, 0))
            self.scroll_to(x=scroll.x, y=scroll.y, animate=False)

    @on(TextArea.Changed)
    def _own_change(self, event: TextArea.Changed) -> None:
        # Loading new text is not an edit of the demo: keep it from the pane's edit handlers.
        event.stop()

    # -- search --------------------------------------------------------------------------
    def _starts(self) -> list[int]:
        if self._line_starts is None:
            starts, pos = [0], 0
            for line in self.text.split("\n")[:-1]:
                pos += len(line) + 1
                starts.append(pos)
            self._line_starts = starts
        return self._line_starts

    def _location(self, offset: int) -> tuple[int, int]:
        starts = self._starts()
        row = bisect.bisect_right(starts, offset) - 1
        return row, offset - starts[row]

    def _offset(self, location: tuple[int, int]) -> int:
        row, col = location
        starts = self._starts()
        return starts[min(row, len(starts) - 1)] + col

    def match_offsets(self, query: str) -> list[int]:
        """Where `query` occurs (case-insensitive unless it has a capital letter)."""
        if not query:
            return []
        text = self.text
        if query == query.lower():
            text, query = text.lower(), query.lower()
        found, at = [], text.find(query)
        while at != -1:
            found.append(at)
            at = text.find(query, at + 1)
        return found

    def find(self, query: str, *, forward: bool = True, include_current: bool = False) -> tuple[int, int]:
        """Select the next (or previous) match from the cursor; returns (its 1-based
        number, how many matches), (0, 0) when there is none."""
        matches = self.match_offsets(query)
        if not matches:
            return 0, 0
        anchor = self._offset(min(self.selection))
        if forward:
            i = bisect.bisect_left(matches, anchor) if include_current else bisect.bisect_right(matches, anchor)
        else:
            i = bisect.bisect_left(matches, anchor) - 1
        i %= len(matches)
        at = matches[i]
        self.selection = Selection(self._location(at), self._location(at + len(query)))
        self.scroll_cursor_visible(center=True)
        return i + 1, len(matches)
