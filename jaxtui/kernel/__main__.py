"""`python -m jaxtui.kernel`: the JSON-lines loop.

The protocol lives on private file descriptors: events go out on a copy of fd 1 (fd 1 itself
is pointed at stderr, so XLA's C++ logging or a stray print cannot corrupt the channel), and
requests come in on a copy of fd 0 (fd 0 becomes /dev/null and `sys.stdin` refuses to read,
with a hint: `input()` in user code must not swallow the next request).

Requests are read on their own thread (RequestReader): `heartbeat` and `interrupt` are answered
even while the main thread is inside XLA, and a closed stdin ends the kernel at once. The
kernel also dies within a fraction of a second of its parent (ladder.watch_parent).
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import io
import os
import queue
import signal
import socket
import sys
import threading
import time
from typing import Any, BinaryIO

from jaxtui import protocol as P
from jaxtui.kernel.runstate import STATE
from jaxtui.ladder import watch_parent

_T0 = time.perf_counter()


class Channel:
    """Thread-safe writer of events (debug.print callbacks run on XLA's threads)."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, rid: int, kind: str, data: dict[str, Any]) -> None:
        event = P.Event(id=rid, kind=kind, data=data)
        try:
            payload = P.encode_fitted(event)  # an oversized event is cut with a note, not lost
        except P.ProtocolError as exc:
            # Only an error event ends a request: an intermediate one that cannot be sent
            # becomes a note, and the run goes on to its result.
            payload = P.encode(P.Event(id=rid, kind=P.EV_ERROR,
                                       data={"type": "ProtocolError", "message": str(exc)})
                               if event.final else
                               P.Event(id=rid, kind=P.EV_STREAM,
                                       data={"name": "stderr", "text": f"\njaxtui: {exc}\n"}))
        with self._lock:
            self._stream.write(payload)
            self._stream.flush()


class KernelTerminated(BaseException):
    """SIGTERM (the second rung of the shutdown ladder): leave the run and exit cleanly. Not an
    Exception, so user code's `except Exception` and the run's own handler let it through."""


def _on_sigint(signum: int, frame: Any) -> None:
    """SIGINT interrupts user code only; between requests it is ignored."""
    if STATE.active:
        STATE.note_interrupt()
        raise KeyboardInterrupt


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KernelTerminated


STDIN_MESSAGE = ("stdin is not available: your code runs in jaxtui's kernel process, which has no "
                 "keyboard. Declare the value with demo.input(\"name\", default) instead: it becomes "
                 "a field above the code in the app, and `jaxtui run FILE --input name=VALUE` sets it.")


class NoStdin(io.TextIOBase):
    """sys.stdin for user code: reading fails at once, saying what to use instead. (The
    protocol has its own file descriptor, and fd 0 is /dev/null for child processes.)"""

    name = "<stdin>"
    encoding = "utf-8"

    @property
    def buffer(self) -> NoStdin:
        return self

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return 0  # /dev/null

    def read(self, size: int | None = -1) -> str:
        raise RuntimeError(STDIN_MESSAGE)

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override] # input() calls it
        raise RuntimeError(STDIN_MESSAGE)

    def readlines(self, hint: int | None = -1) -> list[str]:  # type: ignore[override]
        raise RuntimeError(STDIN_MESSAGE)


def _open_channel() -> Channel:
    proto = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
    return Channel(proto)


