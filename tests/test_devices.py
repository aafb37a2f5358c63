"""Devices: the Devices tab, the run target, kernel restarts with a new platform or device
count, `jaxtui doctor`, and the TPU/GPU situations this machine cannot produce, simulated
with a fake sysfs and /proc, fake "in use" errors, and a fake `jax` package in the kernel.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import PYTHON, REPO, count_starts, make_sysfs, output_text, views_built, wait_for
from jaxtui import protocol as P
from jaxtui.cli import doctor
from jaxtui.cli.main import main as cli_main
from jaxtui.core import hardware
from jaxtui.core.catalog import load
from jaxtui.core.client import KernelClient, KernelConfig, KernelStartError
from jaxtui.ui.app import JaxTUI
from jaxtui.ui.widgets.devices_view import DevicesView

NO_PACKAGES = {"jax": "0.10.2", "jaxlib": "0.10.2", "libtpu": None, "jax-cuda13-plugin": None,
               "jax-cuda12-plugin": None}
WITH_LIBTPU = {**NO_PACKAGES, "libtpu": "0.0.42"}


# -- fixtures: a machine that is not this one -------------------------------------------
def make_proc(root: Path, processes: dict[int, tuple[str, list[str]]]) -> Path:
    """processes: pid -> (command line, targets of its open file descriptors)."""
    proc = root / "proc"
    for pid, (cmdline, targets) in processes.items():
        (proc / str(pid) / "fd").mkdir(parents=True)
        (proc / str(pid) / "cmdline").write_bytes(cmdline.replace(" ", "\0").encode() + b"\0")
        (proc / str(pid) / "stat").write_text(f"{pid} (python) S 1 {pid} {pid} 0 -1\n")
        for fd, target in enumerate(targets, start=3):
            os.symlink(target, proc / str(pid) / "fd" / str(fd))  # targets need not exist
    proc.mkdir(parents=True, exist_ok=True)
    return proc


def start_sleeper() -> subprocess.Popen[bytes]:
    """A process to play the TPU's owner; returned once /proc shows its command line."""
    proc = subprocess.Popen(["sleep", "30"])
    t0 = time.monotonic()
    while hardware.process_cmdline(proc.pid) != "sleep 30" and time.monotonic() - t0 < 5:
        time.sleep(0.01)  # Popen can return before the child's exec has finished
    return proc


TPU_V4 = [("0x1ae0", "0x005e", "0x120000")] * 4
NVIDIA_CARD = [("0x10de", "0x2330", "0x030200"), ("0x10de", "0x22a3", "0x040300")]  # GPU + its audio


def tpu_survey(tmp_path: Path, *, holders: dict[int, tuple[str, list[str]]] | None = None,
               packages: dict = WITH_LIBTPU, env: dict | None = None, metadata=None) -> hardware.Survey:
    (tmp_path / "dev").mkdir(parents=True, exist_ok=True)
    (tmp_path / "dev" / "accel0").touch()
    return hardware.survey(sysfs=make_sysfs(tmp_path, TPU_V4), proc=make_proc(tmp_path, holders or {}),
                           dev=tmp_path / "dev", env=env or {}, lockfiles=[str(tmp_path / "libtpu_lockfile")],
                           metadata=metadata, packages=packages)


# -- hardware detection without JAX --------------------------------------------------------
def test_sysfs_tpu_chips_are_found_with_their_generation(tmp_path):
    found = tpu_survey(tmp_path)
    assert len(found.tpu_chips) == 4 and found.tpu_generation == "v4"
    assert found.tpu_device_files == ["/dev/accel0"] and found.tpu_device_file == "/dev/accel0"
    assert found.summary() == "4 TPU v4 chips" and not found.has_gpu


def test_sysfs_nvidia_gpu_counts_the_gpu_not_its_audio_function(tmp_path):
    (tmp_path / "dev").mkdir()
    found = hardware.survey(sysfs=make_sysfs(tmp_path, [*NVIDIA_CARD, ("0x8086", "0x1234", "0x060000")]),
                            proc=tmp_path, dev=tmp_path / "dev", env={}, metadata=None, packages=NO_PACKAGES)
    assert len(found.gpus) == 1 and found.has_gpu and not found.tpu_chips
    assert found.summary() == "1 NVIDIA GPU"


