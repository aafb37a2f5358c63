"""The messages the UI and the kernel exchange, as JSON lines.

This module is shared by both processes, so it imports neither jax nor textual.

Wire format: one JSON object per line, UTF-8.
- UI -> kernel: a `Request` ({"v", "id", "op", "params"}).
- kernel -> UI: `Event`s ({"v", "id", "kind", "data"}). A request gets zero or more
  intermediate events ("stream", "progress") and exactly one final event ("result" or
  "error"). The kernel also sends one unsolicited "ready" event (id 0) when it starts.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

PROTOCOL_VERSION = 1
# HLO of a large module is several MB; asyncio's default 64 KiB line limit is far too small.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

# Requests the kernel understands.
OP_EXEC = "exec"  # run code: params = RunParams; "device": a device id to run on (None: JAX's default)
OP_INSPECT = "inspect"  # live mode: RunParams + "live" (run only what demo.inspect needs), "budget_s"
OP_DEVICES = "devices"  # list devices and memory
OP_SMOKE = "smoke"  # doctor's smoke test: params {"devices": [ids] | None, "budget_s": float}
OP_PING = "ping"
OP_SHUTDOWN = "shutdown"
OPS = (OP_EXEC, OP_INSPECT, OP_DEVICES, OP_SMOKE, OP_PING, OP_SHUTDOWN)

# Event kinds the kernel sends.
EV_READY = "ready"
EV_STREAM = "stream"  # data: {"name": "stdout"|"stderr", "text": str}
EV_PROGRESS = "progress"  # data: {"label": str, "done": int, "total": int}
EV_TIMING = "timing"  # data: one timing record (kernel/timing.py), sent as soon as it is taken
EV_PLOT = "plot"  # data: a whole demo.plot series ({name, x, y, title, ...}), each time it grows
EV_INSPECTION = "inspection"  # data: {"inspections": [...], "partial": True}: views before compiling
EV_RESULT = "result"  # data: the op's result (RunResult as a dict for exec/inspect)
EV_ERROR = "error"  # data: {"type", "message"}: the request itself failed (bad op...)
FINAL_KINDS = (EV_RESULT, EV_ERROR)


class ProtocolError(ValueError):
    """A message that is malformed, oversized or from another protocol version."""


@dataclass
class Request:
    id: int
    op: str
    params: dict[str, Any] = field(default_factory=dict)
    v: int = PROTOCOL_VERSION


@dataclass
class Event:
    id: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    v: int = PROTOCOL_VERSION

    @property
    def final(self) -> bool:
        return self.kind in FINAL_KINDS


@dataclass
class ErrorInfo:
    """What went wrong in user code, in a form the UI can point at."""

    type: str
    message: str
    line: int | None = None  # 1-based line in the user's code
    col: int | None = None
    traceback: str = ""  # user's frames first; jaxtui's own frames removed
    kind: str = "exception"  # syntax | exception | interrupted | timeout | kernel_died


@dataclass
class RunResult:
    """Everything one run of a demo produced. Also the `jaxtui run --json` payload."""

    demo: str
    ok: bool
    device: str = ""
    platform: str = ""
    stdout: str = ""
    error: dict[str, Any] | None = None  # ErrorInfo as a dict
    values: list[dict[str, Any]] = field(default_factory=list)  # {label, summary, type}
    timings: list[dict[str, Any]] = field(default_factory=list)
    inspections: list[dict[str, Any]] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)
    plots: list[dict[str, Any]] = field(default_factory=list)
    compiles: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0  # kernel's own wall time for the code


def encode(msg: Request | Event) -> bytes:
    line = json.dumps(asdict(msg), separators=(",", ":"), default=_json_default)
    data = line.encode("utf-8") + b"\n"
    if len(data) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(data):,} bytes exceeds {MAX_MESSAGE_BYTES:,}")
    return data


def _json_default(obj: Any) -> Any:
    # Tuples/lists are native; anything else (numpy scalars, paths) becomes its repr.
    if hasattr(obj, "item") and callable(obj.item):
        try:
            return obj.item()
        except Exception:  # noqa: BLE001 - fall through to str()
            pass
    return str(obj)


def _decode_obj(line: bytes | str) -> dict[str, Any]:
    if len(line) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(line):,} bytes exceeds {MAX_MESSAGE_BYTES:,}")
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        text = line[:80] if isinstance(line, str) else line[:80].decode("utf-8", "replace")
        raise ProtocolError(f"malformed message ({exc}): {text!r}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"message is not an object: {type(obj).__name__}")
    if obj.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {obj.get('v')!r}, expected {PROTOCOL_VERSION}")
    return obj


def decode_request(line: bytes | str) -> Request:
    obj = _decode_obj(line)
    if not isinstance(obj.get("id"), int) or not isinstance(obj.get("op"), str):
        raise ProtocolError("request needs an integer 'id' and a string 'op'")
    if obj["op"] not in OPS:
        raise ProtocolError(f"unknown op {obj['op']!r}; known: {', '.join(OPS)}")
    params = obj.get("params") or {}
    if not isinstance(params, dict):
        raise ProtocolError("'params' must be an object")
    return Request(id=obj["id"], op=obj["op"], params=params)


def decode_event(line: bytes | str) -> Event:
    obj = _decode_obj(line)
    if not isinstance(obj.get("id"), int) or not isinstance(obj.get("kind"), str):
        raise ProtocolError("event needs an integer 'id' and a string 'kind'")
    data = obj.get("data") or {}
    if not isinstance(data, dict):
        raise ProtocolError("'data' must be an object")
    return Event(id=obj["id"], kind=obj["kind"], data=data)
