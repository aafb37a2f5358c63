"""`python -m jaxtui.kernel --supervise`: the remote end of `jaxtui --remote HOST`.

ssh gives a remote command its stdin, stdout and stderr and nothing else: no signal from the
client reaches it, and a laptop that went to sleep closes nothing. So on the remote host this
small process (it never imports jax) stands between ssh and the kernel worker, which it
starts and controls with the same process ladder a local client uses (jaxtui/ladder.py):

- it relays protocol lines both ways unchanged: the worker's `ready` carries the remote
  jaxtui's protocol version, so the client refuses a jaxtui of another version as it does a
  local kernel;
- it answers `heartbeat` itself and turns `interrupt` into the ladder's interrupt rung on the
  worker (SIGINT, a grace period, then kill and restart: XLA does not stop on SIGINT);
- it exits, stopping the worker, on stdin EOF (ssh closed the session), SIGHUP or SIGTERM,
  or when the client has been silent for longer than `--silence-limit` seconds (the client
  sends a heartbeat every 2 s) with EXIT_CLIENT_SILENT: on a TPU VM an orphaned kernel keeps
  the TPU from the next user. The worker dies with the supervisor even if it is SIGKILLed
  (the ladder's parent watch);
- when the worker dies on its own it exits with the worker's status, so the client sees a
  dead kernel exactly as it would locally.

Its own messages go to stderr, which ssh carries to the client (the client's stderr tail).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from jaxtui import ladder
from jaxtui import protocol as P

SILENCE_LIMIT_S = 30.0  # a client silent this long is gone (it sends a heartbeat every 2 s)


def _say(text: str) -> None:
    try:
        sys.stderr.write(f"jaxtui supervisor: {text}\n")
        sys.stderr.flush()
    except OSError:
        pass  # ssh is gone, and its stderr pipe with it: nobody is left to tell


def exit_status(returncode: int) -> int:
    """A shell's status for a worker's exit: 128+N when killed by signal N (a remote exit by
    signal reaches the ssh client as 255, which looks like a lost connection)."""
    return 128 - returncode if returncode < 0 else returncode


class Supervisor:
    def __init__(self, config: dict[str, Any], silence_limit: float, grace: float):
        self.config = config  # platform, host_devices: how the worker's JAX starts
        self.silence_limit = silence_limit
        self.grace = grace
        self.worker: ladder.KernelProcess | None = None
        self.in_flight: dict[int, str] = {}  # the client's request id -> op, relayed and not yet answered
        self.idle = asyncio.Event()  # set while nothing is in flight
        self.idle.set()
        self.to_worker: asyncio.Queue[bytes] = asyncio.Queue()  # the client never waits on the worker
        self.out: asyncio.StreamWriter | None = None
        self.last_heard = 0.0
        self.done: asyncio.Future[int] | None = None
        # Requests of the supervisor's own to the worker (negative ids: the client's count up
        # from 1, and the kernel answers an unreadable request as id -1).
        self._own_ids = itertools.count(-2, -1)
        self._own: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._restart_ready: asyncio.Future[dict[str, Any]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- wiring ------------------------------------------------------------------------
    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self.done = loop.create_future()
        self.last_heard = loop.time()
        reader = asyncio.StreamReader(limit=P.MAX_MESSAGE_BYTES + 1)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
        transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout.buffer)
        self.out = asyncio.StreamWriter(transport, protocol, None, loop)
        for signum in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(signum, self.finish, 128 + signum,
                                    f"{signal.Signals(signum).name}: stopping the kernel")
        try:
            await self._start_worker()
            for job in (self._read_client(reader), self._write_worker(), self._watch_silence()):
                self._spawn(job)
            return await self.done
        finally:
            if self.worker is not None:  # first, while its answers are still read
                await self._stop_worker(self.worker)
            for task in self._tasks:
                task.cancel()

    def _spawn(self, job: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def finish(self, status: int, why: str = "") -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(status)
            if why:
                _say(why)

    def send(self, rid: int, kind: str, data: dict[str, Any]) -> None:
        """An event of the supervisor's own (never waits: a heartbeat's answer is tiny)."""
        assert self.out is not None
        self.out.write(P.encode(P.Event(id=rid, kind=kind, data=data)))

    # -- the worker --------------------------------------------------------------------
    def _worker_env(self) -> dict[str, str]:
        from jaxtui.core.client import ClusterPlace, KernelConfig

        # The environment a local client gives its kernel, built here, on the remote host.
        place = self.config.get("cluster")
        return KernelConfig(platform=self.config["platform"], host_devices=self.config["host_devices"],
                            cluster=ClusterPlace(*place) if place else None).env()

    async def _start_worker(self) -> None:
        old = self.worker
        self.worker = await (old.respawn() if old is not None else ladder.KernelProcess.spawn(
            [sys.executable, "-m", "jaxtui.kernel"], env=self._worker_env(), limit=P.MAX_MESSAGE_BYTES + 1,
            inherit_stderr=True))  # its stderr is ssh's: the client's stderr tail
        self._spawn(self._read_worker(self.worker))

    async def _stop_worker(self, worker: ladder.KernelProcess) -> None:
        """The ladder's shutdown: an idle worker is asked to exit (it releases the device),
        a busy one gets SIGTERM, then SIGKILL."""
        ask = None if not self.idle.is_set() else (lambda: self._ask(worker, P.OP_SHUTDOWN))
        await worker.shutdown(ask)
        await self._release_tpu(worker)

    async def _release_tpu(self, worker: ladder.KernelProcess) -> None:
        if not worker.killed:
            return
        from jaxtui.core import hardware

        if await asyncio.to_thread(hardware.has_tpu_chips):
            # A killed kernel cannot clean up: free the TPU for the next kernel (core/hardware.py).
            removed = await asyncio.to_thread(hardware.release_after_kill, worker.pid, worker.started_wall)
            for path in removed:
                _say(f"removed {path}, left by the killed kernel")

    async def _ask(self, worker: ladder.KernelProcess, op: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A request of the supervisor's own to the worker; its answer is not relayed."""
        rid = next(self._own_ids)
        answer = self._own[rid] = asyncio.get_running_loop().create_future()
        try:
            assert worker.stdin is not None
            worker.stdin.write(P.encode(P.Request(id=rid, op=op, params=params or {})))
            await worker.stdin.drain()
            return await answer
        finally:
            self._own.pop(rid, None)

    async def _read_worker(self, worker: ladder.KernelProcess) -> None:
        assert worker.stdout is not None and self.out is not None
        while True:
            try:
                line = await worker.stdout.readline()
            except ValueError:  # over the limit: the kernel never sends one (encode refuses it)
                continue
            if not line:
                break
            head = P.peek_event(line)
            if head is not None and self._keep_own(head, line):
                continue
            self.out.write(line)
            try:
                await self.out.drain()  # a slow link holds the worker back, not the client
            except ConnectionError:
                self.finish(0, "the client's end of the connection is closed")
                return
            if head is not None and head[1] in P.FINAL_KINDS:
                self._answered(head[0])
        returncode = await worker.wait()
        if worker is self.worker and not worker.killed and returncode is not None:
            self.finish(exit_status(returncode))

    def _keep_own(self, head: tuple[int, str], line: bytes) -> bool:
        """Events the client must not see: answers to the supervisor's own requests, and a
        restarted worker's `ready` (it goes back in the interrupt's answer)."""
        rid, kind = head
        if rid < -1:
            own = self._own.get(rid)
            if own is not None and kind in P.FINAL_KINDS and not own.done():
                own.set_result(json.loads(line).get("data", {}))
            return True
        if head == (0, P.EV_READY) and self._restart_ready is not None:
            if not self._restart_ready.done():
                self._restart_ready.set_result(json.loads(line).get("data", {}))
            return True
        return False

    def _answered(self, rid: int) -> None:
        self.in_flight.pop(rid, None)
        if not self.in_flight:
            self.idle.set()

    async def _write_worker(self) -> None:
        while True:
            line = await self.to_worker.get()
            worker = self.worker
            if worker is None or worker.stdin is None or worker.killed:
                continue  # a killed worker's requests were answered by the interrupt
            try:
                worker.stdin.write(line)
                await worker.stdin.drain()
            except (ConnectionError, RuntimeError):
                continue  # it died: _read_worker reports it

    # -- the client --------------------------------------------------------------------
    async def _read_client(self, reader: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                line = await reader.readline()
            except ValueError:
                self.send(-1, P.EV_ERROR, {"type": "ProtocolError", "message": "request over the size limit"})
                continue
            if not line:
                self.finish(0, "the connection closed: stopping the kernel")
                return
            self.last_heard = loop.time()
            try:
                req = P.decode_request(line)
            except P.ProtocolError:
                self.to_worker.put_nowait(line)  # the worker answers it as it would locally
                continue
            handler = SUPERVISOR_HANDLERS.get(req.op)
            if handler is not None:
                self._spawn(handler(self, req))
                continue
            self.in_flight[req.id] = req.op
            self.idle.clear()
            self.to_worker.put_nowait(line)

    async def _watch_silence(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, self.silence_limit / 4))
            silent = loop.time() - self.last_heard
            if silent > self.silence_limit:
                self.finish(P.EXIT_CLIENT_SILENT, f"no word from the client for {silent:.0f} s "
                                                  f"(limit {self.silence_limit:g} s): stopping the kernel")
                return

    # -- ops the supervisor answers itself ---------------------------------------------
    async def heartbeat(self, req: P.Request) -> None:
        """Answered whatever the worker does (the client's silence is what counts here), with
        the worker's own in-band answer when it gives one within a second: the op and the
        line of user code it is on (a timeout reports the line reached)."""
        answer: dict[str, Any] = {"alive": True, "busy": not self.idle.is_set()}
        worker = self.worker
        if worker is not None and worker.alive and self._restart_ready is None:
            with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):
                answer.update(await asyncio.wait_for(self._ask(worker, P.OP_HEARTBEAT), 1.0))
        self.send(req.id, P.EV_RESULT, answer)

    async def interrupt(self, req: P.Request) -> None:
        grace = float(req.params.get("grace") or self.grace)
        settle_s = float(req.params.get("settle_s") or 0.0)
        restart = bool(req.params.get("restart", True))
        worker = self.worker
        if self.idle.is_set() or worker is None:
            self.send(req.id, P.EV_RESULT, {"outcome": "idle"})
            return

        async def settled() -> bool:
            # The run answered, and no device work of it is left (a SIGINT stops Python's
            # wait on XLA, not XLA): the kernel's own word, asked for with a deadline.
            await self.idle.wait()
            probe = await self._ask(worker, P.OP_PING, {"settle_s": settle_s})
            return bool(probe.get("idle", True))

        outcome = await worker.interrupt(settled, grace=grace + settle_s)
        if outcome == ladder.INTERRUPTED:
            self.send(req.id, P.EV_RESULT, {"outcome": "interrupted"})
            return
        if outcome == ladder.EXITED:
            return  # it died: _read_worker ends the supervisor with its status
        # Killed: the client fails what it had in flight when it reads the answer.
        await self._release_tpu(worker)
        self.in_flight.clear()
        self.idle.set()
        while not self.to_worker.empty():
            self.to_worker.get_nowait()
        if not restart:
            self.send(req.id, P.EV_RESULT, {"outcome": "killed"})
            self.finish(0)
            return
        self._restart_ready = asyncio.get_running_loop().create_future()
        try:
            await self._start_worker()
            ready = await self._restart_ready
        finally:
            self._restart_ready = None
        self.send(req.id, P.EV_RESULT, {"outcome": "restarted", "ready": ready})