def test_this_machine_has_nothing_and_needs_no_fixes():
    found = hardware.survey(metadata=None)
    assert found.packages["jax"] and found.summary() == "no TPU or NVIDIA GPU found"
    assert hardware.diagnose(found, info={"platform": "cpu", "process_count": 1}) == []


def test_tpu_holders_are_found_through_proc_fd_links(tmp_path):
    proc = make_proc(tmp_path, {4242: ("python train.py", ["/dev/null", "/dev/accel0"]),
                                77: ("python serve.py", ["/dev/vfio/vfio", "/dev/vfio/3"]),
                                5: ("bash", ["/dev/pts/0", "/dev/vfio/vfio"])})
    holders = hardware.tpu_holders(proc)
    assert [(h.pid, h.device, h.cmdline) for h in holders] == [
        (77, "/dev/vfio/3", "python serve.py"), (4242, "/dev/accel0", "python train.py")]


def test_the_ui_side_never_imports_jax_and_the_smoke_test_never_textual():
    def loaded(modules: str, check: str) -> bool:
        code = f"import sys, {modules}; print({check!r} in sys.modules)"
        return subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True).stdout == "True\n"

    assert not loaded("jaxtui.core.hardware, jaxtui.cli.doctor, jaxtui.ui.widgets.devices_view", "jax")
    assert not loaded("jaxtui.kernel.smoke, jaxtui.kernel.devices", "textual")


# -- the TPU is held by someone else ------------------------------------------------------
def test_in_use_error_names_the_owner_and_the_steps_but_deletes_nothing(tmp_path):
    owner = start_sleeper()
    try:
        lock = tmp_path / "libtpu_lockfile"
        lock.write_text("")
        found = tpu_survey(tmp_path)
        error = (f"RuntimeError: Unable to initialize backend 'tpu': ABORTED: The TPU is already in use by "
                 f"process with pid {owner.pid}. Not attempting to load libtpu.so in this process.")
        problems = hardware.diagnose(found, platform="tpu", error=error)
        assert [p.code for p in problems] == ["tpu-in-use"]
        text = problems[0].text()
        assert f"pid {owner.pid}" in text and "sleep 30" in text and f"kill {owner.pid}" in text
        assert "rm /tmp/libtpu_lockfile" in text and "never deletes" in text
        assert lock.exists()  # advice only
    finally:
        owner.kill()
        owner.wait()


def test_in_use_by_a_pid_that_is_gone_points_at_a_stale_lock(tmp_path):
    found = tpu_survey(tmp_path)
    error = "ABORTED: The TPU is already in use by process with pid 999999. Not attempting to load libtpu.so"
    problem = hardware.diagnose(found, platform="tpu", error=error)[0]
    assert "no longer running" in problem.detail and "sudo lsof -w /dev/accel0" in problem.text()


@pytest.mark.parametrize("error, code", [
    ("ABORTED: The TPU is already in use or the lock file is stale. Run \"$ sudo lsof -w /dev/accel0\"",
     "tpu-lock"),
    ("FAILED_PRECONDITION: TPU initialization failed: open(/dev/vfio/0): Device or resource busy", "tpu-busy"),
])
def test_lock_and_vfio_errors_list_the_holders_found_in_proc(tmp_path, error, code):
    found = tpu_survey(tmp_path, holders={31337: ("python old_notebook.py", ["/dev/accel0"])})
    problem = hardware.diagnose(found, error=error)[0]
    assert problem.code == code and problem.severity == "error"
    assert "pid 31337 holds /dev/accel0: python old_notebook.py" in problem.detail
    assert "kill 31337" in problem.text()


