"""Text for a TPU target (`--target tpu-v5e:2x2`): the pod map and what each marked
function's target compile did. Shared by `jaxtui run`'s report and the app's Devices pane.
Imports neither jax nor textual.
"""

from __future__ import annotations

from typing import Any

from jaxtui.render.units import format_bytes, format_seconds

# One plane of the pod map: rows (y) of cells (x); a cell is (chip ids, host) or None
# where the slice has no chip.
Cell = tuple[list[int], int] | None
Plane = list[list[Cell]]


def pod_map_planes(info: dict[str, Any]) -> list[Plane]:
    """The chips of a target laid out by their coordinates: one plane per z, rows y,
    columns x; each chip with its device ids (two per chip where it shows two cores)
    and its host."""
    bx, by, bz = (info.get("bounds") or [0, 0, 0]) + [1] * (3 - len(info.get("bounds") or []))
    planes: list[Plane] = [[[None] * bx for _ in range(by)] for _ in range(bz)]
    for chip in info.get("chips") or []:
        x, y, z = chip["coords"][:3]
        cell = planes[z][y][x]
        if cell is None:
            planes[z][y][x] = ([chip["id"]], chip["host"])
        else:
            cell[0].append(chip["id"])
    return planes


def target_summary(info: dict[str, Any]) -> str:
    chips = info.get("chip_count", info.get("devices", 0))
    hosts = info.get("hosts", 0)
    cores = info.get("cores_per_chip", 1)
    line = (f"{info.get('name')}: {chips} {info.get('device_kind', '')} chip{'s' if chips != 1 else ''} "
            f"on {hosts} host{'s' if hosts != 1 else ''}")
    if cores > 1:
        line += f", {cores} TensorCores per chip, each its own device ({info.get('devices')} devices)"
    return line


def pod_map_text(info: dict[str, Any]) -> str:
    """Each chip at its (x, y) in the slice, showing its host (h0, h1, ...): which chips
    share a TPU VM, so a collective between them stays on the host."""
    if not info.get("chips"):
        return ""
    planes = pod_map_planes(info)
    width = max(3, len(f"h{max(1, info.get('hosts', 1)) - 1}") + 1)
    lines = []
    for z, plane in enumerate(planes):
        if len(planes) > 1:
            lines.append(f"z={z}")
        cols = len(plane[0]) if plane else 0
        lines.append("y\\x ".ljust(5) + "".join(f"x{x}".rjust(width) for x in range(cols)))
        for y, row in enumerate(plane):
            cells = "".join((f"h{c[1]}" if c else "·").rjust(width) for c in row)
            lines.append(f"y{y}".ljust(5) + cells)
    return "\n".join(lines)


def per_device_bytes(memory: dict[str, Any]) -> int:
    """Arguments + outputs + temporaries - aliased, as memory_analysis() reports them for
    one device of the compiled program."""
    return int(memory.get("argument_size_in_bytes", 0) + memory.get("output_size_in_bytes", 0)
               + memory.get("temp_size_in_bytes", 0) - memory.get("alias_size_in_bytes", 0))


def inspection_line(ins: dict[str, Any]) -> str:
    """One marked function's target compile, in a line: time, memory per device (and the
    change from one chip), collectives."""
    if ins.get("error"):
        err = ins["error"]
        first = (err.get("message") or "").strip().split("\n")[0]
        return f"{ins['name']}: ✗ {err.get('type')}: {first}"
    if ins.get("platform") in ("cuda", "rocm"):
        lowered = format_seconds(ins["stage_s"].get("lower", 0))
        return f"{ins['name']}: StableHLO lowered in {lowered} (optimised HLO needs the device)"
    parts = [f"{ins['name']}: compiled in {format_seconds(ins['stage_s'].get('compile', 0))}"]
    if ins.get("memory"):
        mem = per_device_bytes(ins["memory"])
        text = f"{format_bytes(mem)} per device"
        if base := ins.get("memory_unsharded"):
            before = per_device_bytes(base)
            change = f", {100 * (mem - before) / before:+.0f}%" if before else ""
            text += f" (whole on one chip: {format_bytes(before)}{change})"
        parts.append(text)
    ops = ins.get("collectives") or []
    if ops:
        counts: dict[str, list[int]] = {}
        for c in ops:
            counts.setdefault(c["op"], []).append(c["bytes"])
        parts.append(", ".join(f"{op} ×{len(b)} ({format_bytes(sum(b))})" for op, b in counts.items()))
    else:
        parts.append("no collectives")
    return " · ".join(parts)


def target_text(result: dict[str, Any]) -> str:
    """The report's target section: the slice, its pod map, each function's compile."""
    on_target = [ins for ins in result.get("inspections") or [] if ins.get("target")]
    info = result.get("target")
    if not info and not on_target:
        return ""
    lines = []
    if info:
        lines.append(f"── target {target_summary(info)}")
        if pod := pod_map_text(info):
            lines.append(pod)
    lines += [inspection_line(ins) for ins in on_target]
    return "\n".join(lines)
