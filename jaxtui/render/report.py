"""Plain-text rendering of a run result: the headless report and the app's Output text.

Shared by `jaxtui run` and the UI so both say the same thing. Imports neither jax nor
textual.
"""

from __future__ import annotations

import re
import shutil
from typing import Any

# One definition of the timing table, charts and limits: jaxtui/render/timing_report.py.
from jaxtui.render.target_report import target_text
from jaxtui.render.timing_report import timing_text, timings_table  # noqa: F401 - timings_table is API
from jaxtui.render.units import format_seconds


def plain_text(markdown: str) -> str:
    """Inline Markdown as plain text: `code`, *emphasis* and **strong** lose their marks."""
    return re.sub(r"(\*\*|\*|`)(.+?)\1", r"\2", markdown).replace("`", "")


def error_text(error: dict[str, Any]) -> str:
    kind = error.get("kind", "exception")
    where = f" (line {error['line']})" if error.get("line") else ""
    if kind == "syntax":
        col = f", column {error['col']}" if error.get("col") else ""
        return f"SyntaxError at line {error.get('line')}{col}: {error.get('message')}" + _source_and_caret(error)
    if kind == "interrupted":
        return f"Interrupted{where}."
    if kind in ("timeout", "kernel_died"):
        return f"{error.get('type')}: {error.get('message')}"
    tb = error.get("traceback") or f"{error.get('type')}: {error.get('message')}"
    return tb.rstrip() + ("" if error.get("traceback") else where)


def devices_text(names: list[str]) -> str:
    """`cpu:0-3`, `cpu:0,2 gpu:0`: device names with runs of ids shortened."""
    ids: dict[str, list[int]] = {}
    for name in names:
        platform, _, number = name.rpartition(":")
        if platform and number.isdigit():
            ids.setdefault(platform, []).append(int(number))
        else:
            ids.setdefault(name, [])
    parts = []
    for platform, numbers in ids.items():
        runs: list[list[int]] = []
        for n in sorted(set(numbers)):
            if runs and n == runs[-1][-1] + 1:
                runs[-1].append(n)
            else:
                runs.append([n])
        spans = ",".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ",".join(map(str, r)) for r in runs)
        parts.append(f"{platform}:{spans}" if numbers else platform)
    return " ".join(parts)


def _source_and_caret(error: dict[str, Any]) -> str:
    """The offending line and Python's caret under it, from a SyntaxError's traceback."""
    lines = (error.get("traceback") or "").splitlines()
    shown = [line for line in lines if not line.lstrip().startswith("File ")
             and not line.startswith(("SyntaxError", "IndentationError", "TabError"))]
    if not shown:
        return ""
    indent = min(len(line) - len(line.lstrip()) for line in shown if line.strip())
    return "".join(f"\n    {line[indent:]}" for line in shown)


def _devices_of(value: dict[str, Any]) -> list[str]:
    """The devices a shown value lives on: an array's names, or a sharding's devices."""
    names = list(value.get("device_names") or [])
    names += [str(d.get("device")) for d in value.get("devices") or [] if isinstance(d, dict) and d.get("device")]
    return names


def footer(result: dict[str, Any]) -> str:
    """`── jit: ok on cpu:0 in 12 ms`; a run whose values lived on several devices names them."""
    where = result.get("device") or result.get("platform") or "?"
    used = {name for v in result.get("values") or [] for name in _devices_of(v)}
    if len(used) > 1:
        where = f"{devices_text(sorted(used))} ({len(used)} devices)"
    status = "ok" if result.get("ok") else "failed"
    return f"── {result.get('demo')}: {status} on {where} in {format_seconds(result.get('elapsed_s'))}"


def render_text(result: dict[str, Any]) -> str:
    parts: list[str] = []
    if result.get("stdout"):
        parts.append(result["stdout"].rstrip("\n"))
    for value in result.get("values") or []:
        parts.append(value["text"])
    # Charts as wide as the terminal (capped: wider plots only stretch the same points).
    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))
    if result.get("plots"):
        from jaxtui.render.textplot import render_text as chart_text
        from jaxtui.render.textplot import series_chart

        parts.append(chart_text(series_chart(result["plots"]), width=width))
    if result.get("timings"):
        parts.append(timing_text(result["timings"], width=width))
    parts.append(target_text(result))
    if result.get("error"):
        parts.append(error_text(result["error"]))
    parts.append(footer(result))
    return "\n\n".join(p for p in parts if p) + "\n"
