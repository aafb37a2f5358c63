"""What JAX made of a marked function: jaxpr, StableHLO, optimised HLO, cost and memory.

Each stage is computed with JAX's ahead-of-time API (trace -> lower -> compile), so one
failure (say, a tracer error) reports the stage it happened in, with the user's line, and
keeps what came before.

Each view also carries `<view>_links`: [view line, source line] pairs (both 1-based) for
the lines that came from the run's own file, read from the jaxpr's source-info comments
and the HLO's stack-frame metadata. The app links the editor's cursor to them.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from typing import Any

import jax

from jaxtui.demo import InspectTarget
from jaxtui.kernel import _jaxcompat as jc
from jaxtui.kernel.loop_cost import loop_cost
from jaxtui.protocol import EV_INSPECTION

MAX_VIEW_CHARS = 8 * 1024 * 1024  # a view bigger than this is cut (HLO of unrolled loops)

Emit = Callable[[str, dict[str, Any]], None]


def _cut(text: str) -> str:
    if len(text) <= MAX_VIEW_CHARS:
        return text
    return text[:MAX_VIEW_CHARS] + f"\n… cut: {len(text) - MAX_VIEW_CHARS:,} more characters\n"


def _jitted(target: InspectTarget) -> Any:
    fn = target.fn
    if hasattr(fn, "trace") and hasattr(fn, "lower"):
        return fn  # already jax.jit-wrapped
    return jax.jit(fn, static_argnums=target.static_argnums)


# -- source links -------------------------------------------------------------------------

def jaxpr_with_links(text: str, filename: str) -> tuple[str, list[list[int]]]:
    """Shorten the run's own path in the jaxpr's `# /path/demo.py:18:13 (f)` comments to
    its base name (the column stays narrow), and list which jaxpr line came from which line."""
    if not filename:
        return text, []
    base = os.path.basename(filename)
    marker = jc.jaxpr_source_marker(filename)
    lines = text.split("\n")
    links: list[list[int]] = []
    for i, line in enumerate(lines):
        found = marker.search(line)
        if found:
            links.append([i + 1, int(found.group(1))])
            lines[i] = line[: found.start()] + f"# {base}:" + line[found.start() + 2 + len(filename) + 1:]
    return "\n".join(lines), links


def hlo_links(text: str, filename: str, shown: str | None = None) -> list[list[int]]:
    """Which HLO instruction came from which line of `filename`, from the module's
    FileNames / FileLocations / StackFrames tables (the innermost frame in that file).
    Line numbers are those of `shown` (the text as displayed) when given."""
    if not filename or "StackFrames" not in text:
        return []
    files: dict[int, str] = {}
    locations: dict[int, tuple[int, int]] = {}
    frames: dict[int, tuple[int, int]] = {}
    section = ""
    lines = text.split("\n")
    for line in lines:
        if line in jc.HLO_TABLES:
            section = line
            continue
        if not line or line.startswith(("%", "ENTRY", "ROOT", " ")):
            if line.startswith(("%", "ENTRY")):
                break  # the tables come before the first computation
            continue
        if section == "FileNames" and (m := jc.HLO_FILE.match(line)):
            files[int(m.group(1))] = m.group(2)
        elif section == "FileLocations" and (m := jc.HLO_LOCATION.match(line)):
            locations[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
        elif section == "StackFrames" and (m := jc.HLO_FRAME.match(line)):
            frames[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
    own = {fid for fid, name in files.items() if name == filename}
    if not own:
        return []

    def source_line(frame_id: int) -> int | None:
        seen = set()
        while frame_id in frames and frame_id not in seen:
            seen.add(frame_id)
            location_id, parent = frames[frame_id]
            file_id, line_no = locations.get(location_id, (0, 0))
            if file_id in own:
                return line_no
            frame_id = parent
        return None

    links = []
    for i, line in enumerate(lines if shown is None else shown.split("\n")):
        if "stack_frame_id=" in line and (m := jc.HLO_FRAME_REF.search(line)):
            src = source_line(int(m.group(1)))
            if src is not None:
                links.append([i + 1, src])
    return links


def strip_hlo_tables(text: str) -> str:
    """The optimised HLO without its source-location tables (FileNames ... StackFrames):
    dozens of lines about the kernel's own frames before the first instruction. The
    links are read from them first; `stack_frame_id=` in the metadata stays."""
    lines = text.split("\n")
    out: list[str] = []
    skipping = False
    for line in lines:
        if line in jc.HLO_TABLES:
            skipping = True
            continue
        if skipping and line and not line[0].isdigit():  # table rows start with their id
            skipping = False
        if skipping:
            continue
        out.append(line)
    return "\n".join(out)


def _user_line(exc: BaseException, filename: str) -> int | None:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return frames[-1].lineno if frames else None


def _source_text(filename: str, line: int | None) -> str:
    import linecache

    return linecache.getline(filename, line).strip() if filename and line else ""


# -- the stages -----------------------------------------------------------------------------

def _new_record(target: InspectTarget) -> dict[str, Any]:
    return {"name": target.name, "fn_name": getattr(target.fn, "__name__", ""), "line": target.line,
            "platform": jax.default_backend(),  # where it is compiled (a TPU target's record: "tpu")
            "jaxpr": "", "stablehlo": "", "hlo": "", "jaxpr_links": [], "hlo_links": [],
            "cost": {}, "loop_cost": None, "memory": {}, "stage_s": {}, "error": None, "compiled": False}


def _fail(out: dict[str, Any], stage: str, exc: BaseException, filename: str) -> None:
    line = _user_line(exc, filename)
    message = str(exc).replace(filename, os.path.basename(filename)) if filename else str(exc)
    out["error"] = {"stage": stage, "type": type(exc).__name__, "message": message,
                    "line": line, "source": _source_text(filename, line)}


def _trace_and_lower(target: InspectTarget, filename: str) -> tuple[dict[str, Any], Any, Any]:
    """The record so far, the Lowered program and the traced jaxpr (None past a failure)."""
    out = _new_record(target)
    stage = "trace"
    try:
        jitted = _jitted(target)
        t = time.perf_counter()
        traced = jitted.trace(*target.args, **target.kwargs)
        out["stage_s"]["trace"] = time.perf_counter() - t
        text = traced.jaxpr.pretty_print(**jc.JAXPR_SOURCE_INFO)
        out["jaxpr"], out["jaxpr_links"] = jaxpr_with_links(_cut(text), filename)
        stage = "lower"
        t = time.perf_counter()
        lowered = traced.lower()
        out["stage_s"]["lower"] = time.perf_counter() - t
        out["stablehlo"] = _cut(lowered.as_text())
        return out, lowered, traced.jaxpr
    except Exception as exc:  # noqa: BLE001 - any failure is shown in the view, not raised
        _fail(out, stage, exc, filename)
        return out, None, None


def _loop_cost(out: dict[str, Any], jaxpr: Any, filename: str, cost_bodies: bool) -> None:
    """XLA counts a loop body once: list the loops, and the total where trip counts are static."""
    if jaxpr is None:
        return
    try:
        out["loop_cost"] = loop_cost(jaxpr, out["cost"], filename, cost_bodies=cost_bodies)
    except Exception as exc:  # noqa: BLE001 - the cost figures stand without it
        out["loop_cost"] = {"loops": [], "total": None, "unknown": f"{type(exc).__name__}: {exc}"}


def _compile(out: dict[str, Any], lowered: Any, filename: str, jaxpr: Any = None,
             cost_bodies: bool = True) -> None:
    try:
        t = time.perf_counter()
        compiled = lowered.compile()
        out["stage_s"]["compile"] = time.perf_counter() - t
        full = compiled.as_text()
        out["hlo"] = _cut(strip_hlo_tables(full))
        out["hlo_links"] = hlo_links(full, filename, shown=out["hlo"])
        out["cost"] = jc.cost_dict(compiled)
        _loop_cost(out, jaxpr, filename, cost_bodies)
        out["memory"] = jc.memory_dict(compiled)
        out["compiled"] = True
    except Exception as exc:  # noqa: BLE001
        _fail(out, "compile", exc, filename)


def inspect_target(target: InspectTarget, *, filename: str = "", compile_: bool = True) -> dict[str, Any]:
    """All views for one target (a record as inspect_targets makes them). The TPU-target
    compile (kernel/target.py) calls it with abstract arguments on the target's chips."""
    out, lowered, jaxpr = _trace_and_lower(target, filename)
    if compile_ and lowered is not None:
        # The loops are listed, but their bodies are costed only where they run locally.
        _compile(out, lowered, filename, jaxpr, cost_bodies=False)
    return out


