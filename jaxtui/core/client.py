"""The UI's handle on the kernel process: start, request, interrupt, restart, stop.

Used by the Textual app and by the headless `jaxtui run` alike. Imports neither jax nor
textual. The kernel is `sys.executable -m jaxtui.kernel` in a new process session (so a
stray SIGINT to the terminal's process group never reaches it), started with exec, never
a bare fork: JAX is multithreaded and a forked copy can deadlock.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jaxtui import protocol as P
from jaxtui.core import hardware

PLATFORMS = ("cpu", "gpu", "tpu")
MAX_HOST_DEVICES = 512
MAX_STDERR_LINE = 8192  # bytes of one kernel stderr line kept in `stderr_tail`
INTERRUPT_GRACE_S = 1.0  # after SIGINT, how long before we kill (XLA ignores SIGINT)


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


def version_mismatch_message(theirs: Any, their_release: str | None) -> str:
    from jaxtui import __version__

    release = f" (jaxtui {their_release})" if their_release else ""
    return (f"the kernel speaks protocol version {theirs}{release}, this jaxtui {__version__} speaks "
            f"version {P.PROTOCOL_VERSION}. Install the same jaxtui for the kernel's Python: "
            f"pip install 'jaxtui=={__version__}'")


class KernelDied(KernelError):
    """The kernel exited while a request was in flight."""

    def __init__(self, message: str, returncode: int | None = None, stderr: str = ""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class RequestFailed(KernelError):
    """The kernel answered a request with an error event (bad op, interrupted...)."""

    def __init__(self, data: dict[str, Any]):
        super().__init__(f"{data.get('type', 'Error')}: {data.get('message', '')}")
        self.data = data


@dataclass
class KernelConfig:
    """Where and how the kernel runs. Fixed for a kernel's life: JAX reads it at start."""

    platform: str | None = None  # None: JAX chooses
    host_devices: int | None = 8  # virtual CPU devices, so pmap has devices on a laptop
    extra_env: dict[str, str] = field(default_factory=dict)
    # The device id runs go to (None: JAX's default). Not part of the environment: changing
    # it needs no restart; the kernel checks it against its devices on each run.
    device: int | None = None

    def validate(self) -> None:
        if self.platform is not None and self.platform not in PLATFORMS:
            raise ValueError(f"unknown platform {self.platform!r}; choose one of {', '.join(PLATFORMS)}")
        if self.host_devices is not None and not 1 <= self.host_devices <= MAX_HOST_DEVICES:
            raise ValueError(f"host device count must be between 1 and {MAX_HOST_DEVICES}, "
                             f"got {self.host_devices}")
        if self.device is not None and (isinstance(self.device, bool) or not isinstance(self.device, int)
                                        or self.device < 0):
            raise ValueError(f"the target device must be a device id (0, 1, ...), got {self.device!r}")

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        if self.platform is not None:
            env["JAX_PLATFORMS"] = {"gpu": "cuda"}.get(self.platform, self.platform)
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
        env.update(self.extra_env)
        return env


StateCallback = Callable[[str, dict[str, Any]], None]
EventCallback = Callable[[P.Event], None]


