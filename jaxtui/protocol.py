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
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TypedDict

PROTOCOL_VERSION = 1
# HLO of a large module is several MB; asyncio's default 64 KiB line limit is far too small.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

# Requests the kernel understands (the kernel's handler table, jaxtui/kernel/handlers.py, has
# one entry per op; decode_request refuses any other).
OP_EXEC = "exec"  # run code: params = RunParams; "device": a device id to run on (None: JAX's default);
# "target": a TPU target ("tpu-v5e:2x2", jaxtui/target_spec.py) the marked functions are also compiled for
OP_INSPECT = "inspect"  # live mode: RunParams + "live" (run only what demo.inspect needs), "budget_s"
OP_DEVICES = "devices"  # list devices and memory
OP_SMOKE = "smoke"  # doctor's smoke test: params {"devices": [ids] | None, "budget_s": float}
OP_PING = "ping"
OP_SHUTDOWN = "shutdown"  # release the device and exit (the first rung of the shutdown ladder)
# Stop the running request: SIGINT, then kill and restart after the grace period. A remote
# kernel's supervisor (kernel/supervisor.py) gets it in-band, as no signal crosses ssh.
# params {"grace": s, "restart": bool}; result InterruptResult.
OP_INTERRUPT = "interrupt"
OP_HEARTBEAT = "heartbeat"  # "the client is still there" (every 2 s to a remote supervisor)
# A TPU target's compile-only devices: params {"target": "tpu-v5e:2x2"} -> TargetInfo; an error
# event of type TargetUnavailable (no libtpu) or TargetInvalid (no such slice).
OP_TARGET = "target"
OPS = (OP_EXEC, OP_INSPECT, OP_DEVICES, OP_SMOKE, OP_PING, OP_SHUTDOWN, OP_TARGET, OP_INTERRUPT, OP_HEARTBEAT)
# Ops the kernel answers at once on its reader thread, even while a request runs (kernel/handlers.py
# INBAND): the rest wait their turn on the main thread.
INBAND_OPS = (OP_INTERRUPT, OP_HEARTBEAT)

# The remote supervisor's exit status when the client fell silent past its limit (kernel/
# supervisor.py): through ssh, the client reads it as a lost connection, not a kernel death.
EXIT_CLIENT_SILENT = 75  # sysexits' EX_TEMPFAIL

# A kernel started with these in its environment joins a JAX cluster (core/cluster.py): it calls
# jax.distributed.initialize(coordinator, num_processes, process_id) before JAX starts its backend
# (kernel/distributed.py). A local client sets them (KernelConfig.env); a remote kernel's
# supervisor gets them as arguments and sets them for its worker.
ENV_COORDINATOR = "JAXTUI_COORDINATOR"  # HOST:PORT, served by process 0
ENV_NUM_PROCESSES = "JAXTUI_NUM_PROCESSES"
ENV_PROCESS_ID = "JAXTUI_PROCESS_ID"

# Event kinds the kernel sends.
EV_READY = "ready"  # data: ReadyInfo (id 0, unsolicited, once)
EV_STREAM = "stream"  # data: StreamData, in the order the text was written
EV_PROGRESS = "progress"  # data: ProgressData
EV_TIMING = "timing"  # data: one TimingRecord (kernel/timing.py), sent as soon as it is taken
EV_PLOT = "plot"  # data: one PlotSeries (demo.plot), sent each time the series changes
EV_INSPECTION = "inspection"  # data: {"inspections": [...], "partial": True}: views before compiling
EV_RESULT = "result"  # data: the op's result (RunResultDict for exec/inspect)
EV_ERROR = "error"  # data: {"type", "message"}: the request itself failed (bad op, interrupted...)
EVENT_KINDS = (EV_READY, EV_STREAM, EV_PROGRESS, EV_TIMING, EV_PLOT, EV_INSPECTION, EV_RESULT, EV_ERROR)
FINAL_KINDS = (EV_RESULT, EV_ERROR)

