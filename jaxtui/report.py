"""Plain-text rendering of a run result: the headless report and the app's Output text.

Shared by `jaxtui run` and the UI so both say the same thing. Imports neither jax nor
textual.
"""

from __future__ import annotations

from typing import Any


def format_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def error_text(error: dict[str, Any]) -> str:
    kind = error.get("kind", "exception")
    where = f" (line {error['line']})" if error.get("line") else ""
    if kind == "syntax":
        col = f", column {error['col']}" if error.get("col") else ""
        return f"SyntaxError at line {error.get('line')}{col}: {error.get('message')}"
    if kind == "interrupted":
        return f"Interrupted{where}."
    if kind in ("timeout", "kernel_died"):
        return f"{error.get('type')}: {error.get('message')}"
    tb = error.get("traceback") or f"{error.get('type')}: {error.get('message')}"
    return tb.rstrip() + ("" if error.get("traceback") else where)


def timings_table(timings: list[dict[str, Any]]) -> str:
    if not timings:
        return ""
    width = max(len(t["label"]) for t in timings)
    rows = [f"{'':<{width}}  {'median':>9}  {'min':>9}  {'spread':>9}  {'n':>5}  {'first call':>10}"]
    for t in timings:
        rows.append(f"{t['label']:<{width}}  {format_seconds(t['median_s']):>9}  "
                    f"{format_seconds(t['min_s']):>9}  {format_seconds(t.get('iqr_s')):>9}  "
                    f"{t['n']:>5}  {format_seconds(t.get('first_call_s')):>10}")
    return "\n".join(rows)


def corrections_text(corrections: list[dict[str, Any]]) -> str:
    lines = []
    for c in corrections:
        lines.append(f"line {c.get('line')}: ✗ the notes say: {c['notes']}")
        measured = f"  [measured: {c['actual']}]" if c.get("actual") is not None else ""
        lines.append(f"{' ' * len(str(c.get('line')))}       ✓ JAX does:      {c['jax']}{measured}")
    return "\n".join(lines)


def footer(result: dict[str, Any]) -> str:
    where = result.get("device") or result.get("platform") or "?"
    status = "ok" if result.get("ok") else "failed"
    return f"── {result.get('demo')}: {status} on {where} in {format_seconds(result.get('elapsed_s'))}"


def render_text(result: dict[str, Any]) -> str:
    parts: list[str] = []
    if result.get("stdout"):
        parts.append(result["stdout"].rstrip("\n"))
    for value in result.get("values") or []:
        parts.append(value["text"])
    if result.get("timings"):
        parts.append("Timings (median of repeated runs, block_until_ready):\n" + timings_table(result["timings"]))
    if result.get("error"):
        parts.append(error_text(result["error"]))
    parts.append(footer(result))
    return "\n\n".join(p for p in parts if p) + "\n"
