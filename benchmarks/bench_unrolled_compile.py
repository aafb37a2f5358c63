"""Why lax loops: compile time of an unrolled Python loop against `lax.fori_loop` (a scan).

The lax lesson shows the trend at 10, 30 and 100 steps (kept short so the lesson runs
quickly); this goes further. The step is the lesson's own, `x = sin(x) * 0.5 + x` on 8
floats. Each figure is trace + lower + compile of a fresh function (nothing cached), the
median of --repeats. Expect the unrolled compile to grow with the step count and the
fori_loop's to stay flat. Machine-dependent: reported, never asserted in a test.

Run: python benchmarks/bench_unrolled_compile.py [--steps 30 100 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import jax
import jax.numpy as jnp
from jax import lax


def unrolled(x, n):
    for _ in range(n):
        x = jnp.sin(x) * 0.5 + x
    return x


def rolled(x, n):
    return lax.fori_loop(0, n, lambda i, v: jnp.sin(v) * 0.5 + v, x)


def compile_seconds(loop, steps: int, x) -> tuple[float, int]:
    jax.clear_caches()
    t0 = time.perf_counter()
    traced = jax.jit(functools.partial(loop, n=steps)).trace(x)
    traced.lower().compile()
    return time.perf_counter() - t0, len(traced.jaxpr.eqns)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[30, 100, 300])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    x = jnp.ones(8)
    print(f"{'steps':>6}  {'unrolled':>10}  {'equations':>9}  {'fori_loop':>10}  {'equations':>9}")
    for steps in args.steps:
        row = []
        for loop in (unrolled, rolled):
            runs = [compile_seconds(loop, steps, x) for _ in range(args.repeats)]
            row.append((statistics.median(r[0] for r in runs), runs[0][1]))
        (u, ue), (r, re_) = row
        print(f"{steps:>6}  {u:>9.3f}s  {ue:>9}  {r:>9.3f}s  {re_:>9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
