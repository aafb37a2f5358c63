"""TPU targets without a TPU (issue 18): the kernel's platform where libtpu is installed on a
machine without a TPU, `--target tpu-<gen>:<topology>`, what the target compile shows, and
the error without libtpu.

Tests that need libtpu (the `tpu` extra, part of `test`) are skipped where it cannot be
installed (macOS, arm64).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import PYTHON, REPO, make_sysfs, output_text, views_built, wait_for
from jaxtui import protocol as P
from jaxtui.core import hardware
from jaxtui.core.client import KernelClient, KernelConfig, RequestFailed
from jaxtui.render.report import render_text
from jaxtui.render.target_report import per_device_bytes, pod_map_text
from jaxtui.target_spec import TargetSyntaxError, parse_target

HAS_LIBTPU = importlib.util.find_spec("libtpu") is not None
needs_libtpu = pytest.mark.skipif(not HAS_LIBTPU, reason="libtpu is not installed (pip install '.[tpu]')")
LIBTPU_NOISE = ("TPU_WORKER_HOSTNAMES", "TPU_ACCELERATOR_TYPE", "libtpu", "InitGoogle")


# -- 1. the platform of a kernel whose user chose none -----------------------------------
@pytest.mark.parametrize("pci, modules, expected", [
    ([], {"libtpu"}, "cpu"),  # libtpu on a laptop: CPU, quietly
    ([("0x10de", "0x2330", "0x030200")], {"libtpu", "jax_cuda13_plugin"}, "cuda,cpu"),
    ([("0x10de", "0x2330", "0x030200")], {"libtpu"}, "cpu"),  # a GPU, but no CUDA plugin
    ([("0x1ae0", "0x0063", "0x120000")], {"libtpu"}, None),  # a TPU VM: JAX's choice (the TPU)
    ([], set(), None),  # no libtpu: JAX's choice is quiet already
])
def test_the_survey_picks_the_platforms_where_libtpu_has_no_tpu(tmp_path, pci, modules, expected):
    sysfs = make_sysfs(tmp_path, pci)
    assert hardware.default_platforms(sysfs=sysfs, dev=tmp_path / "dev",
                                      has_module=modules.__contains__) == expected


def test_a_platform_the_user_chose_is_kept(monkeypatch):
    monkeypatch.setattr(hardware, "default_platforms", lambda **kw: "cpu")
    assert KernelConfig(platform="gpu").env({})["JAX_PLATFORMS"] == "cuda"
    assert KernelConfig().env({"JAX_PLATFORMS": "rocm"})["JAX_PLATFORMS"] == "rocm"
    assert KernelConfig().env({})["JAX_PLATFORMS"] == "cpu"


@pytest.mark.parametrize("libtpu", [None, "0.0.42.1"])
def test_platform_tpu_without_a_tpu_says_so_whatever_libtpu_printed(tmp_path, libtpu):
    found = hardware.survey(sysfs=make_sysfs(tmp_path, []), proc=tmp_path, dev=tmp_path / "dev",
                            packages={"jax": "0.10.2", "jaxlib": "0.10.2", "libtpu": libtpu})
    # with libtpu installed JAX reaches libtpu, whose lock is taken by any other JAX process
    error = ("RuntimeError: Unable to initialize backend 'tpu': ABORTED: Internal error when accessing "
             "libtpu multi-process lockfile." if libtpu else "RuntimeError: Unable to initialize backend 'tpu'")
    problems = hardware.diagnose(found, platform="tpu", error=error)
    assert [p.code for p in problems] == ["no-tpu"]
    assert "needs a Cloud TPU VM" in problems[0].text() and "--target tpu-v5e:2x2" in problems[0].text()


def _kernel_session(env: dict[str, str], *requests: P.Request) -> tuple[list[P.Event], str]:
    """A real kernel given `requests`, then shut down: its events and its whole stderr."""
    lines = b"".join(P.encode(r) for r in (*requests, P.Request(id=99, op=P.OP_SHUTDOWN)))
    proc = subprocess.run([PYTHON, "-m", "jaxtui.kernel"], input=lines, env=env, cwd=REPO,
                          capture_output=True, timeout=180)
    return [P.decode_event(line) for line in proc.stdout.splitlines()], proc.stderr.decode("utf-8", "replace")


def _kernel_start(env: dict[str, str]) -> tuple[dict, str]:
    events, stderr = _kernel_session(env)
    return events[0].data, stderr


@needs_libtpu
def test_a_default_kernel_with_libtpu_and_no_tpu_runs_quietly_on_cpu(monkeypatch):
    if hardware.has_tpu_chips():
        pytest.skip("this machine has a TPU: JAX's choice is the TPU")
    monkeypatch.delenv("JAX_PLATFORMS", raising=False)  # the user chose no platform
    ready, stderr = _kernel_start(KernelConfig().env())
    assert ready["ok"] and ready["platform"] == "cpu"
    assert not [line for line in stderr.splitlines() if any(n in line for n in LIBTPU_NOISE)], stderr


# -- 3. --target: the syntax, the kernel's target op, a run's target records ----------------
@pytest.mark.parametrize("text, name", [("tpu-v5e:2x2", "tpu-v5e:2x2"), ("TPU-v4:2x2x1", "tpu-v4:2x2x1"),
                                        ("tpu-v5e:16x16", "tpu-v5e:16x16"), ("cuda", "cuda")])
def test_target_strings_parse(text, name):
    assert parse_target(text).name == name


@pytest.mark.parametrize("text", ["v5e:2x2", "tpu-v5e", "tpu-v9:2x2", "tpu-v5e:2x0", "tpu-v5e:2", "gpu"])
def test_bad_target_strings_are_usage_errors(text):
    with pytest.raises(TargetSyntaxError):
        parse_target(text)
    proc = jaxtui("run", "grad", "--target", text)
    assert proc.returncode == 2 and "--target" in proc.stderr


def jaxtui(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "jaxtui", *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=REPO)


def hidden_libtpu_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose Python cannot import libtpu, as where it is not installed: a
    `libtpu` package first on the path that raises ImportError, like a missing module."""
    shim = tmp_path / "no-libtpu" / "libtpu"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('No module named libtpu')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shim.parent), env.get("PYTHONPATH", "")])
    return env


