"""What the kernel's main thread is doing, readable from its other threads.

The reader thread (kernel/__main__.py) answers `heartbeat` and `interrupt` while the main
thread runs user code, possibly deep inside XLA; it reads this state, never the main
thread's locals. The SIGINT handler notes which device arrays were still being computed
when the run was interrupted: XLA goes on computing them after Python has stopped waiting,
and a kernel in that state is not idle (`ping` with `settle_s` says so; the client then kills
and restarts it).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Any


class RunState:
    def __init__(self) -> None:
        self.active = False  # a request runs on the main thread
        self.op: str | None = None
        self.filename: str | None = None  # the user's code file of the running request
        self.interrupted = False  # SIGINT arrived during the current or last request
        self.unfinished: list[Any] = []  # arrays not ready at the interrupt (kept alive to watch)
        self.main_ident = threading.main_thread().ident

    def begin(self, op: str, filename: str | None) -> None:
        self.op, self.filename, self.interrupted, self.active = op, filename, False, True

    def end(self) -> None:
        self.active = False

    def current_line(self) -> int | None:
        """The line of the user's code the main thread is on (inside a call: the calling line)."""
        if not self.active or self.filename is None or self.main_ident is None:
            return None
        frame = sys._current_frames().get(self.main_ident)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def note_interrupt(self) -> None:
        """On SIGINT during a run: keep the device arrays still being computed. The array the
        run was waiting on is freed as the interrupt unwinds, while XLA computes on."""
        self.interrupted = True
        jax = sys.modules.get("jax")
        if jax is None:
            return
        with contextlib.suppress(Exception):  # a deleted array, a backend gone: nothing to watch
            self.unfinished += [a for a in jax.live_arrays() if not a.is_ready()]

    def settle(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the arrays an interrupt left computing. True: idle."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.unfinished = [a for a in self.unfinished if not a.is_ready()]
            except Exception:  # noqa: BLE001 - deleted or failed: no longer computing
                self.unfinished = []
            if not self.unfinished:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def heartbeat(self) -> dict[str, Any]:
        return {"alive": True, "busy": self.active, "op": self.op if self.active else None,
                "line": self.current_line()}


STATE = RunState()
