"""A cluster's run as text, per process: who ran where, what each printed, and which part of
each `demo.sharding` array each process holds. For `jaxtui run --processes N` and the app's
Processes tab alike. Imports neither jax nor textual.
"""

from __future__ import annotations

from typing import Any

from jaxtui.render.report import error_text, footer


def parts_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every process's result (a single kernel's result is process 0 of 1)."""
    return result.get("processes") or [{**result, "process_index": 0}]


def status_text(part: dict[str, Any]) -> str:
    if part.get("ok"):
        return "ran to the end"
    return f"{(part.get('error') or {}).get('kind', 'failed')}"


def device_map(result: dict[str, Any]) -> list[str]:
    """One line per process: where it ran and the devices it drives (global ids)."""
    lines = []
    for part in parts_of(result):
        where = " · ".join(x for x in (part.get("host") and f"host {part['host']}",
                                       part.get("pid") and f"pid {part['pid']}") if x)
        local = part.get("local_devices") or []
        lines.append(f"process {part.get('process_index', 0)}: {status_text(part)}"
                     + (f" · {where}" if where else "")
                     + (f" · local devices {', '.join(local)}" if local else ""))
    return lines


def placements(result: dict[str, Any]) -> list[str]:
    """For each array shown with demo.sharding: its global shape, whether any one process
    holds it whole, and the shards each process holds (from that process's own record)."""
    parts = parts_of(result)
    records: list[list[dict[str, Any]]] = [
        [v for v in p.get("values") or [] if v.get("type") == "sharding" and "shards" in v] for p in parts]
    lines: list[str] = []
    # A process cut short (stuck, dead) has no values: take the labels from one that has.
    widest: list[dict[str, Any]] = max(records, key=len) if records else []
    for n, first in enumerate(widest):
        shape = "×".join(map(str, first.get("global_shape") or [])) or "scalar"
        whole = "yes" if first.get("fully_addressable") else "no: each process holds only its shards"
        lines.append(f"{first.get('label') or f'array {n + 1}'}: global {first.get('dtype', '')}[{shape}], "
                     f"fully addressable: {whole}")
        for part, recs in zip(parts, records, strict=False):
            if n >= len(recs):
                continue
            held = ", ".join(f"{s['device']} {s['index']}" for s in recs[n].get("shards") or []) or "none"
            lines.append(f"  process {part.get('process_index', 0)} holds {held}")
    return lines


def process_block(part: dict[str, Any]) -> list[str]:
    """What one process printed, and how it ended."""
    lines = (part.get("stdout") or "").rstrip("\n").splitlines()
    if part.get("error"):
        lines += ["", error_text(part["error"])]
    return lines


def cluster_text(result: dict[str, Any]) -> str:
    """The headless report of a cluster's run: the map, each process's output, the footer."""
    out = ["── processes", *device_map(result)]
    shards = placements(result)
    if shards:
        out += ["", "── where the arrays live", *shards]
    for part in parts_of(result):
        out += ["", f"── process {part.get('process_index', 0)} ({status_text(part)})", *process_block(part)]
    if result.get("error") and all(p.get("error") != result["error"] for p in parts_of(result)):
        out += ["", error_text(result["error"])]  # the cluster's own word (who was stuck or died)
    out.append(footer(result) + f" · {len(parts_of(result))} processes")
    return "\n".join(out) + "\n"