# `error.kind` of a run (the JSON of `jaxtui run --json` and the app's messages): one list.
KIND_SYNTAX = "syntax"
KIND_EXCEPTION = "exception"
KIND_INTERRUPTED = "interrupted"
KIND_TIMEOUT = "timeout"
KIND_KERNEL_DIED = "kernel_died"
KIND_USAGE = "usage"  # a bad flag or --input value (exit 2)
KIND_START_FAILED = "start_failed"  # the kernel could not start (exit 3)
KIND_VERSION_MISMATCH = "version_mismatch"  # a kernel of another protocol version (exit 3)
KIND_CONNECTION = "connection"  # a remote kernel could not be reached (exit 3)
KIND_CONNECTION_LOST = "connection_lost"  # the connection to a remote kernel dropped mid-run
KIND_OUT_OF_MEMORY = "out_of_memory"  # the kernel passed --memory-limit
KIND_STUCK = "stuck"  # a cluster process still running long after another finished or died
KIND_PEER_DIED = "peer_died"  # another process of the cluster died
KIND_TARGET_UNAVAILABLE = "target_unavailable"  # --target without libtpu
ERROR_KINDS = (KIND_SYNTAX, KIND_EXCEPTION, KIND_INTERRUPTED, KIND_TIMEOUT, KIND_KERNEL_DIED, KIND_USAGE,
               KIND_START_FAILED, KIND_VERSION_MISMATCH, KIND_CONNECTION, KIND_CONNECTION_LOST,
               KIND_OUT_OF_MEMORY, KIND_STUCK, KIND_PEER_DIED, KIND_TARGET_UNAVAILABLE)


# -- payload shapes ----------------------------------------------------------------------------
# TypedDicts document what travels; `validate_event` checks the parts both sides rely on.
if TYPE_CHECKING:  # the payloads' shapes, for type checkers and readers: at run time they are
    # plain dicts, and creating these classes cost every start ~12 M instructions (valgrind)

    class StreamData(TypedDict):
        """The stream contract: events arrive in the order the text was written, across both
        streams. `text` may end without a newline (a partial line): the next event of the
        same stream continues that line; text of the other stream never joins it."""

        name: str  # "stdout" | "stderr"
        text: str

    class ProgressData(TypedDict):
        label: str
        done: int
        total: int

    class PlotSeries(TypedDict):
        name: str
        x: list[float]
        y: list[float]
        title: str
        xlabel: str
        ylabel: str
        logx: bool
        logy: bool

    class ShardRecord(TypedDict):
        device: str
        device_id: int
        process_index: int
        index: str  # the slice of the global array it holds, numpy-style: "[0:2, :]"

    class ValueRecord(TypedDict, total=False):
        label: str
        type: str  # "sharding" for demo.sharding: then the placement keys below
        text: str
        shape: list[int]
        dtype: str
        device_names: list[str]  # an array's devices (`cpu:0`...): the run's footer names them
        at: int  # characters printed (stdout + stderr) before it was shown: its place in the Output
        global_shape: list[int]
        fully_addressable: bool  # does this process hold every shard?
        process_index: int  # the process that made the record (in a cluster, each makes its own)
        process_count: int
        shards: list[ShardRecord]  # this process's shards (addressable_shards)
        devices: list[dict[str, Any]]  # every device of the sharding: device, device_id, process_index

    class Correction(TypedDict):
        notes: str
        jax: str
        line: int
        actual: str | None

    class CompileRecord(TypedDict, total=False):
        name: str
        compiles: int
        traces: int
        trace_s: float
        lower_s: float
        compile_s: float

    class InspectionRecord(TypedDict, total=False):
        name: str
        line: int
        jaxpr: str | None
        stablehlo: str | None
        hlo: str | None
        cost: dict[str, Any] | None
        memory: dict[str, Any] | None
        stage_s: dict[str, float]
        error: str | None

    class TimingRecord(TypedDict, total=False):
        label: str
        group: str
        median_s: float | None
        min_s: float | None
        max_s: float | None
        samples_s: list[float]
        n: int
        error: str | None

    class ErrorDict(TypedDict, total=False):
        type: str
        message: str
        line: int | None
        col: int | None
        traceback: str
        kind: str

    class RunResultDict(TypedDict):
        demo: str
        ok: bool
        device: str
        platform: str
        stdout: str
        error: ErrorDict | None
        values: list[ValueRecord]
        timings: list[TimingRecord]
        inspections: list[InspectionRecord]
        corrections: list[Correction]
        plots: list[PlotSeries]
        compiles: list[CompileRecord]
        inputs: dict[str, Any]
        elapsed_s: float

    class TargetChip(TypedDict):
        id: int
        coords: list[int]  # x, y, z in the slice
        host: int  # process_index: the TPU VM this chip belongs to
        core: int  # core_on_chip (two TensorCores show as two devices on v2-v4 and 7x)

    class TargetInfo(TypedDict, total=False):
        """The JSON `target` of a run with --target, and the `target` op's result."""

        platform: str  # "tpu" (or "cuda"/"rocm": StableHLO only)
        name: str  # "tpu-v5e:2x2"
        topology: str  # "2x2"
        generation: str  # "v5e"
        devices: int
        hosts: int
        device_kind: str  # "TPU v5 lite"
        chip_count: int
        cores_per_chip: int
        bounds: list[int]  # chips along x, y, z
        chips: list[TargetChip]  # the pod map
        load_s: float

    class ReadyInfo(TypedDict, total=False):
        ok: bool
        pid: int
        hostname: str  # where the kernel runs (a remote kernel's host, as that host names itself)
        protocol: int
        jaxtui: str  # the kernel's jaxtui version
        platform: str
        device_count: int
        device_kind: str
        devices: list[str]
        process_count: int
        process_index: int  # this kernel's place in a JAX cluster (0 when alone)
        local_devices: list[str]  # the devices this process drives (all of them when alone)
        coordinator: str  # a cluster member: the HOST:PORT it joined through
        type: str  # when ok is False: why the kernel could not start
        message: str

    class InterruptResult(TypedDict, total=False):
        outcome: str  # "idle" | "interrupted" | "restarted" | "killed" (killed: not restarted, as asked)
        ready: ReadyInfo  # the new kernel's, after "restarted"

    class HeartbeatResult(TypedDict, total=False):
        alive: bool
        busy: bool  # a request is running on the kernel's main thread
        op: str | None  # its op
        line: int | None  # the line of the user's code it is on (read even while XLA runs)

    class PingResult(TypedDict, total=False):
        pong: bool
        pid: int
        idle: bool  # with params {"settle_s": s}: no device work of an interrupted run still in flight


