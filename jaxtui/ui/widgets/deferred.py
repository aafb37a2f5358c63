"""Build a widget once the first frame is up, in the place it was composed.

The first frame waits for everything composed before it; the widgets a user does not see
yet (results tabs behind the Lesson, the Devices tab) and the lesson's Markdown (slow to
build) come after it, one at a time, the visible ones first. Code that talks to a deferred
widget must allow for it to be missing for that moment: query, don't query_one, and let the
widget catch up when it mounts.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from textual.app import App
from textual.widget import Widget

W = TypeVar("W", bound=Widget)
_queues: WeakKeyDictionary[App[object], deque[Deferred]] = WeakKeyDictionary()
# Work that waits for the visible deferred widgets (the lesson) to be on screen.
_after_visible: WeakKeyDictionary[App[Any], list[Callable[[], object]]] = WeakKeyDictionary()


def after_visible(app: App[Any], callback: Callable[[], object]) -> None:
    """Call `callback` once the visible deferred widgets are painted (at once after the next
    refresh when there are none): what a learner reads first is not slowed down by work they
    do not see yet (the editor's highlighting, the kernel's start on a 2-core machine)."""
    waiting = _after_visible.get(app)
    if waiting is None:
        waiting = _after_visible[app] = []
        app.call_after_refresh(_run_after_visible_if_idle, app)
    waiting.append(callback)


def _run_after_visible_if_idle(app: App[Any]) -> None:
    queue = _queues.get(app)
    if queue is None or not any(d._visible for d in queue):
        _run_after_visible(app)


def _run_after_visible(app: App[Any]) -> None:
    for callback in _after_visible.pop(app, []):
        callback()


def built(widgets: Iterable[W]) -> list[W]:
    """The widgets that are fully mounted: a query also finds a deferred widget while its
    own children are still being composed, and talking to it then fails."""
    return [w for w in widgets if w.is_mounted]


def pending(app: App[object]) -> bool:
    """Some deferred widget of `app` is not built yet."""
    return app in _queues or bool(app.query(Deferred))


class Deferred(Widget):
    """Stands in for `build()`'s widget until the first refresh after it is mounted; then
    mounts that widget after itself, removes itself and calls `then(widget)`. Deferred
    widgets are built in the order they mount, `visible` ones before the rest."""

    DEFAULT_CSS = """
    Deferred {
        display: none;
    }
    """

    def __init__(self, build: Callable[[], Widget], then: Callable[[Widget], None] | None = None,
                 *, visible: bool = False):
        super().__init__()
        self._build = build
        self._then = then
        self._visible = visible

    def on_mount(self) -> None:
        queue = _queues.get(self.app)
        if queue is None:
            queue = _queues[self.app] = deque()
            self.app.call_after_refresh(self._start_building, queue)
        if self._visible:
            queue.appendleft(self)
        else:
            queue.append(self)

    def _start_building(self, queue: deque[Deferred]) -> None:
        # A worker, not this callback: the app's message queue (keys) must not wait on it.
        self.app.run_worker(_build_all(self.app, queue), group="deferred")

    async def _swap(self) -> None:
        parent = self.parent
        if not isinstance(parent, Widget) or not self.is_attached or _quitting(self.app):
            return  # building now would race the app's teardown
        widget = self._build()
        await parent.mount(widget, after=self)
        await self.remove()
        if self._then is not None and widget.is_attached and not _quitting(self.app):
            self._then(widget)


def _quitting(app: App[object]) -> bool:
    return bool(getattr(app, "_exit", False))  # App.exit() sets it; Textual has no public flag


async def _build_all(app: App[object], queue: deque[Deferred]) -> None:
    """Build the queued widgets one at a time; a visible one is painted before the next."""
    try:
        while queue:
            deferred = queue.popleft()
            await deferred._swap()
            if deferred._visible:
                painted = asyncio.Event()
                app.call_after_refresh(painted.set)
                await painted.wait()
                if not any(d._visible for d in queue):
                    _run_after_visible(app)
    finally:
        _queues.pop(app, None)
        _run_after_visible(app)
