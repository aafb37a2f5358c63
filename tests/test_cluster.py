"""Several kernels joined into one JAX cluster (core/cluster.py), on the real runtime:
`jax.distributed` on 127.0.0.1, gloo collectives, 2 CPU devices per process.

A global sum that agrees everywhere, a run that diverges on purpose and ends by itself naming
the stuck processes, a process that dies mid-run, a timeout, ctrl+c, the cluster's interrupt
and restart, and `--remote h1,h2` through the test sshd. Every test checks that no kernel of
its cluster is left running (/proc, by a mark in the kernels' environment)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from conftest import PYTHON, REPO
from jaxtui import protocol as P
from jaxtui.core.client import KernelConfig, KernelDied
from jaxtui.core.cluster import ClusterRunEnded, ClusterSpec, KernelCluster

MARK = "JAXTUI_TEST_CLUSTER"  # in every kernel's environment: how a test finds what it started
USUAL_KEYS = {"demo", "ok", "device", "platform", "stdout", "error", "values", "timings", "inspections",
              "corrections", "plots", "compiles", "inputs", "elapsed_s", "jaxpr", "stablehlo", "hlo", "cost",
              "memory"}

GLOBAL_ARRAY = """\
import numpy as np
import jax, jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec as P
mesh = jax.make_mesh((jax.device_count(),), ("i",))
x = jax.make_array_from_process_local_data(
    NamedSharding(mesh, P("i")), np.ones((jax.local_device_count(),), np.float32) * (jax.process_index() + 1))
print("first sum", float(jax.jit(jnp.sum)(x)), flush=True)
"""


def kernels(mark: str) -> list[int]:
    """Live processes whose environment carries `mark`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"{MARK}={mark}".encode() in environ and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def assert_none_left(mark: str, timeout: float = 10.0) -> None:
    t0 = time.monotonic()
    while kernels(mark):
        assert time.monotonic() - t0 < timeout, f"kernels left running: {kernels(mark)}"
        time.sleep(0.1)


def jaxtui_run(mark: str, *args: str, timeout: float = 240) -> tuple[int, dict]:
    env = {**os.environ, MARK: mark}
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", *args, "--json"], check=False, capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=REPO)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def user_file(tmp_path: Path, code: str) -> str:
    path = tmp_path / "mine.py"
    path.write_text(textwrap.dedent(code))
    return str(path)


@pytest.mark.slow
def test_a_global_sum_agrees_on_every_process_and_the_json_has_each_process(tmp_path):
    status, result = jaxtui_run(str(tmp_path), "multihost", "--processes", "2")
    assert status == 0, result["error"]
    assert set(result) >= USUAL_KEYS and result["ok"] is True and result["error"] is None
    assert result["process_count"] == 2 and [p["process_index"] for p in result["processes"]] == [0, 1]
    sums = set()
    for part in result["processes"]:
        assert set(part) >= USUAL_KEYS and part["ok"] is True and part["error"] is None
        line = next(x for x in part["stdout"].splitlines() if x.startswith("sum over the whole cluster:"))
        sums.add(line)
        assert "collectives in the compiled HLO: all-reduce" in part["stdout"]
        assert "process_allgather: a numpy (8, 4) here, first column by row owner: [0, 1]" in part["stdout"]
    assert sums == {"sum over the whole cluster: 1840.0"}  # the same sum, computed in both processes
    assert result["stdout"] == result["processes"][0]["stdout"]  # the top level is process 0's
    # The sharding record: the global shape, this process's own shards, not fully addressable.
    x0, x1 = (next(v for v in p["values"] if v["type"] == "sharding") for p in result["processes"])
    assert x0["global_shape"] == x1["global_shape"] == [8, 4]
    assert x0["fully_addressable"] is False and x1["fully_addressable"] is False
    assert [s["device_id"] for s in x0["shards"]] == [0, 1] and [s["index"] for s in x0["shards"]] == ["[0:2, :]",
                                                                                                        "[2:4, :]"]
    assert [s["device_id"] for s in x1["shards"]] == [2048, 2049] and x1["shards"][0]["process_index"] == 1
    assert [d["process_index"] for d in x0["devices"]] == [0, 0, 1, 1]
    assert_none_left(str(tmp_path))


