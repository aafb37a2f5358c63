"""The Cost tab: cost_analysis() and memory_analysis() of each marked function."""

from __future__ import annotations

from typing import Any

from jaxtui.render import cost_report
from jaxtui.ui.results.inspection import Block, InspectionView, bytes_note, inspection_problem, stages_text


class CostView(InspectionView):
    """cost_analysis() and memory_analysis() of each marked function's compiled form."""

    HELP_TITLE = "Cost"
    key = SAVE_NAME = "cost"
    comment = " "
    empty_text = "Run the code (ctrl+r) or turn on live mode (ctrl+l) to see cost_analysis() and memory_analysis()."

    def header(self, block: Block, stale: bool) -> str:
        return f"── {block.name}{' · STALE' if stale else ''}"

    def blocks(self, result: dict[str, Any]) -> list[Block]:
        out = []
        for ins in result.get("inspections") or []:
            if not ins.get("compiled") and not ins.get("error"):
                out.append(Block(ins["name"], line=ins.get("line"), pending=True))
                continue
            body = cost_lines(ins) if ins.get("compiled") else ""
            out.append(Block(ins["name"], body, [], ins.get("line"), "" if body else inspection_problem(ins)))
        return out


def cost_lines(ins: dict[str, Any]) -> str:
    cost, mem = ins.get("cost") or {}, ins.get("memory") or {}
    lines = []
    flops, nbytes = cost.get("flops"), cost.get("bytes accessed")
    once = cost_report.counted_once(ins)  # XLA adds a loop body once, whatever its trip count
    if flops is not None:
        lines.append(f"  flops                  {flops:>16,.0f}{once}")
    if cost.get("transcendentals") is not None:
        lines.append(f"  transcendentals        {cost['transcendentals']:>16,.0f}")
    if nbytes is not None:
        lines.append(f"  bytes accessed         {nbytes:>16,.0f}{bytes_note(nbytes)}{once}")
    if flops is not None and nbytes:
        intensity = flops / nbytes
        lines.append(f"  arithmetic intensity   {intensity:>16.3g}  flop/byte"
                     f"{'  (memory-bound: few flops per byte moved)' if intensity < 4 else ''}")
    lines += cost_report.loop_lines(ins)
    if mem:
        lines.append("  memory_analysis():")
        for key, label in (("argument_size_in_bytes", "arguments"), ("output_size_in_bytes", "outputs"),
                           ("temp_size_in_bytes", "temporaries"), ("alias_size_in_bytes", "aliased"),
                           ("generated_code_size_in_bytes", "generated code")):
            if key in mem:
                lines.append(f"    {label:<20} {mem[key]:>16,} bytes{bytes_note(mem[key])}")
    if ins.get("stage_s"):
        lines.append(f"  {stages_text(ins)}")
    return "\n".join(lines) or "  (the backend reported no cost)"