MATMUL = """\
import jax, jax.numpy as jnp
from jax.sharding import PartitionSpec as P
from jaxtui import demo
a = jnp.ones((512, 512), jnp.bfloat16)
matmul = jax.jit(lambda a, b: a @ b)
print(matmul(a, a)[0, 0])
demo.inspect(matmul, a, a, name="matmul")
"""


def test_without_libtpu_a_target_is_one_line_with_the_fix_and_exit_3(tmp_path):
    path = tmp_path / "mm.py"
    path.write_text(MATMUL)
    env = hidden_libtpu_env(tmp_path)
    proc = jaxtui("run", str(path), "--target", "tpu-v5e:2x2", "--json", env=env)
    result = json.loads(proc.stdout)
    assert proc.returncode == 3, proc.stderr
    assert result["error"]["kind"] == P.KIND_TARGET_UNAVAILABLE and result["target"] is None
    message = result["error"]["message"]
    assert "\n" not in message and 'pip install "jaxtui[tpu]"' in message and "tpu-v5e:2x2" in message
    text = jaxtui("run", str(path), "--target", "tpu-v5e:2x2", env=env)
    assert text.returncode == 3 and 'TargetUnavailable: --target tpu-v5e:2x2 needs libtpu' in text.stdout


def test_cuda_and_rocm_targets_lower_stablehlo_and_say_the_rest_needs_the_device(tmp_path):
    path = tmp_path / "mm.py"
    path.write_text(MATMUL)
    proc = jaxtui("run", str(path), "--target", "cuda", "--json")
    result = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    local, cuda = result["inspections"]
    assert local["platform"] == "cpu" and cuda["platform"] == "cuda" and cuda["name"] == "matmul @ cuda"
    assert "stablehlo.dot_general" in cuda["stablehlo"] and "mhlo.platforms" not in local["stablehlo"]
    assert "optimised HLO needs a CUDA device" in cuda["hlo"] and cuda["error"] is None


# -- 3/4. compiling for TPU slices, through the kernel's protocol ---------------------------
@pytest.fixture(scope="module")
def kernel():
    if not HAS_LIBTPU:
        pytest.skip("libtpu is not installed (pip install '.[tpu]')")
    loop = asyncio.new_event_loop()
    client = KernelClient(KernelConfig(host_devices=4))
    loop.run_until_complete(client.start())
    yield loop, client
    loop.run_until_complete(client.stop())
    loop.close()


def run(kernel, code: str, target: str | None = None) -> dict:
    loop, client = kernel
    params = {"code": code, "filename": "/tmp/lesson.py", "demo": "lesson", **({"target": target} if target else {})}
    return loop.run_until_complete(client.request(P.OP_EXEC, params, timeout=300))


