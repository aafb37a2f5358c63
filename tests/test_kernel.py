"""The kernel process through its client: run, stream, interrupt, kill, bad messages."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from conftest import running_kernel
from jaxtui import protocol as P
from jaxtui.core.client import KernelClient, KernelConfig, KernelDied, KernelStartError

LONG_XLA_LOOP = """
import jax
from jax import lax
@jax.jit
def spin(n):
    return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 1.0000001), (0, 1.0))
print("spinning", flush=True)
spin(2_000_000_000)
"""


async def _exec(client: KernelClient, code: str, **kw):
    return await client.request(P.OP_EXEC, {"code": code, "filename": "/tmp/user_code.py", "demo": "t"}, **kw)


async def test_kernel_reports_ready_with_devices_and_runs_code():
    async with running_kernel(KernelConfig(host_devices=4)) as client:
        info = client.info
        assert info["platform"] == "cpu" and info["device_count"] == 4
        assert info["jax"] and info["pid"] > 0
        events = []
        code = "import jax.numpy as jnp\nfor i in range(3): print('line', i)\njnp.arange(4.0) * 2"
        result = await _exec(client, code, on_event=events.append)
        assert result["ok"] and result["stdout"] == "line 0\nline 1\nline 2\n"
        assert "".join(e.data["text"] for e in events if e.kind == P.EV_STREAM) == result["stdout"]
        out = result["values"][0]
        assert out["shape"] == [4] and out["dtype"] == "float32"
        assert "f32[4] on cpu:0" in out["text"] and "[0 2 4 6]" in out["text"].replace(".", "")
        # each run is a fresh namespace, like running a script
        again = await _exec(client, "print('i' in dir())")
        assert again["stdout"] == "False\n"


async def test_debug_print_is_captured():
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        result = await _exec(client, "import jax, jax.numpy as jnp\n"
                                     "@jax.jit\ndef f(x):\n    jax.debug.print('x={x}', x=x)\n    return x * 2\n"
                                     "f(jnp.arange(3.0))")
        assert "x=[0. 1. 2.]" in result["stdout"]


async def test_sigint_interrupts_python_code_and_kernel_survives():
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        pid = client.info["pid"]
        task = asyncio.create_task(_exec(client, "print('start', flush=True)\nwhile True: pass"))
        await asyncio.sleep(0.5)
        assert await client.interrupt() == "interrupted"
        result = await task
        assert not result["ok"] and result["error"]["kind"] == "interrupted"
        assert result["error"]["line"] == 2  # the loop's line
        assert (await _exec(client, "print(1 + 1)"))["stdout"] == "2\n"
        assert client.info["pid"] == pid  # same kernel: nothing was restarted


async def test_running_xla_is_killed_and_the_kernel_restarts():
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        old_pid = client.info["pid"]
        streamed = asyncio.Event()
        task = asyncio.create_task(_exec(client, LONG_XLA_LOOP,
                                         on_event=lambda e: streamed.set() if e.kind == P.EV_STREAM else None))
        await asyncio.wait_for(streamed.wait(), 30)
        await asyncio.sleep(0.3)  # now inside XLA, where SIGINT cannot reach
        assert await client.interrupt(grace=1.0) == "restarted"
        with pytest.raises(KernelDied):
            await task
        assert client.state == "ready" and client.info["pid"] != old_pid
        assert (await _exec(client, "print('fresh')"))["stdout"] == "fresh\n"


async def test_code_that_kills_the_kernel_fails_the_request_not_the_client():
    states = []
    async with running_kernel(KernelConfig(host_devices=1), on_state=lambda s, i: states.append(s)) as client:
        with pytest.raises(KernelDied) as info:
            await _exec(client, "import os\nos._exit(7)")
        assert info.value.returncode == 7
        assert states[-1] == "dead"
        await client.restart()
        assert (await _exec(client, "print('back')"))["stdout"] == "back\n"


async def test_malformed_line_gets_an_error_and_the_kernel_carries_on():
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        assert client.proc and client.proc.stdin
        client.proc.stdin.write(b"this is not json\n")
        await client.proc.stdin.drain()
        assert (await client.request(P.OP_PING))["pong"] is True


async def test_a_kernel_that_cannot_start_says_why():
    client = KernelClient(KernelConfig(platform="tpu", host_devices=1))
    try:
        with pytest.raises(KernelStartError, match=r"(?i)tpu"):
            await client.start()
        assert client.state == "dead"
    finally:
        await client.stop()


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="unknown platform"):
        KernelConfig(platform="quantum").validate()
    with pytest.raises(ValueError, match="between 1 and"):
        KernelConfig(host_devices=0).validate()
    with pytest.raises(ValueError, match="between 1 and"):
        KernelConfig(host_devices=100000).validate()
    env = KernelConfig(host_devices=3).env({"XLA_FLAGS": "--xla_force_host_platform_device_count=9 --foo"})
    assert env["XLA_FLAGS"] == "--foo --xla_force_host_platform_device_count=3"
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"


async def test_a_kernel_of_another_protocol_version_is_refused_at_once(tmp_path, monkeypatch):
    """A jaxtui of another release as the kernel: start() fails at once, naming both versions
    and how to upgrade (it used to wait for a `ready` it could not read, for ever)."""
    import re
    import shutil
    import time
    from pathlib import Path

    import jaxtui

    other = tmp_path / "jaxtui"
    shutil.copytree(Path(jaxtui.__file__).parent, other, ignore=shutil.ignore_patterns("__pycache__", "ui"))
    proto = other / "protocol.py"
    proto.write_text(re.sub(r"PROTOCOL_VERSION = \d+", "PROTOCOL_VERSION = 99", proto.read_text()))
    monkeypatch.chdir(tmp_path)  # `python -m` puts the working directory first on sys.path
    client = KernelClient(KernelConfig(host_devices=1, extra_env={"PYTHONPATH": str(tmp_path)}))
    t0 = time.monotonic()
    try:
        with pytest.raises(KernelStartError) as info:
            await asyncio.wait_for(client.start(), 60)
        text = str(info.value)
        assert "protocol version 99" in text and f"version {P.PROTOCOL_VERSION}" in text
        assert "pip install" in text
        assert client.state == "dead" and client.state_info["kind"] == P.KIND_VERSION_MISMATCH
        assert not client.alive
        assert time.monotonic() - t0 < 30
    finally:
        await client.stop()


# -- lifecycle (issue 13) -----------------------------------------------------------------
ASYNC_DISPATCHED_WORK = """
import jax, jax.numpy as jnp
from jax import lax
f = jax.jit(lambda m: lax.fori_loop(0, 1_000_000, lambda i, a: jnp.tanh(a @ a), m))
x = jnp.ones((256, 256)) * 0.001
compiled = f.lower(x).compile()
print("computing", flush=True)
compiled(x).block_until_ready()
"""


async def test_ctrl_c_on_jitted_work_restarts_a_kernel_that_xla_keeps_busy():
    """SIGINT stops only the Python wait in `f(x).block_until_ready()`: XLA computes on and the
    next run waited for it (a minute and more). The interrupt now finds the device still busy
    and restarts the kernel, so a trivial run right after is done in seconds."""
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        old_pid = client.info["pid"]
        streamed = asyncio.Event()
        task = asyncio.create_task(_exec(client, ASYNC_DISPATCHED_WORK,
                                         on_event=lambda e: streamed.set() if e.kind == P.EV_STREAM else None))
        await asyncio.wait_for(streamed.wait(), 60)
        await asyncio.sleep(0.3)
        assert await client.interrupt() == "restarted"
        assert (await task)["error"]["kind"] == "interrupted"  # it answered; XLA computed on
        assert client.info["pid"] != old_pid
        result = await asyncio.wait_for(_exec(client, "import jax.numpy as jnp\nprint(jnp.arange(3).sum())"), 30)
        assert result["stdout"] == "3\n"


async def test_heartbeat_is_answered_mid_xla_with_the_line_reached():
    """Requests are read on their own thread: a heartbeat is answered while the main thread
    is inside XLA, and says which line of the user's code it is on."""
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        streamed = asyncio.Event()
        task = asyncio.create_task(_exec(client, LONG_XLA_LOOP,
                                         on_event=lambda e: streamed.set() if e.kind == P.EV_STREAM else None))
        await asyncio.wait_for(streamed.wait(), 30)
        await asyncio.sleep(0.3)
        beat = await client.request(P.OP_HEARTBEAT, background=True, timeout=5)
        assert beat["alive"] and beat["busy"] and beat["op"] == P.OP_EXEC
        assert beat["line"] == LONG_XLA_LOOP.splitlines().index("spin(2_000_000_000)") + 1
        assert await client.interrupt(restart=False) == "killed"
        with pytest.raises(KernelDied):
            await task
        assert not client.alive


