"""The app's main screen: Textual's default screen, with its keys in the registry's order.

Textual lists active bindings focused-widget-first, so a key the editor also binds (f7,
ctrl+c) or one inherited from `App` (ctrl+q) would jump ahead in the footer. Sorting by
`jaxtui.ui.actions.ACTIONS` keeps the footer's most important keys first, as declared.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.screen import Screen

from jaxtui.ui import actions

_ORDER = {a.name: i for i, a in enumerate(actions.ACTIONS)}
_WIDE_ONLY = {a.name for a in actions.ACTIONS if a.wide}


def breakpoint_class(width: int, breakpoints: list[tuple[int, str]] | None) -> str:
    """The class Textual gives a screen of this width (it does so on the first Resize, after
    the first frame: the screen is given it up front, so no other layout flashes first)."""
    fits = [name for min_width, name in breakpoints or () if width >= min_width]
    return fits[-1] if fits else ""


class MainScreen(Screen[Any]):
    """Panes in tabs, the tour bar when a tour runs, the footer."""

    # At start the code has the focus: what a learner types goes into it (Textual's default, the
    # first focusable widget, was the pane tab bar: typing did nothing there).
    AUTO_FOCUS = "CodeEditor, #devices-table"  # (the Devices tab when the app starts on it)

    HELP_TITLE = "jaxtui"
    HELP = ("One pane per JAX feature (f2 and f3 move between them; ctrl+o jumps anywhere). "
            "Each pane has a lesson (the Lesson tab), editable inputs, the demo's code, and "
            "results tabs filled by a run (ctrl+r): Output, Jaxpr, StableHLO, HLO, Cost, "
            "Compiles, Timing, Plots. Your edits are saved as you type and come back next "
            "time; a `*` after a pane's name means it differs from the original (f12 resets "
            "it). `jaxtui tour` (or `tour:` in the palette) starts a guided walkthrough.")

    @property
    def active_bindings(self) -> dict[str, Any]:
        bindings = super().active_bindings
        last = len(_ORDER)
        ordered = sorted(bindings.items(), key=lambda item: _ORDER.get(item[1].binding.action, last))
        if self.size.width < actions.WIDE:  # the footer's less important keys: F1 and ctrl+p list them
            ordered = [(key, active._replace(binding=replace(active.binding, show=False))
                        if active.binding.action in _WIDE_ONLY else active) for key, active in ordered]
        return dict(ordered)

    _wide: bool | None = None

    def on_resize(self) -> None:
        wide = self.size.width >= actions.WIDE
        if wide != self._wide:  # the footer's keys depend on the width: rebuild it when that changes
            if self._wide is not None:
                self.app.refresh_bindings()
            self._wide = wide


class TourScreen(MainScreen):
    """The main screen of an app started with a tour: nothing has the focus at start, so the
    presenter's keys are the tour's (f7 is also the editor's "select all")."""

    AUTO_FOCUS = ""
