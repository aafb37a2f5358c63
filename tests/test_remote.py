"""The kernel on another host through ssh, against a real OpenSSH server on 127.0.0.1
(tests/sshd.py): headless runs, timeouts, interrupt and lost connections in the app, a
remote jaxtui of another version, and `jaxtui doctor --remote`'s diagnoses.

Every test checks that no kernel is left on the "remote" host: the processes below the test
sshd, where a TPU VM would keep its TPU locked."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import PYTHON, REPO, output_text, views_built, wait_for
from jaxtui import protocol as P
from jaxtui.core.client import ConnectionLost, KernelClient, KernelConfig
from jaxtui.core.transport import SshTransport

XLA_LOOP = """\
import jax
from jax import lax
f = jax.jit(lambda n: lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 1.0000001), (0, 1.0)))
print("looping", flush=True)
f(2**31 - 1)[1].block_until_ready()
"""


def jaxtui(sshd, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "jaxtui", *args], check=False, capture_output=True, text=True, timeout=timeout,
                          env=sshd.env())


def remote_args(sshd, python: str | None = None) -> list[str]:
    return ["--remote", sshd.host, "--remote-python", python or sshd.remote_python]


def user_file(tmp_path: Path, code: str, name: str = "mine.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


# -- headless ------------------------------------------------------------------------------
@pytest.mark.slow
def test_headless_run_on_the_remote_host_with_its_options(sshd, tmp_path):
    """Code and inputs travel in the protocol; --host-devices and --device apply there."""
    path = user_file(tmp_path, """
        import jax
        from jaxtui import demo
        n = demo.input("n", 3)
        print("devices", jax.device_count(), "n", n, "on", jax.numpy.ones(2).devices())
    """)
    proc = jaxtui(sshd, "run", str(path), "--json", "--host-devices", "3", "--device", "2", "-i", "n=5",
                  *remote_args(sshd))
    result = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert result["ok"] and "devices 3 n 5 on {CpuDevice(id=2)}" in result["stdout"]
    assert result["device"] == "cpu:2"
    sshd.wait_no_kernels(timeout=15)


@pytest.mark.slow
def test_timeout_on_a_runaway_xla_loop_leaves_no_kernel(sshd, tmp_path):
    path = user_file(tmp_path, XLA_LOOP)
    proc = jaxtui(sshd, "run", str(path), "--json", "--timeout", "4", *remote_args(sshd))
    assert proc.returncode == 124, proc.stderr
    result = json.loads(proc.stdout)
    assert result["error"]["kind"] == P.KIND_TIMEOUT and "killed" in result["error"]["message"]
    assert result["error"]["line"] == 5 and result["stdout"] == "looping\n"  # as a local run keeps them
    sshd.wait_no_kernels(timeout=10)


@pytest.mark.slow
def test_a_connection_lost_mid_run_exits_1_with_kind_connection_lost(sshd, tmp_path):
    started = tmp_path / "started"
    path = user_file(tmp_path, f"""
        import pathlib, time
        pathlib.Path({str(started)!r}).write_text("yes")
        while True:
            time.sleep(0.1)
    """)
    run = subprocess.Popen([PYTHON, "-m", "jaxtui", "run", str(path), "--json", *remote_args(sshd)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sshd.env())
    try:
        t0 = time.monotonic()
        while not started.exists():
            assert time.monotonic() - t0 < 120 and run.poll() is None, "the remote run never started"
            time.sleep(0.1)
        ssh = [pid for pid in _children_of(run.pid) if _cmd(pid).startswith("ssh ")]
        assert len(ssh) == 1
        os.kill(ssh[0], signal.SIGKILL)  # what a dropped link does to the ssh client
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 1, err
    error = json.loads(out)["error"]
    assert error["kind"] == P.KIND_CONNECTION_LOST
    assert error["message"] == f"the connection to {sshd.host} was lost: the ssh process was killed (signal 9)"
    sshd.wait_no_kernels(timeout=15)


def _children_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _cmd(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_a_host_ssh_cannot_resolve_exits_3_with_kind_connection(tmp_path):
    env = {**os.environ, "JAXTUI_SSH_COMMAND": "ssh -F /dev/null"}  # no sshd needed: it never connects
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", "grad", "--json", "--remote", "no-such-host.invalid"],
                          check=False, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 3
    error = json.loads(proc.stdout)["error"]
    assert error["kind"] == P.KIND_CONNECTION
    assert "Could not resolve hostname" in error["message"]  # ssh's own words
    assert "ssh does not know the host no-such-host.invalid" in error["message"]
    assert "1. Check the spelling" in error["message"]


@pytest.mark.slow
def test_a_refused_key_says_how_to_set_up_a_key_or_an_agent(sshd):
    proc = jaxtui(sshd, "run", "grad", "--json", "--remote", sshd.nokey_host, "--remote-python", sshd.remote_python)
    assert proc.returncode == 3
    error = json.loads(proc.stdout)["error"]
    assert error["kind"] == P.KIND_CONNECTION and "Permission denied" in error["message"]
    assert "ssh-copy-id" in error["message"] and "ssh-add" in error["message"]


@pytest.mark.slow
def test_a_remote_jaxtui_of_another_protocol_version_is_refused(sshd, tmp_path):
    """The supervisor relays the kernel's own `ready`, so its version reaches the client."""
    other = tmp_path / "other"
    shutil.copytree(REPO / "jaxtui", other / "jaxtui", ignore=shutil.ignore_patterns("__pycache__"))
    protocol = other / "jaxtui" / "protocol.py"
    protocol.write_text(protocol.read_text().replace(f"PROTOCOL_VERSION = {P.PROTOCOL_VERSION}\n",
                                                     "PROTOCOL_VERSION = 99\n"))
    python = sshd.remote_python.replace(f"PYTHONPATH={REPO}", f"PYTHONPATH={other}")
    proc = jaxtui(sshd, "run", "grad", "--json", *remote_args(sshd, python))
    assert proc.returncode == 3, proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["kind"] == P.KIND_VERSION_MISMATCH
    assert "protocol version 99" in error["message"] and f"speaks version {P.PROTOCOL_VERSION}" in error["message"]
    assert f"ssh {sshd.host} env PYTHONPATH={other}" in error["message"]  # how to upgrade, there
    sshd.wait_no_kernels(timeout=15)


