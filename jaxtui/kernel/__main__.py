"""`python -m jaxtui.kernel`: the JSON-lines loop.

stdout is the protocol channel. Anything else that writes to file descriptor 1 (XLA's C++
logging, a stray print outside a run) would corrupt it, so the channel gets a private copy
of fd 1 and fd 1 itself is pointed at stderr.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any, BinaryIO

from jaxtui import protocol as P

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


class _Busy:
    """SIGINT interrupts user code only; between requests it is ignored."""

    active = False


def _on_sigint(signum: int, frame: Any) -> None:
    if _Busy.active:
        raise KeyboardInterrupt


def _open_channel() -> Channel:
    proto = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
    return Channel(proto)


def _start_jax() -> dict[str, Any]:
    t = time.perf_counter()
    import jax
    import jax.numpy  # every demo needs it; import it while nobody waits

    import_s = time.perf_counter() - t
    t = time.perf_counter()
    devices = jax.devices()  # initialises the backend: fails here, not in the first run
    init_s = time.perf_counter() - t
    from jaxtui import __version__
    from jaxtui.kernel.devices import versions

    return {
        "pid": os.getpid(),
        "protocol": P.PROTOCOL_VERSION,
        "jaxtui": __version__,
        "platform": jax.default_backend(),
        "device_count": len(devices),
        "device_kind": devices[0].device_kind if devices else "",
        "devices": [str(d) for d in devices],
        "process_count": jax.process_count(),
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


def main() -> int:
    channel = _open_channel()
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        info = _start_jax()
    except Exception as exc:  # noqa: BLE001 - e.g. JAX_PLATFORMS=tpu without libtpu
        channel.send(0, P.EV_READY, {"ok": False, "pid": os.getpid(), "type": type(exc).__name__,
                                     "message": str(exc)})
        return 3
    channel.send(0, P.EV_READY, {"ok": True, **info})
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline(P.MAX_MESSAGE_BYTES + 1)
        if not line:
            return 0  # the UI went away
        if not line.strip():
            continue
        try:
            req = P.decode_request(line)
        except P.ProtocolError as exc:
            channel.send(-1, P.EV_ERROR, {"type": "ProtocolError", "message": str(exc)})
            continue
        try:
            _Busy.active = True
            kind, data = handle(req, channel)
        except KeyboardInterrupt:
            kind, data = P.EV_ERROR, {"type": "KeyboardInterrupt", "message": "interrupted"}
        except Exception as exc:  # noqa: BLE001 - the kernel must outlive any request
            kind, data = P.EV_ERROR, {"type": type(exc).__name__, "message": str(exc)}
        finally:
            _Busy.active = False
        channel.send(req.id, kind, data)
        if req.op == P.OP_SHUTDOWN:
            return 0


if __name__ == "__main__":
    sys.exit(main())