def test_a_silent_fallback_to_cpu_on_a_tpu_vm_is_an_error_with_its_cause(tmp_path):
    found = tpu_survey(tmp_path, holders={4242: ("python train.py", ["/dev/accel0"])})
    stderr = ("WARNING:jax._src.xla_bridge:A Google TPU may be present on this machine, but either a "
              "TPU-enabled jaxlib or libtpu is not installed. Falling back to cpu.")
    problems = hardware.diagnose(found, info={"platform": "cpu", "process_count": 1}, stderr=stderr)
    assert [p.code for p in problems] == ["tpu-fallback"]
    text = problems[0].text()
    assert "JAX is running on CPU, but this machine has 4 TPU v4 chips" in text
    assert "pid 4242 holds /dev/accel0: python train.py" in text and "Falling back to cpu" in text
    # without libtpu, the fix is the install line
    bare = tpu_survey(tmp_path / "b", packages=NO_PACKAGES)
    fix = hardware.diagnose(bare, info={"platform": "cpu"})[0].fix
    assert fix[0] == f"Install libtpu: {hardware.INSTALL['tpu']}"
    # asking for CPU on a TPU VM is not a problem, with --platform or JAX_PLATFORMS
    assert hardware.diagnose(found, platform="cpu", info={"platform": "cpu"}) == []
    assert hardware.requested_platform(None, {"JAX_PLATFORMS": "cpu"}) == "cpu"
    assert hardware.requested_platform(None, {"JAX_PLATFORMS": "cuda,cpu"}) == "gpu"
    assert hardware.requested_platform(None, {}) is None and hardware.requested_platform("tpu", {}) == "tpu"


def test_multi_host_slice_is_explained_from_env_metadata_or_the_hang_warning(tmp_path):
    found = tpu_survey(tmp_path, env={"TPU_WORKER_HOSTNAMES": "w0,w1,w2,w3", "TPU_ACCELERATOR_TYPE": "v4-32"})
    assert found.slice_hosts == 4 and "one host of 4" in found.summary()
    problem = hardware.diagnose(found)[0]
    assert problem.code == "multi-host" and "one of 4 hosts (v4-32)" in problem.title
    assert "--worker=all" in problem.text()
    meta = {"worker-network-endpoints": "h0,h1", "accelerator-type": "v5litepod-16"}
    found = tpu_survey(tmp_path / "m", metadata=meta.get)
    assert (found.slice_hosts, found.accelerator_type) == (2, "v5litepod-16")
    hang = ("UserWarning: TPU backend initialization is taking more than 60.0 seconds. "
            "Did you run your code on all TPU hosts? See https://jax.readthedocs.io/...")
    single = tpu_survey(tmp_path / "s")
    problem = hardware.diagnose(single, stderr=hang)[0]
    assert problem.code == "multi-host" and problem.severity == "error"


def test_gpu_present_but_jax_on_cpu_says_how_to_install_cuda(tmp_path):
    (tmp_path / "dev").mkdir()
    found = hardware.survey(sysfs=make_sysfs(tmp_path, NVIDIA_CARD), proc=tmp_path, dev=tmp_path / "dev",
                            env={}, metadata=None, packages=NO_PACKAGES)
    problem = hardware.diagnose(found, info={"platform": "cpu"})[0]
    assert problem.code == "gpu-fallback" and 'pip install -U "jax[cuda13]"' in problem.text()
    # with the plugin installed but no GPU, the advice is about the driver
    no_gpu = hardware.Survey(packages={**NO_PACKAGES, "jax-cuda12-plugin": "0.10.2"})
    problem = hardware.diagnose(no_gpu, platform="gpu", error="AssertionError: ")[0]
    assert problem.code == "gpu-missing" and "nvidia-smi" in problem.text()


def test_release_after_kill_removes_only_the_lock_our_kernel_left(tmp_path):
    ours, old = tmp_path / "ours_lockfile", tmp_path / "old_lockfile"
    started = time.time()
    ours.write_text("")
    old.write_text("")
    os.utime(old, (started - 3600, started - 3600))  # from before our kernel started: not ours
    empty_proc = make_proc(tmp_path / "p", {})
    removed = hardware.release_after_kill(999999, started, proc=empty_proc, lockfiles=[str(ours), str(old)])
    assert removed == [str(ours)] and not ours.exists() and old.exists()
    # while any process holds the TPU, nothing is touched
    ours.write_text("")
    busy_proc = make_proc(tmp_path / "q", {4242: ("python train.py", ["/dev/accel0"])})
    assert hardware.release_after_kill(999999, started, proc=busy_proc, lockfiles=[str(ours)]) == []
    assert ours.exists()


