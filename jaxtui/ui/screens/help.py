"""F1: help for the focused part of the screen, with every key that works there.

The text comes from the nearest widget (the focused one or a parent) with a `HELP`
attribute; the keys come from Textual's live bindings for that widget and its parents,
then from the app's action registry (`jaxtui/ui/actions.py`), so a key is never missing here
that works on screen, and a key shown here always works (or says when it does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from jaxtui.ui import actions

WHEN = {  # actions that only work sometimes: say when, instead of hiding them
    "interrupt": "while code runs",
    "tour_next": "during a tour",
    "tour_back": "during a tour",
    "tour_restart": "during a tour",
    "tour_end": "during a tour",
}


def _key_label(app: Any, key: str) -> str:
    try:
        return app.get_key_display(Binding(key, ""))
    except Exception:  # noqa: BLE001 - an odd key name still gets shown as written
        return key


def _help_text(node: Any) -> str:
    """A widget's help: its `help_text()` (help that depends on the instance), else `HELP`."""
    dynamic = getattr(node, "help_text", None)
    return dynamic() if callable(dynamic) else (getattr(node, "HELP", None) or "")


def _part(focused: Any) -> Any:
    node = focused
    while node is not None and not _help_text(node):
        node = node.parent
    return node


def _title(node: Any) -> str:
    """`HELP_TITLE`, else the class name in words: CodeEditor -> "Code editor"."""
    title = getattr(node, "HELP_TITLE", None)
    if title:
        return title
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", type(node).__name__)
    return " ".join([words[0]] + [w.lower() for w in words[1:]]) if words else type(node).__name__


@dataclass
class HelpContent:
    title: str
    text: str  # Markdown
    where: str  # the focused widget, for the "Keys here" heading
    here: list[tuple[str, str, str]] = field(default_factory=list)  # keys, action, defined by ("": here)
    everywhere: list[tuple[str, str]] = field(default_factory=list)  # keys, action (+ when)


CLOSING = ("Every action is also in the command palette (ctrl+p), with its key. "
           "Press escape or f1 to close this help.")


def help_for(app: Any, focused: Any, bindings: dict[str, Any]) -> HelpContent:
    """Help for the focused part: its HELP text, its keys, then every app key."""
    part = _part(focused if focused is not None else app.screen)  # the screen says what the app is
    content = HelpContent(title=_title(part) if part is not None else "jaxtui",
                          text=_help_text(part) if part is not None else "",
                          where=_title(part) if focused is not None and part is not None else "this screen")
    # Keys of the focused widget and its parents; the app's own come from the registry.
    by_action: dict[tuple[str, str], list[str]] = {}
    owners: dict[tuple[str, str], str] = {}
    for key, active in bindings.items():
        node, binding = active.node, active.binding
        if node is app or binding.action in ("", "noop") or not active.enabled:
            continue
        desc = binding.description or binding.tooltip or binding.action.replace("_", " ")
        ident = (desc, binding.action)
        by_action.setdefault(ident, []).append(_key_label(app, key))
        owners.setdefault(ident, "" if node is focused or node is part else _title(node))
    content.here = [(", ".join(keys), desc, owners[(desc, action)])
                    for (desc, action), keys in by_action.items()]
    for action in actions.ACTIONS:
        keys = ", ".join(_key_label(app, k) for k in action.keys.split(",")) if action.keys else "palette"
        note = f" ({WHEN[action.name]})" if action.name in WHEN else ""
        content.everywhere.append((keys, action.help + note))
    return content


def _keys_table(rows: Sequence[tuple[str, ...]], headers: tuple[str, ...], key_style: str) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, expand=True, header_style="dim")
    for i, header in enumerate(headers):
        table.add_column(header, style=key_style if i == 0 else "", no_wrap=i == 0,
                         ratio=1 if i == 1 else None)
    for row in rows:
        table.add_row(*row)
    return table


class HelpScreen(ModalScreen[None]):
    """One row per key (a Markdown table would take two lines per row at 80x24)."""

    # Its rules live here, not in app.tcss (parsed before the first frame).
    SCOPED_CSS = False  # its rules name screen classes and ids above it too
    DEFAULT_CSS = """
    #help-screen {
        align: center middle;
    }

    #help-body {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }

    #help-body .help-keys {
        margin-bottom: 1;
    }

    #help-body .help-text {
        margin: 0;
        padding: 0;
    }

    #help-body .help-closing {
        margin-top: 1;
    }
    """

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close help")]

    def __init__(self, content: HelpContent) -> None:
        super().__init__(id="help-screen")
        self.content = content

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            content = self.content
            key_style = f"bold {self.app.current_theme.accent or ''}".strip()
            yield Static(Text(content.title, style="bold"), classes="help-title")
            yield Markdown(content.text, classes="help-text")
            if content.here:
                yield Static(Text(f"Keys here ({content.where})", style="bold"), classes="help-title")
                # The focused part's own keys need no "from"; a parent's say whose they are.
                rows = content.here
                yield Static(_keys_table(rows, ("key", "action", ""), key_style), classes="help-keys")
            yield Static(Text("Keys everywhere", style="bold"), classes="help-title")
            yield Static(_keys_table(content.everywhere, ("key", "action"), key_style), classes="help-keys")
            yield Static(Text(CLOSING, style="italic"), classes="help-closing")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()  # arrows and page keys scroll the help
