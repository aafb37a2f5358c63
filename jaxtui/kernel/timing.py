"""The one timing harness every demo uses (through `demo.time`).

Rules it follows (JAX's own benchmarking guidance, `jax_facts.md` §5):
- the first call (trace + lower + compile + run for a jitted function) is measured
  separately and never mixed into the steady-state samples;
- every call is followed by `jax.block_until_ready` on the whole output pytree, because
  dispatch is asynchronous;
- after a warm-up, repeats are chosen to fill a time budget, and the median, minimum and
  spread are reported (a 2-core VM is noisy; the median is the figure to quote).
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import jax

MIN_SAMPLES = 5
MAX_SAMPLES = 2000


def _call_blocking(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    return jax.block_until_ready(fn(*args, **kwargs))


def measure(label: str, fn: Callable[..., Any], *args: Any, group: str = "", first_call: bool = True,
            budget_s: float = 0.5, min_samples: int = MIN_SAMPLES, max_samples: int = MAX_SAMPLES,
            **kwargs: Any) -> dict[str, Any]:
    """Time `fn(*args, **kwargs)`; returns a record whose times are in seconds."""
    clock = time.perf_counter
    t0 = clock()
    _call_blocking(fn, args, kwargs)  # first call: compiles if it has to; also the warm-up
    first_s = clock() - t0
    _call_blocking(fn, args, kwargs)  # second warm-up: caches, allocator, page faults
    probe_t0 = clock()
    _call_blocking(fn, args, kwargs)
    probe = max(clock() - probe_t0, 1e-7)
    n = int(min(max_samples, max(min_samples, budget_s / probe)))
    samples = []
    for _ in range(n):
        t = clock()
        _call_blocking(fn, args, kwargs)
        samples.append(clock() - t)
    return _record(label, group, samples, first_s if first_call else None)


def _record(label: str, group: str, samples: list[float], first_s: float | None) -> dict[str, Any]:
    med = statistics.median(samples)
    q = statistics.quantiles(samples, n=4) if len(samples) >= 4 else [min(samples), med, max(samples)]
    return {
        "label": label,
        "group": group,
        "median_s": med,
        "min_s": min(samples),
        "max_s": max(samples),
        "mean_s": statistics.fmean(samples),
        "stdev_s": statistics.stdev(samples) if len(samples) > 1 else 0.0,
        "iqr_s": q[-1] - q[0],
        "n": len(samples),
        "samples_s": samples,
        "first_call_s": first_s,
    }


def format_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def format_record(rec: dict[str, Any]) -> str:
    first = f"  first call {format_seconds(rec['first_call_s'])}" if rec.get("first_call_s") else ""
    return (f"{rec['label']:<28} median {format_seconds(rec['median_s']):>9}  "
            f"min {format_seconds(rec['min_s']):>9}  n={rec['n']}{first}")