# -- configuration and bad input ----------------------------------------------------------
@pytest.mark.parametrize("config, message", [
    (KernelConfig(platform="xpu"), "unknown platform 'xpu'; choose one of cpu, gpu, tpu"),
    (KernelConfig(host_devices=0), "between 1 and 512, got 0"),
    (KernelConfig(host_devices=100_000), "between 1 and 512, got 100000"),
    (KernelConfig(device=-1), "device id (0, 1, ...), got -1"),
])
def test_bad_configs_are_refused_with_a_clear_message(config, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config.validate()


@pytest.mark.parametrize("argv, message", [
    (["run", "grad", "--platform", "xpu"], "invalid choice: 'xpu'"),
    (["run", "grad", "--host-devices", "0"], "must be between 1 and 512, got 0"),
    (["doctor", "--host-devices", "99999"], "must be between 1 and 512, got 99999"),
    (["run", "grad", "--device", "-2"], "device ids start at 0, got -2"),
])
def test_bad_command_lines_exit_2_with_a_message(capsys, argv, message):
    try:  # `jaxtui run` returns its usage status (it answers --json too); argparse exits
        code = cli_main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2 and message in capsys.readouterr().err


def test_gpu_kernels_do_not_preallocate_most_of_the_gpu():
    assert KernelConfig(platform="gpu").env(base={})["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert KernelConfig().env(base={})["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    # a user who sets it on purpose keeps their choice
    assert KernelConfig().env(base={"XLA_PYTHON_CLIENT_PREALLOCATE": "true"})["XLA_PYTHON_CLIENT_PREALLOCATE"] == "true"


@pytest.mark.parametrize("platform, fix", [
    ("gpu", 'pip install -U "jax[cuda13]"'),
    ("tpu", "needs a Cloud TPU VM"),
])
async def test_a_platform_this_machine_lacks_fails_once_with_the_fix(platform, fix):
    states = []
    client = KernelClient(KernelConfig(platform=platform), on_state=lambda s, i: states.append((s, dict(i))))
    with pytest.raises(KernelStartError) as exc:
        await client.start()
    assert fix in str(exc.value) and fix not in exc.value.reason
    await asyncio.sleep(0.3)  # the process's exit must not report a second death
    deaths = [i for s, i in states if s == "dead"]
    assert len(deaths) == 1 and deaths[0]["start_failed"]
    await client.stop()


# -- the kernel: devices, the run target, the smoke test ----------------------------------
@pytest.fixture(scope="module")
def kernel8():
    loop = asyncio.new_event_loop()
    client = KernelClient(KernelConfig(host_devices=8))
    loop.run_until_complete(client.start())
    yield loop, client
    loop.run_until_complete(client.stop())
    loop.close()


def test_devices_op_lists_every_device_with_versions_and_live_bytes(kernel8):
    loop, client = kernel8
    states = []
    client.on_state = lambda s, i: states.append(s)
    described = loop.run_until_complete(client.request(P.OP_DEVICES, background=True))
    client.on_state = None
    assert states == []  # a background poll never shows the kernel as busy
    assert [d["name"] for d in described["devices"]] == [f"cpu:{i}" for i in range(8)]
    assert {d["platform"] for d in described["devices"]} == {"cpu"}
    assert all(d["live_array_bytes"] >= 0 and "bytes_limit" not in d for d in described["devices"])
    assert described["jax"] and described["jaxlib"] and described["backend"] == "cpu"
    assert described["default_device"] == "cpu:0" and described["process_count"] == 1


def test_runs_go_to_the_chosen_device(kernel8):
    loop, client = kernel8
    code = "import jax, jax.numpy as jnp\nx = jnp.arange(3.0) * 2\nprint(x.devices(), jax.jit(jnp.sin)(x).devices())\n"
    params = {"code": code, "filename": "/tmp/t.py", "demo": "t"}
    result = loop.run_until_complete(client.request(P.OP_EXEC, {**params, "device": 5}))
    assert result["ok"] and result["device"] == "cpu:5"
    assert result["stdout"] == "{CpuDevice(id=5)} {CpuDevice(id=5)}\n"
    client.config.device = 3  # the client adds the configured target to every run
    try:
        result = loop.run_until_complete(client.request(P.OP_EXEC, params))
    finally:
        client.config.device = None
    assert result["device"] == "cpu:3" and "id=3" in result["stdout"]
    result = loop.run_until_complete(client.request(P.OP_EXEC, params))
    assert result["device"] == "cpu:0"


def test_a_device_that_does_not_exist_is_a_clear_error(kernel8):
    loop, client = kernel8
    result = loop.run_until_complete(client.request(P.OP_EXEC, {"code": "print('never')", "device": 99}))
    assert not result["ok"] and result["stdout"] == ""
    assert result["error"]["type"] == "DeviceError"
    assert result["error"]["message"] == "there is no device 99: this kernel has 8 cpu devices (ids 0-7)"


def test_smoke_test_checks_and_times_each_device(kernel8):
    loop, client = kernel8
    progress = []
    smoke = loop.run_until_complete(client.request(P.OP_SMOKE, {"devices": [0, 6], "budget_s": 0.02},
                                                   on_event=progress.append))
    rows = smoke["devices"]
    assert [r["name"] for r in rows] == ["cpu:0", "cpu:6"] and all(r["ok"] for r in rows)
    assert all(r["matmul_flops"] > 1e6 and r["copy_bytes_s"] > 1e6 for r in rows)
    assert all(r["matmul_fraction"] is None for r in rows)  # CPUs have no nominal peak
    assert [e.data["done"] for e in progress] == [0, 1]


# -- headless: `jaxtui doctor` and `jaxtui run --device` -----------------------------------
def _jaxtui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "jaxtui", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)


def test_doctor_reports_versions_devices_smoke_and_no_problems():
    proc = _jaxtui("doctor", "--json", "--host-devices", "3", "--budget", "0.02")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] and report["problems"] == []
    assert report["kernel"]["platform"] == "cpu" and report["kernel"]["device_count"] == 3
    assert report["versions"]["jax"] == report["packages"]["jax"]
    assert [d["name"] for d in report["devices"]] == ["cpu:0", "cpu:1", "cpu:2"]
    assert [s["ok"] for s in report["smoke"]] == [True] * 3
    assert report["config"]["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert report["hardware"]["summary"] == "no TPU or NVIDIA GPU found"
    text = doctor.render_text(report)
    assert "Devices and smoke test" in text and "GFLOP/s" in text and "GB/s" in text
    assert "  0 cpu:0" in text and "Problems\n  none found" in text


def test_doctor_when_the_kernel_cannot_start_exits_3_with_the_fix():
    proc = _jaxtui("doctor", "--platform", "gpu")
    assert proc.returncode == 3
    assert "could not start" in proc.stdout and 'pip install -U "jax[cuda13]"' in proc.stdout


def test_run_device_flag_runs_there(tmp_path):
    script = tmp_path / "where.py"
    script.write_text("import jax.numpy as jnp\nprint(jnp.ones(2).devices())\n")
    proc = _jaxtui("run", str(script), "--json", "--host-devices", "4", "--device", "2")
    result = json.loads(proc.stdout)
    assert proc.returncode == 0 and result["device"] == "cpu:2" and "id=2" in result["stdout"]


# -- a fake `jax` in the kernel: TPU situations end to end ---------------------------------
FAKE_JAX = '''
import os
__version__ = "0.0-fake"

class Device:
    def __init__(self, i):
        self.id, self.platform, self.device_kind, self.process_index = i, "tpu", "TPU v4", 0
    def __str__(self):
        return f"TPU_{self.id}(process=0,(0,0,0,0))"

def devices():
    if os.environ.get("FAKE_TPU_OWNER"):
        raise RuntimeError("Unable to initialize backend 'tpu': ABORTED: The TPU is already in use by "
                           f"process with pid {os.environ['FAKE_TPU_OWNER']}. Not attempting to load "
                           "libtpu.so in this process.")
    # like libtpu: take the lock file at start-up, and never remove it when killed
    open(os.environ["FAKE_TPU_LOCK"], "w").close()
    return [Device(i) for i in range(4)]

def default_backend():
    return "tpu"

def process_count():
    return 1

def process_index():
    return 0

def local_devices():
    return devices()
'''


def fake_jax_config(tmp_path: Path, **env: str) -> KernelConfig:
    pkg = tmp_path / "fakejax" / "jax"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(FAKE_JAX)
    (pkg / "numpy.py").write_text("")
    (pkg / "monitoring.py").write_text("")  # imported (not called) by the kernel's JAX shims at start
    return KernelConfig(platform="tpu", extra_env={"PYTHONPATH": f"{pkg.parent}{os.pathsep}{REPO}", **env})


async def test_tpu_held_by_another_process_shows_its_pid_in_the_ui_without_a_restart_loop(tmp_path):
    owner = start_sleeper()
    try:
        app = JaxTUI(kernel_config=fake_jax_config(tmp_path, FAKE_TPU_OWNER=str(owner.pid)),
                     cursor_blink=False, initial_pane="jit")
        starts = []
        start = app.kernel.start

        async def counted():
            starts.append(time.monotonic())
            return await start()

        app.kernel.start = counted
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.kernel.state == "dead")
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            shown = output_text(app)
            assert "The kernel could not start" in shown
            assert f"already in use by process with pid {owner.pid}" in shown
            assert f"kill {owner.pid}" in shown and "sleep 30" in shown
            view = app.query_one(DevicesView)
            assert [p.code for p in view.problems] == ["tpu-in-use"]
            assert "could not start" in str(view.query_one("#devices-message").render())
            assert len(starts) == 1 and "failed to start" in str(app.query_one("#status").render())
            await app.action_quit()
    finally:
        owner.kill()
        owner.wait()