class StreamLines:
    """Lines of the stream as a reader of the contract shows them: a partial line per
    stream, a line taking its place when it completes. The kernel builds a run's
    `stdout` with it, so the JSON and the app's Output show the same lines in the same order."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []  # (name, line without its newline)
        self._partial: dict[str, str] = {}  # insertion order: the order partial lines began

    def feed(self, name: str, text: str) -> list[tuple[str, str]]:
        """Add a chunk; returns the lines it completed."""
        *complete, rest = (self._partial.pop(name, "") + text).split("\n")
        done = [(name, line) for line in complete]
        self.lines.extend(done)
        if rest:
            self._partial[name] = rest
        return done

    def partial(self) -> list[tuple[str, str]]:
        """The lines still waiting for their newline, in the order they began."""
        return list(self._partial.items())

    def text(self) -> str:
        """All lines, each ending in a newline, but for a partial last one."""
        complete = "".join(line + "\n" for _, line in self.lines)
        return complete + "\n".join(line for _, line in self.partial())


class ProtocolError(ValueError):
    """A message that is malformed, oversized or from another protocol version."""


class VersionMismatch(ProtocolError):
    """A message from a jaxtui speaking another protocol version."""

    def __init__(self, theirs: Any):
        self.theirs = theirs
        super().__init__(f"protocol version {theirs!r}, expected {PROTOCOL_VERSION}")


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
    kind: str = KIND_EXCEPTION  # one of ERROR_KINDS


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
    target: dict[str, Any] | None = None  # TargetInfo of the run's --target


def encode(msg: Request | Event) -> bytes:
    data = _dump(asdict(msg))
    if len(data) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(data):,} bytes exceeds {MAX_MESSAGE_BYTES:,}")
    return data


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=_json_default).encode("utf-8") + b"\n"


CUT_NOTE = "\n… {cut:,} characters cut here: the message was over the protocol's {limit:,} bytes …\n"


def encode_fitted(event: Event, limit: int = MAX_MESSAGE_BYTES) -> bytes:
    """`encode(event)`, but an event over `limit` bytes is cut to fit rather than lost: its
    longest strings (HLO text, printed output) keep their head and tail with a note in the
    middle, then its longest lists (plot points) keep their head. Raises ProtocolError
    only when even that cannot make it fit."""
    data = _dump(asdict(event))
    if len(data) <= limit:
        return data
    msg = json.loads(data)  # plain JSON values: a copy that is safe to cut
    for _ in range(64):
        excess = len(data) - limit
        if excess <= 0:
            return data
        if not _cut_largest(msg, excess, limit):
            break
        data = _dump(msg)
    raise ProtocolError(f"a {event.kind} message of {len(data):,} bytes cannot be cut to {limit:,}")


def _leaves(obj: Any) -> Any:
    """(size in bytes, container, key) of every string and list below `obj`."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        if isinstance(value, str) and len(value) > 256:
            yield len(json.dumps(value)), obj, key
        elif isinstance(value, (dict, list)):
            if isinstance(value, list) and len(value) > 16:
                yield len(_dump(value)), obj, key
            yield from _leaves(value)