@pytest.mark.slow
def test_a_diverged_run_ends_by_itself_naming_the_stuck_processes(tmp_path):
    t0 = time.monotonic()
    status, result = jaxtui_run(str(tmp_path), "multihost", "--processes", "3", "--input", "diverge=1",
                                "--stuck-after", "2")
    assert status == 1 and result["ok"] is False
    message = ("processes 0 and 1 still running 2 s after process 2 finished: they probably wait in a "
               "collective process 2 never entered")
    assert result["error"]["kind"] == "stuck" and result["error"]["message"].startswith(message)
    kinds = [(p["error"] or {}).get("kind") for p in result["processes"]]
    assert kinds == ["stuck", "stuck", None]
    assert "process 2 skips the second sum" in result["processes"][2]["stdout"]
    assert "sum over the whole cluster" in result["processes"][0]["stdout"]  # what it printed is kept
    assert time.monotonic() - t0 < 120  # it ended by itself: gloo alone would wait for ever
    assert_none_left(str(tmp_path))


@pytest.mark.slow
def test_a_process_that_dies_mid_run_stops_the_others_and_is_reported(tmp_path):
    code = GLOBAL_ARRAY + textwrap.dedent("""\
        import os
        if jax.process_index() == 1:
            os._exit(7)
        print("second sum", float(jax.jit(jnp.sum)(x * 2)), flush=True)
        """)
    status, result = jaxtui_run(str(tmp_path), user_file(tmp_path, code), "--processes", "3", "--stuck-after", "3")
    assert status == 1 and result["ok"] is False
    assert result["error"]["kind"] == "peer_died"
    assert result["error"]["message"].startswith("process 1 died")
    died = result["processes"][1]["error"]
    assert died["kind"] == "kernel_died" and "exited with status 7" in died["message"]
    assert "[Gloo]" not in died["message"]  # gloo's connection chatter is not the reason
    for i in (0, 2):  # stuck in the all-reduce, or failed in it (gloo: connection closed by peer)
        assert result["processes"][i]["error"]["kind"] == "peer_died"
        assert "first sum 12.0" in result["processes"][i]["stdout"]  # 2 devices x (1 + 2 + 3)
    assert_none_left(str(tmp_path))


@pytest.mark.slow
def test_timeout_applies_to_the_whole_cluster(tmp_path):
    code = "import time, jax\nprint('start', jax.process_index(), flush=True)\ntime.sleep(120)\n"
    status, result = jaxtui_run(str(tmp_path), user_file(tmp_path, code), "--processes", "2", "--timeout", "4")
    assert status == 124 and result["error"]["kind"] == "timeout"
    assert [(p["process_index"], p["error"]["kind"], p["stdout"]) for p in result["processes"]] == [
        (0, "timeout", "start 0\n"), (1, "timeout", "start 1\n")]
    assert_none_left(str(tmp_path))


