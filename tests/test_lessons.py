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


def test_grad_legacy_and_typed_keys_and_fold_in() -> None:
    import jax

    assert "legacy" in jax.random.PRNGKey.__doc__ and "jax.random.key` is recommended" in jax.random.PRNGKey.__doc__
    out = ok_run("grad")["stdout"]
    assert "legacy PRNGKey: uint32 (2,) | typed key: key<fry> () | same bits: True" in out
    assert "fold_in(key, 0..2) give different numbers: True" in out


def test_grad_dict_argnums_precisely() -> None:
    r = ok_run("grad")
    # the notes' kind of dict raises; a dict with int keys is iterated for its keys
    assert "argnums as a dict -> TypeError: 'str' object cannot be interpreted as an integer" in r["stdout"]
    assert "argnums={1: 'b', 0: 'w'} -> tuple of 2 | [0] is dL/db: True" in r["stdout"]
    assert "iterated for its keys" in correction(r, "argnums can be a pytree")["jax"]


def test_grad_has_aux_on_a_scalar_loss_raises() -> None:
    r = ok_run("grad")
    c = correction(r, "has_aux=True)  (commented out")
    assert c["actual"].startswith("TypeError: expected function with aux output to return a two-element "
                                  "tuple; without has_aux: loss ")
    assert "has_aux=True on a scalar loss -> TypeError: expected function with aux output" in r["stdout"]


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
    assert groups == {"x * y (one op)", "memory-bound chain (8 ops)", "compute-bound chain: sin (10 ops)"}
    for label in ("no jit: x * y", "jit: x * y", "no jit: chain", "jit: chain", "no jit: sin chain",
                  "jit: sin chain"):
        t = timing(r, label)
        assert t["n"] >= 3 and t["median_s"] > 0 and t["first_call_s"] > 0
    jitted = timing(r, "jit: x * y")
    assert jitted["first_call_s"] > jitted["median_s"], "the first call includes the compile"
    actual = correction(r, "about 10x faster")["actual"]
    assert re.fullmatch(r"median eager/jit: one op [0-9.]+x: (as the lesson says|this run contradicts.*); "
                        r"memory-bound chain [0-9.]+x: (as the lesson says|this run contradicts.*)", actual)


def _verdict_function():
    """The jit lesson's own `verdict`, taken from its source."""
    import ast

    source = (DEMOS / "jit.py").read_text(encoding="utf-8")
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "verdict")
    namespace: dict[str, Any] = {}
    exec(ast.get_source_segment(source, node), namespace)  # noqa: S102 - the lesson's own code
    return namespace["verdict"]


def test_jit_never_prints_a_claim_over_a_contrary_figure() -> None:
    verdict = _verdict_function()
    assert verdict(1.02, 0.67, 1.5) == "1.02x: as the lesson says"
    assert verdict(0.9, 2.0).startswith("0.90x: this run contradicts the lesson, which expects at least 2x")
    assert "expects between 0.67x and 1.5x" in verdict(3.1, 0.67, 1.5)
    assert "expects at most 4x" in verdict(5.0, high=4.0)
    # and in a real run, each printed verdict agrees with the ratio printed beside it
    out = ok_run("jit")["stdout"]
    checks = {"one op x * y:": (0.67, 1.5), "memory-bound chain:": (2.0, None),
              "dispatch: 8 eager ops against one jitted call: eager/jit": (2.0, None)}
    for label, (low, high) in checks.items():
        found = re.search(re.escape(label) + r"\s+([0-9.]+)x: (as the lesson says|this run contradicts)", out)
        assert found, label
        ratio, said = float(found.group(1)), found.group(2)
        holds = ratio >= low and (high is None or ratio <= high)
        assert said == ("as the lesson says" if holds else "this run contradicts"), (label, ratio, said)


def test_jit_chains_are_bounded_as_the_lesson_labels_them() -> None:
    """Memory-bound: no transcendentals, fused into one pass (one loop fusion reading x and
    writing the result). Compute-bound: the same bytes, plus a sine per element per step."""
    r = ok_run("jit")
    n, steps = r["inputs"]["n"], r["inputs"]["steps"]
    mem, sin = timing(r, "jit: chain")["work"], timing(r, "jit: sin chain")["work"]
    assert not mem["transcendentals"] and sin["transcendentals"] == steps * n
    assert mem["bytes"] == sin["bytes"] == 2 * 4 * n  # read x, write the result: one pass
    eager = timing(r, "no jit: chain")["work"]
    assert eager["bytes"] > 4 * mem["bytes"], "eager moves the array once per op"
    views = {v["name"]: v for v in r["inspections"]}
    fused = views["jit(chain): one fusion"]["hlo"]
    assert len(re.findall(r"kind=kLoop", fused)) == 1
    assert re.search(r"the sin chain also computes [0-9,]+ sines and takes [0-9.]+x as long: "
                     r"(its extra time is arithmetic, not memory|this run did not show)", r["stdout"])
    assert f"the sin chain also computes {steps * n:,} sines" in r["stdout"]