def _cut_largest(msg: dict[str, Any], excess: int, limit: int) -> bool:
    """Cut the largest string or list by the excess, but not below half the next largest:
    several big ones (a plot's x and y) shrink together."""
    leaves = sorted(_leaves(msg.get("data", {})), key=lambda leaf: leaf[0], reverse=True)
    if not leaves:
        return False
    size, container, key = leaves[0]
    target = max(size - excess - 512, leaves[1][0] // 2 if len(leaves) > 1 else 0)
    value = container[key]
    per_item = size / max(1, len(value))
    keep = max(0, int(target / per_item))
    if isinstance(value, str):
        cut = len(value) - keep
        container[key] = value[: keep // 2] + CUT_NOTE.format(cut=cut, limit=limit) + value[len(value) - keep // 2:]
    else:
        container[key] = value[:keep]
    return True


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
    except RecursionError:
        raise ProtocolError("message nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        text = line[:80] if isinstance(line, str) else line[:80].decode("utf-8", "replace")
        raise ProtocolError(f"malformed message ({exc}): {text!r}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"message is not an object: {type(obj).__name__}")
    if obj.get("v") != PROTOCOL_VERSION:
        raise VersionMismatch(obj.get("v"))
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


_EVENT_HEAD = re.compile(rb'\{"id":(-?\d+),"kind":"(\w+)"')


def peek_event(line: bytes) -> tuple[int, str] | None:
    """The id and kind of an event line as `encode` writes it, without parsing its data: a
    relay passes multi-megabyte HLO events along and needs only to see which are final.
    None for a line of another shape (the receiving client checks the version)."""
    head = _EVENT_HEAD.match(line)
    return None if head is None else (int(head.group(1)), head.group(2).decode())


def decode_event(line: bytes | str) -> Event:
    obj = _decode_obj(line)
    if not isinstance(obj.get("id"), int) or not isinstance(obj.get("kind"), str):
        raise ProtocolError("event needs an integer 'id' and a string 'kind'")
    data = obj.get("data") or {}
    if not isinstance(data, dict):
        raise ProtocolError("'data' must be an object")
    return Event(id=obj["id"], kind=obj["kind"], data=data)


# -- validation: one function for both sides and the tests ------------------------------------
_FIELD_TYPES: dict[str, dict[str, type | tuple[type, ...]]] = {
    EV_STREAM: {"name": str, "text": str},
    EV_PROGRESS: {"label": str, "done": int, "total": int},
    EV_PLOT: {"name": str, "x": list, "y": list},
    EV_TIMING: {"label": str},
    EV_INSPECTION: {"inspections": list},
    EV_ERROR: {"type": str, "message": str},
}
_RESULT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "demo": str, "ok": bool, "stdout": str, "error": (dict, type(None)), "values": list, "timings": list,
    "inspections": list, "corrections": list, "plots": list, "compiles": list, "inputs": dict,
}


def validate_event(event: Event, op: str | None = None) -> None:
    """Raise ProtocolError when `event`'s data lacks what the other side reads. `op`: the
    request it answers (a `result` of exec/inspect must be a RunResultDict)."""
    if event.kind not in EVENT_KINDS:
        raise ProtocolError(f"unknown event kind {event.kind!r}; known: {', '.join(EVENT_KINDS)}")
    fields = _FIELD_TYPES.get(event.kind, {})
    if event.kind == EV_RESULT and op in (OP_EXEC, OP_INSPECT):
        fields = _RESULT_FIELDS
    for name, types in fields.items():
        if name not in event.data:
            raise ProtocolError(f"{event.kind} event lacks {name!r}")
        if not isinstance(event.data[name], types):
            raise ProtocolError(f"{event.kind} event: {name!r} is {type(event.data[name]).__name__}")
    error = event.data.get("error") if event.kind == EV_RESULT else None
    if isinstance(error, dict) and error.get("kind", KIND_EXCEPTION) not in ERROR_KINDS:
        raise ProtocolError(f"unknown error kind {error.get('kind')!r}")
