"""Views of what JAX made of the marked functions: Jaxpr, StableHLO, HLO, Cost, Compiles."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from jaxtui.report import format_seconds
from jaxtui.widgets.text_view import TextView


def _inspection_text(result: dict[str, Any], key: str) -> str:
    """The view text of every marked function, each under a header line."""
    blocks = []
    for ins in result.get("inspections") or []:
        head = f";; ── {ins['name']} (demo.inspect at line {ins.get('line')})"
        body = ins.get(key) or ""
        if ins.get("error") and not body:
            err = ins["error"]
            body = f";; {err['stage']} failed: {err['type']}: {err['message']}"
        blocks.append(f"{head}\n{body.rstrip()}")
    if not blocks:
        return ";; No function is marked for inspection in this demo.\n;; Add `demo.inspect(f, *example_args)` to your code and run it."
    return "\n\n".join(blocks)


class InspectionView(TextView):
    """Jaxpr / StableHLO / optimised HLO of the marked functions."""

    def __init__(self, key: str, language: str | None = None, **kwargs: Any) -> None:
        super().__init__(language=language, **kwargs)
        self.key = key

    def show_result(self, result: dict[str, Any]) -> None:
        if result.get("error") and not result.get("inspections"):
            return  # keep the last good view
        self.set_text(_inspection_text(result, self.key))


def cost_text(result: dict[str, Any]) -> str:
    blocks = []
    for ins in result.get("inspections") or []:
        cost, mem = ins.get("cost") or {}, ins.get("memory") or {}
        lines = [f"── {ins['name']}"]
        flops, nbytes = cost.get("flops"), cost.get("bytes accessed")
        if flops is not None:
            lines.append(f"  flops               {flops:,.0f}")
        if cost.get("transcendentals") is not None:
            lines.append(f"  transcendentals     {cost['transcendentals']:,.0f}")
        if nbytes is not None:
            lines.append(f"  bytes accessed      {nbytes:,.0f}")
        if flops is not None and nbytes:
            lines.append(f"  arithmetic intensity {flops / nbytes:.3g} flop/byte")
        for key, label in (("argument_size_in_bytes", "arguments"), ("output_size_in_bytes", "outputs"),
                           ("temp_size_in_bytes", "temporaries"), ("alias_size_in_bytes", "aliased")):
            if key in mem:
                lines.append(f"  {label:<19} {mem[key]:,} bytes")
        stages = ins.get("stage_s") or {}
        if stages:
            lines.append("  " + "  ".join(f"{k} {format_seconds(v)}" for k, v in stages.items()))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or "No function is marked for inspection (demo.inspect)."


class CostView(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static("Run the demo to see cost_analysis() and memory_analysis().", id="cost-text")

    def show_result(self, result: dict[str, Any]) -> None:
        if result.get("inspections") or result.get("ok"):
            self.query_one("#cost-text", Static).update(cost_text(result))


def compiles_text(result: dict[str, Any]) -> str:
    rows = result.get("compiles") or []
    if not rows:
        return "No compilation happened in this run: every function hit the cache."
    lines = [f"{'function':<36} {'compiles':>8} {'trace':>9} {'lower':>9} {'compile':>9}"]
    for r in rows:
        lines.append(f"{r['name'][:36]:<36} {r['compiles']:>8} {format_seconds(r['trace_s']):>9} "
                     f"{format_seconds(r['lower_s']):>9} {format_seconds(r['compile_s']):>9}")
    total = sum(r["compiles"] for r in rows)
    lines.append(f"\n{total} compilations. Eager jnp operations compile once per shape and dtype "
                 "(jit(mul), jit(add)...); a jitted function compiles again when an argument's "
                 "shape, dtype or a static argument changes. A cache hit compiles nothing.")
    return "\n".join(lines)


class CompilesView(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static("Run the demo to count its compilations.", id="compiles-text")

    def show_result(self, result: dict[str, Any]) -> None:
        self.query_one("#compiles-text", Static).update(compiles_text(result))