async def test_input_fails_at_once_at_its_line_and_the_protocol_is_untouched():
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        result = await asyncio.wait_for(_exec(client, "x = 1\nname = input('name? ')\nprint(name)\n"), 20)
        error = result["error"]
        assert error["type"] == "RuntimeError" and error["line"] == 2
        assert "demo.input" in error["message"] and "stdin is not available" in error["message"]
        # sys.stdin's other reads fail the same way; a child process reads /dev/null
        result = await _exec(client, "import subprocess, sys\n"
                                     "print(repr(subprocess.run(['cat'], capture_output=True, timeout=10).stdout))\n"
                                     "sys.stdin.read()\n")
        assert result["stdout"] == "b''\n" and "demo.input" in result["error"]["message"]
        assert (await client.request(P.OP_PING))["pong"] is True  # the next request got through


DETACHED_GRANDCHILD = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
print("detached", flush=True)
"""


async def test_a_detached_grandchild_blocks_neither_death_detection_nor_quit():
    """A grandchild in its own session inherits the kernel's stderr and keeps it open;
    the client waits on the kernel's pid, not on its pipes."""
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        await _exec(client, DETACHED_GRANDCHILD)
        t0 = time.monotonic()
        with pytest.raises(KernelDied, match="status 3"):
            await asyncio.wait_for(_exec(client, "import os\nos._exit(3)"), 30)
        assert time.monotonic() - t0 < 5  # was 40 s and more
        await client.start()
        await _exec(client, DETACHED_GRANDCHILD)
        t0 = time.monotonic()
        assert await client.shutdown() in ("exited", "terminated")
        assert time.monotonic() - t0 < 1.0


