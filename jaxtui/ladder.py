"""The kernel process's life, with asyncio and the standard library only: spawn, interrupt,
kill, restart, shut down, and the watchdog that ends a kernel whose parent is gone.

One piece for both ends: the local client (jaxtui/core/client.py) runs it on this machine, and
the remote supervisor (`python -m jaxtui.kernel --supervise`) runs the very same ladder on the
remote host. It speaks no protocol: where a rung needs the kernel's word (its answer to an
interrupted request, a `shutdown` op) the caller passes a coroutine function. It imports
neither jax nor textual nor jaxtui.core, so a supervisor that never loads JAX can use it.

The ladder:
- spawn: `python -m jaxtui.kernel` in a new session (its own process group: a ctrl+c typed
  in the terminal never reaches it, and killing the group takes the user code's children
  too), started with exec, never a bare fork (JAX is multithreaded). The kernel learns its
  parent's pid (PARENT_PID_ENV) and dies with it (`watch_parent`).
- interrupt: SIGINT to the kernel; Python code stops at once. XLA does not: if the caller's
  `settled()` (the request answered, the device idle) does not hold within the grace period,
  the whole group is killed. Either way no child of the run outlives it.
- kill: SIGKILL to the whole group; the exit is awaited on the pid itself, never on the pipes
  (a detached grandchild that inherited stderr keeps them open for as long as it likes), and
  the pipes are closed.
- shutdown (quit): an idle kernel is asked to exit (it releases the device), then SIGTERM,
  then SIGKILL, all within `budget` seconds.

Exit is watched with a pidfd where the OS has one (Linux 5.3+), else by a thread blocked in
waitpid: neither needs asyncio's child watcher, which on Python 3.11 waits for the pipes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

PARENT_PID_ENV = "JAXTUI_PARENT_PID"  # the pid the kernel must die with (set by `spawn`)
GRACE_S = 1.0  # after SIGINT, how long the kernel has to settle before its group is killed
SHUTDOWN_BUDGET_S = 0.5  # quit never waits longer than this for a kernel (then SIGKILL)
MESSAGE_LIMIT = 64 * 1024 * 1024 + 1  # a stream line may be this long (protocol.MAX_MESSAGE_BYTES + 1)

# What a rung did (returned by interrupt / shutdown).
IDLE = "idle"  # nothing was running
INTERRUPTED = "interrupted"  # SIGINT stopped the run; the kernel lives on, idle
KILLED = "killed"  # the group was SIGKILLed (XLA did not stop, or the kernel would not exit)
EXITED = "exited"  # the kernel exited by itself (asked to, or it died)
TERMINATED = "terminated"  # it exited on SIGTERM

Settled = Callable[[], Awaitable[bool]]  # True: the run answered and the kernel is idle
Ask = Callable[[], Awaitable[object]]  # send the protocol's `shutdown` op


class KernelProcess:
    """One kernel process in its own session, with the rungs of the ladder as methods.

    `stdin` (a StreamWriter), `stdout` and `stderr` (StreamReaders; `stderr` is None when it
    was inherited) are the protocol's pipes. `returncode` is set once the pid has exited.
    """

    def __init__(self, popen: subprocess.Popen[bytes], argv: list[str], env: dict[str, str] | None,
                 limit: int, inherit_stderr: bool):
        self.popen = popen
        self.pid = popen.pid
        self.argv, self.env, self.limit, self.inherit_stderr = argv, env, limit, inherit_stderr
        self.started_wall = time.time()  # lock files newer than this are this kernel's
        self.stdin: asyncio.StreamWriter | None = None
        self.stdout: asyncio.StreamReader | None = None
        self.stderr: asyncio.StreamReader | None = None
        self._transports: list[asyncio.BaseTransport] = []
        self._exited: asyncio.Future[int] | None = None
        self._pidfd: int | None = None
        self.killed = False  # the ladder SIGKILLed it (a TPU lock may need freeing)

    # -- spawn -----------------------------------------------------------------------
    @classmethod
    async def spawn(cls, argv: list[str], *, env: dict[str, str] | None = None, limit: int = MESSAGE_LIMIT,
                    inherit_stderr: bool = False) -> KernelProcess:
        """Start `argv` (e.g. [sys.executable, "-m", "jaxtui.kernel"]) in a new session with
        pipes for stdin and stdout (and stderr unless `inherit_stderr`). Must be called on the
        event loop's thread: the kernel dies with the thread that started it (PDEATHSIG)."""
        env = dict(os.environ if env is None else env)
        env[PARENT_PID_ENV] = str(os.getpid())
        # Popen, not asyncio.create_subprocess_exec: the exit is watched on the pid (above).
        popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=None if inherit_stderr else subprocess.PIPE,
                                 env=env, start_new_session=True)
        proc = cls(popen, list(argv), env, limit, inherit_stderr)
        await proc._connect()
        return proc

    async def respawn(self) -> KernelProcess:
        """Restart: kill this one (if alive) and start the same command again."""
        await self.kill()
        env = {k: v for k, v in (self.env or {}).items() if k != PARENT_PID_ENV}
        return await KernelProcess.spawn(self.argv, env=env if self.env is not None else None,
                                         limit=self.limit, inherit_stderr=self.inherit_stderr)

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.popen.stdin is not None and self.popen.stdout is not None
        transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, self.popen.stdin)
        self._transports.append(transport)
        self.stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        self.stdout = await self._reader(loop, self.popen.stdout)
        if self.popen.stderr is not None:
            self.stderr = await self._reader(loop, self.popen.stderr)
        self._exited = loop.create_future()
        self._watch_exit(loop)

    async def _reader(self, loop: asyncio.AbstractEventLoop, pipe: object) -> asyncio.StreamReader:
        reader = asyncio.StreamReader(limit=self.limit)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        self._transports.append(transport)
        return reader

    def _watch_exit(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            self._pidfd = os.pidfd_open(self.pid)  # readable once the pid exits
        except (AttributeError, OSError):
            self._pidfd = None
        if self._pidfd is not None:
            loop.add_reader(self._pidfd, self._reap)
            return

        def waiter() -> None:  # no pidfd (macOS, old Linux): a thread waits on the pid
            with contextlib.suppress(ChildProcessError):
                self.popen.wait()
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(self._reap)

        threading.Thread(target=waiter, name=f"jaxtui-wait-{self.pid}", daemon=True).start()

    def _reap(self) -> None:
        returncode = self.popen.poll()
        if returncode is None:
            return
        self._forget_pidfd()
        if self._exited is not None and not self._exited.done():
            self._exited.set_result(returncode)

    def _forget_pidfd(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._pidfd)
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = None

    # -- state -----------------------------------------------------------------------
    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    @property
    def alive(self) -> bool:
        return self.popen.returncode is None and self.popen.poll() is None

    async def wait(self, timeout: float | None = None) -> int | None:
        """The exit status (negative: killed by that signal), or None after `timeout` s."""
        assert self._exited is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self._exited), timeout)
        except TimeoutError:
            return None

    # -- signals ---------------------------------------------------------------------
    def send_signal(self, sig: int) -> bool:
        """Send `sig` to the kernel process alone. False if it is gone."""
        if not self.alive:
            return False
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the kernel's whole process group, at once. Synchronous and safe in a
        signal handler (the app's SIGTERM/SIGHUP): it awaits nothing."""
        if sig == signal.SIGKILL:
            self.killed = self.killed or self.popen.returncode is None
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                if self.popen.returncode is None:
                    os.kill(self.pid, sig)

    def kill_others_in_group(self, sig: int = signal.SIGKILL) -> list[int]:
        """Signal the processes the run started in the kernel's group (not the kernel).
        Linux only (it reads /proc); elsewhere nothing. Returns their pids."""
        others = [pid for pid in group_members(self.pid) if pid != self.pid]
        for pid in others:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        return others

    # -- rungs -----------------------------------------------------------------------
    async def kill(self) -> int | None:
        """SIGKILL the whole group, wait for the pid (not the pipes), close the pipes."""
        if self.popen.returncode is None:
            self.kill_group(signal.SIGKILL)
        returncode = await self.wait(5.0)  # SIGKILL cannot be ignored; 5 s is a hung kernel driver
        self.close()
        return returncode

    async def interrupt(self, settled: Settled, *, grace: float = GRACE_S) -> str:
        """SIGINT, then wait up to `grace` s for `settled()` to say the kernel answered and is
        idle; if it does not, kill the group (the caller restarts: `respawn`). The run's own
        children in the group are killed either way. Returns INTERRUPTED, KILLED or EXITED."""
        if not self.send_signal(signal.SIGINT):
            return EXITED
        try:
            ok = await asyncio.wait_for(settled(), grace)
        except (TimeoutError, ConnectionError, RuntimeError):
            ok = False
        if not self.alive:
            self.close()
            return EXITED
        if ok:
            self.kill_others_in_group()
            return INTERRUPTED
        await self.kill()
        return KILLED

    async def shutdown(self, ask: Ask | None = None, *, budget: float = SHUTDOWN_BUDGET_S) -> str:
        """Stop the kernel within `budget` seconds: `ask()` (send `shutdown`; None when the
        kernel is busy and could not act on it), then SIGTERM to the group, then SIGKILL.
        Returns EXITED, TERMINATED or KILLED."""
        deadline = time.monotonic() + budget
        if ask is not None and self.alive:
            with contextlib.suppress(ConnectionError, RuntimeError, OSError):
                await asyncio.wait_for(ask(), budget * 0.6)
            if await self.wait(max(0.0, deadline - time.monotonic() - budget * 0.3)) is not None:
                self.kill_others_in_group()
                self.close()
                return EXITED
        if not self.alive:
            self.close()
            return EXITED
        self.kill_group(signal.SIGTERM)
        if await self.wait(max(0.05, deadline - time.monotonic())) is not None:
            self.kill_others_in_group()
            self.close()
            return TERMINATED
        await self.kill()
        return KILLED

    def close(self) -> None:
        """Close the pipes (readers see EOF). Safe to call twice."""
        for transport in self._transports:
            transport.close()
        self._transports = []
        if self.popen.returncode is not None:
            self._forget_pidfd()


# -- the process group, from /proc ---------------------------------------------------------
def group_members(pgid: int, proc: str | os.PathLike[str] = "/proc") -> list[int]:
    """Pids of the live (not zombie) processes in process group `pgid`. [] without /proc."""
    members: list[int] = []
    try:
        entries = [p for p in Path(proc).iterdir() if p.name.isdigit()]
    except OSError:
        return members
    for p in entries:
        try:
            after = (p / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if after[0] not in ("Z", "X") and int(after[2]) == pgid:  # after comm: state, ppid, pgrp
            members.append(int(p.name))
    return members


# -- kernel side: die with the parent --------------------------------------------------------
PR_SET_PDEATHSIG = 1


def _set_pdeathsig(sig: int) -> bool:
    """Linux: the kernel gets `sig` when the thread that forked it exits."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def watch_parent(expected_ppid: int | None = None, *, poll_s: float = 0.2,
                 on_orphan: Callable[[], None] | None = None) -> bool:
    """Make this process die within ~`poll_s` of its parent, even while its main thread is
    inside XLA: PR_SET_PDEATHSIG(SIGKILL) on Linux, plus a daemon thread that polls the
    parent pid (everywhere). `expected_ppid` defaults to PARENT_PID_ENV; a parent already
    gone before the prctl (the race it leaves open) is caught by the first check. Returns
    False when there is no parent to watch. `on_orphan` runs on the thread before the exit
    (default: SIGKILL this process's group, so the run's children go too)."""
    if expected_ppid is None:
        raw = os.environ.get(PARENT_PID_ENV, "")
        if not raw.isdigit():
            return False
        expected_ppid = int(raw)
    _set_pdeathsig(signal.SIGKILL)

    def orphaned() -> None:
        if on_orphan is not None:
            on_orphan()
        with contextlib.suppress(OSError):
            if os.getpgrp() == os.getpid():  # our own group (spawned in a new session): take it along
                os.killpg(os.getpid(), signal.SIGKILL)
        os._exit(129)

    if os.getppid() != expected_ppid:
        orphaned()

    def poll() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != expected_ppid:
                orphaned()

    threading.Thread(target=poll, name="jaxtui-parent-watch", daemon=True).start()
    return True
