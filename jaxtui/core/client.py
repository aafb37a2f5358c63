"""The UI's handle on the kernel process: start, request, interrupt, restart, shut down.

Used by the Textual app and by the headless `jaxtui run` alike. Imports neither jax nor
textual. The kernel is a child process reached through a transport (core/transport.py):
`sys.executable -m jaxtui.kernel` here, or `ssh HOST PYTHON -m jaxtui.kernel --supervise`
for a remote one. The process's life (a new session, SIGINT with grace, killing the group,
the shutdown ladder, the kernel dying with us) is jaxtui/ladder.py, the same piece a
remote kernel's supervisor runs on its host; this module adds the protocol: requests,
answers, states.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxtui import ladder
from jaxtui import protocol as P
from jaxtui.core.transport import LocalTransport, SshTransport, ssh_message, version_fix

if TYPE_CHECKING:  # imported where used: the app's first frame needs neither
    from types import ModuleType

    from jaxtui.core import memory_watch


def _hardware() -> ModuleType:
    """jaxtui.core.hardware, imported on first use (sysfs and TPU checks, after the first frame)."""
    from jaxtui.core import hardware

    return hardware

PLATFORMS = ("cpu", "gpu", "tpu")
MAX_HOST_DEVICES = 512
MAX_STDERR_LINE = 8192  # bytes of one kernel stderr line kept in `stderr_tail`
INTERRUPT_GRACE_S = ladder.GRACE_S  # after SIGINT, how long before we kill (XLA ignores SIGINT)
# After an interrupted run has answered: how long the device work it left may take to finish
# before the kernel counts as wedged (killed and restarted rather than make the next run wait).
SETTLE_S = 0.3
TPU_WAIT_MESSAGE = "waiting for the killed kernel to let go of the TPU (up to 5 s), so the next one can use it"


class KernelError(RuntimeError):
    """Base class: something happened to the kernel process itself."""


class KernelStartError(KernelError):
    """The kernel could not start. str(): its error and stderr, then the steps to fix it
    (jaxtui.core.hardware); `reason`: the error and stderr alone."""

    kind = P.KIND_START_FAILED

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


class KernelVersionMismatch(KernelStartError):
    """The kernel speaks another protocol version: a jaxtui of another release."""

    kind = P.KIND_VERSION_MISMATCH


class KernelConnectionError(KernelStartError):
    """ssh could not reach a remote kernel's host (str(): ssh's message and the fixes)."""

    kind = P.KIND_CONNECTION


def version_mismatch_message(theirs: Any, their_release: str | None, fix: str | None = None) -> str:
    from jaxtui import __version__

    release = f" (jaxtui {their_release})" if their_release else ""
    return (f"the kernel speaks protocol version {theirs}{release}, this jaxtui {__version__} speaks "
            f"version {P.PROTOCOL_VERSION}. Install the same jaxtui for the kernel's Python: "
            f"{fix or version_fix(None, '')}")


def _retrieved(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()  # marks it retrieved; whoever still awaits fut gets it all the same


class KernelDied(KernelError):
    """The kernel exited while a request was in flight."""

    def __init__(self, message: str, returncode: int | None = None, stderr: str = ""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class KernelOutOfMemory(KernelDied):
    """The kernel passed --memory-limit and was stopped (core/memory_watch.py)."""

    kind = P.KIND_OUT_OF_MEMORY

    def __init__(self, over: memory_watch.OverLimit, returncode: int | None = None, stderr: str = ""):
        super().__init__(over.message, returncode, stderr)
        self.over = over


class ConnectionLost(KernelDied):
    """The connection to a remote kernel dropped (ssh's message says why)."""

    kind = P.KIND_CONNECTION_LOST


class RequestFailed(KernelError):
    """The kernel answered a request with an error event (bad op, interrupted...)."""

    def __init__(self, data: dict[str, Any]):
        super().__init__(f"{data.get('type', 'Error')}: {data.get('message', '')}")
        self.data = data


@dataclass(frozen=True)
class ClusterPlace:
    """A kernel's place in a JAX cluster (core/cluster.py): the kernel joins it with
    `jax.distributed.initialize(coordinator, num_processes, process_id)` before JAX starts."""

    coordinator: str  # HOST:PORT that process 0 serves and every process can reach
    num_processes: int
    process_id: int

    def env(self) -> dict[str, str]:
        return {P.ENV_COORDINATOR: self.coordinator, P.ENV_NUM_PROCESSES: str(self.num_processes),
                P.ENV_PROCESS_ID: str(self.process_id)}

    def args(self) -> list[str]:
        """The same, as the remote supervisor's arguments (no environment crosses ssh)."""
        return ["--coordinator", self.coordinator, "--num-processes", str(self.num_processes),
                "--process-id", str(self.process_id)]


@dataclass
class KernelConfig:
    """Where and how the kernel runs. Fixed for a kernel's life: JAX reads it at start."""

    platform: str | None = None  # None: JAX chooses
    host_devices: int | None = 8  # virtual CPU devices, so pmap has devices on a laptop
    extra_env: dict[str, str] = field(default_factory=dict)
    # The device id runs go to (None: JAX's default). Not part of the environment: changing
    # it needs no restart; the kernel checks it against its devices on each run.
    device: int | None = None
    cluster: ClusterPlace | None = None  # a member of a JAX cluster (None: a kernel on its own)
    # What the marked functions are also compiled for ("tpu-v5e:2x2", jaxtui/target_spec.py).
    # Not part of the environment either: each run carries it.
    target: str | None = None
    # --memory-limit in bytes: a local kernel is stopped when its resident memory passes it
    # (memory_watch.py). None: no limit.
    memory_limit: int | None = None

    def validate(self) -> None:
        if self.platform is not None and self.platform not in PLATFORMS:
            raise ValueError(f"unknown platform {self.platform!r}; choose one of {', '.join(PLATFORMS)}")
        if self.host_devices is not None and not 1 <= self.host_devices <= MAX_HOST_DEVICES:
            raise ValueError(f"host device count must be between 1 and {MAX_HOST_DEVICES}, "
                             f"got {self.host_devices}")
        if self.device is not None and (isinstance(self.device, bool) or not isinstance(self.device, int)
                                        or self.device < 0):
            raise ValueError(f"the target device must be a device id (0, 1, ...), got {self.device!r}")
        if self.target is not None:
            from jaxtui.target_spec import parse_target

            parse_target(self.target)  # TargetSyntaxError is a ValueError

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        if self.platform is not None:
            env["JAX_PLATFORMS"] = {"gpu": "cuda"}.get(self.platform, self.platform)
        elif not env.get("JAX_PLATFORMS") and (chosen := _hardware().default_platforms()):
            env["JAX_PLATFORMS"] = chosen  # libtpu without a TPU: see default_platforms
        if self.host_devices is not None:
            flags = [f for f in env.get("XLA_FLAGS", "").split()
                     if not f.startswith("--xla_force_host_platform_device_count")]
            flags.append(f"--xla_force_host_platform_device_count={self.host_devices}")
            env["XLA_FLAGS"] = " ".join(flags)
        # A user's other processes share the GPU: do not grab 75% of its memory up front.
        env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        # The kernel must import this very jaxtui, even when it is not installed.
        pkg_root = str(Path(__file__).resolve().parents[2])
        paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        if pkg_root not in paths:
            env["PYTHONPATH"] = os.pathsep.join([pkg_root, *paths])
        if self.cluster is not None:
            env.update(self.cluster.env())
        else:  # a kernel on its own, even when started from a cluster member's environment
            for name in (P.ENV_COORDINATOR, P.ENV_NUM_PROCESSES, P.ENV_PROCESS_ID):
                env.pop(name, None)
        env.update(self.extra_env)
        return env


StateCallback = Callable[[str, dict[str, Any]], None]
EventCallback = Callable[[P.Event], None]
Transport = LocalTransport | SshTransport


class KernelClient:
    """One kernel process at a time; requests are answered in order.

    States: stopped, starting, ready, busy, dead. `on_state(state, info)` is called on each
    change (on the event loop), where info is the kernel's ready info or the failure; a
    remote kernel whose connection dropped is "dead" with info["kind"] == "connection_lost".
    """

    def __init__(self, config: KernelConfig | None = None, on_state: StateCallback | None = None,
                 transport: Transport | None = None):
        self.config = config or KernelConfig()
        self.transport: Transport = transport or LocalTransport()
        self.on_state = on_state
        self.returncode: int | None = None  # the last kernel process's exit status
        self.state = "stopped"
        self.state_info: dict[str, Any] = {}
        self.info: dict[str, Any] = {}
        self.proc: ladder.KernelProcess | None = None
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future[P.Event], EventCallback | None]] = {}
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._expected_exit = False
        self.started_at = 0.0
        self.started_wall = 0.0  # time.time() at start: lock files newer than this are ours
        self._background: set[int] = set()  # request ids that do not make the kernel "busy"
        self._over_limit: memory_watch.OverLimit | None = None  # the watch stopped the kernel: why
        self._ops: dict[int, str] = {}  # request id -> op, to validate its result
        self._death_reason = ""  # what pending requests are told when the kernel goes
        self._idle = asyncio.Event()  # set while no request (foreground) is pending
        self._idle.set()
        self._free_waiters: list[asyncio.Future[None]] = []  # wait_free()

    # -- lifecycle -----------------------------------------------------------------
    def _set_state(self, state: str, info: dict[str, Any] | None = None) -> None:
        self.state = state
        self._notify_free()
        self.state_info = info if info is not None else self.info  # for views that join late
        if self.on_state is not None:
            self.on_state(state, self.state_info)

    async def start(self) -> dict[str, Any]:
        """Spawn the kernel and wait until it has imported JAX and initialised its backend."""
        self.config.validate()
        await self.stop()
        self._expected_exit = False
        self.stderr_tail.clear()
        self.info = {}
        self._set_state("starting", {})
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self.started_at = time.perf_counter()
        self.started_wall = time.time()
        self._death_reason = ""
        self.returncode = None
        argv, env = self.transport.command(self.config)
        proc = self.proc = await ladder.KernelProcess.spawn(argv, env=env, limit=P.MAX_MESSAGE_BYTES + 1)
        events = asyncio.create_task(self._read_events(proc))
        self._tasks = [events, asyncio.create_task(self._read_stderr(proc)),
                       asyncio.create_task(self._watch(proc, events))]
        if self.transport.heartbeat_s:  # from the start: JAX on a TPU VM can take a minute to be ready
            self._tasks.append(asyncio.create_task(self._heartbeat(proc, self.transport.heartbeat_s)))
        self._over_limit = None
        if self.config.memory_limit is not None and isinstance(self.transport, LocalTransport):
            # (a remote kernel's memory is on its host: /proc here sees only ssh)
            from jaxtui.core import memory_watch

            self._tasks.append(asyncio.create_task(memory_watch.watch(
                proc.pid, self.config.memory_limit, self._over_memory_limit)))
        try:
            info = await self._ready
        except KernelVersionMismatch as exc:
            self._expected_exit = True
            await self.stop()
            self._set_state("dead", {"error": str(exc), "reason": str(exc), "start_failed": True,
                                     "kind": P.KIND_VERSION_MISMATCH})
            raise
        except KernelError as exc:
            # Not restarted automatically: the same environment would fail the same way.
            self._expected_exit = True
            reason = self._start_failure_reason(str(exc))
            # sysfs and /proc reads (and, on a TPU VM, the metadata server): off the event loop.
            advice = await asyncio.to_thread(self.transport.start_failure_advice, reason, self.config.platform,
                                             self.returncode)
            text = f"{reason}\n\n{advice}" if advice else reason
            error = (KernelConnectionError if self.transport.connection_failed(self.returncode)
                     else KernelStartError)(text, reason)
            self._set_state("dead", {"error": text, "reason": reason, "start_failed": True, "kind": error.kind})
            raise error from None
        self.info = info
        self._set_state("ready", info)
        return info

    async def wait_ready(self) -> dict[str, Any]:
        if self._ready is None:
            return await self.start()
        return await asyncio.shield(self._ready)

    def stderr_text(self, lines: int = 30) -> str:
        return "\n".join(list(self.stderr_tail)[-lines:])

    def _start_failure_reason(self, message: str) -> str:
        """Why the kernel could not start: its error, then its stderr."""
        stderr = self.stderr_text(12)
        text = "\n".join(p for p in (message, "" if stderr in message else stderr) if p)
        return text or "the kernel exited during start"

    async def _read_stderr(self, proc: ladder.KernelProcess) -> None:
        """Keep the kernel's last stderr lines. Read in blocks, not `readline`: a line over the
        stream's limit would raise, this task would end, and the kernel would block on its
        next write to a full pipe. A line over MAX_STDERR_LINE keeps its head and a note."""
        assert proc.stderr is not None
        partial, dropped = b"", 0  # the line so far, and how many of its bytes were not kept
        while chunk := await proc.stderr.read(1 << 16):
            *lines, partial = (partial + chunk).split(b"\n")
            for line in lines:
                self._stderr_line(line, dropped)
                dropped = 0
            if len(partial) > MAX_STDERR_LINE:
                dropped += len(partial) - MAX_STDERR_LINE
                partial = partial[:MAX_STDERR_LINE]
        if partial:
            self._stderr_line(partial, dropped)

    def _stderr_line(self, line: bytes, dropped: int) -> None:
        dropped += max(0, len(line) - MAX_STDERR_LINE)
        text = line[:MAX_STDERR_LINE].decode("utf-8", "replace")
        if dropped:
            text += f" … (line cut: {dropped:,} more bytes)"
        self.stderr_tail.append(text)

    async def _read_events(self, proc: ladder.KernelProcess) -> None:
        assert proc.stdout is not None
        while True:
            try:
                line = await proc.stdout.readline()
            except ValueError:  # a line over the limit: skip it, keep the kernel
                self.stderr_tail.append("jaxtui: dropped an oversized message from the kernel")
                continue
            if not line:
                return
            try:
                event = P.decode_event(line)
            except P.VersionMismatch as exc:
                self._refuse_version(exc, line)
                continue
            except P.ProtocolError as exc:
                self.stderr_tail.append(f"jaxtui: {exc}")
                continue
            self._dispatch(event)

    async def _watch(self, proc: ladder.KernelProcess, events: asyncio.Task[None]) -> None:
        """The kernel's death, seen on its pid: never on its pipes, which a grandchild that
        inherited them (a detached `subprocess.Popen`) may hold open for ever."""
        returncode = await proc.wait()
        assert returncode is not None
        await asyncio.wait([events], timeout=0.5)  # the events it wrote before it went
        proc.close()  # stderr included: a grandchild may still hold it
        await asyncio.sleep(0)  # the stderr reader takes its last lines
        if proc is self.proc:
            self._on_exit(returncode, expected=proc.killed)

    def _refuse_version(self, exc: P.VersionMismatch, line: bytes) -> None:
        """A kernel of another protocol version: fail start() at once, naming both versions
        (waiting for a `ready` we cannot read would hang)."""
        try:
            their_release = json.loads(line).get("data", {}).get("jaxtui")
        except (ValueError, AttributeError):
            their_release = None
        message = version_mismatch_message(exc.theirs, their_release,
                                           version_fix(self.transport.host, getattr(self.transport, "python", "")))
        self.stderr_tail.append(f"jaxtui: {message}")
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(KernelVersionMismatch(message))

    def _dispatch(self, event: P.Event) -> None:
        if event.kind == P.EV_READY:
            if self._ready is not None and not self._ready.done():
                if event.data.get("ok", True):
                    self._ready.set_result(event.data)
                else:
                    self._ready.set_exception(KernelStartError(
                        f"{event.data.get('type', 'Error')}: {event.data.get('message', '')}"))
            return
        entry = self._pending.get(event.id)
        if entry is None:
            return
        fut, on_event = entry
        try:
            P.validate_event(event, self._ops.get(event.id))
        except P.ProtocolError as exc:
            self.stderr_tail.append(f"jaxtui: {exc}")
            if not event.final:
                return
            event = P.Event(event.id, P.EV_ERROR, {"type": "ProtocolError", "message": str(exc)})
        if event.final:
            if self._ops.get(event.id) == P.OP_INTERRUPT and event.kind == P.EV_RESULT:
                self._interrupt_answered(event.data)
            self._ops.pop(event.id, None)
            del self._pending[event.id]
            self._background.discard(event.id)
            if not fut.done():
                fut.set_result(event)
            if not self.busy:
                self._idle.set()
                if self.state == "busy":
                    self._set_state("ready")
            self._notify_free()
        elif on_event is not None:
            on_event(event)

    def _over_memory_limit(self, over: memory_watch.OverLimit) -> None:
        """The memory watch saw the kernel pass --memory-limit: stop it now (SIGKILL to its
        group; XLA ignores gentler signals mid-computation). _on_exit says why."""
        self._over_limit = over
        self.stderr_tail.append(f"jaxtui: {over.message}")
        if self.proc is not None:
            self.proc.kill_group()

    def _on_exit(self, returncode: int, *, expected: bool = False) -> None:
        self.returncode = returncode
        stderr = self.stderr_text()
        over, self._over_limit = self._over_limit, None  # told once, not again by stop()
        msg = self._death_reason or f"kernel exited with status {returncode}"
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(KernelStartError(over.message if over else stderr or msg))
        # the memory watch's kill is news (the app restarts the kernel and says why)
        expected = (expected or self._expected_exit) and over is None
        lost = not expected and self.transport.connection_lost(returncode)
        if lost:
            msg = self._lost_message(returncode)
        self._fail_pending(KernelOutOfMemory(over, returncode, stderr) if over else
                           (ConnectionLost if lost else KernelDied)(msg, returncode, stderr))
        if not expected and self.state != "starting":  # start() reports its own failure
            info: dict[str, Any] = {"returncode": returncode, "error": stderr}
            if lost:
                info.update(error=msg, kind=P.KIND_CONNECTION_LOST, connection_lost=True)
            if over:
                info.update(error=over.message, kind=P.KIND_OUT_OF_MEMORY, out_of_memory=True)
            self._set_state("dead", info)

    def _lost_message(self, returncode: int) -> str:
        why = ssh_message(self.stderr_text(8)) or (
            f"the ssh process was killed (signal {-returncode})" if returncode < 0 else "ssh exited with status 255")
        return f"the connection to {self.transport.host} was lost: {why}"

    def _fail_pending(self, exc: KernelError) -> None:
        pending, self._pending = self._pending, {}
        self._ops.clear()
        self._background.clear()
        self._idle.set()
        self._notify_free()
        for fut, _ in pending.values():
            if not fut.done():
                fut.set_exception(exc)

    def kill_now(self) -> None:
        """SIGKILL the kernel's whole process group, synchronously: for the app's and
        `jaxtui run`'s SIGTERM/SIGHUP handlers, which must not wait for anything."""
        if self.proc is not None:
            self._expected_exit = True
            self.proc.kill_group()

    async def stop(self) -> None:
        """Kill the kernel now (SIGKILL to its whole group): never waits on XLA. For restarts;
        quitting uses the gentler `shutdown`."""
        proc, self.proc = self.proc, None
        self._expected_exit = True
        if proc is not None:
            await proc.kill()
        await self._finish(proc)

    async def shutdown(self, on_wait: Callable[[str], None] | None = None) -> str:
        """The gentle ladder, within about half a second (jaxtui/ladder.py): an idle kernel is
        asked to exit (it releases the device), then SIGTERM, then SIGKILL. After a kill, a
        kernel that may have held a TPU is waited for until the TPU is free: `on_wait(message)`
        says so first (the only wait longer than half a second). Returns the ladder's outcome."""
        proc, self.proc = self.proc, None
        self._expected_exit = True
        outcome = ladder.EXITED
        if proc is not None:
            ask = None
            if not self._pending and self.state == "ready":
                async def ask() -> None:
                    assert proc.stdin is not None
                    proc.stdin.write(P.encode(P.Request(id=next(self._ids), op=P.OP_SHUTDOWN)))
                    await proc.stdin.drain()
            outcome = await proc.shutdown(ask)
        await self._finish(proc, on_wait)
        return outcome

    async def _finish(self, proc: ladder.KernelProcess | None,
                      on_wait: Callable[[str], None] | None = None) -> None:
        """After the process is gone: free a TPU it may have held, stop the readers, fail
        what was pending, say "stopped"."""
        if proc is not None and proc.killed and await asyncio.to_thread(self._may_hold_tpu):
            # A SIGKILLed kernel cannot clean up after itself: wait until the chips are free
            # and drop the lock file it left, so the next kernel is not locked out.
            if on_wait is not None:
                on_wait(TPU_WAIT_MESSAGE)
            removed = await asyncio.to_thread(_hardware().release_after_kill, proc.pid, proc.started_wall)
            self.stderr_tail.extend(f"jaxtui: removed {path}, left by the killed kernel" for path in removed)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if proc is not None:
            self._on_exit(proc.returncode if proc.returncode is not None else -9, expected=True)
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
        if self.state != "stopped":
            self._set_state("stopped", {})

    def _may_hold_tpu(self) -> bool:
        """Reads sysfs: call it in a thread."""
        if not self.transport.may_hold_local_tpu():
            return False
        if self.info.get("platform"):
            return self.info["platform"] == "tpu"
        # Killed while starting: JAX may have taken the TPU before it said so.
        return self.config.platform == "tpu" or (self.config.platform is None and _hardware().has_tpu_chips())

    async def restart(self) -> dict[str, Any]:
        return await self.start()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive

    # -- requests ------------------------------------------------------------------
    async def request(self, op: str, params: dict[str, Any] | None = None, *,
                      on_event: EventCallback | None = None, timeout: float | None = None,
                      background: bool = False) -> dict[str, Any]:
        """Send one request and return its result's data. Raises RequestFailed on an error
        event, KernelDied if the process dies, asyncio.TimeoutError on timeout (the request
        is still running in the kernel: call `interrupt`). Code runs on `config.device`
        unless params name a device. A `background` request (a devices poll) does not make
        the kernel busy."""
        await self.wait_ready()
        if not self.alive:
            if self.state_info.get("connection_lost"):
                raise ConnectionLost(self.state_info["error"], self.returncode, self.stderr_text())
            raise KernelDied("kernel is not running", stderr=self.stderr_text())
        params = dict(params or {})
        if op in (P.OP_EXEC, P.OP_INSPECT) and self.config.device is not None:
            params.setdefault("device", self.config.device)
        if op == P.OP_EXEC and self.config.target is not None:  # live mode stays quick: no target
            params.setdefault("target", self.config.target)
        rid = next(self._ids)
        fut: asyncio.Future[P.Event] = asyncio.get_running_loop().create_future()
        # A caller cancelled mid-wait (a signal, a cluster's end) leaves fut to the kernel's
        # death: its KernelDied is expected, not "Future exception was never retrieved".
        fut.add_done_callback(_retrieved)
        self._pending[rid] = (fut, on_event)
        self._ops[rid] = op
        if background:
            self._background.add(rid)
        else:
            self._idle.clear()
            if self.state == "ready":
                self._set_state("busy")
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(P.encode(P.Request(id=rid, op=op, params=params)))
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the reader notices the exit and fails the future
        event = await asyncio.wait_for(asyncio.shield(fut), timeout)
        if event.kind == P.EV_ERROR:
            raise RequestFailed(event.data)
        return event.data

    @property
    def busy(self) -> bool:
        return any(rid not in self._background for rid in self._pending)

    async def wait_idle(self) -> None:
        """Until no foreground request is pending."""
        await self._idle.wait()

    @property
    def free(self) -> bool:
        """Running or ready, and no foreground request pending."""
        return not self.busy and self.state in ("ready", "busy")

    async def wait_free(self) -> None:
        """Until `free` (live mode waits here for a real run to end, a kernel to start): an
        event, woken by each state change and each answer, never a polling loop."""
        while not self.free:
            waiter = asyncio.get_running_loop().create_future()
            self._free_waiters.append(waiter)
            await waiter

    def _notify_free(self) -> None:
        waiters, self._free_waiters = self._free_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def interrupt(self, grace: float = INTERRUPT_GRACE_S, *, restart: bool = True) -> str:
        """Stop what the kernel is doing. Returns "idle", "interrupted", "restarted" or, with
        `restart=False`, "killed"; a remote kernel whose connection dropped meanwhile: "lost".

        SIGINT first: Python code stops at once. The kernel must then answer within `grace`
        seconds and report no device work of the run still in flight (`ping` with `settle_s`:
        `f(x).block_until_ready()` stops waiting on SIGINT while XLA computes on). If not, the
        kernel is killed (its whole group) and, unless `restart` is False, a fresh one started.
        A remote kernel's supervisor climbs the same ladder on its host, asked in-band (no
        signal crosses ssh).
        """
        if self.transport.in_band_interrupt:
            return await self._interrupt_in_band(grace, restart)
        proc = self.proc
        if proc is None or not proc.alive or not self._pending:
            return "idle"
        futures = [f for f, _ in self._pending.values()]
        self._death_reason = ("interrupted: the kernel was killed" +
                              (" and restarted" if restart else "") + " (XLA does not stop on SIGINT)")

        async def settled() -> bool:
            # the futures themselves, not shields: a shield left behind when the grace runs out
            # would later hold the kernel's death as an exception nobody retrieves
            await asyncio.wait(futures)
            if not proc.alive:
                return False
            try:
                answer = await self.request(P.OP_PING, {"settle_s": SETTLE_S}, background=True)
            except KernelError:
                return False
            return bool(answer.get("idle", True))

        outcome = await proc.interrupt(settled, grace=grace + SETTLE_S)
        if outcome == ladder.INTERRUPTED:
            self._death_reason = ""
            return "interrupted"
        if not restart:
            await self.stop()
            return "killed"
        await self.start()
        return "restarted"

    async def _interrupt_in_band(self, grace: float, restart: bool) -> str:
        if not self.alive or not self.busy:
            return "idle"
        try:
            result = await self.request(P.OP_INTERRUPT, {"grace": grace, "settle_s": SETTLE_S, "restart": restart},
                                        background=True)
        except KernelDied:
            return "lost"
        return str(result.get("outcome", "idle"))

    def _interrupt_answered(self, data: dict[str, Any]) -> None:
        """The supervisor killed the kernel (XLA did not stop): what was in flight is gone.
        Called in the reader, in order: before any event of the new kernel is read."""
        outcome = data.get("outcome")
        if outcome == "killed":
            self._expected_exit = True  # the supervisor exits, as asked
        if outcome not in ("restarted", "killed"):
            return
        for rid, (fut, _) in list(self._pending.items()):
            if self._ops.get(rid) != P.OP_INTERRUPT and not fut.done():
                del self._pending[rid]
                self._ops.pop(rid, None)
                self._background.discard(rid)
                fut.set_exception(KernelDied("interrupted: the kernel was killed and restarted"
                                             if outcome == "restarted" else "interrupted: the kernel was killed", -9))
        if outcome == "restarted":
            self.info = data.get("ready") or self.info

    async def _heartbeat(self, proc: ladder.KernelProcess, every: float) -> None:
        """Tell a remote supervisor we are here: it stops the kernel after a long silence (a
        laptop asleep closes no connection). Its answers are not waited for: ssh's own
        keep-alive notices a dead link."""
        assert proc.stdin is not None
        while proc.alive:
            await asyncio.sleep(every)
            try:
                proc.stdin.write(P.encode(P.Request(id=next(self._ids), op=P.OP_HEARTBEAT)))
                await proc.stdin.drain()
            except (ConnectionError, RuntimeError):  # gone, or its pipe closed: _watch reports it
                return