def _private_requests() -> BinaryIO:
    """Requests come on a private copy of fd 0 (not inherited by child processes); fd 0
    itself becomes /dev/null and sys.stdin refuses to read (user code cannot eat requests)."""
    requests = os.fdopen(os.dup(0), "rb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = NoStdin()
    return requests


class RequestReader:
    """Reads requests on its own thread, so the kernel hears its client even while the main
    thread is inside XLA: in-band ops (INBAND_HANDLERS: heartbeat, interrupt) are answered at
    once; the rest queue for the main thread. EOF (the client or ssh went away) ends the
    kernel: at once when idle; when busy, after interrupting the run, within half a second."""

    EOF_GRACE_S = 0.5

    def __init__(self, stream: BinaryIO, channel: Channel):
        self.stream = stream
        self.channel = channel
        self.queue: queue.SimpleQueue[P.Request | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="jaxtui-requests", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        from jaxtui.kernel.handlers import INBAND_HANDLERS

        while line := self.stream.readline(P.MAX_MESSAGE_BYTES + 1):
            if not line.strip():
                continue
            try:
                req = P.decode_request(line)
            except P.ProtocolError as exc:
                self.channel.send(-1, P.EV_ERROR, {"type": "ProtocolError", "message": str(exc)})
                continue
            inband = INBAND_HANDLERS.get(req.op)
            if inband is None:
                self.queue.put(req)
                continue
            try:
                self.channel.send(req.id, P.EV_RESULT, inband(req, lambda kind, data: None))
            except Exception as exc:  # noqa: BLE001 - the reader must outlive any request
                self.channel.send(req.id, P.EV_ERROR, {"type": type(exc).__name__, "message": str(exc)})
        self.queue.put(None)  # EOF: the main loop exits when it gets here
        if STATE.active:
            os.kill(os.getpid(), signal.SIGINT)
            deadline = time.monotonic() + self.EOF_GRACE_S
            while STATE.active and time.monotonic() < deadline:
                time.sleep(0.01)
            if STATE.active:  # inside XLA: nothing but an exit stops it
                _exit_with_group(0)


def _exit_with_group(status: int) -> None:
    """Exit now, taking the run's child processes along."""
    _kill_run_children()
    os._exit(status)


def _kill_run_children() -> None:
    """The processes a run started in the kernel's group (after an interrupt, or on exit)."""
    from jaxtui.ladder import group_members

    if os.getpgrp() != os.getpid():
        return  # not our own group (started by hand from a shell): leave the shell's alone
    for pid in group_members(os.getpgrp()):
        if pid != os.getpid():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _start_jax() -> dict[str, Any]:
    t = time.perf_counter()
    import jax
    import jax.numpy  # every demo needs it; import it while nobody waits

    import_s = time.perf_counter() - t
    t = time.perf_counter()
    from jaxtui.kernel.distributed import join

    cluster = join()  # a cluster member joins before the backend starts (JAX's rule)
    devices = jax.devices()  # initialises the backend: fails here, not in the first run
    init_s = time.perf_counter() - t
    from jaxtui import __version__
    from jaxtui.kernel.devices import versions

    return {
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "protocol": P.PROTOCOL_VERSION,
        "jaxtui": __version__,
        "platform": jax.default_backend(),
        "device_count": len(devices),
        "device_kind": devices[0].device_kind if devices else "",
        "devices": [str(d) for d in devices],
        "process_count": jax.process_count(),
        "process_index": jax.process_index(),
        "local_devices": [str(d) for d in jax.local_devices()],
        **cluster,
        "import_s": import_s,
        "init_s": init_s,
        "ready_s": time.perf_counter() - _T0,
        **versions(),
    }


def handle(req: P.Request, channel: Channel) -> tuple[str, dict[str, Any]]:
    from jaxtui.kernel.handlers import HANDLERS

    def emit(kind: str, data: dict[str, Any]) -> None:
        channel.send(req.id, kind, data)

    return P.EV_RESULT, HANDLERS[req.op](req, emit)  # decode_request refuses unknown ops


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--supervise":  # a remote kernel's supervisor: no JAX in this process
        from jaxtui.kernel.supervisor import main as supervise

        return supervise(argv[1:])
    # First of all, before JAX's slow import: die with the parent, busy or not.
    watch_parent()
    # A crash (segfault, abort in XLA) dumps the Python stack to the client's stderr tail: the
    # line the run had reached. A private copy of fd 2, as runs may redirect fd 2 itself.
    faulthandler.enable(file=os.fdopen(os.dup(2), "w"))
    channel = _open_channel()
    reader = RequestReader(_private_requests(), channel)
    signal.signal(signal.SIGINT, _on_sigint)
    signal.signal(signal.SIGTERM, _on_sigterm)
    reader.start()
    try:
        status = _serve(channel, reader)
    except KernelTerminated:
        status = 128 + signal.SIGTERM
    _exit_quickly(status)
    return status


def _exit_quickly(status: int) -> None:
    """Release the device and exit, in tens of milliseconds: the atexit hooks (JAX's clears
    its backends, which frees the device), then os._exit. A full interpreter teardown with
    JAX loaded takes most of a second, and quitting waits for the kernel at most half that."""
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


def _serve(channel: Channel, reader: RequestReader) -> int:
    try:
        info = _start_jax()
    except Exception as exc:  # noqa: BLE001 - e.g. JAX_PLATFORMS=tpu without libtpu
        channel.send(0, P.EV_READY, {"ok": False, "pid": os.getpid(), "type": type(exc).__name__,
                                     "message": str(exc)})
        return 3
    channel.send(0, P.EV_READY, {"ok": True, **info})
    while True:
        req = reader.queue.get()
        if req is None:
            return 0  # the client went away
        try:
            STATE.begin(req.op, str(req.params.get("filename") or "<jaxtui>"))
            kind, data = handle(req, channel)
        except KeyboardInterrupt:
            kind, data = P.EV_ERROR, {"type": "KeyboardInterrupt", "message": "interrupted"}
        except Exception as exc:  # noqa: BLE001 - the kernel must outlive any request
            kind, data = P.EV_ERROR, {"type": type(exc).__name__, "message": str(exc)}
        finally:
            STATE.end()
        if STATE.interrupted:
            _kill_run_children()
        channel.send(req.id, kind, data)
        if req.op == P.OP_SHUTDOWN:
            return 0


if __name__ == "__main__":
    sys.exit(main())