@pytest.mark.parametrize("name, devices, chips, hosts, kind", [
    ("tpu-v5e:4x4", 16, 16, 4, "TPU v5 lite"),
    ("tpu-v5e:16x16", 256, 256, 64, "TPU v5 lite"),
    ("tpu-v4:2x2x2", 16, 8, 2, "TPU v4"),  # compile-only v4 shows each chip's two cores
])
def test_a_target_has_its_chips_coordinates_and_hosts(kernel, name, devices, chips, hosts, kind):
    loop, client = kernel
    info = loop.run_until_complete(client.request(P.OP_TARGET, {"target": name}, timeout=120))
    assert (info["platform"], info["name"], info["devices"], info["hosts"], info["device_kind"]) == \
        ("tpu", name, devices, hosts, kind)
    assert info["chip_count"] == chips and len(info["chips"]) == devices
    assert len({tuple(c["coords"]) for c in info["chips"]}) == chips
    assert {c["host"] for c in info["chips"]} == set(range(hosts))
    if name == "tpu-v5e:4x4":  # four v5e hosts of 2x2 chips each: the pod map shows them
        assert pod_map_text(info).split("\n")[1:] == ["y0    h0 h0 h1 h1", "y1    h0 h0 h1 h1",
                                                      "y2    h2 h2 h3 h3", "y3    h2 h2 h3 h3"]


def test_a_slice_libtpu_does_not_know_is_refused(kernel):
    loop, client = kernel
    with pytest.raises(RequestFailed) as failed:
        loop.run_until_complete(client.request(P.OP_TARGET, {"target": "tpu-v5e:3x3"}, timeout=120))
    assert failed.value.data["type"] == "TargetInvalid" and "3x3" in failed.value.data["message"]


def test_marked_functions_compile_for_two_generations_with_tiled_layouts(kernel):
    code = MATMUL + 'demo.inspect(matmul, a, a, name="on v5p", target="tpu-v5p:2x2x1")\n'
    result = run(kernel, code, target="tpu-v5e:2x2")
    assert result["ok"] and result["stdout"] == "512\n"  # the code itself ran here, on the CPU
    assert result["target"]["name"] == "tpu-v5e:2x2" and result["target"]["devices"] == 4
    by_name = {ins["name"]: ins for ins in result["inspections"]}
    # the run's --target follows each function's local views; a function's own target replaces them
    assert list(by_name) == ["matmul", "matmul @ tpu-v5e:2x2", "on v5p @ tpu-v5p:2x2x1"]
    local, v5e, v5p = by_name["matmul"], by_name["matmul @ tpu-v5e:2x2"], by_name["on v5p @ tpu-v5p:2x2x1"]
    assert local["platform"] == "cpu" and "T(8,128)" not in local["hlo"]
    for ins in (v5e, v5p):
        assert ins["platform"] == "tpu" and ins["compiled"] and ins["error"] is None
        # TPU layouts: bf16 tiled (8,128) then (2,1), as only XLA's TPU compiler writes them
        assert "bf16[512,512]{1,0:T(8,128)(2,1)}" in ins["hlo"]
        assert ins["cost"]["flops"] == pytest.approx(2 * 512**3, rel=0.01)
        assert ins["memory"]["argument_size_in_bytes"] == 2 * 512 * 512 * 2  # both operands, one chip
        assert ins["stage_s"]["compile"] > 0 and ins["jaxpr"] == local["jaxpr"]
    assert "// compiled for tpu-v5e:2x2: 4 TPU v5 lite devices, 1 host" in v5e["hlo"]


SHARDED = MATMUL + """\
demo.inspect(matmul, a, a, name="rows", shardings=(P("x", "y"), P("x", "y")))
demo.inspect(matmul, a, a, name="contracted", shardings=(P(None, "x"), P("x", None)), mesh={"x": 4})
"""


