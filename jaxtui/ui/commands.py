"""Command palette entries (ctrl+p), namespaced: `pane: grad`, `run: ...`, `tour: notes`.

Every action of the registry (`jaxtui/ui/actions.py`) is listed with its key, except those
that do nothing right now (the tour's keys without a tour, "interrupt" when idle).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider


def _start_tour(app: Any, name: str) -> None:
    from jaxtui.core.tour_format import TourError, find_tour  # (when the palette opens, not at start)

    try:
        tour = find_tour(name)
    except (TourError, OSError) as exc:
        app.notify(f"This tour cannot start: {exc}", severity="error", timeout=15)
        return
    app.start_tour(tour)


class JaxtuiCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app: Any = self.app
        cmds: list[tuple[str, Callable[[], Any], str]] = []
        for name, title in app.pane_titles():
            cmds.append((f"pane: {name}", partial(app.show_pane, name), f"Go to the {title} pane"))
        for action, title, help_text in app.palette_actions():
            if app.check_action(action, ()) is False:
                continue
            key = app.key_for(action)
            suffix = f" ({key})" if key else ""
            cmds.append((title, partial(app.run_action, action), help_text + suffix))
        from jaxtui.core.tour_format import TourError, builtin_tour_names, find_tour

        for name in builtin_tour_names():
            try:
                about = find_tour(name).title
            except (TourError, OSError) as exc:
                about = f"cannot be read: {exc}"
            cmds.append((f"tour: start {name}", partial(_start_tour, app, name),
                         f"Walkthrough: {about}"))
        return cmds

    async def discover(self) -> Hits:
        for text, callback, help_text in self._commands():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)
