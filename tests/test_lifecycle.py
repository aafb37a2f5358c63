"""No kernel outlives its parent, however the parent ends; `jaxtui run`'s signals, exit codes
and what its JSON keeps of a run cut short. Real processes throughout: the parent is a real
`jaxtui run` (or the app in tmux), the kernel finds itself through its pid file."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from conftest import PYTHON, REPO

PY_LOOP = "print('looping', flush=True)\nwhile True:\n    pass\n"
XLA_LOOP = textwrap.dedent("""
    import jax
    from jax import lax
    spin = jax.jit(lambda n: lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 1.0000001), (0, 1.0)))
    jax.block_until_ready(spin(3))  # compiled: what follows is inside XLA at once
    print('spinning', flush=True)
    spin(2_000_000_000)
""")
LOOPS = {"python": PY_LOOP, "xla": XLA_LOOP}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until(predicate, timeout: float, what: str) -> float:
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.01)
    return time.monotonic() - t0


def demo_file(tmp_path: Path, loop: str) -> tuple[Path, Path]:
    """A demo that writes the kernel's pid to a file, then loops (in Python or in XLA)."""
    pidfile = tmp_path / "kernel.pid"
    path = tmp_path / "mine.py"
    path.write_text(f"import os\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\n" + loop)
    return path, pidfile


def started_run(tmp_path: Path, loop: str, *extra: str) -> tuple[subprocess.Popen[str], int]:
    path, pidfile = demo_file(tmp_path, loop)
    proc = subprocess.Popen([PYTHON, "-m", "jaxtui", "run", str(path), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_until(lambda: pidfile.exists() and pidfile.read_text(), 120, "the run to start")
    time.sleep(1.0 if loop is XLA_LOOP else 0.3)  # inside the loop (XLA compiles the while first)
    return proc, int(pidfile.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("loop", sorted(LOOPS))
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=lambda s: signal.Signals(s).name)
def test_the_kernel_dies_within_a_second_of_jaxtui_run(tmp_path, sig, loop):
    """kill -9, SIGTERM (coreutils timeout, a cancelled CI job), SIGHUP (the terminal or the
    SSH session closed) or ctrl+c of `jaxtui run` mid-run: no kernel left, busy in XLA or not;
    the exit status is 128 + the signal, without a traceback."""
    proc, kernel = started_run(tmp_path, LOOPS[loop], "--json")
    assert alive(kernel)
    t0 = time.monotonic()
    proc.send_signal(sig)
    wait_until(lambda: not alive(kernel), 10, "the kernel to die")
    took = time.monotonic() - t0
    out, err = proc.communicate(timeout=30)
    assert took < 1.0, f"the kernel outlived its parent by {took:.2f} s"
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        return
    assert proc.returncode == 128 + sig
    assert "Traceback" not in err
    result = json.loads(out)
    assert result["error"]["kind"] == "interrupted" and result["ok"] is False
    assert result["stdout"] == ("looping\n" if loop == "python" else "spinning\n")


@pytest.mark.slow
@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_a_timeout_keeps_the_printed_output_and_the_line_reached(tmp_path, loop):
    path, _ = demo_file(tmp_path, LOOPS[loop])
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(path), "--json", "--timeout", "4"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 124
    result = json.loads(proc.stdout)
    assert result["error"]["kind"] == "timeout"
    lines = path.read_text().splitlines()
    if loop == "python":
        assert result["stdout"] == "looping\n" and result["error"]["line"] in (lines.index("while True:") + 1,
                                                                           lines.index("    pass") + 1)
    else:
        assert result["stdout"] == "spinning\n"
        assert result["error"]["line"] == lines.index("spin(2_000_000_000)") + 1
        assert "killed" in result["error"]["message"]


def test_a_dead_kernel_keeps_the_printed_output(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("import os, time\nprint('before', flush=True)\ntime.sleep(0.3)\nos._exit(1)\n")
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(path), "--json"], capture_output=True, text=True,
                          timeout=120, check=False)
    result = json.loads(proc.stdout)
    assert proc.returncode == 1 and result["error"]["kind"] == "kernel_died"
    assert result["stdout"] == "before\n"


def test_json_is_strict_nan_and_infinity_are_null(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("from jaxtui import demo\ndemo.plot('loss', [0, 1, 2], [1.0, float('nan'), float('inf')])\n")
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(path), "--json"], capture_output=True, text=True,
                          timeout=120, check=False)

    def refuse(name: str) -> float:
        raise AssertionError(f"not JSON: {name}")

    result = json.loads(proc.stdout, parse_constant=refuse)
    assert proc.returncode == 0
    assert result["plots"][0]["y"] == [1.0, None, None]


# -- the app ------------------------------------------------------------------------------
def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30, check=False).stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.parametrize("loop", sorted(LOOPS))
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_the_kernel_dies_within_a_second_of_the_app(tmp_path, sig, loop):
    """The app in a real terminal (tmux on a private socket), running a loop: kill -9 of the
    app, SIGTERM, or SIGHUP (closing the terminal) leave no kernel behind."""
    path, pidfile = demo_file(tmp_path, LOOPS[loop])
    socket = f"jaxtui-test-{uuid.uuid4().hex[:8]}"
    env = f"JAXTUI_STATE_DIR={tmp_path / 'state'} JAX_PLATFORMS=cpu PYTHONPATH={REPO}"
    tmux(socket, "new-session", "-d", "-x", "100", "-y", "30",
         f"env {env} {PYTHON} -m jaxtui {path}; sleep 30")
    try:
        wait_until(lambda: "ready" in tmux(socket, "capture-pane", "-p"), 120, "the kernel to be ready")
        tmux(socket, "send-keys", "C-r")
        wait_until(lambda: pidfile.exists() and pidfile.read_text(), 60, "the run to start")
        kernel = int(pidfile.read_text())
        time.sleep(1.0 if loop == "xla" else 0.3)
        app = int(Path(f"/proc/{kernel}/stat").read_text().rsplit(")", 1)[1].split()[1])  # its parent
        assert "jaxtui" in Path(f"/proc/{app}/cmdline").read_text()
        t0 = time.monotonic()
        os.kill(app, sig)
        wait_until(lambda: not alive(kernel), 10, "the kernel to die")
        took = time.monotonic() - t0
        assert took < 1.0, f"the kernel outlived the app by {took:.2f} s"
        wait_until(lambda: not alive(app), 10, "the app to exit")
    finally:
        tmux(socket, "kill-server")


def test_nan_guard_helper():
    from jaxtui.cli.run import strict_json

    assert strict_json({"a": [math.nan, -math.inf, 1.5], "b": (math.inf,)}) == {"a": [None, None, 1.5], "b": [None]}
