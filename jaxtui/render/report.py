"""Plain-text rendering of a run result: the headless report and the app's Output text.

Shared by `jaxtui run` and the UI so both say the same thing. Imports neither jax nor
textual.
"""

from __future__ import annotations

import shutil
from typing import Any

# One definition of the timing table, charts and limits: jaxtui/render/timing_report.py.
from jaxtui.render.target_report import target_text
from jaxtui.render.timing_report import timing_text, timings_table  # noqa: F401 - timings_table is API
from jaxtui.render.units import format_seconds


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
        # Charts as wide as the terminal (capped: wider plots only stretch the same points).
        width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))
        parts.append(timing_text(result["timings"], width=width))
    parts.append(target_text(result))
    if result.get("error"):
        parts.append(error_text(result["error"]))
    parts.append(footer(result))
    return "\n\n".join(p for p in parts if p) + "\n"
