"""One handler per protocol op: `HANDLERS[op](request, emit) -> result data`.

Later ops (a remote supervisor's, a cluster's, a TPU target's) are one function and one
table entry each; INBAND_HANDLERS run on the kernel's reader thread, at once, even while a
request runs on the main thread (keep them quick and free of JAX calls). A handler raises to
fail its request (the loop turns the exception into an `error` event); KeyboardInterrupt is
the user's interrupt.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from jaxtui import protocol as P
from jaxtui.kernel.runstate import STATE

Emit = Callable[[str, dict[str, Any]], None]
Handler = Callable[[P.Request, Emit], dict[str, Any]]


def _run(req: P.Request, emit: Emit) -> dict[str, Any]:
    from jaxtui.kernel.execute import run_code

    p = req.params
    # Blank lines in place of what precedes the code in its file (the lesson docstring):
    # tracebacks, syntax errors and jaxpr source lines then name the file's own lines.
    padding = "\n" * (max(1, int(p.get("first_line") or 1)) - 1)
    result = run_code(
        padding + str(p.get("code", "")),
        filename=str(p.get("filename") or "<jaxtui>"),
        demo=str(p.get("demo") or "code"),
        inputs=p.get("inputs") or {},
        mode="inspect" if req.op == P.OP_INSPECT else "run",
        emit=emit,
        inspect=bool(p.get("inspect", True)),
        device=p.get("device"),
        live=req.op == P.OP_INSPECT and bool(p.get("live")),
        budget_s=float(p["budget_s"]) if p.get("budget_s") else None,
        compile_for=p.get("target") or None,
    )
    return asdict(result)


def _target(req: P.Request, emit: Emit) -> dict[str, Any]:
    from jaxtui.kernel.target import describe

    return describe(str(req.params.get("target", "")))


def _devices(req: P.Request, emit: Emit) -> dict[str, Any]:
    from jaxtui.kernel.devices import describe

    return describe()


def _smoke(req: P.Request, emit: Emit) -> dict[str, Any]:
    from jaxtui.kernel.smoke import smoke

    def progress(done: int, total: int, label: str) -> None:
        emit(P.EV_PROGRESS, {"label": f"smoke test {label}", "done": done, "total": total})

    ids = req.params.get("devices")
    return smoke(list(ids) if ids is not None else None,
                 budget_s=float(req.params.get("budget_s", 0.2)), progress=progress)


def _ping(req: P.Request, emit: Emit) -> dict[str, Any]:
    """PingResult. With `settle_s`: wait that long for the device work an interrupted run left
    computing (runstate.py); `idle` False means XLA computes on, and the client restarts the
    kernel rather than let the next run wait behind it."""
    settle_s = float(req.params.get("settle_s") or 0.0)
    return {"pong": True, "pid": os.getpid(), "idle": STATE.settle(settle_s)}


# -- in-band: answered on the reader thread, even while a request runs --------------------
def _heartbeat(req: P.Request, emit: Emit) -> dict[str, Any]:
    """HeartbeatResult: alive, and what the main thread is doing (the line it is on)."""
    return STATE.heartbeat()


def _interrupt(req: P.Request, emit: Emit) -> dict[str, Any]:
    """InterruptResult. SIGINT to the main thread, as a local client would send; the caller
    confirms the kernel settled (`ping` with `settle_s`) and kills it if not (jaxtui/ladder.py).
    A remote kernel's supervisor answers this op itself, with the whole ladder."""
    if not STATE.active:
        return {"outcome": "idle"}
    os.kill(os.getpid(), signal.SIGINT)
    return {"outcome": "interrupted"}


def _shutdown(req: P.Request, emit: Emit) -> dict[str, Any]:
    return {"bye": True}  # the loop exits after sending it (kernel/__main__.py)


HANDLERS: dict[str, Handler] = {
    P.OP_EXEC: _run,
    P.OP_INSPECT: _run,
    P.OP_DEVICES: _devices,
    P.OP_SMOKE: _smoke,
    P.OP_PING: _ping,
    P.OP_SHUTDOWN: _shutdown,
    P.OP_TARGET: _target,
}

INBAND_HANDLERS: dict[str, Handler] = {
    P.OP_HEARTBEAT: _heartbeat,
    P.OP_INTERRUPT: _interrupt,
}
assert set(HANDLERS) | set(INBAND_HANDLERS) == set(P.OPS) and set(INBAND_HANDLERS) == set(P.INBAND_OPS)
