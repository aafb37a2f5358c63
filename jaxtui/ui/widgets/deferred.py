"""Work done once the first frame is up, one piece at a time, what is on screen first.

The first frame waits for everything composed before it. The widgets a user does not see yet
(results views behind the Lesson, the Devices tab: widgets/tabs.py builds them on demand)
are built after it, in the background, one job at a time so keys are never kept waiting
long; a `visible` job goes before the rest, and `after_visible` work (the editor's
highlighting, the kernel's start) waits for those. Code that talks to a widget built later
must allow for it to be missing for that moment, and let the widget catch up when it mounts.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from textual.app import App

_queues: WeakKeyDictionary[App[Any], deque[_Job]] = WeakKeyDictionary()
# Work that waits until what the visible jobs built is on screen.
_after_visible: WeakKeyDictionary[App[Any], list[Callable[[], object]]] = WeakKeyDictionary()


def after_visible(app: App[Any], callback: Callable[[], object]) -> None:
    """Call `callback` once what the visible jobs build is painted (at once after the next
    refresh when there are none): what a learner reads first is not slowed down by work they
    do not see yet (the editor's highlighting, the kernel's start on a 2-core machine)."""
    waiting = _after_visible.get(app)
    if waiting is None:
        waiting = _after_visible[app] = []
        app.call_after_refresh(_run_after_visible_if_idle, app)
    waiting.append(callback)


def _run_after_visible_if_idle(app: App[Any]) -> None:
    queue = _queues.get(app)
    if queue is None or not any(j.visible for j in queue):
        _run_after_visible(app)


def _run_after_visible(app: App[Any]) -> None:
    for callback in _after_visible.pop(app, []):
        callback()


def pending(app: App[object]) -> bool:
    """Some job queued by `later` for `app` is not done yet."""
    return app in _queues


@dataclass
class _Job:
    work: Callable[[], Awaitable[object]]
    visible: bool


def later(app: App[Any], work: Callable[[], Awaitable[object]], *, visible: bool = False) -> None:
    """Run `work()` after the next refresh, after the jobs queued before it (a `visible` one
    before every job that is not). Dropped when the app is quitting by then."""
    queue = _queues.get(app)
    if queue is None:
        queue = _queues[app] = deque()
        # A worker, not a callback: the app's message queue (keys) must not wait on it.
        app.call_after_refresh(lambda: app.run_worker(_run_all(app, queue), group="deferred"))
    job = _Job(work, visible)
    if visible:
        queue.appendleft(job)
    else:
        queue.append(job)


def quitting(app: App[Any]) -> bool:
    """The app is ending: work started before must not touch its widgets, being taken down."""
    return bool(getattr(app, "_exit", False))  # App.exit() sets it; Textual has no public flag


async def _run_all(app: App[Any], queue: deque[_Job]) -> None:
    """Run the queued jobs one at a time; what a visible one built is painted before the next."""
    try:
        while queue and not quitting(app):
            job = queue.popleft()
            await job.work()
            if job.visible:
                painted = asyncio.Event()
                app.call_after_refresh(painted.set)
                await painted.wait()
                if not any(j.visible for j in queue):
                    _run_after_visible(app)
    finally:
        _queues.pop(app, None)
        _run_after_visible(app)
