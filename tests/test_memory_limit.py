"""`--memory-limit`: the kernel's resident memory (its whole process tree, from /proc) is
watched and the kernel stopped past the limit, headless (`error.kind` "out_of_memory", exit 1)
and in the app; on a GPU, XLA's memory fraction follows the limit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import output_text, wait_for
from jaxtui.core.memory_watch import (
    BadSize,
    device_env,
    parse_size,
    tree_rss,
)
from jaxtui.ladder import group_members

# Fills memory 50 MiB at a time up to 3 GiB: far past the limits below, slowly enough that
# the watch stops it near the limit (it never gets near 3 GiB on the test machine).
HOG = textwrap.dedent('''\
    """# hog

    Allocates 50 MiB at a time."""
    import time

    import numpy as np

    chunks = []
    for i in range(60):
        chunks.append(np.ones(50 * 2**20 // 8))
        time.sleep(0.05)
    print("survived", len(chunks))
    ''')
LIMIT = "700M"


def test_sizes_parse_in_binary_units():
    assert parse_size("700M") == 700 << 20 and parse_size("4g") == 4 << 30
    assert parse_size("1.5GiB") == 3 << 29 and parse_size("800MB") == 800 << 20
    assert parse_size("123456") == 123456
    for bad in ("", "lots", "-1G", "0", "4X"):
        with pytest.raises(BadSize):
            parse_size(bad)


def test_a_bad_limit_is_a_usage_error():
    done = subprocess.run([sys.executable, "-m", "jaxtui", "run", "grad", "--memory-limit", "lots"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "not a size: 'lots'" in done.stderr


def test_on_a_gpu_xla_gets_the_matching_fraction():
    gib = 1 << 30
    assert device_env(20 * gib, {}, totals=[80 * gib]) == {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.250"}
    assert device_env(20 * gib, {}, totals=[40 * gib, 80 * gib]) == {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.250"}
    assert device_env(200 * gib, {}, totals=[80 * gib]) == {"XLA_PYTHON_CLIENT_MEM_FRACTION": "1.000"}
    assert device_env(20 * gib, {}, totals=[]) == {}  # no GPU
    # the user's own fraction wins (jaxlib refuses both names set at once)
    assert device_env(20 * gib, {"XLA_CLIENT_MEM_FRACTION": ".5"}, totals=[80 * gib]) == {}
    assert device_env(20 * gib, {"XLA_PYTHON_CLIENT_MEM_FRACTION": ".5"}, totals=[80 * gib]) == {}


def test_the_tree_counts_children_the_code_starts():
    """A leader that starts a child holding 200 MiB: the child is in the group and its RSS counts."""
    child = "import time; x = bytearray(200 * 2**20); time.sleep(60)"
    leader = (f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); "
              "print('ok', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", leader], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "ok"
        deadline = time.monotonic() + 30
        while True:
            members = group_members(proc.pid)
            rss = tree_rss(proc.pid, members)
            if len(members) == 2 and rss is not None and rss > 200 << 20:
                break
            assert time.monotonic() < deadline, (members, rss)
            time.sleep(0.1)
        assert proc.pid in members
    finally:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert tree_rss(proc.pid, members) is None  # gone: the watch ends


@pytest.mark.slow
def test_headless_run_past_the_limit_is_out_of_memory(tmp_path):
    path = tmp_path / "hog.py"
    path.write_text(HOG)
    done = subprocess.run([sys.executable, "-m", "jaxtui", "run", str(path), "--json", "--memory-limit", LIMIT],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is False and result["error"]["kind"] == "out_of_memory"
    assert "--memory-limit 700 MiB" in result["error"]["message"]
    assert "survived" not in result["stdout"]


@pytest.mark.slow
def test_a_run_within_the_limit_is_untouched():
    done = subprocess.run([sys.executable, "-m", "jaxtui", "run", "grad", "--json", "--memory-limit", "4G"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.slow
async def test_the_app_says_out_of_memory_and_starts_a_fresh_kernel(tmp_path):
    from jaxtui.core.catalog import load
    from jaxtui.core.client import KernelConfig
    from jaxtui.ui.app import JaxTUI

    path = tmp_path / "hog.py"
    path.write_text(HOG)
    app = JaxTUI(kernel_config=KernelConfig(memory_limit=parse_size(LIMIT)), user_demo=load(path),
                 initial_pane="hog", cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready", 120, "the kernel")
        first = app.kernel.proc.pid
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "Out of memory" in output_text(app), 120, "the out-of-memory message")
        assert "--memory-limit 700 MiB" in output_text(app) and "survived" not in output_text(app)
        await wait_for(pilot, lambda: app.kernel.state == "ready" and app.kernel.proc.pid != first, 120,
                       "a fresh kernel")
