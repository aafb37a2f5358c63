"""The six lessons teach what JAX really does: each one runs headless through the public
surface (`python -m jaxtui run NAME --json`) and as a plain script, and every correction of
the source notes carries the value or error measured in that very run.

Each demo runs once per test session (cached), and many assertions read that one result.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jaxtui.core.catalog import load
from jaxtui.inputs import parse_value
from jaxtui.render.timing_report import timing_charts

REPO = Path(__file__).resolve().parent.parent
DEMOS = REPO / "demos"
NAMES = ("grad", "jit", "vmap", "lax", "pmap", "stax")
JSON_KEYS = {"demo", "ok", "device", "stdout", "error", "values", "timings", "corrections",
             "inspections", "jaxpr", "stablehlo", "hlo", "cost"}
RUN_TIMEOUT_S = 180

_cache: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}


def jaxtui_run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jaxtui", "run", name, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


def run_json(name: str, *inputs: str) -> dict[str, Any]:
    """`jaxtui run NAME --json [--input k=v ...]`, parsed; each distinct run happens once."""
    key = (name, inputs)
    if key not in _cache:
        args = ["--json"] + [a for pair in inputs for a in ("--input", pair)]
        proc = jaxtui_run(name, *args)
        assert proc.stdout.strip(), f"no JSON from `jaxtui run {name}`; stderr:\n{proc.stderr}"
        result = json.loads(proc.stdout)
        result["_returncode"] = proc.returncode
        _cache[key] = result
    return _cache[key]


def ok_run(name: str, *inputs: str) -> dict[str, Any]:
    r = run_json(name, *inputs)
    assert r["ok"] and r["error"] is None and r["_returncode"] == 0, (r["error"], r["stdout"][-2000:])
    return r


def correction(result: dict[str, Any], notes_part: str) -> dict[str, Any]:
    found = [c for c in result["corrections"] if notes_part in c["notes"]]
    assert len(found) == 1, f"{notes_part!r} in {[c['notes'] for c in result['corrections']]}"
    return found[0]


def values_text(result: dict[str, Any]) -> str:
    return "\n".join(v["text"] for v in result["values"])


def value(result: dict[str, Any], label_part: str) -> dict[str, Any]:
    found = [v for v in result["values"] if label_part in v["label"]]
    assert found, f"{label_part!r} in {[v['label'] for v in result['values']]}"
    return found[0]


def timing(result: dict[str, Any], label: str) -> dict[str, Any]:
    found = [t for t in result["timings"] if t["label"] == label]
    assert len(found) == 1, [t["label"] for t in result["timings"]]
    return found[0]


# --- Every demo ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_demo_runs_headless(name: str) -> None:
    r = ok_run(name)
    assert set(r) >= JSON_KEYS
    assert r["demo"] == name
    assert r["device"]
    assert r["jaxpr"] and r["stablehlo"] and r["hlo"] and r["cost"], "the demo marks a function"
    for view in r["inspections"]:
        assert view["error"] is None, view["error"]
    assert "Traceback" not in r["stdout"]


@pytest.mark.parametrize("name", NAMES)
def test_lesson_and_inputs(name: str) -> None:
    demo = load(DEMOS / f"{name}.py", builtin=True)
    first = demo.lesson.splitlines()[0]
    assert re.fullmatch(rf"# {name}: \S.*", first), first
    assert demo.inputs, "every lesson has at least one editable knob"
    for spec in demo.inputs:  # the UI reads them with ast: the defaults must be valid values
        assert parse_value(spec, spec.format(spec.default)) == spec.default
    # the kernel saw the same inputs the UI reads from the source
    assert set(ok_run(name)["inputs"]) == {s.name for s in demo.inputs}


@pytest.mark.parametrize("name", NAMES)
def test_corrections_are_measured_and_marked(name: str) -> None:
    r = ok_run(name)
    assert r["corrections"], "each lesson pins at least one claim of the notes"
    code = (DEMOS / f"{name}.py").read_text(encoding="utf-8").splitlines()
    for c in r["corrections"]:
        assert c["notes"] and c["jax"] and c["actual"], c
        line = c["line"]  # the demo file's own line, as the editor's gutter numbers it
        assert "demo.correction(" in code[line - 1], (line, code[line - 1])
        window = code[max(0, line - 7): line]
        assert any("# ✗ notes" in w and "✓ JAX" in w for w in window), (name, line)


@pytest.mark.parametrize("name", NAMES)
def test_demo_runs_as_plain_script(name: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    proc = subprocess.run([sys.executable, str(DEMOS / f"{name}.py")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "✗ the notes say" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    if name == "pmap":  # the script asks for 8 virtual CPU devices itself
        assert "8 devices, using 4" in proc.stdout


# --- Inputs from the command line ---------------------------------------------------------------


def test_input_override_changes_switch_branch() -> None:
    default = ok_run("lax")
    assert "your index 1 -> branch 1: [6 7 8]" in default["stdout"]
    r = ok_run("lax", "index=2")
    assert r["inputs"]["index"] == 2
    assert "your index 2 -> branch 2: [0 1 2]" in r["stdout"]
    # the notes' own call does not depend on the knob
    assert correction(r, "# 3 (because")["actual"] == "[6 7 8]"


@pytest.mark.parametrize("pair, message", [
    ("index=abc", "input index: not a Python literal"),
    ("index=1000", "input index: must be <= 100"),
    ("index=1.5", "input index: expected an integer"),
    ("nosuch=1", "has no input 'nosuch'"),
])
def test_invalid_input_is_refused(pair: str, message: str) -> None:
    proc = jaxtui_run("lax", "--json", "--input", pair)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_pmap_device_count_input() -> None:
    r = ok_run("pmap", "devices=2")
    assert "8 devices, using 2" in r["stdout"]
    assert "(a 2-D mesh needs an even device count >= 4; using 2)" in r["stdout"]
    assert "pmap result == x / x.sum(): True" in r["stdout"]


# --- grad -----------------------------------------------------------------------------------


def test_grad_seed_example_returns_gradients_only() -> None:
    r = ok_run("grad")
    shown = value(r, "grad(loss_fn, argnums=(0, 1))")
    assert shown["type"] == "tuple"
    assert shown["text"].count("f32[1000]") == 2
    assert correction(r, "returns the output value of fun")["actual"] == "tuple of 2 arrays, no loss in it"
    assert correction(r, "tuple of (loss, grad)")["actual"] == "shapes [(1000,), (1000,)]"


def test_grad_int_vs_tuple_argnums() -> None:
    r = ok_run("grad")
    assert "argnums=0    -> ArrayImpl (1000,)" in r["stdout"]
    assert "argnums=(0,) -> tuple 1 item" in r["stdout"]
    assert correction(r, "returns a tuple (grad)")["actual"] == (
        "argnums=0 -> ArrayImpl (1000,); argnums=(0,) -> tuple of 1")


def test_grad_errors_are_caught_and_explained() -> None:
    r = ok_run("grad")
    assert correction(r, "argnums can be a pytree")["actual"] == (
        "TypeError: 'str' object cannot be interpreted as an integer")
    assert correction(r, "output must be a scalar")["actual"].startswith(
        "TypeError: Gradient only defined for scalar-output functions. Output had shape: (1000,)")
    assert correction(r, "integer input")["actual"].startswith(
        "TypeError: grad requires real- or complex-valued inputs")
    assert "grad at a float ->  6.0" in r["stdout"]


def test_grad_reused_key_gives_equal_arrays() -> None:
    r = ok_run("grad")
    assert correction(r, "PRNGKey(42)")["actual"] == "w == b == x: True"
    assert "with split keys, w == b: False" in r["stdout"]


def test_grad_value_and_grad_has_aux_and_pytrees() -> None:
    r = ok_run("grad")
    assert re.fullmatch(r"\(loss=[0-9.e-]+, \(f32\[1000\], f32\[1000\]\)\)",
                        correction(r, "value and gradient are computed")["actual"])
    aux = value(r, "has_aux=True")
    assert "'mse'" in aux["text"] and "'max_abs_err'" in aux["text"]
    params = value(r, "dict of params")
    assert "'w': f32[1000]" in params["text"] and "'b': f32[1000]" in params["text"]
    assert "same keys as params: True | equal to argnums=(0, 1): True" in r["stdout"]
    assert value(r, "jax.jacobian")["shape"] == [3, 3]


# --- jit ------------------------------------------------------------------------------------


def test_jit_timings_separate_first_call_from_cached() -> None:
    r = ok_run("jit")
    groups = {t["group"] for t in r["timings"] if t["size"] is None}
    assert groups == {"x * y (one op)", "10 chained elementwise ops"}
    for label in ("no jit: x * y", "jit: x * y", "no jit: chain", "jit: chain"):
        t = timing(r, label)
        assert t["n"] >= 5 and t["median_s"] > 0 and t["first_call_s"] > 0
    jitted = timing(r, "jit: x * y")
    assert jitted["first_call_s"] > jitted["median_s"], "the first call includes the compile"
    actual = correction(r, "about 10x faster")["actual"]
    assert re.fullmatch(r"median eager/jit: one op [0-9.]+x, 10 chained ops [0-9.]+x", actual)


def test_jit_size_sweep_eager_vs_jit() -> None:
    r = ok_run("jit")
    swept = [t for t in r["timings"] if t["size"] is not None]
    assert {t["group"] for t in swept} == {"10 chained elementwise ops, by size"}
    sizes = [10**k for k in range(3, 7)]  # sweep_to defaults to 6
    for label in ("no jit", "jit"):
        points = [t for t in swept if t["label"] == label]
        assert [t["size"] for t in points] == sizes
        assert all(not t["error"] and t["median_s"] > 0 and t["n"] >= 3 for t in points)
        assert [t["sweep"]["index"] for t in points] == list(range(label == "jit", 8, 2))
    assert r["inputs"]["sweep_to"] == 6
    assert r["stdout"].count("  sweep n = ") == 4
    assert "  sweep n =   1,000,000: eager " in r["stdout"]


def test_jit_sweep_draws_log_log_charts() -> None:
    charts = {c["title"]: c for c in timing_charts(ok_run("jit")["timings"])}
    group = "10 chained elementwise ops, by size"
    for kind in ("time per call", "memory throughput"):
        chart = charts[f"{group}: {kind} vs size (log-log)"]
        assert chart["kind"] == "lines" and chart["logx"] and chart["logy"]
        assert {"no jit", "jit"} <= {s["name"] for s in chart["series"]}
    # the size-free groups still get their bar charts
    assert charts["10 chained elementwise ops: first call vs cached"]["kind"] == "bars"


def test_jit_print_runs_at_trace_time() -> None:
    r = ok_run("jit")
    out = r["stdout"]
    assert out.count("python print (runs while tracing): JitTracer") == 2  # call 1 and the retrace
    assert out.count("jax.debug.print (runs every call)") == 3
    assert "jax.debug.print (runs every call): x=2.0" in out
    assert out.count("debug.print of an f-string: JitTracer") == 3  # baked in at trace time
    assert correction(r, "ignored at compile time")["actual"].startswith("Python print ran 2 times in 3 calls")
    assert "JitTracer(~float32[])" in correction(r, "f-strings")["actual"]


def test_jit_debug_print_ordered() -> None:
    r = ok_run("jit")
    assert "debug.print order, ordered=True:  A B C D" in r["stdout"]
    assert correction(r, "execution order")["actual"].endswith("ordered=True: A B C D")


def test_jit_tracer_errors_and_fixes() -> None:
    r = ok_run("jit")
    out = r["stdout"]
    assert "jit(relu_if)(3.0) -> TracerBoolConversionError" in out
    assert "jit(jnp.nonzero)(values) -> ConcretizationTypeError" in out
    assert "fix, a static size=4 and fill_value=-1: (Array([ 1,  3,  4, -1], dtype=int32),)" in out
    assert correction(r, "static shapes")["actual"] == "TracerBoolConversionError; ConcretizationTypeError"


def test_jit_recompiles_counted() -> None:
    out = ok_run("jit")["stdout"]
    counts = [int(n) for n in re.findall(r"-> cache entries: (\d+)", out)]
    assert counts == [1, 1, 2, 3, 4, 4]  # same, same, new static, new shape, new dtype, hit
    assert "g(2.0) -> entries: 2" in out  # weak-typed Python floats vs a float32 array


def test_jit_chain_is_fused() -> None:
    r = ok_run("jit")
    assert r["inspections"][0]["name"].startswith("jit(chain)")
    assert "fusion" in r["hlo"]


# --- vmap -----------------------------------------------------------------------------------


def test_vmap_seed_examples() -> None:
    out = ok_run("vmap")["stdout"]
    assert "loop: [2. 3. 4.]  vmap: [2. 3. 4.]" in out
    assert "vmap_f(xs, ys) = [2. 4. 6.]" in out


def test_vmap_scalar_argument_needs_in_axes_none() -> None:
    r = ok_run("vmap")
    assert correction(r, "vmap_f(xs, 1)")["actual"].startswith(
        "ValueError: vmap was requested to map its argument along axis 0")
    assert "jax.vmap(f, in_axes=(0, None))(xs, 1) = [2. 3. 4.]" in r["stdout"]


def test_vmap_multi_dimensional_misnomer() -> None:
    r = ok_run("vmap")
    assert correction(r, "multi-dimensional")["actual"] == (
        "vmap_f(xs, ys) -> shape (3,); nested vmap -> shape (3, 2)")
    assert value(r, "nested vmap")["shape"] == [3, 2]


def test_vmap_per_example_value_and_grad() -> None:
    r = ok_run("vmap")
    out = r["stdout"]
    losses = re.search(r"per-example loss: \[([^\]]*)\]", out).group(1).split()
    assert [round(float(v), 4) for v in losses] == [0.16, 1.44, 4.0]
    assert "aux, the constant 1, batched too: [1 1 1]" in out
    assert "grads: tuple of 1 (argnums=(0,) is a tuple), grads[0].shape = (3, 3)" in out
    assert "row i == 2 * (w.x_i - y_i) * x_i: True" in out
    assert "int x_batch, grad w.r.t. x -> TypeError" in out
    assert value(r, "per-example grads")["shape"] == [3, 3]


def test_vmap_beats_the_python_loop() -> None:
    r = ok_run("vmap")
    assert {t["group"] for t in r["timings"]} == {"vmap vs loop (256 examples)"}
    assert "loop == vmap: True" in r["stdout"]
    # 256 eager dispatches against one compiled call: orders of magnitude, not noise
    assert timing(r, "python loop")["median_s"] > timing(r, "jit(vmap)")["median_s"]


def test_vmap_timing_has_manual_batching_variant() -> None:
    r = ok_run("vmap")
    labels = [t["label"] for t in r["timings"] if t["group"] == "vmap vs loop (256 examples)"]
    assert labels == ["python loop", "vmap", "jit(vmap)", "manual batching", "jit(manual batching)"]
    for label in labels:
        t = timing(r, label)
        assert not t["error"] and t["median_s"] > 0 and t["first_call_s"] > 0
    assert "manual batching == vmap: True" in r["stdout"]
    assert re.search(r"manual batching [0-9.e-]+ ms, jit\(manual batching\) [0-9.e-]+ ms", r["stdout"])


# --- lax ------------------------------------------------------------------------------------


def test_lax_cond() -> None:
    r = ok_run("lax")
    assert "f(3.0) = 9.0" in r["stdout"]
    assert correction(r, "# -2.0")["actual"] == "2.0"
    assert "an array pred -> TypeError: Pred must be a scalar" in r["stdout"]


def test_lax_vmap_of_cond_runs_both_branches() -> None:
    r = ok_run("lax")
    out = r["stdout"]
    one = out.split("f_traced(3.0) runs one branch:\n")[1].split("vmap(")[0]
    assert "true branch ran on x=3.0" in one and "false branch" not in one
    for line in ("false branch ran on x=3.0", "false branch ran on x=-2.0",
                 "true branch ran on x=3.0", "true branch ran on x=-2.0"):
        assert line in out
    assert "select_n" in r["jaxpr"] and "cond[" not in r["jaxpr"]
    assert "every branch, though both indices are 0:\n  case_fn_0 ran\n  case_fn_1 ran\n  case_fn_2 ran" in out


def test_lax_scan() -> None:
    r = ok_run("lax")
    out = r["stdout"]
    assert "scan: carry = 10.0  ys = [ 0.  1.  3.  6. 10.]" in out
    assert "scan(reverse=True): carry = 10.0  ys = [10. 10.  9.  7.  4.]" in out
    assert correction(r, "length=10")["actual"] == (
        "TypeError: unsupported operand type(s) for +: 'DynamicJaxprTracer' and 'NoneType'")
    assert "scan(count, 0.0, None, length=5): carry = 5.0  ys = [0. 1. 2. 3. 4.]" in out
    assert "carry type must not change (int32 -> float32) -> TypeError" in out


def test_lax_select() -> None:
    r = ok_run("lax")
    assert "lax.select(cond, x, y) = [1. 5. 3.]" in r["stdout"]
    assert correction(r, "shape of cond")["actual"].startswith(
        "TypeError: select `which` must be scalar or have the same shape as cases")
    assert "jnp.where broadcasts: [[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]]" in r["stdout"]
    actual = correction(r, "branch selection")["actual"]
    assert actual.startswith("select -> ['select_n'], switch -> [") and "'cond'" in actual


def test_lax_switch() -> None:
    r = ok_run("lax")
    assert correction(r, "result = lax.switch")["actual"] == (
        "TypeError: case_fn_0() missing 1 required positional argument: 'x'")
    assert "lax.switch(x[0], branches, x) = [6 7 8]" in r["stdout"]
    assert correction(r, "# 3 (because")["actual"] == "[6 7 8]"
    assert correction(r, "[0, n)")["actual"] == "index 7 -> [0 1 2], index -3 -> [2 4 6]"
    assert "a float index -> TypeError: Index type must be an integer" in r["stdout"]


def test_lax_loops_and_differentiability() -> None:
    r = ok_run("lax")
    out = r["stdout"]
    assert "fori_loop(0, 5, acc + i, 0) = 10" in out
    assert "while_loop doubling 1.0 until >= 100: 128.0 after 7 steps" in out
    assert "fori_loop with static bounds lowers to: ['scan']" in out
    assert "grad(fori_loop version)(1.0) = 32.0" in out
    assert "grad(while_loop version) -> ValueError: Reverse-mode differentiation does not work" in out
    assert "jax.jvp(while_loop version) = (Array(32." in out
    assert "scan[" in r["inspections"][1]["jaxpr"]


def test_lax_times_scan_against_a_python_loop() -> None:
    r = ok_run("lax")
    group = "scan vs Python loop (300 steps)"
    labels = [t["label"] for t in r["timings"] if t["group"] == group]
    assert labels == ["python loop", "jit(scan)", "jnp.cumsum"]
    for label in labels:
        t = timing(r, label)
        assert not t["error"] and t["median_s"] > 0 and t["n"] >= 3
    assert timing(r, "jit(scan)")["jitted"] and not timing(r, "python loop")["jitted"]
    assert "python loop == jit(scan) == jnp.cumsum over 300 steps: True" in r["stdout"]
    assert r["inputs"]["timed_steps"] == 300


def test_lax_has_no_normalization() -> None:
    r = ok_run("lax")
    assert correction(r, "normalization")["actual"] == "hasattr(lax, 'batch_norm') = False"


# --- pmap -----------------------------------------------------------------------------------


def test_pmap_psum_and_its_successors() -> None:
    r = ok_run("pmap")
    out = r["stdout"]
    assert "8 devices, using 4: cpu:0, cpu:1, cpu:2, cpu:3" in out
    for line in ("pmap result == x / x.sum(): True", "shard_map result == pmap result: True",
                 "after device_put to NamedSharding(mesh, P('i')) it runs: True",
                 "jit result == pmap result: True", "compiled HLO has an all-reduce: True",
                 "make_jaxpr(pmap(f)) contains shard_map: True",
                 "jax.make_mesh default axis types: (Explicit,)"):
        assert line in out
    assert "shard_map on an Explicit mesh, unsharded input -> ValueError: in_specs passed to shard_map" in out
    assert correction(r, "pmap")["actual"] == "'shard_map' in make_jaxpr(pmap(f)): True"
    by_name = {v["name"]: v for v in r["inspections"]}
    assert "all-reduce" in by_name["jit + NamedSharding"]["hlo"]
    assert "shard_map" in by_name["pmap(normalize)"]["jaxpr"]


def test_pmap_draws_placements() -> None:
    r = ok_run("pmap")
    drawings = [v for v in r["values"] if v["type"] == "sharding"]
    assert len(drawings) == 6
    rows = value(r, "pmap output")
    assert all(f"CPU {i}" in rows["text"] for i in range(4)) and "P('i',)" in rows["text"]
    assert "CPU 0,1" in value(r, "P('rows', None)")["text"]
    assert "CPU 0,1,2,3" in value(r, "P(): replicated")["text"]


# --- stax -----------------------------------------------------------------------------------


def test_stax_trains_and_records_the_loss_curve() -> None:
    r = ok_run("stax")
    (plot,) = r["plots"]
    assert plot["name"] == "loss" and plot["logy"]
    assert plot["x"] == list(range(600))
    assert plot["y"][-1] < plot["y"][0] / 10
    assert "decreased: True" in r["stdout"]
    assert value(r, "x | sin(x) | prediction")["shape"] == [7, 3]
    assert "example library" in correction(r, "stax")["actual"]


def test_stax_per_example_gradients() -> None:
    out = ok_run("stax")["stdout"]
    assert "param shapes per layer: [((1, 32), (32,)), (), ((32, 32), (32,)), (), ((32, 1), (1,))]" in out
    assert "[(8, 1, 32), (8, 32), (8, 32, 32), (8, 32), (8, 32, 1), (8, 1)]" in out
    assert "mean of per-example grads == grad of the mean loss: True" in out
