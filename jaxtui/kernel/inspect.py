"""What JAX made of a marked function: jaxpr, StableHLO, optimised HLO, cost and memory.

Each stage is computed with JAX's ahead-of-time API (trace -> lower -> compile), so one
failure (say, a tracer error) reports the stage it happened in and keeps what came before.
"""

from __future__ import annotations

import time
from typing import Any

import jax

from jaxtui.demo import InspectTarget

MAX_VIEW_CHARS = 8 * 1024 * 1024  # a view bigger than this is cut (HLO of unrolled loops)


def _cut(text: str) -> str:
    if len(text) <= MAX_VIEW_CHARS:
        return text
    return text[:MAX_VIEW_CHARS] + f"\n… cut: {len(text) - MAX_VIEW_CHARS:,} more characters\n"


def _jitted(target: InspectTarget) -> Any:
    fn = target.fn
    if hasattr(fn, "trace") and hasattr(fn, "lower"):
        return fn  # already jax.jit-wrapped
    return jax.jit(fn, static_argnums=target.static_argnums)


def _cost_dict(compiled: Any) -> dict[str, float]:
    cost = compiled.cost_analysis()
    if isinstance(cost, list):  # before jax 0.4.38 it was a one-element list
        cost = cost[0] if cost else {}
    return {k: float(v) for k, v in (cost or {}).items() if isinstance(v, (int, float))}


def _memory_dict(compiled: Any) -> dict[str, int]:
    mem = compiled.memory_analysis()
    if mem is None:
        return {}
    keys = ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes",
            "alias_size_in_bytes", "generated_code_size_in_bytes")
    return {k: int(getattr(mem, k)) for k in keys if hasattr(mem, k)}


def inspect_target(target: InspectTarget, *, compile_: bool = True) -> dict[str, Any]:
    """All views for one target. Keys: name, line, jaxpr, stablehlo, hlo, cost, memory,
    stage_s (trace/lower/compile seconds), error (None or {stage, type, message})."""
    out: dict[str, Any] = {"name": target.name, "line": target.line, "jaxpr": "", "stablehlo": "",
                           "hlo": "", "cost": {}, "memory": {}, "stage_s": {}, "error": None}
    stage = "trace"
    try:
        jitted = _jitted(target)
        t = time.perf_counter()
        traced = jitted.trace(*target.args, **target.kwargs)
        out["stage_s"]["trace"] = time.perf_counter() - t
        out["jaxpr"] = _cut(traced.jaxpr.pretty_print(source_info=True, name_stack=False))
        stage = "lower"
        t = time.perf_counter()
        lowered = traced.lower()
        out["stage_s"]["lower"] = time.perf_counter() - t
        out["stablehlo"] = _cut(lowered.as_text())
        if not compile_:
            return out
        stage = "compile"
        t = time.perf_counter()
        compiled = lowered.compile()
        out["stage_s"]["compile"] = time.perf_counter() - t
        out["hlo"] = _cut(compiled.as_text())
        out["cost"] = _cost_dict(compiled)
        out["memory"] = _memory_dict(compiled)
    except Exception as exc:  # noqa: BLE001 - any failure is shown in the view, not raised
        out["error"] = {"stage": stage, "type": type(exc).__name__, "message": str(exc)}
    return out