SUPERVISOR_HANDLERS: dict[str, Callable[[Supervisor, P.Request], Awaitable[None]]] = {
    P.OP_HEARTBEAT: Supervisor.heartbeat,
    P.OP_INTERRUPT: Supervisor.interrupt,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m jaxtui.kernel --supervise",
                                description="The remote end of `jaxtui --remote HOST` (started by the client "
                                            "through ssh; it speaks the protocol on stdin/stdout).")
    p.add_argument("--platform", default=None, help="the kernel's JAX platform (cpu, gpu, tpu)")
    p.add_argument("--host-devices", type=int, default=None, metavar="N", help="virtual CPU devices")
    p.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                   help="join a JAX cluster through this coordinator (with the next two)")
    p.add_argument("--num-processes", type=int, default=1, metavar="N", help="processes in the cluster")
    p.add_argument("--process-id", type=int, default=0, metavar="I", help="this kernel's process index")
    p.add_argument("--silence-limit", type=float, default=SILENCE_LIMIT_S, metavar="S",
                   help=f"stop when the client has sent nothing for S seconds (default {SILENCE_LIMIT_S:g})")
    p.add_argument("--grace", type=float, default=ladder.GRACE_S, metavar="S",
                   help="after SIGINT, kill the kernel if it has not stopped within S seconds")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    config: dict[str, Any] = {"platform": args.platform, "host_devices": args.host_devices}
    if args.coordinator:
        config["cluster"] = (args.coordinator, args.num_processes, args.process_id)
    return asyncio.run(Supervisor(config, args.silence_limit, args.grace).run())
