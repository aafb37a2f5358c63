"""The Cost tab and XLA's loops (issue 15, item 6): `cost_analysis()` counts a loop body
once, whatever its trip count. The Cost view says so next to the figures, gives the total
over every step where the trip count is static, and says it is unknown for a while_loop.

Through `jaxtui run --json` (the kernel as the app runs it) and the Cost view's own text.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from typing import Any

import pytest

from conftest import PYTHON
from jaxtui.ui.results.cost import cost_lines

LOOPS = '''
"""# loops in the cost analysis"""
import jax.numpy as jnp
from jax import lax

from jaxtui import demo


def step(carry, x):
    return carry + x, carry + x


for n in (10, 100, 1000):
    demo.inspect(lambda xs: lax.scan(step, 0.0, xs), jnp.arange(n, dtype=jnp.float32), name=f"scan {n}")
demo.inspect(lambda v: lax.fori_loop(0, 50, lambda i, w: w * 2.0 + 1.0, v), jnp.ones(8), name="fori 50")
demo.inspect(lambda v: lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * 2.0), (0, v))[1],
             jnp.ones(8), name="while")
demo.inspect(lambda v: lax.fori_loop(0, 10, lambda i, w: lax.fori_loop(0, 5, lambda j, u: u * 2.0, w), v),
             jnp.ones(8), name="nested 10 x 5")
demo.inspect(lambda v: jnp.sin(v) * 2.0, jnp.ones(8), name="no loop")
'''


@pytest.fixture(scope="module")
def views(tmp_path_factory) -> dict[str, dict[str, Any]]:
    path = tmp_path_factory.mktemp("cost") / "loops.py"
    path.write_text(textwrap.dedent(LOOPS))
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(path), "--json"], capture_output=True,
                          text=True, timeout=180, check=False)
    result = json.loads(proc.stdout)
    assert result["ok"], result["error"]
    return {ins["name"]: ins for ins in result["inspections"]}


def test_xla_counts_a_scan_body_once_whatever_its_length(views):
    flops = {n: views[f"scan {n}"]["cost"]["flops"] for n in (10, 100, 1000)}
    assert flops[10] == flops[100] == flops[1000]  # the caveat the view states


def test_the_total_over_every_step_grows_with_a_static_trip_count(views):
    for n in (10, 100, 1000):
        lc = views[f"scan {n}"]["loop_cost"]
        (loop,) = lc["loops"]
        assert loop["kind"] == "scan" and loop["trip_count"] == n and loop["line"] == 14
        body = loop["body"]["flops"]
        assert body >= 1  # carry + x
        assert lc["total"]["flops"] == views[f"scan {n}"]["cost"]["flops"] + (n - 1) * body
    totals = [views[f"scan {n}"]["loop_cost"]["total"]["flops"] for n in (10, 100, 1000)]
    assert totals[2] - totals[1] == 10 * (totals[1] - totals[0])  # 900 more steps vs 90 more: linear


def test_a_fori_loop_with_static_bounds_is_a_scan_with_a_known_count(views):
    ins = views["fori 50"]
    (loop,) = ins["loop_cost"]["loops"]
    assert loop["kind"] == "scan" and loop["trip_count"] == 50
    assert loop["body"]["flops"] >= 16  # w * 2.0 + 1.0 on 8 floats
    assert ins["loop_cost"]["total"]["flops"] >= 50 * 16


def test_a_while_loop_has_no_total(views):
    lc = views["while"]["loop_cost"]
    (loop,) = lc["loops"]
    assert loop["kind"] == "while_loop" and loop["trip_count"] is None
    assert lc["total"] is None and "unknown until it runs" in lc["unknown"]
    text = cost_lines(views["while"])
    assert "trip count unknown" in text and "total over every step: unknown" in text


def test_nested_static_loops_multiply(views):
    lc = views["nested 10 x 5"]["loop_cost"]
    (outer,) = lc["loops"]
    (inner,) = outer["nested"]
    assert (outer["trip_count"], inner["trip_count"]) == (10, 5)
    assert inner["body"]["flops"] >= 8
    assert lc["total"]["flops"] >= 10 * 5 * 8  # every inner step of every outer step


def test_the_cost_view_says_it_next_to_the_figure(views):
    text = cost_lines(views["scan 1000"])
    flops_line = next(line for line in text.splitlines() if line.strip().startswith("flops"))
    assert flops_line.endswith("<- each loop body counted once")
    assert "XLA's cost analysis adds each loop body once, not once per step" in text
    assert "scan, line 14: 1,000 steps (static)" in text
    total = views["scan 1000"]["loop_cost"]["total"]["flops"]
    assert f"total over every step (about: each body compiled alone x its trip count): flops {total:,.0f}" in text
    plain = cost_lines(views["no loop"])
    assert "counted once" not in plain and "loops:" not in plain
