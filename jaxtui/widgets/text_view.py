"""A read-only, scrollable, selectable view of a long text (jaxpr, StableHLO, HLO).

A `TextArea` (not `Static`): 5,000 lines of HLO mount in a fraction of a second and
scroll smoothly, where a `Static` takes tens of seconds (research/textual_facts.md §1.2).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import TextArea

HIGHLIGHT_MAX_LINES = 1000  # above this, tree-sitter parsing the whole text gets slow


class TextView(TextArea):
    """Read-only text with line numbers; optional Python highlighting for short texts."""

    def __init__(self, text: str = "", *, language: str | None = None, **kwargs: Any) -> None:
        super().__init__(text, read_only=True, show_line_numbers=True, soft_wrap=False,
                         theme="monokai", **kwargs)
        self._wanted_language = language
        self.cursor_blink = False

    def set_text(self, text: str) -> None:
        language = self._wanted_language if text.count("\n") <= HIGHLIGHT_MAX_LINES else None
        if language != self.language:
            try:
                self.language = language
            except Exception:  # noqa: BLE001 - no grammar installed: plain text is fine
                self.language = None
        self.load_text(text)