def test_a_sharded_matmul_lists_the_collectives_and_the_memory_per_chip(kernel):
    result = run(kernel, SHARDED, target="tpu-v5e:2x2")
    by_name = {ins["name"]: ins for ins in result["inspections"]}
    whole, rows, contracted = (by_name[f"{n} @ tpu-v5e:2x2"] for n in ("matmul", "rows", "contracted"))
    assert whole["collectives"] == []  # one chip: nothing to exchange
    assert rows["mesh"] == {"axes": ["x", "y"], "shape": [2, 2]}
    assert rows["shardings"] == ["P('x', 'y')", "P('x', 'y')"]
    # each chip holds a quarter of each operand and gathers the rows/columns it lacks
    assert {c["op"] for c in rows["collectives"]} == {"all-gather"}
    assert all(c["bytes"] == 256 * 512 * 2 for c in rows["collectives"])
    assert rows["memory"]["argument_size_in_bytes"] == whole["memory"]["argument_size_in_bytes"] // 4
    assert rows["memory_unsharded"] == whole["memory"]
    # a contraction split over 4 chips: partial sums, added up across chips
    assert {c["op"] for c in contracted["collectives"]} & {"all-reduce", "reduce-scatter"}
    assert contracted["mesh"] == {"axes": ["x"], "shape": [4]}
    assert "// collectives XLA inserted:" in contracted["hlo"] and "all-reduce" in contracted["hlo"]
    report = render_text(result)
    assert "rows @ tpu-v5e:2x2: compiled in" in report and "all-gather ×2 (512 KiB)" in report
    assert "384 KiB per device (whole on one chip: 1.5 MiB, -75%)" in report


def test_a_function_on_this_machines_mesh_cannot_compile_for_the_target_and_says_why(kernel):
    code = MATMUL + """\
import numpy as np
from jax.sharding import Mesh, NamedSharding
cpu_mesh = Mesh(np.array(jax.devices()), ("x",))
pinned = jax.jit(lambda a: jax.lax.with_sharding_constraint(a * 2, NamedSharding(cpu_mesh, P("x"))))
demo.inspect(pinned, a, name="pinned", shardings=(P("x"),))
w = jnp.full((512, 512), 3.0, jnp.bfloat16)
demo.inspect(jax.jit(lambda a: a @ w), a, name="closure")
"""
    result = run(kernel, code, target="tpu-v5e:2x2")
    by_name = {ins["name"]: ins for ins in result["inspections"]}
    assert by_name["pinned"]["error"] is None  # fine here, on the CPU mesh it was built for
    failed = by_name["pinned @ tpu-v5e:2x2"]
    assert not failed["compiled"] and "uses this machine's devices" in failed["error"]["message"]
    assert "incompatible devices" in failed["error"]["message"]  # JAX's own words follow
    assert by_name["matmul @ tpu-v5e:2x2"]["compiled"]  # the others still compile
    # a closed-over concrete array becomes a constant of the TPU program (jax 0.10 embeds it)
    assert by_name["closure @ tpu-v5e:2x2"]["compiled"]


def test_a_plain_run_is_unchanged_where_libtpu_is_installed(kernel):
    result = run(kernel, MATMUL)
    assert result["ok"] and result["target"] is None
    assert [(i["name"], i["platform"]) for i in result["inspections"]] == [("matmul", "cpu")]
    assert "T(8,128)" not in result["inspections"][0]["hlo"]


@needs_libtpu
def test_loading_a_target_keeps_libtpus_start_up_noise_from_the_user():
    events, stderr = _kernel_session(KernelConfig().env(),
                                     P.Request(id=1, op=P.OP_TARGET, params={"target": "tpu-v5e:2x2"}))
    assert [e.kind for e in events] == [P.EV_READY, P.EV_RESULT, P.EV_RESULT]
    assert events[1].data["devices"] == 4
    assert not [line for line in stderr.splitlines() if any(n in line for n in LIBTPU_NOISE)], stderr


# -- the Devices pane: choosing a target, the pod map --------------------------------------
async def _devices_pane(pilot, app):
    from jaxtui.ui.widgets.devices_view import DevicesView

    await views_built(pilot)
    await wait_for(pilot, lambda: app.kernel.state == "ready", 60, "the kernel")
    await pilot.press("f2")  # the Devices tab comes after the last demo pane
    return app.query_one(DevicesView)


