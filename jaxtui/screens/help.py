"""F1: help for the focused part of the screen, with every key that works there."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown


def _key_label(app: Any, key: str) -> str:
    try:
        return app.get_key_display(Binding(key, ""))
    except Exception:  # noqa: BLE001
        return key


def help_markdown(app: Any, focused: Any, bindings: dict[str, Any]) -> str:
    """Markdown for the help screen, from the focused widget's HELP and the live bindings."""
    lines = []
    node = focused
    while node is not None and not getattr(node, "HELP", None):
        node = node.parent
    if node is not None:
        lines += [f"## {type(node).__name__}", "", node.HELP, ""]
    lines += ["## Keys that work here", "", "| key | action |", "|---|---|"]
    seen = set()
    for key, active in bindings.items():
        binding = active.binding
        desc = binding.description or binding.action.replace("_", " ")
        if (desc, binding.action) in seen or binding.action in ("", "noop"):
            continue
        seen.add((desc, binding.action))
        where = type(active.node).__name__
        lines.append(f"| `{_key_label(app, key)}` | {desc} ({where}) |")
    lines += ["", "Every command is also in the palette: **ctrl+p**. Press **escape** or **f1** to close."]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close help")]

    def __init__(self, markdown: str) -> None:
        super().__init__(id="help-screen")
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(self.markdown)