@pytest.mark.slow
def test_ctrl_c_stops_every_process_of_the_cluster(tmp_path):
    code = "import time, jax\nprint('start', flush=True)\ntime.sleep(120)\n"
    env = {**os.environ, MARK: str(tmp_path)}
    run = subprocess.Popen([PYTHON, "-m", "jaxtui", "run", user_file(tmp_path, code), "--processes", "2", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        t0 = time.monotonic()
        # Both kernels up and in the run (their "start" is not shown before the end: wait on /proc).
        while len(kernels(str(tmp_path))) < 2:
            assert time.monotonic() - t0 < 120, run.stderr
            time.sleep(0.2)
        time.sleep(8)  # through jax.distributed's start and into the sleep, even on a loaded machine
        run.send_signal(signal.SIGINT)
        out, _ = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130
    result = json.loads(out)
    assert result["error"]["kind"] == "interrupted" and len(result["processes"]) == 2
    assert_none_left(str(tmp_path))


def test_cluster_options_that_do_not_go_together_are_usage_errors():
    for args in (["--processes", "2", "--remote", "a,b"], ["--coordinator", "h:1"],
                 ["--processes", "2", "--coordinator", "nonsense"], ["--processes", "2", "--device", "1"]):
        proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", "grad", "--json", *args], check=False,
                              capture_output=True, text=True, timeout=60, cwd=REPO)
        assert proc.returncode == 2, (args, proc.stderr)
        assert json.loads(proc.stdout)["error"]["kind"] == "usage"


# -- the cluster as the app drives it ----------------------------------------------------------
SLEEP_IN_PYTHON = "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n"
# Process 1 waits in an all-reduce process 0 has not entered: SIGINT cannot stop it (XLA).
ONE_IN_A_COLLECTIVE = GLOBAL_ARRAY + textwrap.dedent("""\
    import time
    if jax.process_index() == 0:
        time.sleep(60)
    print("second sum", float(jax.jit(jnp.sum)(x * 2)), flush=True)
    """)


def params(code: str) -> dict:
    return {"code": code, "filename": "mine.py", "inputs": {}}


@pytest.mark.slow
async def test_interrupt_and_restart_act_on_the_whole_cluster(tmp_path, monkeypatch):
    monkeypatch.setenv(MARK, str(tmp_path))
    states: list[str] = []
    cluster = KernelCluster(KernelConfig(host_devices=2), ClusterSpec(processes=2, stuck_after=60),
                            on_state=lambda s, _: states.append(s))
    try:
        await cluster.start()
        first_pids = sorted(kernels(str(tmp_path)))
        assert len(first_pids) == 2 and states[-1] == "ready"
        # Both in Python: SIGINT stops both, the cluster stays up.
        run = asyncio.create_task(cluster.request(P.OP_EXEC, params(SLEEP_IN_PYTHON)))
        await asyncio.sleep(1)
        assert cluster.busy and states[-1] == "busy"
        assert await cluster.interrupt() == "interrupted"
        stopped = await run
        assert [(p["error"] or {}).get("kind") for p in stopped["processes"]] == ["interrupted"] * 2
        assert sorted(kernels(str(tmp_path))) == first_pids
        result = await cluster.request(P.OP_EXEC, params(GLOBAL_ARRAY))
        assert result["ok"] and [p["stdout"] for p in result["processes"]] == ["first sum 6.0\n"] * 2
        # One of them inside a collective: it is killed, so the whole cluster is restarted.
        run = asyncio.create_task(cluster.request(P.OP_EXEC, params(ONE_IN_A_COLLECTIVE)))
        await asyncio.sleep(3)
        assert await cluster.interrupt(grace=1.0) == "restarted"
        # Process 1 answers KeyboardInterrupt while its all-reduce goes on in XLA (then it is
        # killed), or is killed before it can answer.
        with contextlib.suppress(KernelDied):
            assert not (await run)["ok"]
        second_pids = sorted(kernels(str(tmp_path)))
        assert len(second_pids) == 2 and not set(second_pids) & set(first_pids)
        assert (await cluster.request(P.OP_EXEC, params(GLOBAL_ARRAY)))["ok"]
        # restart: every process anew, joined again.
        await cluster.restart()
        third_pids = sorted(kernels(str(tmp_path)))
        assert len(third_pids) == 2 and not set(third_pids) & set(second_pids)
        assert (await cluster.request(P.OP_EXEC, params(GLOBAL_ARRAY)))["ok"]
    finally:
        await cluster.stop()
    assert_none_left(str(tmp_path))


@pytest.mark.slow
async def test_a_stuck_run_raises_with_every_process_part_and_the_cluster_goes_dead(tmp_path, monkeypatch):
    monkeypatch.setenv(MARK, str(tmp_path))
    states: list[tuple[str, dict]] = []
    cluster = KernelCluster(KernelConfig(host_devices=2), ClusterSpec(processes=2, stuck_after=2),
                            on_state=lambda s, info: states.append((s, info)))
    try:
        await cluster.start()
        code = GLOBAL_ARRAY + "if jax.process_index() == 0:\n    jax.jit(jnp.sum)(x * 2).block_until_ready()\n"
        with pytest.raises(ClusterRunEnded) as ended:
            await cluster.request(P.OP_EXEC, params(code))
        assert ended.value.kind == "stuck"
        assert str(ended.value).startswith("process 0 still running 2 s after process 1 finished")
        assert [p["ok"] for p in ended.value.result["processes"]] == [False, True]
        state, info = states[-1]
        assert state == "dead" and info["cluster_ended"] and info["kind"] == "stuck"  # the app restarts it
        assert_none_left(str(tmp_path))
    finally:
        await cluster.stop()


# -- several hosts --------------------------------------------------------------------------------
@pytest.mark.slow
def test_remote_hosts_make_one_cluster_with_the_first_host_as_coordinator(sshd, tmp_path):
    """`--remote h1,h2`: one kernel per host through ssh (two aliases of the test sshd on
    127.0.0.1), the coordinator at the first host's own address (`hostname -I`)."""
    config = tmp_path / "ssh_config"
    config.write_text(sshd.ssh_config.read_text().replace(f"Host {sshd.host}\n",
                                                          f"Host {sshd.host} {sshd.host}-b\n"))
    env = {**sshd.env(), "JAXTUI_SSH_COMMAND": f"ssh -F {config}"}
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", "multihost", "--json", "--remote",
                           f"{sshd.host},{sshd.host}-b", "--remote-python", sshd.remote_python],
                          check=False, capture_output=True, text=True, timeout=240, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    host = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False).stdout.split()
    assert result["coordinator"].split(":")[0] == (host[0] if host else result["coordinator"].split(":")[0])
    assert [p["process_index"] for p in result["processes"]] == [0, 1]
    assert {next(x for x in p["stdout"].splitlines() if x.startswith("sum over"))
            for p in result["processes"]} == {"sum over the whole cluster: 1840.0"}
    sshd.wait_no_kernels(timeout=15)