async def test_a_killed_tpu_kernel_does_not_lock_out_the_next(tmp_path, monkeypatch):
    lock = tmp_path / "libtpu_lockfile"
    monkeypatch.setattr(hardware, "default_lockfiles", lambda uid=None: [str(lock)])
    client = KernelClient(fake_jax_config(tmp_path, FAKE_TPU_LOCK=str(lock)))
    info = await client.start()
    assert info["platform"] == "tpu" and info["device_count"] == 4 and lock.exists()
    await client.stop()  # SIGKILL, as on interrupt or restart
    assert not lock.exists()
    assert f"jaxtui: removed {lock}, left by the killed kernel" in client.stderr_text()
    info = await client.start()  # the next kernel gets the TPU
    assert info["platform"] == "tpu"
    await client.stop()


# -- the Devices tab ----------------------------------------------------------------------
async def _run(pilot, app: JaxTUI, name: str) -> str:
    await wait_for(pilot, lambda: app.kernel.state == "ready")
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: f"── {name}:" in output_text(app))
    await app.workers.wait_for_complete()
    return output_text(app)


async def test_devices_tab_targets_a_device_and_changes_the_count_keeping_edits(tmp_path):
    demo_file = tmp_path / "where.py"
    demo_file.write_text('"""# where\n\nWhich device."""\nimport jax, jax.numpy as jnp\n'
                         'print("devices:", jax.device_count(), "array on:", jnp.ones(2).devices())\n')
    app = JaxTUI(kernel_config=KernelConfig(host_devices=8), user_demo=load(demo_file), initial_pane="where",
                 cursor_blink=False)
    starts = count_starts(app.kernel)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready")
        app.current_pane.editor.insert("# my edit\n", (0, 0))
        await pilot.press("f2")  # the Devices tab comes after the last demo pane ("where")
        view = app.query_one(DevicesView)
        table = view.query_one("#devices-table")
        await wait_for(pilot, lambda: table.row_count == 8)
        assert "cpu · 8 devices" in str(view.query_one("#devices-summary").render())
        table.focus()
        await pilot.press("down", "down", "down", "enter")
        assert app.kernel.config.device == 3 and "→ cpu:3" in str(app.query_one("#status").render())
        text = await _run(pilot, app, "where")  # from the Devices tab: runs the pane it came from
        assert app.shown_name == "where"
        assert "ran where on cpu:3" in text and "array on: {CpuDevice(id=3)}" in text
        assert "── where: ok on cpu:3" in text

        # bad counts: a message, no restart
        await pilot.press("f2")
        field = view.query_one("#host-devices-input")
        for bad, says in (("0", "between 1 and 512, got 0"), ("", "a whole number"),
                          ("99999", "between 1 and 512, got 99999")):
            field.value = bad
            view.request_config()
            await pilot.pause()
            assert says in str(view.query_one("#devices-message").render())
        assert len(starts) == 1 and field.has_class("-invalid")

        # a new count: a new kernel; the target 3 is gone, the edit stays
        field.value = "2"
        field.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(starts) == 2 and app.kernel.state == "ready")
        await wait_for(pilot, lambda: table.row_count == 2)
        assert app.kernel.config.device is None and app.kernel.config.host_devices == 2
        assert app.query_one("#demo-where").editor.text.startswith("# my edit\n")
        text = await _run(pilot, app, "where")
        assert "devices: 2 array on: {CpuDevice(id=0)}" in text

        # the pmap demo follows the new count
        app.show_pane("pmap")
        await pilot.pause(0.2)  # let the new pane mount its form and editor
        text = await _run(pilot, app, "pmap")
        assert "platform cpu: 2 devices, using 2: cpu:0, cpu:1" in text
        await app.action_quit()


