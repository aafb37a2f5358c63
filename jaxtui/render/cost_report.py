"""The Cost view's words about loops: XLA's cost analysis counts each loop body once.

Reads an inspection record's `loop_cost` (from `jaxtui/kernel/loop_cost.py`): the loops
found in the traced program, their trip counts, and the total over every step where all
trip counts are static. Imports neither jax nor textual.
"""

from __future__ import annotations

from typing import Any

COUNTED_ONCE = "  <- each loop body counted once"


def counted_once(ins: dict[str, Any]) -> str:
    """What goes right after the flops and bytes figures of a program with loops."""
    return COUNTED_ONCE if (ins.get("loop_cost") or {}).get("loops") else ""


def _figures(cost: dict[str, float]) -> str:
    parts = [f"{label} {cost[key]:,.0f}" for key, label in
             (("flops", "flops"), ("transcendentals", "transcendentals"), ("bytes accessed", "bytes"))
             if cost.get(key) is not None]
    return ", ".join(parts) or "no figures"


def _loop_line(loop: dict[str, Any], depth: int) -> list[str]:
    where = f", line {loop['line']}" if loop.get("line") else ""
    if loop.get("trip_count") is None:
        steps = "trip count unknown (it depends on values at run time)"
    else:
        steps = f"{loop['trip_count']:,} steps (static)"
    body = (f"one step: {_figures(loop['body'])}" if loop.get("body") is not None
            else f"body not costed{': ' + loop['error'] if loop.get('error') else ''}")
    lines = [f"{'  ' * depth}    {loop['kind']}{where}: {steps}; {body}"]
    for inner in loop.get("nested") or []:
        lines += _loop_line(inner, depth + 1)
    return lines


def loop_lines(ins: dict[str, Any]) -> list[str]:
    """The loops of a marked function and the total over every step (or why it is unknown)."""
    found = ins.get("loop_cost") or {}
    if not found.get("loops"):
        return []
    lines = ["  loops: XLA's cost analysis adds each loop body once, not once per step:"]
    for loop in found["loops"]:
        lines += _loop_line(loop, 0)
    if found.get("total") is not None:
        lines.append(f"  total over every step (about: each body compiled alone x its trip count): "
                     f"{_figures(found['total'])}")
    else:
        lines.append(f"  total over every step: unknown ({found.get('unknown') or 'no trip count'})")
    return lines