# -- the app ----------------------------------------------------------------------------------------
@pytest.mark.slow
async def test_the_app_shows_every_process_and_its_shards_and_restarts_a_stuck_cluster(tmp_path, monkeypatch):
    """`jaxtui multihost --processes 2`: the Processes tab puts each process's output side by
    side (`l`: one under another), with the process × device map and each process's shards;
    a diverged run is ended, shown, and a fresh cluster started."""
    from conftest import output_text, wait_for
    from jaxtui.core.catalog import resolve
    from jaxtui.ui.app import JaxTUI
    from jaxtui.ui.results.processes import ProcessesView

    monkeypatch.setenv(MARK, str(tmp_path))
    monkeypatch.setenv("JAXTUI_STATE_DIR", str(tmp_path / "state"))
    app = JaxTUI(kernel_config=KernelConfig(host_devices=2), cluster=ClusterSpec(processes=2, stuck_after=2),
                 initial_pane="multihost", cursor_blink=False, demos=[resolve("multihost")])
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready", timeout=120)
        first = sorted(kernels(str(tmp_path)))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "── multihost:" in output_text(app), timeout=120)
        pane = app.current_pane
        pane.results.active = "processes"
        await wait_for(pilot, lambda: pane.results.views(ProcessesView)
                       and "process 1 (ran to the end)" in pane.results.views(ProcessesView)[0].text)
        view = pane.results.views(ProcessesView)[0]
        assert "process 0: ran to the end" in view.text and "local devices cpu:2048, cpu:2049" in view.text
        assert "fully addressable: no" in view.text
        assert "process 0 holds cpu:0 [0:2, :], cpu:1 [2:4, :]" in view.text
        assert "process 1 holds cpu:2048 [4:6, :], cpu:2049 [6:8, :]" in view.text
        columns = view.query(".process-column")
        assert len(columns) == 2 and columns[0].region.y == columns[1].region.y  # side by side
        view.focus()
        await pilot.press("l")
        await pilot.pause()
        assert view.stacked and columns[1].region.y > columns[0].region.y  # one under another
        # Diverge: the run ends by itself, says who was stuck, and a fresh cluster starts.
        pane.set_inputs({"diverge": "1"})
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "process 0 (stuck)" in view.text, timeout=120)
        await wait_for(pilot, lambda: app.kernel.state == "ready", timeout=120)
        second = sorted(kernels(str(tmp_path)))
        assert len(second) == 2 and not set(first) & set(second)
        await app.action_quit()
    assert_none_left(str(tmp_path))


@pytest.mark.slow
def test_the_multihost_lesson_runs_alone_and_says_how_to_start_more(tmp_path):
    status, result = jaxtui_run(str(tmp_path), "multihost")
    assert status == 0 and result["ok"] and "processes" not in result
    out = result["stdout"]
    assert "process 0 of 1: local devices [0, 1, 2, 3, 4, 5, 6, 7], 8 devices in the cluster" in out
    assert "jaxtui multihost --processes 4" in out
    assert "is_fully_addressable: True" in out  # one process holds every shard
    assert_none_left(str(tmp_path))