async def test_a_cpu_fallback_on_a_tpu_vm_is_loud(tmp_path, monkeypatch):
    monkeypatch.delenv("JAX_PLATFORMS")  # the tests' own choice of CPU would be the user's
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)  # the Devices view is built after the first frame
        view = app.query_one(DevicesView)
        await app.workers.wait_for_complete()  # the real survey first; then the simulated one
        view.set_survey(tpu_survey(tmp_path, holders={4242: ("python train.py", ["/dev/accel0"])}))
        info = {"platform": "cpu", "device_count": 1, "device_kind": "cpu", "process_count": 1, "jax": "0.10.2"}
        app.kernel.info = info
        app._on_kernel_state("ready", info)
        await pilot.pause()
        banner = str(view.query_one("#devices-problems").render())
        assert "JAX is running on CPU, but this machine has 4 TPU v4 chips" in banner
        assert "pid 4242 holds /dev/accel0" in banner and view.query_one("#devices-problems").has_class("-error")
        assert any(n.severity == "error" and "JAX is running on CPU" in n.message for n in app._notifications)
        assert "hardware: 4 TPU v4 chips" in str(view.query_one("#devices-summary").render())


async def test_a_multi_host_slice_is_announced_before_the_kernel_hangs(tmp_path, monkeypatch):
    monkeypatch.delenv("JAX_PLATFORMS")  # on CPU a slice does not matter
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)
        view = app.query_one(DevicesView)
        await app.workers.wait_for_complete()
        app._on_kernel_state("starting", {})
        view.set_survey(tpu_survey(tmp_path, env={"TPU_WORKER_HOSTNAMES": "w0,w1,w2,w3"}))
        await pilot.pause()
        assert [p.code for p in view.problems] == ["multi-host"]
        assert any("one of 4 hosts" in n.message for n in app._notifications)