def test_jit_size_sweep_eager_vs_jit() -> None:
    r = ok_run("jit")
    swept = [t for t in r["timings"] if t["size"] is not None]
    assert {t["group"] for t in swept} == {"memory-bound chain (8 ops), by size"}
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
    group = "memory-bound chain (8 ops), by size"
    for kind in ("time per call", "memory throughput"):
        chart = charts[f"{group}: {kind} vs size (log-log)"]
        assert chart["kind"] == "lines" and chart["logx"] and chart["logy"]
        assert {"no jit", "jit"} <= {s["name"] for s in chart["series"]}
    # the size-free groups still get their bar charts
    assert charts["memory-bound chain (8 ops): first call vs cached"]["kind"] == "bars"


def test_jit_print_runs_at_trace_time() -> None:
    r = ok_run("jit")
    out = r["stdout"]
    assert out.count("python print (runs while tracing): JitTracer") == 2  # call 1 and the retrace
    assert out.count("jax.debug.print (runs every call)") == 3
    assert "jax.debug.print (runs every call): x=2.0" in out
    assert "placeholders, positional: 2.0 4.0" in out  # debug.print formats "{} {}" itself
    assert out.count("debug.print of an f-string: JitTracer") == 3  # baked in at trace time
    assert correction(r, "ignored at compile time")["actual"].startswith("Python print ran 2 times in 3 calls")
    assert "JitTracer(~float32[])" in correction(r, "f-strings")["actual"]


