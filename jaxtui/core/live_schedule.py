"""Live mode: when the code stops changing for a moment, inspect it again.

Compiler Explorer's loop, for jaxprs: every edit restarts a short timer (`delay_s`,
about half a second); when it fires, the pane's code goes to the kernel as a live
`inspect` request (kernel/live.py runs only what the marked functions need, within a time
budget). The kernel runs one request at a time, so:

- at most one live request is in flight; edits made meanwhile wait for it and then send
  the newest code once (the ones in between are dropped, never sent);
- a result whose code has been edited since is stale: it is dropped, not shown;
- while the kernel is busy with a real run, live requests wait for it to finish (on the
  client's `wait_free`, an event: no polling);
- live requests are "background" requests: they do not mark the kernel busy, so the
  status bar does not flicker and ctrl+c keeps copying in the editor.

Imports neither jax nor textual: the timing and dropping rules are tested on their own.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from jaxtui import protocol as P

DEFAULT_DELAY_S = 0.5
BUDGET_S = 3.0  # the kernel stops a live run after this (the real run has no limit)


def delay_from_env(default: float = DEFAULT_DELAY_S) -> float:
    """JAXTUI_LIVE_DELAY_MS adjusts the pause that triggers a live update."""
    raw = os.environ.get("JAXTUI_LIVE_DELAY_MS", "")
    try:
        return max(0.0, float(raw) / 1000) if raw else default
    except ValueError:
        return default


Params = Callable[[], "dict[str, Any] | None"]
Show = Callable[[dict[str, Any]], None]


class Cancellable(Protocol):
    def cancel(self) -> object: ...


# Runs a live update's coroutine: asyncio.create_task by default; the app passes its pane's
# run_worker, so the update is a worker tied to the pane (it ends with the pane).
Spawn = Callable[[Coroutine[Any, Any, None]], Cancellable]


class LiveInspector:
    """Turns edits into live inspect requests for one pane.

    `params()` gives the pane's current run parameters (None: an input is invalid, skip);
    `show(result)` receives each fresh result, and first each fresh partial one (jaxprs
    before compiling: `result["partial"]` is True). `kernel` is a KernelClient (or anything
    with `request(...)`, `busy`, `state` and `wait_free()`).
    """

    def __init__(self, kernel: Any, params: Params, show: Show, *, delay_s: float = DEFAULT_DELAY_S,
                 budget_s: float = BUDGET_S, spawn: Spawn | None = None) -> None:
        self.kernel = kernel
        self.params = params
        self.show = show
        self.delay_s = delay_s
        self.budget_s = budget_s
        self.spawn: Spawn = spawn or asyncio.create_task
        self._generation = 0  # bumped by every edit: a result of an older one is stale
        self._waiting: Cancellable | None = None  # debouncing or queued, not yet sent
        self._queued = False  # `_waiting` has not sent nor ended
        self._in_flight = False
        self._landed = asyncio.Event()  # set while no live request is in flight
        self._landed.set()
        # What happened, for the status line, tests and benchmarks.
        self.sent = 0
        self.shown = 0
        self.dropped = 0  # results that came back after a newer edit
        self.superseded = 0  # timers and queued requests replaced by a newer edit
        self.failures = 0
        self.fired_at = 0.0  # perf_counter() when the last pause ended (the timer fired)
        self.last_latency_s: float | None = None  # timer fired -> result shown
        self.last_partial_latency_s: float | None = None  # timer fired -> jaxpr shown
        self.last_error = ""

    @property
    def pending(self) -> bool:
        """A live update is on its way (waiting for the pause, the kernel or the result)."""
        return self._in_flight or self._queued

    def edited(self) -> None:
        """The code or an input changed: (re)start the timer."""
        self._schedule(self.delay_s)

    def now(self) -> None:
        """Inspect without waiting for a pause (live mode was just switched on)."""
        self._schedule(0.0)

    def cancel(self) -> None:
        """Live mode is off: forget what is waiting; a request in flight is ignored."""
        self._generation += 1
        if self._waiting is not None and self._queued:
            self._waiting.cancel()
            self.superseded += 1
        self._waiting, self._queued = None, False

    def _kernel_free(self) -> bool:
        # One live request at a time; a real run goes first; never start a kernel for it.
        return not self.kernel.busy and getattr(self.kernel, "state", "ready") in ("ready", "busy")

    def _schedule(self, delay_s: float) -> None:
        self.cancel()
        self._queued = True
        self._waiting = self.spawn(self._update(self._generation, delay_s))

    async def _update(self, generation: int, delay_s: float) -> None:
        try:
            await asyncio.sleep(delay_s)
            fired = self.fired_at = time.perf_counter()
            while self._in_flight or not self._kernel_free():
                await self._landed.wait()  # the live request before this one
                await self.kernel.wait_free()  # a real run, a starting kernel
            params = self.params()
            if params is None or generation != self._generation:
                return
        finally:
            if generation == self._generation:
                self._queued = False
        self._waiting = None  # from here on a newer edit cannot take this one back
        self._in_flight = True
        self._landed.clear()
        self.sent += 1

        def on_event(event: P.Event) -> None:
            if event.kind == P.EV_INSPECTION and generation == self._generation:
                self.show({**event.data, "partial": True})
                self.last_partial_latency_s = time.perf_counter() - fired

        try:
            result = await self.kernel.request(
                P.OP_INSPECT, {**params, "live": True, "budget_s": self.budget_s},
                on_event=on_event, background=True)
        except Exception as exc:  # noqa: BLE001 - kernel died or restarted: the next edit retries
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            return
        finally:
            self._in_flight = False
            self._landed.set()
        if generation != self._generation:
            self.dropped += 1
            return
        self.show(result)
        self.shown += 1
        self.last_latency_s = time.perf_counter() - fired