async def test_quit_asks_an_idle_kernel_then_terminates_a_busy_one_within_half_a_second():
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        t0 = time.monotonic()
        assert await client.shutdown() == "exited"  # the `shutdown` op: it released the device
        assert time.monotonic() - t0 < 0.6
        await client.start()
        streamed = asyncio.Event()
        task = asyncio.create_task(_exec(client, "print('looping', flush=True)\nwhile True: pass\n",
                                         on_event=lambda e: streamed.set()))
        await asyncio.wait_for(streamed.wait(), 30)
        t0 = time.monotonic()
        assert await client.shutdown() in ("terminated", "killed")  # SIGTERM ends a Python loop
        assert time.monotonic() - t0 < 0.6
        with pytest.raises(KernelDied):
            await task


async def test_an_interrupted_run_takes_its_child_processes_along():
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        streamed = asyncio.Event()
        code = ("import subprocess, sys, time\n"
                "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
                "print(c.pid, flush=True)\n"
                "while True: time.sleep(0.01)\n")
        pids: list[int] = []
        task = asyncio.create_task(_exec(client, code, on_event=lambda e: (
            pids.append(int(e.data["text"].split()[0])), streamed.set()) if e.kind == P.EV_STREAM and not pids
            else None))
        await asyncio.wait_for(streamed.wait(), 30)
        assert await client.interrupt(grace=5) == "interrupted"  # a loaded machine: the gentle path
        await task
        t0 = time.monotonic()
        stat = Path(f"/proc/{pids[0]}/stat")
        while stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() - t0 < 5, "the run's child outlived the interrupt"
            await asyncio.sleep(0.05)
