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

from jaxtui.kernel import _jaxcompat as jc

COST_KEYS = ("flops", "bytes accessed", "transcendentals")
MAX_LOOPS = 16  # bodies compiled per marked function: a bound on the time the Cost view adds


def _body_cost(closed: Any) -> dict[str, float]:
    """XLA's cost of one loop body, compiled on its own."""
    fn, args = jc.closed_jaxpr_fn(closed)
    cost = jc.cost_dict(jax.jit(fn).lower(*args).compile())
    return {k: cost[k] for k in COST_KEYS if k in cost}


def _add(into: dict[str, float], more: dict[str, float], times: float = 1.0) -> None:
    for key, value in more.items():
        into[key] = into.get(key, 0.0) + times * value


def _loops(jaxpr: Any, filename: str, budget: list[int]) -> list[dict[str, Any]]:
    """The loops of `jaxpr` (reaching through non-loop sub-jaxprs), each with its body's
    cost and the loops nested in that body."""
    found: list[dict[str, Any]] = []
    for eqn in jc.eqns_of(jaxpr):
        loop_eqn = jc.loop_of(eqn)
        if loop_eqn is None:
            for sub in jc.subjaxprs(eqn):
                found += _loops(sub, filename, budget)
            continue
        kind, body, trip_count = loop_eqn
        loop: dict[str, Any] = {"kind": "scan" if kind == "scan" else "while_loop", "trip_count": trip_count,
                                "line": jc.eqn_line(eqn, filename), "body": None, "error": None, "nested": []}
        if budget[0] > 0:
            budget[0] -= 1
            try:
                loop["body"] = _body_cost(body)
            except Exception as exc:  # noqa: BLE001 - no body cost: the loop is still listed
                loop["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        loop["nested"] = _loops(body, filename, budget)
        found.append(loop)
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


def loop_cost(jaxpr: Any, cost: dict[str, float], filename: str = "", *,
              cost_bodies: bool = True) -> dict[str, Any]:
    """The loops of a traced function and, when every trip count is static, the program's
    total cost over every step. `cost` is XLA's (each body once).

    Returns {"loops": [{kind, trip_count, line, body, error, nested}], "total": {...} or
    None, "unknown": why there is no total ("" when there is one, or no loop)}.
    `cost_bodies` False lists the loops without compiling their bodies (a TPU target's view:
    a body compiled here would be costed for this machine)."""
    loops = _loops(jaxpr, filename, [MAX_LOOPS if cost_bodies else 0])
    if not loops:
        return {"loops": [], "total": None, "unknown": ""}
    if not cost_bodies:  # a TPU target's compile: the bodies would be costed for this machine
        return {"loops": loops, "total": None, "unknown": "loop bodies are costed only for the local device"}
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