async def test_the_devices_view_catches_up_with_a_kernel_that_failed_before_it_was_built():
    """The Devices view is built after the first frame; a kernel that failed to start before
    then still has its reason shown there."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    app.kernel._set_state("dead", {"error": "boom", "reason": "the TPU is held by pid 77",
                                   "start_failed": True})
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)
        view = app.query_one(DevicesView)
        assert view.state == "dead"
        assert "could not start: the TPU is held by pid 77" in str(view.query_one("#devices-message").render())


async def test_the_summary_says_what_decides_the_platform_while_the_kernel_starts(monkeypatch):
    """It said "platform: JAX's choice" even when jaxtui's CPU default (libtpu without a TPU,
    hardware.default_platforms) was what the kernel got."""
    monkeypatch.delenv("JAX_PLATFORMS")
    monkeypatch.setattr(hardware, "default_platforms", lambda: "cpu")
    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="devices")
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)
        view = app.query_one(DevicesView)
        summary = str(view.query_one("#devices-summary").render())
        assert "platform cpu: libtpu is installed, but this machine has no TPU" in summary, summary
        assert "JAX's choice" not in summary
    monkeypatch.setattr(hardware, "default_platforms", lambda: None)
    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="devices")
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)
        assert "platform: JAX's choice" in str(app.query_one(DevicesView).query_one("#devices-summary").render())
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="devices")
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)
        assert "JAX_PLATFORMS=cpu" in str(app.query_one(DevicesView).query_one("#devices-summary").render())