def inspect_targets(targets: list[InspectTarget], *, filename: str = "",
                    emit: Emit | None = None, target: str | None = None,
                    with_targets: bool = True) -> list[dict[str, Any]]:
    """Every target's views. Tracing and lowering are quick, compiling can take longer:
    with `emit`, the jaxprs and StableHLO are sent ("inspection" event) before compiling.
    A record's keys: name, fn_name, line, platform, jaxpr, stablehlo, hlo, jaxpr_links,
    hlo_links, cost, loop_cost (kernel/loop_cost.py), memory, stage_s (trace/lower/compile
    seconds), compiled, error (None or {stage, type, message, line, source}).
    With a TPU `target` (the run's, or a function's own), each function compiled for it
    follows its local record (jaxtui/kernel/target.py); live mode (`with_targets` False)
    skips them: a TPU compile takes a second or more, which XLA cannot interrupt."""
    # A function marked with its own target (demo.inspect(..., target=...)) is shown for it
    # alone; live mode, which skips targets, shows it compiled here instead.
    own = [bool(with_targets and t.target) for t in targets]
    staged = [_trace_and_lower(t, filename) for t, skip in zip(targets, own) if not skip]
    records = [out for out, _, _ in staged]
    if emit is not None and any(lowered is not None for _, lowered, _ in staged):
        emit(EV_INSPECTION, {"inspections": records, "partial": True})
    for out, lowered, jaxpr in staged:
        if lowered is not None:
            _compile(out, lowered, filename, jaxpr)
    if with_targets and (target or any(own)):
        from jaxtui.kernel.target import with_target_records

        records = with_target_records(targets, records, target, filename)
    return records
