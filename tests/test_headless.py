"""`jaxtui run`, `jaxtui list` and the CLI's errors, through the real command line."""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from pathlib import Path

from conftest import PYTHON

BUILTIN = ["grad", "jit", "vmap", "lax", "pmap", "stax"]


def jaxtui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "jaxtui", *args], capture_output=True, text=True, timeout=timeout)


def run_json(path: Path, *extra: str) -> tuple[dict, int]:
    proc = jaxtui("run", str(path), "--json", *extra)
    return json.loads(proc.stdout), proc.returncode


def user_file(tmp_path: Path, code: str, name: str = "mine.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


def test_version_and_list():
    assert jaxtui("--version").stdout.startswith("jaxtui ")
    listed = jaxtui("list").stdout.split("\n")
    names = [line.split()[0] for line in listed if line and not line[0].isspace()]  # wrapped lines are indented
    assert names[: len(BUILTIN)] == BUILTIN


def test_unknown_demo_lists_the_valid_ones():
    proc = jaxtui("run", "gard")
    assert proc.returncode == 2
    assert "unknown demo 'gard'" in proc.stderr and all(n in proc.stderr for n in BUILTIN)


def test_unknown_pane_lists_the_valid_ones():
    proc = jaxtui("--pane", "nope")
    assert proc.returncode == 2 and "unknown pane 'nope'" in proc.stderr and "vmap" in proc.stderr


def test_bad_host_device_count_is_refused():
    proc = jaxtui("run", "grad", "--host-devices", "0")
    assert proc.returncode == 2 and "between 1 and" in proc.stderr


def test_json_contract(tmp_path):
    path = user_file(tmp_path, """
        import jax, jax.numpy as jnp
        from jaxtui import demo
        def f(x, y):
            return jnp.sin(x) * y
        x = jnp.ones(8)
        demo.inspect(f, x, x)
        demo.time("f", jax.jit(f), x, x, budget_s=0.05)
        print("hello")
    """)
    result, status = run_json(path)
    assert status == 0 and result["ok"] is True
    for key in ("demo", "ok", "device", "stdout", "error", "timings", "jaxpr", "stablehlo", "hlo", "cost"):
        assert key in result, key
    assert result["demo"] == "mine" and result["device"] == "cpu:0" and result["error"] is None
    assert result["stdout"] == "hello\n"
    assert "sin" in result["jaxpr"] and "stablehlo.sine" in result["stablehlo"] and "HloModule" in result["hlo"]
    assert result["cost"]["flops"] > 0
    timing = result["timings"][0]
    assert timing["label"] == "f" and len(timing["samples_s"]) == timing["n"] >= 5
    assert timing["median_s"] > 0


def test_syntax_error_names_the_line(tmp_path):
    path = user_file(tmp_path, "x = 1\ny = (2 +\nprint(x)\n")
    result, status = run_json(path)
    assert status == 1 and result["error"]["type"] == "SyntaxError"
    assert result["error"]["line"] in (2, 3) and result["error"]["kind"] == "syntax"
    text = jaxtui("run", str(path)).stdout
    assert f"SyntaxError at line {result['error']['line']}" in text


def test_exception_shows_user_frames_only(tmp_path):
    path = user_file(tmp_path, """
        import jax.numpy as jnp

        def inner(x):
            return x.reshape(7)

        def outer():
            return inner(jnp.ones(6))

        outer()
    """)
    result, status = run_json(path)
    assert status == 1
    error = result["error"]
    assert error["type"] == "TypeError" and error["line"] == 5
    tb = error["traceback"]
    assert tb.index("outer()") < tb.index("return inner") < tb.index("return x.reshape(7)")
    assert "jaxtui/kernel" not in tb and "exec(" not in tb
    assert "cannot reshape" in tb


def test_timeout_stops_a_python_loop(tmp_path):
    path = user_file(tmp_path, "print('looping', flush=True)\nwhile True:\n    pass\n")
    t0 = time.monotonic()
    proc = jaxtui("run", str(path), "--json", "--timeout", "2")
    assert proc.returncode == 124 and time.monotonic() - t0 < 20
    assert json.loads(proc.stdout)["error"]["kind"] == "timeout"


def test_timeout_stops_a_jitted_while_loop(tmp_path):
    path = user_file(tmp_path, """
        import jax
        from jax import lax
        f = jax.jit(lambda n: lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 1.0000001), (0, 1.0)))
        f(2_000_000_000)
    """)
    t0 = time.monotonic()
    proc = jaxtui("run", str(path), "--timeout", "3")
    assert proc.returncode == 124 and time.monotonic() - t0 < 25
    assert "Timeout" in proc.stdout and "killed" in proc.stdout


def test_code_that_exits_the_kernel(tmp_path):
    path = user_file(tmp_path, "import os\nprint('bye')\nos._exit(1)\n")
    result, status = run_json(path)
    assert status == 1 and result["error"]["type"] == "KernelDied"
    assert "status 1" in result["error"]["message"]


def test_huge_result_is_summarised(tmp_path):
    path = user_file(tmp_path, "import jax.numpy as jnp\njnp.arange(10_000_000, dtype=jnp.float32)\n")
    proc = jaxtui("run", str(path), "--json")
    assert len(proc.stdout) < 100_000  # not 10^7 numbers
    value = json.loads(proc.stdout)["values"][0]
    assert value["shape"] == [10_000_000]
    assert "..." in value["text"] and "10,000,000 elements" in value["text"]


def test_huge_stdout_is_cut(tmp_path):
    path = user_file(tmp_path, "for i in range(200_000):\n    print('spam line', i)\n")
    result, status = run_json(path)
    assert status == 0 and len(result["stdout"]) < 600_000
    assert "output cut" in result["stdout"]


def test_error_lines_are_the_files_own_below_a_lesson_docstring(tmp_path):
    """The lesson docstring is not part of the code that runs, but every line number still
    counts from the top of the file, as any other editor shows it."""
    source = '"""# mine\n\nA lesson, four lines\nlong."""\n\nimport jax.numpy as jnp\n\njnp.ones(6).reshape(7)\n'
    path = user_file(tmp_path, source)
    bad = source.splitlines().index("jnp.ones(6).reshape(7)") + 1
    result, status = run_json(path)
    assert status == 1 and result["error"]["line"] == bad == 8
    assert f'mine.py", line {bad}' in result["error"]["traceback"]
    path.write_text(source.replace("reshape(7)", "reshape(7"))
    result, status = run_json(path)
    assert result["error"]["kind"] == "syntax" and result["error"]["line"] == bad


def test_every_usage_error_of_run_json_is_the_usage_object():
    # argparse's own errors (bad --target, unknown flag), an unknown demo and a bad --input
    # must all print the `usage` JSON object with --json, and exit 2
    for args in (["nosuch"], ["grad", "--target", "tpu-zz"], ["grad", "--bogus"], ["grad", "--host-devices", "0"],
                 ["grad", "--input", "nosuch=1"], ["grad", "--input", "bad"], ["grad", "--timeout", "-1"]):
        proc = jaxtui("run", *args, "--json")
        assert proc.returncode == 2, (args, proc.stderr)
        error = json.loads(proc.stdout)["error"]
        assert error["kind"] == "usage" and error["message"], args


def test_a_bad_input_is_a_usage_error_without_json():
    proc = jaxtui("run", "grad", "--input", "nosuch=1")
    assert proc.returncode == 2 and "has no input 'nosuch'" in proc.stderr and proc.stdout == ""