@needs_libtpu
async def test_the_devices_pane_shows_the_targets_pod_map_and_runs_compile_for_it(tmp_path):
    from jaxtui.core.catalog import load
    from jaxtui.ui.app import JaxTUI
    from jaxtui.ui.results.inspection import InspectionView

    path = tmp_path / "mm.py"
    path.write_text('"""# mm\n\nA matmul."""\n' + MATMUL)
    # as `jaxtui mm.py --target tpu-v5e:2x2`
    app = JaxTUI(kernel_config=KernelConfig(host_devices=2, target="tpu-v5e:2x2"), user_demo=load(path),
                 initial_pane="mm", cursor_blink=False)
    async with app.run_test(size=(100, 40)) as pilot:
        view = await _devices_pane(pilot, app)
        select = view.query_one("#target-select")
        await wait_for(pilot, lambda: view.target_info.get("name") == "tpu-v5e:2x2", 120, "the --target's chips")
        assert select.value == "tpu-v5e:2x2"
        select.value = "tpu-v5e:4x4"  # the choice in the pane: no new kernel, the next runs use it
        await wait_for(pilot, lambda: view.target_info.get("devices") == 16, 120, "the 4x4 slice")
        shown = str(view.query_one("#target-map").render())
        assert "tpu-v5e:4x4: 16 TPU v5 lite chips on 4 hosts" in shown and "y3    h2 h2 h3 h3" in shown
        assert app.kernel.config.target == "tpu-v5e:4x4" and app.kernel.state == "ready"
        await pilot.press("f3")  # back to the demo, and run it
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "── mm:" in output_text(app), 180, "the run")
        hlo = next(v for v in app.current_pane.query(InspectionView) if v.key == "hlo")
        assert "matmul @ tpu-v5e:4x4" in hlo.text and "bf16[512,512]{1,0:T(8,128)(2,1)}" in hlo.text
        await app.action_quit()


async def test_without_libtpu_the_devices_pane_refuses_a_target_with_the_fix(tmp_path, monkeypatch):
    from jaxtui.ui.app import JaxTUI

    monkeypatch.setenv("PYTHONPATH", hidden_libtpu_env(tmp_path)["PYTHONPATH"])
    app = JaxTUI(kernel_config=KernelConfig(host_devices=2), cursor_blink=False)
    async with app.run_test(size=(100, 40)) as pilot:
        view = await _devices_pane(pilot, app)
        view.query_one("#target-select").value = "tpu-v5e:2x2"
        message = view.query_one("#devices-message")
        await wait_for(pilot, lambda: "jaxtui[tpu]" in str(message.render()), 60, "the refusal")
        assert 'needs libtpu' in str(message.render()) and app.kernel.config.target is None
        assert view.query_one("#target-select").value == "none" and view.target_info == {}
        await app.action_quit()


# -- 5. the lesson ---------------------------------------------------------------------------
@needs_libtpu
def test_the_tpu_lesson_compiles_one_matmul_for_2x2_and_4x4_whole_and_sharded():
    proc = jaxtui("run", "tpu", "--json")
    result = json.loads(proc.stdout)
    assert proc.returncode == 0 and result["ok"], result["error"]
    by_name = {ins["name"]: ins for ins in result["inspections"]}
    assert list(by_name) == [f"{how} @ tpu-v5e:{s}" for s in ("2x2", "4x4") for how in ("whole on one chip", "sharded")]
    assert all(ins["compiled"] and ins["platform"] == "tpu" for ins in by_name.values())
    mem = {name: per_device_bytes(ins["memory"]) for name, ins in by_name.items()}
    # more chips, less of the matmul on each
    assert mem["sharded @ tpu-v5e:4x4"] < mem["sharded @ tpu-v5e:2x2"] < mem["whole on one chip @ tpu-v5e:2x2"]
    for s, chips in (("2x2", 4), ("4x4", 16)):
        whole, sharded = by_name[f"whole on one chip @ tpu-v5e:{s}"], by_name[f"sharded @ tpu-v5e:{s}"]
        assert whole["collectives"] == [] and sharded["mesh"]["shape"] == [int(s[0]), int(s[2])]
        # a split contraction (b_spec ("y", None)): partial products summed across chips
        assert [c["op"] for c in sharded["collectives"]] == ["all-reduce"]
        assert sharded["cost"]["flops"] == pytest.approx(whole["cost"]["flops"] / chips, rel=0.05)


def test_the_tpu_lesson_without_libtpu_explains_and_runs_on_the_cpu_alone(tmp_path):
    proc = jaxtui("run", "tpu", "--json", env=hidden_libtpu_env(tmp_path))
    result = json.loads(proc.stdout)
    assert proc.returncode == 0 and result["ok"], result["error"]
    assert 'libtpu is not installed, so nothing is compiled for a TPU here: pip install "jaxtui[tpu]"' \
        in result["stdout"]
    assert [(i["name"], i["platform"], i["error"]) for i in result["inspections"]] == \
        [("matmul on this machine", "cpu", None)]


def test_the_tpu_lesson_runs_as_a_plain_script():
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's jaxtui, not an installed one
    proc = subprocess.run([PYTHON, str(REPO / "demos" / "tpu.py")], capture_output=True, text=True, timeout=180,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "matmul runs here, on the CPU" in proc.stdout and "Traceback" not in proc.stderr
