"""Command palette entries (ctrl+p), namespaced: `pane: grad`, `run: ...`, `kernel: ...`."""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider


class JaxtuiCommands(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app: Any = self.app
        cmds: list[tuple[str, Callable[[], Any], str]] = []
        for name, title in app.pane_titles():
            cmds.append((f"pane: {name}", partial(app.show_pane, name), f"Go to the {title} pane"))
        for action, title, help_text in app.palette_actions():
            key = app.key_for(action)
            suffix = f" ({key})" if key else ""
            cmds.append((title, partial(app.run_action, action), help_text + suffix))
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
