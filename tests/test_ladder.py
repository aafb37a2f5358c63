"""The process ladder (jaxtui/ladder.py) on plain Python children: no JAX, so quick."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

from conftest import PYTHON
from jaxtui import ladder


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


async def wait_gone(pid: int, timeout: float = 10.0) -> float:
    t0 = time.monotonic()
    while pid_alive(pid):
        assert time.monotonic() - t0 < timeout, f"pid {pid} still alive"
        await asyncio.sleep(0.02)
    return time.monotonic() - t0


def child(code: str) -> list[str]:
    return [PYTHON, "-c", textwrap.dedent(code)]


async def read_pid(proc: ladder.KernelProcess) -> int:
    assert proc.stdout is not None
    return int((await asyncio.wait_for(proc.stdout.readline(), 30)).decode())


DETACHED = """
    import subprocess, sys, time
    g = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    print(g.pid, flush=True)
    time.sleep(60)
"""


async def test_kill_waits_on_the_pid_not_on_a_detached_grandchilds_pipes():
    """A grandchild in its own session keeps the kernel's stderr open; killing the kernel
    must not wait for it (asyncio's proc.wait() on Python 3.11 waits for every pipe)."""
    proc = await ladder.KernelProcess.spawn(child(DETACHED))
    grandchild = await read_pid(proc)
    try:
        t0 = time.monotonic()
        assert await proc.kill() == -signal.SIGKILL
        assert time.monotonic() - t0 < 2
        assert not proc.alive and pid_alive(grandchild)  # its own session: the user's business
        assert proc.stderr is not None and await asyncio.wait_for(proc.stderr.read(), 2) == b""
    finally:
        os.kill(grandchild, signal.SIGKILL)


async def test_interrupt_kills_the_runs_children_in_the_group_and_keeps_the_kernel():
    code = """
        import signal, subprocess, sys, time
        signal.signal(signal.SIGINT, lambda *a: print("interrupted", flush=True))
        c = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(c.pid, flush=True)
        time.sleep(60)
    """
    proc = await ladder.KernelProcess.spawn(child(code))
    try:
        grandchild = await read_pid(proc)
        assert proc.stdout is not None

        async def settled() -> bool:
            return await proc.stdout.readline() == b"interrupted\n"

        assert await proc.interrupt(settled, grace=10) == ladder.INTERRUPTED
        assert proc.alive
        await wait_gone(grandchild, 5)
    finally:
        await proc.kill()


async def test_interrupt_that_does_not_settle_kills_the_group_and_respawns():
    proc = await ladder.KernelProcess.spawn(child("""
        import signal, os, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as XLA: SIGINT changes nothing
        print(os.getpid(), flush=True)
        time.sleep(60)
    """))
    first = await read_pid(proc)

    async def never() -> bool:
        await asyncio.sleep(60)
        return True

    t0 = time.monotonic()
    assert await proc.interrupt(never, grace=0.3) == ladder.KILLED
    assert time.monotonic() - t0 < 3 and not pid_alive(first)
    again = await proc.respawn()
    try:
        assert await read_pid(again) != first and again.alive
    finally:
        await again.kill()


async def test_shutdown_ladder_asks_then_terminates_then_kills_within_the_budget():
    polite = await ladder.KernelProcess.spawn(child("""
        import sys
        sys.stdin.readline()  # the `shutdown` op
    """))

    async def ask() -> None:
        assert polite.stdin is not None
        polite.stdin.write(b"shutdown\n")
        await polite.stdin.drain()

    assert await polite.shutdown(ask, budget=5) == ladder.EXITED
    assert polite.returncode == 0

    terminated = await ladder.KernelProcess.spawn(child("import time\nprint(1, flush=True)\ntime.sleep(60)"))
    await read_pid(terminated)
    assert await terminated.shutdown(None, budget=5) == ladder.TERMINATED

    stubborn = await ladder.KernelProcess.spawn(child("""
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print(1, flush=True)
        time.sleep(60)
    """))
    await read_pid(stubborn)
    t0 = time.monotonic()
    assert await stubborn.shutdown(None, budget=0.5) == ladder.KILLED
    assert time.monotonic() - t0 < 1.5 and stubborn.killed


def test_watch_parent_kills_the_child_within_a_second_of_its_parent():
    """A parent that spawns a child watching it, then is SIGKILLed: the child goes too."""
    parent = subprocess.Popen([PYTHON, "-c", textwrap.dedent("""
        import os, subprocess, sys, time
        code = ("from jaxtui import ladder\\n"
                "import os, time\\n"
                "ladder.watch_parent(int(os.environ['EXPECT']))\\n"
                "print(os.getpid(), flush=True)\\n"
                "while True: pass\\n")  # busy, as a kernel inside XLA
        env = {**os.environ, "EXPECT": str(os.getpid())}
        c = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE)
        print(c.stdout.readline().decode().strip(), flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert parent.stdout is not None
    kid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    t0 = time.monotonic()
    while pid_alive(kid):
        assert time.monotonic() - t0 < 5, "the child outlived its parent"
        time.sleep(0.01)
    assert sys.platform != "linux" or time.monotonic() - t0 < 1.0