# -- the client and the supervisor -----------------------------------------------------------
@pytest.mark.slow
async def test_the_remote_kernel_exits_when_the_client_falls_silent(ssh_env):
    """A laptop asleep closes nothing: a stopped ssh client sends no heartbeat, and the
    supervisor stops the kernel after its silence limit, busy or not."""
    client = KernelClient(KernelConfig(host_devices=1),
                          transport=SshTransport(ssh_env.host, ssh_env.remote_python, silence_limit=3))
    await client.start()
    running = asyncio.create_task(client.request(P.OP_EXEC, {"code": XLA_LOOP, "demo": "loop"}))
    await asyncio.sleep(1)
    assert len(ssh_env.kernels()) == 2  # the supervisor and its worker
    assert client.proc is not None
    os.kill(client.proc.pid, signal.SIGSTOP)
    try:
        await asyncio.to_thread(ssh_env.wait_no_kernels, 30)
    finally:
        os.kill(client.proc.pid, signal.SIGCONT)
    with pytest.raises(ConnectionLost):
        await asyncio.wait_for(running, 30)  # sshd closed the session: the client knows
    assert client.state == "dead" and client.state_info["kind"] == P.KIND_CONNECTION_LOST
    assert "no word from the client for" in client.state_info["error"]  # the supervisor's reason, via ssh
    await client.stop()


@pytest.mark.slow
async def test_heartbeats_are_answered_while_the_kernel_is_busy(ssh_env):
    client = KernelClient(KernelConfig(host_devices=1), transport=SshTransport(ssh_env.host, ssh_env.remote_python))
    try:
        await client.start()
        running = asyncio.create_task(client.request(P.OP_EXEC, {"code": XLA_LOOP, "demo": "loop"}))
        await asyncio.sleep(0.5)
        beat = await asyncio.wait_for(client.request(P.OP_HEARTBEAT, background=True), 10)
        # The supervisor's answer, with the worker's own in-band one: the line it is on, mid-XLA.
        assert beat == {"alive": True, "busy": True, "op": "exec", "line": 5}
        assert await client.interrupt(grace=0.5) == "restarted"
        with pytest.raises(Exception, match="killed and restarted"):
            await running
        assert (await client.request(P.OP_EXEC, {"code": "print(6 * 7)", "demo": "x"}))["stdout"] == "42\n"
    finally:
        await client.stop()
    await asyncio.to_thread(ssh_env.wait_no_kernels, 15)


