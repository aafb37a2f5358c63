"""Jump mode: a label on every place you can go, one key to get there (as in posting).

Targets are found, not declared: every tab of every tab bar on screen (pane tabs, results
tabs) and every focusable widget that is visible. A tab target activates its tab; a
widget target takes the focus. Nothing else needs to know jump mode exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.errors import NoWidget
from textual.geometry import Offset
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from jaxtui.ui.widgets.tabs import TabStrip

KEYS = "1234567890abcdefghijklmnopqrstuvwxyz"


@dataclass
class JumpTarget:
    key: str
    widget: Widget  # a tab bar, or a focusable widget
    offset: Offset  # where its label goes, in screen cells
    name: str  # what it is, for tests and the help line
    tab: str | None = None  # the tab of a tab bar that this target activates


def _describe(widget: Widget, tab: str | None) -> str:
    if tab is not None and isinstance(widget, TabStrip):
        return f"tab {widget.label(tab)}"
    return widget.id or type(widget).__name__


def jump_targets(screen: Screen[Any]) -> list[JumpTarget]:
    """The labelled targets on `screen`, in reading order (top to bottom, left to right)."""
    widgets: list[tuple[Offset | None, Widget, str | None]] = []
    for strip in screen.query(TabStrip):
        at = _offset(screen, strip)
        if at is not None:
            widgets += [(at + offset, strip, tab) for tab, offset in strip.label_offsets().items()]
    for widget in screen.focus_chain:
        if not isinstance(widget, TabStrip):  # its tabs are targets already
            widgets.append((_offset(screen, widget), widget, None))
    seen: set[Offset] = set()
    ordered: list[tuple[Offset, Widget, str | None]] = []
    placed = [(o, w, t) for o, w, t in widgets if o is not None]
    for offset, widget, tab in sorted(placed, key=lambda item: (item[0].y, item[0].x)):
        if offset in seen:
            continue  # two labels in one cell would hide each other
        seen.add(offset)
        ordered.append((offset, widget, tab))
    return [JumpTarget(key, widget, offset, _describe(widget, tab), tab)
            for key, (offset, widget, tab) in zip(KEYS, ordered)]


def _offset(screen: Screen[Any], widget: Widget) -> Offset | None:
    try:
        region = screen.find_widget(widget).region
    except NoWidget:  # hidden (an inactive tab's content): not a target
        return None
    if region.width <= 0 or region.height <= 0:
        return None
    if isinstance(widget, (Input, Select)) and region.x > 0:
        return region.offset - (1, 0)  # beside the value (in the gap after its name), not over it
    return region.offset


def jump_to(target: JumpTarget) -> None:
    widget = target.widget
    if target.tab is not None and isinstance(widget, TabStrip):
        widget.active = target.tab
    widget.focus()


class JumpScreen(ModalScreen[None]):
    """The labels, drawn over the screen they belong to. Any other key leaves."""

    # Its rules live here, not in app.tcss (parsed before the first frame).
    SCOPED_CSS = False  # its rules name screen classes and ids above it too
    DEFAULT_CSS = """
    #jump-screen {
        background: $background 20%;
    }

    .jump-label {
        position: absolute;
        width: auto;
        height: 1;
        padding: 0;
        background: $accent;
        color: $text;
        text-style: bold;
    }

    #jump-info {
        dock: bottom;
        width: 100%;
        height: 1;
        background: $accent;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__(id="jump-screen")
        self.under = under
        self.targets = jump_targets(under)
        self._left = False  # the first key decided; keys queued behind it are not ours

    def compose(self) -> ComposeResult:
        for target in self.targets:
            label = Label(target.key, classes="jump-label")
            label.styles.offset = (target.offset.x, target.offset.y)
            yield label
        yield Label("jump: press a highlighted key · escape leaves", id="jump-info")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if self._left:
            # Keys that arrived with the one that closed this screen (a burst over SSH) were
            # queued here before it closed: they belong to the screen below, in order.
            self.app.post_message(events.Key(event.key, event.character))
            return
        self._left = True
        for target in self.targets:
            if event.character == target.key:
                self.dismiss()
                jump_to(target)
                return
        self.dismiss()  # escape, or any key that is not a label
