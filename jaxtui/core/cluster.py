"""Several kernels joined into one JAX cluster, driven like one kernel.

JAX's multi-controller runtime runs one Python process per host, each calling
`jax.distributed.initialize(coordinator, num_processes, process_id)`; the same program must
then run in every process, with the same collectives in the same order. `KernelCluster`
starts N `KernelClient`s (local children for `--processes N`, one ssh transport per host for
`--remote h1,h2,...`), tells each its place (kernel/distributed.py joins before JAX starts its
backend), and sends every request to all of them. It offers the KernelClient surface the app
and `jaxtui run` use (start, request, interrupt, restart, stop, shutdown, states), so neither
cares whether it talks to one kernel or a cluster.

What no process can see, the client can: who finished, who died, who is still running. A
process that skips a collective leaves the others waiting in it for ever, silently (gloo has
no timeout that reaches Python). So when some processes have finished or died and others still
run `stuck_after` seconds later (at the latest at the run's timeout), the run ends: those still
running are `stuck` (after a finish) or `peer_died` (after a death), and the whole cluster is
killed: the distributed runtime cannot be rejoined by one process, only restarted whole.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from jaxtui import protocol as P
from jaxtui.core.client import (
    ClusterPlace,
    EventCallback,
    KernelClient,
    KernelConfig,
    KernelConnectionError,
    KernelDied,
    KernelError,
    KernelStartError,
    RequestFailed,
    StateCallback,
    Transport,
)
from jaxtui.core.transport import DEFAULT_REMOTE_PYTHON, LocalTransport, SshTransport, ssh_message

STUCK_AFTER_S = 10.0  # a collective on CPU takes milliseconds: 10 s of waiting is a hang
CLUSTER_HOST_DEVICES = 2  # per process with --processes: 4 processes give a single kernel's 8
COORDINATOR_PROBE_TIMEOUT_S = 30.0
RUN_OPS = (P.OP_EXEC, P.OP_INSPECT)  # ops whose results are runs: merged per process
GLOO_CHATTER = re.compile(r"\[Gloo\] Rank \d+ is connected")  # printed by every process at its first collective


@dataclass(frozen=True)
class ClusterSpec:
    """What `--processes N` or `--remote h1,h2,...` asks for."""

    processes: int = 1  # local kernels (ignored with hosts)
    hosts: tuple[str, ...] = ()  # one kernel per host, through ssh
    remote_python: str = DEFAULT_REMOTE_PYTHON
    remote_silence: float | None = None  # None: the ssh transport's default
    coordinator: str | None = None  # HOST:PORT; None: a free port here, or on the first host
    stuck_after: float = STUCK_AFTER_S

    @property
    def size(self) -> int:
        return len(self.hosts) or self.processes

    def transports(self) -> list[Transport]:
        if not self.hosts:
            return [LocalTransport() for _ in range(self.processes)]
        extra = {} if self.remote_silence is None else {"silence_limit": self.remote_silence}
        return [SshTransport(h, python=self.remote_python, **extra) for h in self.hosts]


def free_local_port() -> int:
    """A port nobody listens on now (process 0's coordinator binds it a second later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The first host's address as that host sees it (`hostname -I`, its first address: the one
# other hosts of a slice reach it on), and a port free there. One ssh round trip.
_PROBE = ("import socket, subprocess\n"
          "out = subprocess.run(['hostname', '-I'], capture_output=True, text=True).stdout.split()\n"
          "s = socket.socket(); s.bind(('', 0))\n"
          "print((out or [socket.gethostname()])[0], s.getsockname()[1])\n")


async def remote_coordinator(transport: SshTransport) -> str:
    """HOST:PORT for a cluster whose process 0 runs on `transport.host`."""
    argv = [*transport.ssh_argv(), transport.remote_command(["-c", _PROBE])]
    proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), COORDINATOR_PROBE_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise KernelConnectionError(f"{transport.host} did not say its address within "
                                    f"{COORDINATOR_PROBE_TIMEOUT_S:g} s; give one: --coordinator HOST:PORT") from None
    words = out.decode(errors="replace").split()
    if proc.returncode != 0 or len(words) != 2:
        why = ssh_message(err.decode(errors="replace")) or f"exit status {proc.returncode}"
        error = KernelConnectionError if transport.connection_failed(proc.returncode) else KernelStartError
        raise error(f"could not ask {transport.host} for the coordinator's address "
                    f"({shlex.join(argv[-1:])}): {why}\nOr give one: --coordinator HOST:PORT")
    host, port = words
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def names(indices: list[int]) -> str:
    """`process 1`, `processes 0 and 2`, `processes 0, 2 and 3`."""
    if len(indices) == 1:
        return f"process {indices[0]}"
    return "processes " + ", ".join(map(str, indices[:-1])) + f" and {indices[-1]}"


@dataclass
class Outcome:
    """How one process's part of a request ended."""

    result: dict[str, Any] | None = None  # its answer
    died: KernelDied | None = None
    failed: RequestFailed | None = None  # the request itself failed (interrupted, bad op)
    at: float = 0.0  # time.monotonic() when it ended


class ClusterRunEnded(KernelError):
    """A run of the cluster ended by the client: stuck or a peer died. The cluster is
    stopped; `result` is the merged result (every process's part, with why)."""

    def __init__(self, message: str, kind: str, result: dict[str, Any]):
        super().__init__(message)
        self.kind = kind
        self.result = result


class KernelCluster:
    """N kernels, one JAX cluster: the KernelClient surface over all of them.

    Every request goes to every process (the same code and inputs: JAX's rule). The result of
    a run (exec, inspect) is process 0's, with `ok` true only if every process's is, and
    `processes`: each process's whole result with its `process_index`. Other ops answer with
    process 0's result plus `processes`. States: stopped, starting, ready, busy, dead.
    """

    def __init__(self, config: KernelConfig | None = None, spec: ClusterSpec | None = None,
                 on_state: StateCallback | None = None):
        self.config = config or KernelConfig(host_devices=CLUSTER_HOST_DEVICES)
        self.spec = spec or ClusterSpec()
        self.on_state = on_state
        self.members = [KernelClient(self.config, on_state=self._member_state_callback(i), transport=t)
                        for i, t in enumerate(self.spec.transports())]
        self.state = "stopped"
        self.state_info: dict[str, Any] = {}
        self.info: dict[str, Any] = {}
        self.coordinator = ""
        self.returncode: int | None = None
        self.started_at = 0.0
        self._stopping = False  # members' deaths are ours, not news
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._foreground = 0  # runs in flight
        self._printed: list[list[str]] = [[] for _ in self.members]  # this run's stdout, per process
        self._inflight: set[asyncio.Task[Any]] = set()
        self._run_demo, self._run_t0 = "", 0.0  # the run in flight: a part cut short names them
        self._interrupts = 0  # bumped by each interrupt: a run that sees it change was interrupted
        self._watchers: set[asyncio.Task[None]] = set()

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def transport(self) -> Transport:
        """Process 0's (the status bar names its host)."""
        return self.members[0].transport

    # -- states --------------------------------------------------------------------
    def _set_state(self, state: str, info: dict[str, Any] | None = None) -> None:
        self.state = state
        self.state_info = info if info is not None else self.info
        if self.on_state is not None:
            self.on_state(state, self.state_info)

    def _member_state_callback(self, index: int) -> StateCallback:
        def on_member_state(state: str, info: dict[str, Any]) -> None:
            if state == "dead" and not self._stopping and self.state in ("ready", "busy") and not self._foreground:
                # A process died between runs: its peers are left with a broken runtime.
                task = asyncio.get_running_loop().create_task(self._lost_member(index, info))
                self._watchers.add(task)
                task.add_done_callback(self._watchers.discard)
        return on_member_state

    async def _lost_member(self, index: int, info: dict[str, Any]) -> None:
        code = info.get("returncode")
        message = f"process {index} of the cluster died" + (f" (exit status {code})" if code is not None else "")
        self.returncode = code
        await self._stop_members()
        detail = info.get("error") or ""
        self._set_state("dead", {"error": f"{message}; the cluster was stopped\n{detail}".strip(),
                                 "kind": P.KIND_PEER_DIED, "returncode": code, "process_index": index})

    # -- lifecycle -----------------------------------------------------------------
    async def start(self) -> dict[str, Any]:
        """Start every process, joined through one coordinator; returns the merged ready info.
        If any process cannot start, the others are stopped (they would wait to join)."""
        self.config.validate()
        await self.stop()
        self.info = {}
        self.returncode = None
        self._ready = asyncio.get_running_loop().create_future()
        self._set_state("starting", {})
        self.started_at = time.perf_counter()
        try:
            info = await self._start_members()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc if isinstance(exc, Exception) else KernelError("start cancelled"))
                self._ready.exception()  # retrieved: start()'s caller has it
            raise
        self.info = info
        self._ready.set_result(info)
        self._set_state("ready", info)
        return info

    async def _start_members(self) -> dict[str, Any]:
        try:
            self.coordinator = self.spec.coordinator or await self._find_coordinator()
        except KernelStartError as exc:
            self._set_state("dead", {"error": str(exc), "reason": str(exc), "start_failed": True, "kind": exc.kind})
            raise
        for i, member in enumerate(self.members):
            # The target device is not passed on: each process has its own local devices.
            member.config = replace(self.config, device=None,
                                    cluster=ClusterPlace(self.coordinator, self.size, i))
        tasks = [asyncio.create_task(m.start()) for m in self.members]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        except asyncio.CancelledError:
            await self._stop_members(tasks)
            raise
        failed = [i for i, t in enumerate(tasks) if t in done and t.exception() is not None]
        if failed:
            await self._stop_members(tasks)
            first = failed[0]
            why = tasks[first].exception()
            message = f"process {first} of the cluster ({self._where(first)}) could not start: {why}"
            error = (type(why) if isinstance(why, KernelStartError) else KernelStartError)(message)
            self._set_state("dead", {"error": message, "reason": message, "start_failed": True,
                                     "kind": getattr(error, "kind", P.KIND_START_FAILED), "process_index": first})
            raise error
        infos = [t.result() for t in tasks]
        return {**infos[0], "coordinator": self.coordinator, "processes": infos,
                "ready_s": time.perf_counter() - self.started_at}

    async def _find_coordinator(self) -> str:
        first = self.members[0].transport
        if isinstance(first, SshTransport):
            return await remote_coordinator(first)
        return f"127.0.0.1:{free_local_port()}"

    def _where(self, index: int) -> str:
        host = self.members[index].transport.host
        return host if host is not None else "this machine"

    async def wait_ready(self) -> dict[str, Any]:
        if self._ready is None:
            return await self.start()
        return await asyncio.shield(self._ready)

    async def restart(self) -> dict[str, Any]:
        return await self.start()

    async def _stop_members(self, starting: list[asyncio.Task[Any]] | None = None) -> None:
        self._stopping = True
        try:
            for task in starting or []:
                task.cancel()
            await asyncio.gather(*(m.stop() for m in self.members), return_exceptions=True)
            await asyncio.gather(*(starting or []), return_exceptions=True)
        finally:
            self._stopping = False

    async def stop(self) -> None:
        """Kill every process now (SIGKILL to each group)."""
        await self._stop_members()
        await self._settle_inflight()
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
        if self.state != "stopped":
            self._set_state("stopped", {})

    async def shutdown(self, on_wait: Callable[[str], None] | None = None) -> str:
        """Each process's gentle ladder, all at once; returns the worst outcome."""
        self._stopping = True
        try:
            outcomes = await asyncio.gather(*(m.shutdown(on_wait) for m in self.members))
        finally:
            self._stopping = False
        await self._settle_inflight()
        if self.state != "stopped":
            self._set_state("stopped", {})
        return max(outcomes, key=lambda o: o != "exited")

    def kill_now(self) -> None:
        """SIGKILL every process's group, synchronously (for signal handlers)."""
        self._stopping = True
        for member in self.members:
            member.kill_now()

    async def _settle_inflight(self) -> None:
        tasks, self._inflight = self._inflight, set()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def alive(self) -> bool:
        return all(m.alive for m in self.members)

    @property
    def busy(self) -> bool:
        return any(m.busy for m in self.members)

    async def wait_idle(self) -> None:
        await asyncio.gather(*(m.wait_idle() for m in self.members))

    def stderr_text(self, lines: int = 30) -> str:
        parts = []
        for i, member in enumerate(self.members):
            text = member.stderr_text(lines)
            if text:
                parts.append(f"[process {i}]\n{text}")
        return "\n".join(parts)

    # -- requests ------------------------------------------------------------------
    async def request(self, op: str, params: dict[str, Any] | None = None, *,
                      on_event: EventCallback | None = None, timeout: float | None = None,
                      background: bool = False) -> dict[str, Any]:
        """Send the request to every process and merge their answers (see the class).

        Process 0's intermediate events go to `on_event` (the pane streams them as for one
        kernel); every process's printed text is kept for its own result. A run that hangs
        (stuck) or loses a process ends with ClusterRunEnded, the cluster stopped. Raises
        TimeoutError when no process has finished by `timeout` (the run still going: call
        `interrupt`), RequestFailed or KernelDied as a KernelClient would."""
        await self.wait_ready()
        run = op in RUN_OPS and not background
        epoch = self._interrupts
        if run:
            self._printed = [[] for _ in self.members]
            self._run_demo, self._run_t0 = str((params or {}).get("demo") or ""), time.perf_counter()
            self._foreground += 1
            if self.state == "ready":
                self._set_state("busy")
        tasks = [asyncio.create_task(self._one(i, m, op, params, on_event, background))
                 for i, m in enumerate(self.members)]
        for task in tasks:  # kept until done: stop() and an interrupt wait for them
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        if run:  # busy until every process has answered, even after a timeout here
            asyncio.gather(*tasks, return_exceptions=True).add_done_callback(lambda _: self._run_over())
        outcomes = await self._wait(tasks, timeout, run, epoch)
        if run and self._interrupts == epoch and any(o is not None and o.died is not None for o in outcomes):
            await self._end_run(tasks, outcomes)
        return self._merge(op, outcomes)

    def _run_over(self) -> None:
        self._foreground -= 1
        if self.state == "busy" and not self._foreground:
            self._set_state("ready")

    async def _one(self, index: int, member: KernelClient, op: str, params: dict[str, Any] | None,
                   on_event: EventCallback | None, background: bool) -> Outcome:
        printed = self._printed[index]

        def forward(event: P.Event) -> None:
            if event.kind == P.EV_STREAM:
                printed.append(str(event.data.get("text", "")))
            if index == 0 and on_event is not None:
                on_event(event)

        try:
            result = await member.request(op, params, on_event=forward, background=background)
        except KernelDied as exc:
            return Outcome(died=exc, at=time.monotonic())
        except RequestFailed as exc:
            return Outcome(failed=exc, at=time.monotonic())
        except KernelError as exc:  # it was not running (stopped, never started)
            return Outcome(died=KernelDied(str(exc), member.returncode, member.stderr_text()), at=time.monotonic())
        return Outcome(result=result, at=time.monotonic())

    async def _wait(self, tasks: list[asyncio.Task[Outcome]], timeout: float | None,
                    watch: bool, epoch: int) -> list[Outcome | None]:
        """Until every process has answered; or, when `watch`-ing a run, until the ones still
        running have outlived the first to finish or die by stuck_after (or the timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        first_end: float | None = None
        pending = set(tasks)
        while pending:
            watching = watch and self._interrupts == epoch  # an interrupt ends the run itself
            limits = [t for t in (deadline, first_end + self.spec.stuck_after
                                  if first_end is not None and watching else None) if t is not None]
            wait_s = max(0.0, min(limits) - time.monotonic()) if limits else None
            done, pending = await asyncio.wait(pending, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
            if done and first_end is None:
                first_end = min(t.result().at for t in done)
            if not pending or done:
                continue
            if watching and first_end is not None:  # some ended, the others outlived them
                await self._end_run(tasks, [t.result() if t.done() else None for t in tasks], first_end)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError  # nobody finished: an ordinary timeout, the run goes on
        return [t.result() for t in tasks]

    async def _end_run(self, tasks: list[asyncio.Task[Outcome]], outcomes: list[Outcome | None],
                       first_end: float | None = None) -> None:
        """A process died, or some ended while others still run: say who and why, and stop
        the whole cluster (its runtime cannot go on without every process)."""
        running = [i for i, o in enumerate(outcomes) if o is None]
        dead = [i for i, o in enumerate(outcomes) if o is not None and o.died is not None]
        finished = [i for i, o in enumerate(outcomes) if o is not None and o.died is None]
        failed = [i for i in finished if not ((outcomes[i] or Outcome()).result or {}).get("ok")]
        waited = time.monotonic() - first_end if first_end is not None else 0.0
        if not dead:
            kind = P.KIND_STUCK
            message = (f"{names(running)} still running {waited:.0f} s after {names(finished)} finished: "
                       f"{'they probably wait' if len(running) > 1 else 'it probably waits'} in a collective "
                       f"{names(finished)} never entered (every process must run the same collectives "
                       f"in the same order)")
        elif len(dead) == len(outcomes):
            kind, message = P.KIND_KERNEL_DIED, "every process of the cluster died"
        else:
            kind = P.KIND_PEER_DIED
            how = [f"{names(dead)} died"] + ([f"{names(failed)} failed"] if failed else [])
            message = " and ".join(how) + "; " + (
                f"{names(running)}, still running {waited:.0f} s later, {'were' if len(running) > 1 else 'was'} "
                "stopped with the rest of the cluster" if running else "the cluster was stopped"
            ) + " (it cannot go on without every process)"
        printed = [list(p) for p in self._printed]
        await self._stop_members()
        await asyncio.gather(*tasks, return_exceptions=True)
        result = self._merge_run(outcomes, printed, ended=(kind, message))
        self._set_state("dead", {"error": message, "kind": kind, "cluster_ended": True})
        raise ClusterRunEnded(message, kind, result)

    # -- merging ---------------------------------------------------------------------
    def _merge(self, op: str, outcomes: list[Outcome | None]) -> dict[str, Any]:
        # A death here is an interrupt's kill (other deaths end the run in _end_run), or a
        # process gone during a devices poll or ping: raise it as one kernel would.
        for o in outcomes:
            if o is not None and o.died is not None:
                raise o.died
        for o in outcomes:
            if o is not None and o.failed is not None:
                raise o.failed
        if op in RUN_OPS:
            return self._merge_run(outcomes, self._printed)
        results = [o.result or {} for o in outcomes if o is not None]
        merged = {**results[0], "processes": [{**r, "process_index": i} for i, r in enumerate(results)]}
        if "idle" in merged:  # ping: the cluster is idle when every process is
            merged["idle"] = all(r.get("idle", True) for r in results)
        return merged

    def _merge_run(self, outcomes: list[Outcome | None], printed: list[list[str]],
                   ended: tuple[str, str] | None = None) -> dict[str, Any]:
        """Process 0's result with `ok` for all, and every process's result in `processes`.
        `ended`: (kind, message) of a run the client ended (stuck, a death)."""
        dead = [i for i, o in enumerate(outcomes) if o is not None and o.died is not None]
        parts = []
        for i, o in enumerate(outcomes):
            if o is not None and o.died is not None:
                stderr = "\n".join(line for line in o.died.stderr.splitlines() if not GLOO_CHATTER.match(line))
                stderr = f"\n{stderr}" if stderr else ""
                part = self._cut_short(i, printed[i], "KernelDied", f"process {i} died: {o.died}{stderr}",
                                       P.KIND_KERNEL_DIED)
            elif o is not None and o.result is not None:
                part = dict(o.result)
                if dead and not part.get("ok") and part.get("error"):
                    # Its collective failed because a peer was gone (gloo: "Connection closed by peer").
                    part["error"] = {**part["error"], "kind": P.KIND_PEER_DIED,
                                     "message": f"{names(dead)} died; here: {part['error'].get('message', '')}"}
            else:
                assert ended is not None
                kind, message = ended
                part = self._cut_short(i, printed[i], "Stuck" if kind == P.KIND_STUCK else "PeerDied",
                                       message, kind)
            parts.append({**part, **self._whereabouts(i)})
        merged = {**parts[0], "ok": all(p.get("ok") for p in parts), "processes": parts,
                  "process_count": len(parts), "coordinator": self.coordinator}
        for key in ("process_index", "host", "pid", "local_devices"):  # process 0's own, not the cluster's
            merged.pop(key, None)
        if ended is not None:  # the top level says what ended the run, whoever it hit
            kind, message = ended
            merged["error"] = {**(parts[0].get("error") or {"type": "ClusterRunEnded", "line": None,
                                                            "col": None, "traceback": ""}),
                               "kind": kind, "message": message}
        elif not merged["ok"] and parts[0].get("ok"):
            bad = [p for p in parts if not p.get("ok")]
            error = dict(bad[0].get("error") or {})
            error["message"] = f"{names([p['process_index'] for p in bad])} failed: {error.get('message', '')}"
            merged["error"] = error
        return merged

    def _cut_short(self, index: int, printed: list[str], type_: str, message: str, kind: str) -> dict[str, Any]:
        member = self.members[index]
        info = member.info or {}
        local = info.get("local_devices") or info.get("devices") or [""]
        return asdict(P.RunResult(demo=self._run_demo, ok=False, device=local[0], platform=info.get("platform", ""),
                                  stdout="".join(printed), error=asdict(P.ErrorInfo(type_, message, kind=kind)),
                                  elapsed_s=time.perf_counter() - self._run_t0 if self._run_t0 else 0.0))

    def _whereabouts(self, index: int) -> dict[str, Any]:
        """Where process `index` runs and what it drives, from its ready info."""
        info = self.members[index].info or {}
        return {"process_index": index, "host": info.get("hostname") or self._where(index),
                "pid": info.get("pid"), "local_devices": info.get("local_devices") or []}

    def cut_short(self, error: dict[str, Any]) -> list[dict[str, Any]]:
        """Every process's part of a run the caller cut short (a timeout, a signal): what each
        printed, and the caller's error."""
        parts = []
        for i, printed in enumerate(self._printed):
            part = self._cut_short(i, printed, error.get("type", "Error"), error.get("message", ""),
                                   error.get("kind", P.KIND_EXCEPTION))
            parts.append({**part, **self._whereabouts(i)})
        return parts

    # -- interrupt -------------------------------------------------------------------
    async def interrupt(self, grace: float | None = None, *, restart: bool = True) -> str:
        """Interrupt every process. "interrupted" when all stopped in Python; if any had to be
        killed (XLA, a collective), the whole cluster goes: "restarted" or, with
        `restart=False`, "killed". "idle" when nothing ran."""
        if not self.busy:
            return "idle"
        self._interrupts += 1
        kwargs = {} if grace is None else {"grace": grace}
        outcomes = await asyncio.gather(*(m.interrupt(restart=False, **kwargs) for m in self.members))
        if all(o in ("interrupted", "idle") for o in outcomes):
            return "interrupted"
        await self._stop_members()
        await self._settle_inflight()
        if not restart:
            await self.stop()
            return "killed"
        await self.start()
        return "restarted"


Kernel = KernelClient | KernelCluster  # what the app and `jaxtui run` drive


def make_kernel(config: KernelConfig | None = None, *, transport: Transport | None = None,
                cluster: ClusterSpec | None = None, on_state: StateCallback | None = None) -> Kernel:
    """One kernel (here or on `transport`'s host), or a cluster when `cluster` is given."""
    if cluster is not None:
        return KernelCluster(config, cluster, on_state=on_state)
    return KernelClient(config, on_state=on_state, transport=transport)

