"""Tabs that cost the first frame two widgets: one strip for every label, one pane built.

Textual's TabbedContent mounts a Tab widget and a TabPane per tab, plus five more: about 20
widgets for the pane bar and 20 for a pane's results tabs, and Textual spends 5-10 M
instructions mounting each one. That was about a third of jaxtui's first frame
(docs/ARCHITECTURE.md, "Start-up"). Here the labels are drawn by one widget (`TabStrip`), and
`TabbedPanes` builds a tab's pane the first time it is needed: shown, asked for, or built
in the background after the first frame (widgets/deferred.py).

The strip looks and behaves as Textual's tab bar: labels over an underline, left/right (or a
click) to change tab, the active label in the cursor's colours while the strip has the
focus, and the row scrolled sideways to keep the active label in view when they do not fit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Offset
from textual.message import Message
from textual.strip import Strip
from textual.widget import AwaitMount, Widget


class TabStrip(Widget, can_focus=True):
    """Every tab's label on one row, the active one underlined."""

    HELP_TITLE = "Tab bar"
    HELP = "Left and right change tab; so does a click on a label."

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "previous tab", show=False),
        Binding("right", "move(1)", "next tab", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tab-strip--tab", "tab-strip--active", "tab-strip--bar", "tab-strip--bar-active"}
    DEFAULT_CSS = """
    TabStrip {
        width: 1fr;
        height: 2;
        pointer: pointer;
        & > .tab-strip--tab { color: $foreground 50%; }
        & > .tab-strip--active { color: $foreground; }
        & > .tab-strip--bar { color: $foreground 10%; }
        & > .tab-strip--bar-active { color: $block-cursor-background; }
        &:focus {
            & > .tab-strip--active {
                text-style: $block-cursor-text-style;
                color: $block-cursor-foreground;
                background: $block-cursor-background;
            }
            & > .tab-strip--bar { color: $foreground 30%; }
        }
        &:ansi {
            & > .tab-strip--tab { text-style: dim; }
            & > .tab-strip--active { text-style: not dim bold; }
        }
    }
    """

    class Changed(Message):
        """The active tab changed (by a key, a click or the program)."""

        def __init__(self, strip: TabStrip, tab_id: str) -> None:
            super().__init__()
            self.strip = strip
            self.tab_id = tab_id

        @property
        def control(self) -> TabStrip:
            return self.strip

    def __init__(self, tabs: Sequence[tuple[str, str]], active: str, *, tight: bool = False,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._labels: dict[str, str] = dict(tabs)
        self._pad = "" if tight else " "  # after each label (one space before it either way)
        if active not in self._labels:
            raise ValueError(f"no tab {active!r}")
        self._active = active
        self._scroll_x = 0  # columns of the label row hidden on the left

    # -- tabs --------------------------------------------------------------------------------
    @property
    def tab_ids(self) -> list[str]:
        return list(self._labels)

    def label(self, tab_id: str) -> str:
        return self._labels[tab_id]

    def set_label(self, tab_id: str, label: str) -> None:
        if self._labels[tab_id] != label:
            self._labels[tab_id] = label
            self.refresh()

    @property
    def active(self) -> str:
        return self._active

    @active.setter
    def active(self, tab_id: str) -> None:
        if tab_id not in self._labels:
            raise ValueError(f"no tab {tab_id!r}")
        if tab_id != self._active:
            self._active = tab_id
            self.refresh()
            self.post_message(self.Changed(self, tab_id))

    def action_move(self, step: int) -> None:
        ids = self.tab_ids
        self.active = ids[(ids.index(self._active) + step) % len(ids)]

    # -- geometry ----------------------------------------------------------------------------
    def spans(self) -> list[tuple[str, int, int]]:
        """(tab id, first column, end column) of each label with its padding, on the
        unscrolled row."""
        out, x = [], 0
        for tab_id, label in self._labels.items():
            width = 1 + cell_len(label) + len(self._pad)
            out.append((tab_id, x, x + width))
            x += width
        return out

    def _follow_active(self) -> None:
        """Scroll the row so the active label is in view."""
        width = self.content_size.width
        spans = self.spans()
        total = spans[-1][2] if spans else 0
        if total <= width:
            self._scroll_x = 0
            return
        start, end = next((s, e) for t, s, e in spans if t == self._active)
        if end - self._scroll_x > width:
            self._scroll_x = end - width
        if start < self._scroll_x:
            self._scroll_x = start
        self._scroll_x = max(0, min(self._scroll_x, total - width))

    def label_offsets(self) -> dict[str, Offset]:
        """Where each visible label starts, relative to the widget (for jump mode's labels)."""
        self._follow_active()
        width = self.content_size.width
        return {tab_id: Offset(start - self._scroll_x, 0) for tab_id, start, end in self.spans()
                if start >= self._scroll_x and end - self._scroll_x <= width}

    def on_click(self, event: events.Click) -> None:
        self._follow_active()
        x = event.x + self._scroll_x
        for tab_id, start, end in self.spans():
            if start <= x < end:
                self.active = tab_id
                return

    # -- drawing -----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        self._follow_active()
        base = self.rich_style
        if y == 0:
            plain = self.get_component_rich_style("tab-strip--tab")
            active = self.get_component_rich_style("tab-strip--active")
            segments = [Segment(f" {label}{self._pad}", active if tab_id == self._active else plain)
                        for tab_id, label in self._labels.items()]
        elif y == 1:
            bar = self.get_component_rich_style("tab-strip--bar")
            lit = self.get_component_rich_style("tab-strip--bar-active")
            spans = self.spans()
            total = max(spans[-1][2] if spans else 0, width + self._scroll_x)
            start, end = next(((s, e) for t, s, e in spans if t == self._active), (0, 0))
            segments = [Segment("━" * start, bar), Segment("━" * (end - start), lit),
                        Segment("━" * (total - end), bar)]
        else:
            return Strip.blank(width, base)
        strip = Strip(segments).crop(self._scroll_x, self._scroll_x + width)
        return strip.extend_cell_length(width, base).apply_style(base)


class TabbedPanes(Vertical):
    """A `TabStrip` over one pane at a time. A pane is built by `build(tab_id)` the first
    time it is shown or asked for (`pane`), and stays built; hidden ones are not displayed."""

    DEFAULT_CSS = """
    TabbedPanes {
        height: 1fr;
        & > .tabbed-pane { height: 1fr; }
    }
    """

    class TabActivated(Message):
        """A tab came to the front (its pane is built, perhaps still mounting)."""

        def __init__(self, tabbed: TabbedPanes, tab_id: str, pane: Widget) -> None:
            super().__init__()
            self.tabbed = tabbed
            self.tab_id = tab_id
            self.pane = pane

        @property
        def control(self) -> TabbedPanes:
            return self.tabbed

    def __init__(self, tabs: Sequence[tuple[str, str]], *, initial: str,
                 build: Callable[[str], Widget], tight: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.strip = TabStrip(tabs, initial, tight=tight)
        self._build = build
        self._panes: dict[str, Widget] = {}
        self._mounting: dict[str, AwaitMount] = {}

    def compose(self) -> ComposeResult:
        yield self.strip
        yield self._new_pane(self.strip.active)

    def on_mount(self) -> None:
        for pane in list(self._panes.values()):
            self.pane_ready(pane)

    def _new_pane(self, tab_id: str) -> Widget:
        pane = self._build(tab_id)
        pane.add_class("tabbed-pane")
        pane.display = tab_id == self.active
        self._panes[tab_id] = pane
        return pane

    # -- tabs --------------------------------------------------------------------------------
    @property
    def tab_ids(self) -> list[str]:
        return self.strip.tab_ids

    @property
    def active(self) -> str:
        return self.strip.active

    @active.setter
    def active(self, tab_id: str) -> None:
        self._show(tab_id)  # now, as Textual's TabbedContent does: what follows may need the pane
        self.strip.active = tab_id

    def set_label(self, tab_id: str, label: str) -> None:
        self.strip.set_label(tab_id, label)

    def built(self, tab_id: str) -> Widget | None:
        """The tab's pane if it was built (perhaps still mounting), else None."""
        return self._panes.get(tab_id)

    def panes(self) -> list[Widget]:
        """The built panes, in tab order."""
        return [self._panes[t] for t in self.tab_ids if t in self._panes]

    def pane(self, tab_id: str) -> Widget:
        """The tab's pane, built (and mounting) now if it was not."""
        if tab_id in self._panes:
            return self._panes[tab_id]
        if tab_id not in self.tab_ids:
            raise ValueError(f"no tab {tab_id!r}")
        pane = self._new_pane(tab_id)
        mounting = self._mounting[tab_id] = self.mount(pane)
        self.run_worker(self._ready_when_mounted(tab_id, pane, mounting), group="tabbed-panes")
        return pane

    async def ensure(self, tab_id: str) -> None:
        """Build the tab's pane if it is not built, and wait until it is mounted (a job run
        after the first frame: nothing once this widget is gone)."""
        if self.is_attached:
            self.pane(tab_id)
            await self.mounted(tab_id)

    async def mounted(self, tab_id: str) -> None:
        """Wait until the tab's pane, if it is being built, is mounted."""
        mounting = self._mounting.get(tab_id)
        if mounting is not None:
            await mounting

    async def _ready_when_mounted(self, tab_id: str, pane: Widget, mounting: AwaitMount) -> None:
        await mounting
        self._mounting.pop(tab_id, None)
        if pane.is_attached:
            self.pane_ready(pane)

    def pane_ready(self, pane: Widget) -> None:
        """A pane is mounted (subclasses catch it up with what happened before)."""

    def _show(self, tab_id: str) -> Widget:
        shown = self.pane(tab_id)
        for pane in self._panes.values():
            pane.display = pane is shown
        return shown

    def on_tab_strip_changed(self, event: TabStrip.Changed) -> None:
        if event.strip is not self.strip:
            return
        event.stop()
        if event.tab_id != self.strip.active:
            return  # another change came after it: that one is told
        self.post_message(self.TabActivated(self, event.tab_id, self._show(event.tab_id)))