def test_jit_debug_print_ordered() -> None:
    r = ok_run("jit")
    assert "debug.print order, ordered=True:  A B C D" in r["stdout"]
    assert correction(r, "execution order")["actual"].endswith("ordered=True: A B C D")
    # the lesson uses the two-call form, not the soft-deprecated one (options mixed with values)
    import ast

    calls = [node for node in ast.walk(ast.parse((DEMOS / "jit.py").read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and ast.unparse(node.func) == "jax.debug.print"]
    with_options = [c for c in calls if any(k.arg in ("ordered", "partitioned") for k in c.keywords)]
    assert with_options and all(not c.args for c in with_options), [ast.unparse(c) for c in with_options]


def test_jit_debug_print_f_string_half_right() -> None:
    """The docstring itself warns against f-strings; placeholders are what it formats."""
    import jax

    assert "does *not* work with f-strings" in jax.debug.print.__doc__
    assert "Soft deprecated" in jax.debug.print.__doc__  # the one-call form with options
    r = ok_run("jit")
    assert correction(r, "f-strings")["jax"].startswith("half right")


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


def test_vmap_in_axes_any_axis_pytree_and_out_axes() -> None:
    out = ok_run("vmap")["stdout"]
    assert "in_axes=1, sum over each column: [3. 5. 7.] shape (3,)" in out
    assert "in_axes=-1, the last axis (the same here): [3. 5. 7.]" in out
    assert "in_axes=({'w': None, 'x': 0},), a pytree of axes: [ 8. 26.]" in out
    assert "out_axes=1: the batch of 2 rows comes out as axis 1: (3, 2)" in out


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
    from jax import lax

    r = ok_run("lax")
    assert "f(3.0) = 9.0" in r["stdout"]
    assert correction(r, "# -2.0")["actual"] == "2.0"
    assert "an array pred -> TypeError: Pred must be a scalar" in r["stdout"]
    # an int pred runs, but the docs only promise a boolean scalar: the lesson says both
    assert "pred: Boolean scalar type" in lax.cond.__doc__
    assert "an int pred runs, though the docs ask for a boolean scalar: lax.cond(2, t, f, 3.0) = 9.0" in r["stdout"]


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
    # the notes' scan(step, carry, None, length=10) is right: a caveat, not a correction
    assert not [c for c in r["corrections"] if "length=" in c["notes"]]
    assert ("caveat: with xs=None the body gets x=None; the notes' step (carry + x) -> TypeError: "
            "unsupported operand type(s) for +: 'DynamicJaxprTracer' and 'NoneType'") in out
    assert "scan(count, 0.0, None, length=5): carry = 5.0  ys = [0. 1. 2. 3. 4.]" in out
    assert "carry type must not change (int32 -> float32) -> TypeError" in out


def test_lax_select() -> None:
    from jax import lax

    r = ok_run("lax")
    assert "lax.select(cond, x, y) = [1. 5. 3.]" in r["stdout"]
    # the notes' shape rule is the docs' own wording: a precision (scalar pred, no broadcast),
    # not a correction
    assert "Must have\n      the same shape as ``pred``" in lax.select.__doc__
    assert not [c for c in r["corrections"] if "shape of cond" in c["notes"]]
    assert "a scalar pred is allowed: lax.select(True, x, y) = [1. 2. 3.]" in r["stdout"]
    assert ("lax.select(pred (2,1), (2,3), (2,3)) -> TypeError: select `which` must be scalar or have "
            "the same shape as cases") in r["stdout"]
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


def test_lax_python_loops_under_jit() -> None:
    """A static trip count unrolls and works; only a traced one fails. The unrolled program
    grows with every step, the fori_loop's does not (compile times are printed, not tested)."""
    out = ok_run("lax")["stdout"]
    assert "jit of a Python for over range(3): 2.38" in out
    assert "over the rows of a (4, 3) array: 12.0" in out
    assert "a traced trip count, range(n) -> TracerIntegerConversionError" in out
    assert "a Python while on a traced value -> TracerBoolConversionError" in out
    rows = re.findall(r"^\s+(\d+) \|\s+(\d+)\s+(\d+) \|\s+\d+ ms\s+\d+ ms", out, flags=re.M)
    assert [tuple(map(int, row)) for row in rows] == [(10, 30, 1), (30, 90, 1), (100, 300, 1)]


def test_lax_cost_tab_counts_the_loop_body_once() -> None:
    r = ok_run("lax")
    fori = next(v for v in r["inspections"] if v["name"] == "fori_loop -> scan")
    (loop,) = fori["loop_cost"]["loops"]
    assert loop["kind"] == "scan" and loop["trip_count"] == r["inputs"]["steps"]
    assert fori["loop_cost"]["total"]["flops"] > fori["cost"]["flops"]


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


def test_pmap_and_shard_map_hand_the_function_different_shapes() -> None:
    r = ok_run("pmap")
    assert ("inside normalize, pmap's row has shape (4,) (the mapped axis is gone); shard_map's block "
            "has shape (1, 4) (it keeps it)") in r["stdout"]
    assert f"8 CPU devices in one process on {os.cpu_count()} CPU cores: placement, not a speed-up" in r["stdout"]


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


# --- the tour says what its code does -------------------------------------------------------


def _tour_step(title_part: str):
    from jaxtui.core.tour_format import find_tour

    (step,) = [s for s in find_tour().steps if title_part in s.title]
    return step


def test_tour_grad_jaxpr_step_names_the_primitives_it_shows(tmp_path: Path) -> None:
    step = _tour_step("What grad builds")
    path = tmp_path / "step.py"
    from jaxtui.core.tour_format import step_code

    path.write_text(step_code(step, (DEMOS / f"{step.pane}.py").read_text(encoding="utf-8")), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "jaxtui", "run", str(path), "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    jaxpr = json.loads(proc.stdout)["jaxpr"]
    used = set(re.findall(r"= (\w+)", jaxpr))
    named = set(re.findall(r"`(\w+)`", step.text.split("primitives", 1)[1].split(")")[0]))
    assert named == {"sin", "cos", "mul", "add_any"} and named <= used
    assert "add" not in used  # gradients are summed with add_any


def test_tour_vmap_step_tells_the_defaults_apart() -> None:
    import inspect

    import jax

    step = _tour_step("vmap and a scalar")
    vmap_demo = load(DEMOS / "vmap.py", builtin=True)
    form_default = next(s.default for s in vmap_demo.inputs if s.name == "in_axes")
    assert inspect.signature(jax.vmap).parameters["in_axes"].default == 0  # (0, 0) for two arguments
    assert form_default == (0, None)
    assert "(vmap's default; the form's own default is `(0, None)`)" in step.text
    assert step.inputs == {"in_axes": "(0, 0)"}


def test_tour_jit_step_matches_the_lesson_groups() -> None:
    step = _tour_step("Timing jit")
    r = ok_run("jit")
    assert step.inputs == {"n": str(r["inputs"]["n"]), "steps": str(r["inputs"]["steps"])}  # the defaults
    groups = {t["group"] for t in r["timings"]}
    assert "memory-bound chain (8 ops)" in groups and "compute-bound chain: sin (10 ops)" in groups
    assert "memory-bound" in step.text and "compute-bound" in step.text and "dispatch" in step.text