def test_the_supervisor_stops_its_kernel_on_sighup():
    """What sshd does to a session whose connection it closed, without ssh: a busy worker too."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    sup = subprocess.Popen([PYTHON, "-m", "jaxtui.kernel", "--supervise", "--host-devices", "1"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        assert sup.stdout is not None and sup.stdin is not None
        ready = json.loads(sup.stdout.readline())
        worker = ready["data"]["pid"]
        sup.stdin.write(P.encode(P.Request(1, P.OP_EXEC, {"code": XLA_LOOP, "demo": "loop"})))
        sup.stdin.flush()
        assert json.loads(sup.stdout.readline())["data"]["text"] == "looping\n"
        sup.send_signal(signal.SIGHUP)
        assert sup.wait(timeout=15) == 128 + signal.SIGHUP
        _wait_gone(worker)
    finally:
        sup.kill()


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    t0 = time.monotonic()
    while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid):
        assert time.monotonic() - t0 < timeout, f"process {pid} is still running"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


# -- the app -------------------------------------------------------------------------------
def _remote_app(sshd, **kwargs):
    from jaxtui.ui.app import JaxTUI

    return JaxTUI(kernel_config=KernelConfig(host_devices=2), cursor_blink=False,
                  transport=SshTransport(sshd.host, sshd.remote_python), **kwargs)


async def _set_code(pilot, code: str) -> None:
    editor = pilot.app.current_pane.editor
    editor.text = code
    await pilot.pause()


@pytest.mark.slow
async def test_interrupt_in_the_app_stops_xla_on_the_remote_host(ssh_env):
    app = _remote_app(ssh_env, initial_pane="jit")
    async with app.run_test(size=(120, 40)) as pilot:
        await views_built(pilot)
        await wait_for(pilot, lambda: app.kernel.state == "ready", 120, "the remote kernel")
        status = str(app.query_one("#status").render())
        assert f"kernel on {ssh_env.host} ready" in status
        first_worker = app.kernel.info["pid"]
        await _set_code(pilot, XLA_LOOP)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "looping" in output_text(app), 60, "the loop to start")
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: "Interrupted" in output_text(app), 60, "the interrupt")
        await wait_for(pilot, lambda: app.kernel.state == "ready", 60, "the restarted kernel")
        assert app.kernel.info["pid"] != first_worker  # killed and restarted on the remote host
        assert app.current_pane.editor.text == XLA_LOOP
        await _set_code(pilot, "print('after', 6 * 7)")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "after 42" in output_text(app), 60, "a run after the interrupt")
    await asyncio.to_thread(ssh_env.wait_no_kernels, 15)


@pytest.mark.slow
async def test_a_killed_ssh_client_is_a_lost_connection_edits_stay_and_ctrl_t_reconnects(ssh_env):
    app = _remote_app(ssh_env, initial_pane="grad")
    async with app.run_test(size=(120, 40)) as pilot:
        await views_built(pilot)
        await wait_for(pilot, lambda: app.kernel.state == "ready", 120, "the remote kernel")
        edited = "import time\nprint('working', flush=True)\nwhile True:\n    time.sleep(0.1)\n"
        await _set_code(pilot, edited)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "working" in output_text(app), 60, "the run to start")
        assert app.kernel.proc is not None
        os.kill(app.kernel.proc.pid, signal.SIGKILL)  # the ssh client, as a dropped link kills it
        await wait_for(pilot, lambda: "was lost" in output_text(app), 30, "the lost connection")
        assert f"The connection to {ssh_env.host} was lost" in output_text(app)
        assert "ctrl+t reconnects" in output_text(app)
        assert "connection lost" in str(app.query_one("#status").render())
        assert app.current_pane.editor.text == edited
        # The remote side saw the connection close: no kernel is left running there.
        await asyncio.to_thread(ssh_env.wait_no_kernels, 15)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: app.kernel.state == "ready", 120, "the reconnected kernel")
        assert app.current_pane.editor.text == edited
    await asyncio.to_thread(ssh_env.wait_no_kernels, 15)


# -- doctor --remote -----------------------------------------------------------------------
def _doctor(sshd, *args: str) -> tuple[dict, int, str]:
    proc = jaxtui(sshd, "doctor", "--budget", "0.02", *args)
    return (json.loads(proc.stdout) if "--json" in args else {}), proc.returncode, proc.stdout


def _codes(report: dict) -> list[str]:
    return [p["code"] for p in report["problems"]]


def test_doctor_names_an_unknown_host_with_fixes(tmp_path):
    env = {**os.environ, "JAXTUI_SSH_COMMAND": "ssh -F /dev/null"}
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "doctor", "--remote", "no-such-host.invalid"],
                          check=False, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 3
    assert "not reachable over ssh" in proc.stdout
    assert "ssh does not know the host no-such-host.invalid" in proc.stdout and "1. Check the spelling" in proc.stdout


@pytest.mark.slow
def test_doctor_finds_no_python_and_no_jaxtui_on_the_host(sshd):
    report, status, _ = _doctor(sshd, "--json", *remote_args(sshd, "/no/such/python3"))
    assert status == 3 and report["remote"]["reachable"] and _codes(report) == ["remote-python"]
    assert "--remote-python" in " ".join(report["problems"][0]["fix"])
    bare = f"{Path(sys.base_prefix) / 'bin' / 'python3'} -I"  # isolated: no PYTHONPATH, no jaxtui
    report, status, text = _doctor(sshd, *remote_args(sshd, bare))
    assert status == 3 and "jaxtui is not installed" in text and "No module named 'jaxtui'" in text
    assert "1. Install it there: ssh jaxtui-test-host" in text


@pytest.mark.slow
def test_doctor_reports_the_remote_host_devices_and_versions(sshd):
    report, status, _ = _doctor(sshd, "--json", "--host-devices", "2", *remote_args(sshd))
    assert status == 0, report["problems"]
    remote = report["remote"]
    assert remote["reachable"] and remote["jaxtui"] and remote["jax"] and remote["protocol"] == P.PROTOCOL_VERSION
    assert [d["id"] for d in report["devices"]] == [0, 1] and all(row["ok"] for row in report["smoke"])
    assert "hardware" in report  # the remote host's own survey (TPU owner and lock files on a TPU VM)
    sshd.wait_no_kernels(timeout=15)
