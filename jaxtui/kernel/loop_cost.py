"""Loops in a compiled program's cost: XLA counts each loop body once.

`compiled.cost_analysis()` walks the HLO once: a `while` (what `lax.scan`, `fori_loop` and
`while_loop` become) adds its body's flops and bytes a single time, whatever the trip
count (a scan of 10 or 1000 steps reports the same flops). The Cost tab says so next to
the figure, and where every trip count is static (a scan's `length`, a `fori_loop` with
Python-int bounds, which JAX turns into a scan) it adds the total over every step:

    total = reported + sum over loops of (trip count - 1) x (the body's own total)

where a body's own total is the cost of the body compiled alone, plus the same correction
for the loops inside it. A `while_loop` (or a `fori_loop` with traced bounds) runs until a
value says stop: its trip count is unknown before it runs, so there is no total.

The body compiled alone is fused a little differently than inside the loop, so the total
is an estimate ("about"); its flops are exact for plain arithmetic.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.extend.core as jcore

COST_KEYS = ("flops", "bytes accessed", "transcendentals")
MAX_LOOPS = 16  # bodies compiled per marked function: a bound on the time the Cost view adds


def _frame_line(eqn: Any, filename: str) -> int | None:
    """The line of `filename` that wrote this loop (the innermost frame in that file)."""
    if not filename:
        return None
    try:
        frames = eqn.source_info.traceback.frames
    except AttributeError:
        return None
    lines = [f.line_num for f in frames if f.file_name == filename]
    return lines[0] if lines else None


def _body_cost(closed: Any) -> dict[str, float]:
    """XLA's cost of one loop body, compiled on its own."""
    args = [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in closed.jaxpr.invars]
    cost: Any = jax.jit(jcore.jaxpr_as_fun(closed)).lower(*args).compile().cost_analysis()
    if isinstance(cost, list):  # before jax 0.4.38 it was a one-element list
        cost = cost[0] if cost else {}
    cost = cost or {}
    return {k: float(cost[k]) for k in COST_KEYS if isinstance(cost.get(k), (int, float))}


def _add(into: dict[str, float], more: dict[str, float], times: float = 1.0) -> None:
    for key, value in more.items():
        into[key] = into.get(key, 0.0) + times * value


def _subjaxprs(eqn: Any) -> list[Any]:
    """The jaxprs inside an equation that is not a loop (jit calls, cond branches, custom
    derivatives...), as ClosedJaxpr or Jaxpr."""
    return list(jcore.jaxprs_in_params(eqn.params))


def _loops(jaxpr: Any, filename: str, budget: list[int]) -> list[dict[str, Any]]:
    """The loops of `jaxpr` (reaching through non-loop sub-jaxprs), each with its body's
    cost and the loops nested in that body."""
    found: list[dict[str, Any]] = []
    inner = jaxpr.jaxpr if hasattr(jaxpr, "jaxpr") and hasattr(jaxpr, "consts") else jaxpr
    for eqn in inner.eqns:
        name = eqn.primitive.name
        if name in ("scan", "while"):
            body = eqn.params["jaxpr"] if name == "scan" else eqn.params["body_jaxpr"]
            loop: dict[str, Any] = {"kind": "scan" if name == "scan" else "while_loop",
                                    "trip_count": int(eqn.params["length"]) if name == "scan" else None,
                                    "line": _frame_line(eqn, filename), "body": None, "error": None,
                                    "nested": []}
            if budget[0] > 0:
                budget[0] -= 1
                try:
                    loop["body"] = _body_cost(body)
                except Exception as exc:  # noqa: BLE001 - no body cost: the loop is still listed
                    loop["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            loop["nested"] = _loops(body, filename, budget)
            found.append(loop)
        else:
            for sub in _subjaxprs(eqn):
                found += _loops(sub, filename, budget)
    return found


def _body_total(loop: dict[str, Any]) -> dict[str, float] | None:
    """One step of `loop` in full: its body plus (trip - 1) more passes of each inner loop.
    None where a trip count is unknown or a body could not be costed."""
    if loop["body"] is None:
        return None
    total = dict(loop["body"])
    for inner in loop["nested"]:
        step = _body_total(inner)
        if step is None or inner["trip_count"] is None:
            return None
        _add(total, step, inner["trip_count"] - 1)
    return total


def loop_cost(jaxpr: Any, cost: dict[str, float], filename: str = "") -> dict[str, Any]:
    """The loops of a traced function and, when every trip count is static, the program's
    total cost over every step. `cost` is XLA's (each body once).

    Returns {"loops": [{kind, trip_count, line, body, error, nested}], "total": {...} or
    None, "unknown": why there is no total ("" when there is one, or no loop)}."""
    loops = _loops(jaxpr, filename, [MAX_LOOPS])
    if not loops:
        return {"loops": [], "total": None, "unknown": ""}
    total, unknown = dict(cost), ""
    for loop in loops:
        step = _body_total(loop)
        if _unknown_trip(loop):
            unknown = "a while_loop's trip count depends on values: unknown until it runs"
            break
        if step is None:
            unknown = "a loop body could not be costed on its own"
            break
        _add(total, step, loop["trip_count"] - 1)
    return {"loops": loops, "total": None if unknown else total, "unknown": unknown}


def _unknown_trip(loop: dict[str, Any]) -> bool:
    return loop["trip_count"] is None or any(_unknown_trip(inner) for inner in loop["nested"])