class KernelClient:
    """One kernel process at a time; requests are answered in order.

    States: stopped, starting, ready, busy, dead. `on_state(state, info)` is called on each
    change (on the event loop), where info is the kernel's ready info or the failure.
    """

    def __init__(self, config: KernelConfig | None = None, on_state: StateCallback | None = None):
        self.config = config or KernelConfig()
        self.on_state = on_state
        self.state = "stopped"
        self.state_info: dict[str, Any] = {}
        self.info: dict[str, Any] = {}
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future[P.Event], EventCallback | None]] = {}
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._expected_exit = False
        self.started_at = 0.0
        self.started_wall = 0.0  # time.time() at start: lock files newer than this are ours
        self._background: set[int] = set()  # request ids that do not make the kernel "busy"
        self._ops: dict[int, str] = {}  # request id -> op, to validate its result

    # -- lifecycle -----------------------------------------------------------------
    def _set_state(self, state: str, info: dict[str, Any] | None = None) -> None:
        self.state = state
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
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "jaxtui.kernel",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=self.config.env(),
            limit=P.MAX_MESSAGE_BYTES + 1, start_new_session=True)
        self._tasks = [asyncio.create_task(self._read_events(self.proc)),
                       asyncio.create_task(self._read_stderr(self.proc))]
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
            advice = await asyncio.to_thread(hardware.start_failure_advice, reason, self.config.platform)
            text = f"{reason}\n\n{advice}" if advice else reason
            self._set_state("dead", {"error": text, "reason": reason, "start_failed": True})
            raise KernelStartError(text, reason) from None
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

    async def _read_stderr(self, proc: asyncio.subprocess.Process) -> None:
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

    async def _read_events(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        try:
            while True:
                try:
                    line = await proc.stdout.readline()
                except ValueError:  # a line over the limit: skip it, keep the kernel
                    self.stderr_tail.append("jaxtui: dropped an oversized message from the kernel")
                    continue
                if not line:
                    break
                try:
                    event = P.decode_event(line)
                except P.VersionMismatch as exc:
                    self._refuse_version(exc, line)
                    continue
                except P.ProtocolError as exc:
                    self.stderr_tail.append(f"jaxtui: {exc}")
                    continue
                self._dispatch(event)
        finally:
            returncode = await proc.wait()
            if proc is self.proc:
                self._on_exit(returncode)

    def _refuse_version(self, exc: P.VersionMismatch, line: bytes) -> None:
        """A kernel of another protocol version: fail start() at once, naming both versions
        (waiting for a `ready` we cannot read would hang)."""
        try:
            their_release = json.loads(line).get("data", {}).get("jaxtui")
        except (ValueError, AttributeError):
            their_release = None
        message = version_mismatch_message(exc.theirs, their_release)
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
            self._ops.pop(event.id, None)
            del self._pending[event.id]
            self._background.discard(event.id)
            if not fut.done():
                fut.set_result(event)
            if not self.busy and self.state == "busy":
                self._set_state("ready")
        elif on_event is not None:
            on_event(event)

    def _on_exit(self, returncode: int) -> None:
        stderr = self.stderr_text()
        msg = f"kernel exited with status {returncode}"
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(KernelStartError(stderr or msg))
        pending, self._pending = self._pending, {}
        for fut, _ in pending.values():
            if not fut.done():
                fut.set_exception(KernelDied(msg, returncode, stderr))
        if not self._expected_exit and self.state != "starting":  # start() reports its own failure
            self._set_state("dead", {"returncode": returncode, "error": stderr})

    async def stop(self) -> None:
        """Kill the kernel now (SIGKILL to its whole session): never waits on XLA."""
        proc, self.proc = self.proc, None
        self._expected_exit = True
        killed = proc is not None and proc.returncode is None
        if proc is not None and proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            await proc.wait()
        if killed and proc is not None and self._may_hold_tpu():
            # A SIGKILLed kernel cannot clean up after itself: wait until the chips are free
            # and drop the lock file it left, so the next kernel is not locked out.
            removed = await asyncio.to_thread(hardware.release_after_kill, proc.pid, self.started_wall)
            self.stderr_tail.extend(f"jaxtui: removed {path}, left by the killed kernel" for path in removed)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if proc is not None:
            self._on_exit(proc.returncode if proc.returncode is not None else -9)
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
        if self.state != "stopped":
            self._set_state("stopped", {})

    def _may_hold_tpu(self) -> bool:
        if self.info.get("platform"):
            return self.info["platform"] == "tpu"
        # Killed while starting: JAX may have taken the TPU before it said so.
        return self.config.platform == "tpu" or (self.config.platform is None and hardware.has_tpu_chips())

    async def restart(self) -> dict[str, Any]:
        return await self.start()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

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
            raise KernelDied("kernel is not running", stderr=self.stderr_text())
        params = dict(params or {})
        if op in (P.OP_EXEC, P.OP_INSPECT) and self.config.device is not None:
            params.setdefault("device", self.config.device)
        rid = next(self._ids)
        fut: asyncio.Future[P.Event] = asyncio.get_running_loop().create_future()
        self._pending[rid] = (fut, on_event)
        self._ops[rid] = op
        if background:
            self._background.add(rid)
        elif self.state == "ready":
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

    async def interrupt(self, grace: float = INTERRUPT_GRACE_S) -> str:
        """Stop what the kernel is doing. Returns "idle", "interrupted" or "restarted".

        SIGINT first: Python code stops at once. A running XLA computation cannot be
        interrupted from Python, so if the kernel has not answered within `grace`
        seconds it is killed and a fresh one started.
        """
        if not self.alive or not self._pending:
            return "idle"
        futures = [f for f, _ in self._pending.values()]
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        done, _ = await asyncio.wait([asyncio.shield(f) for f in futures], timeout=grace)
        if len(done) == len(futures):
            return "interrupted"
        pending, self._pending = self._pending, {}
        for fut, _ in pending.values():
            if not fut.done():
                fut.set_exception(KernelDied("interrupted: the kernel was killed and restarted", -9))
        await self.restart()
        return "restarted"

    async def shutdown(self) -> None:
        await self.stop()
