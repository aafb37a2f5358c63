"""Keys that arrive together are applied in the order they came, in every widget that edits.

Textual types a printable key into the focused widget at once, but runs that widget's own
bindings (arrows, Home, Backspace...) only once the key has bubbled up to the app, through
each ancestor's message queue. In a burst (SSH on a slow link, tmux send-keys, a script)
the characters after a bound key overtook it: `abc Up Home W` typed `abcW` on one line,
and `End BSpace BSpace 0` in a form field typed the 0 before the backspaces deleted it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.widget import Widget

    _Mixin = Widget
else:  # a plain mixin: Textual finds a widget's CSS type names along its first Widget base
    _Mixin = object


class InOrderKeys(_Mixin):
    """Runs the widget's own (non-priority) bindings where its typed characters go: here,
    in the order the keys came. Mixed in before the Textual widget class."""

    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)  # the Textual widget's own


class Field(InOrderKeys, Input):
    """An `Input` that applies a burst of keys in order (the form, find bars, Devices)."""
