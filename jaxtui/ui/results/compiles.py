"""The Compiles tab: how many compilations each function triggered in the last run, and why."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType

from jaxtui.render.units import format_seconds
from jaxtui.ui.results.base import Result
from jaxtui.ui.results.inspection import Block, InspectionView, stages_text


class CompilesView(InspectionView):
    """How many compilations each function triggered in the last run, and why."""

    HELP_TITLE = "Compiles"
    key = SAVE_NAME = "compiles"
    comment = " "
    empty_text = "Run the code (ctrl+r) to count its compilations."
    BINDINGS: ClassVar[list[BindingType]] = [
        *InspectionView.BINDINGS,
        Binding("a", "toggle_internal", "JAX's own", tooltip="Show or hide JAX's own functions"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.show_internal = False  # JAX's own functions (jnp ops outside jit...) are hidden
        self._last: tuple[Result, bool] | None = None

    def _show(self, result: Result, *, live: bool) -> None:
        self._last = (result, live)
        super()._show(result, live=live)

    def action_toggle_internal(self) -> None:
        self.show_internal = not self.show_internal
        if self._last is not None:
            self._show(self._last[0], live=self._last[1])

    def header(self, block: Block, stale: bool) -> str:
        live = " (live: only the statements the marked functions need ran)" if self.origin == "live" else ""
        return f"── compilations{live}{' · STALE' if stale else ''}"

    def blocks(self, result: dict[str, Any]) -> list[Block]:
        if result.get("partial") or "compiles" not in result:
            return []
        return [Block("compiles", compiles_text(result, show_internal=self.show_internal))]


def is_internal(row: dict[str, Any], marked: set[Any]) -> bool:
    """JAX's own function (a jnp op compiled outside jit, a helper): not marked by the code,
    and no cache-miss explanation points at a line of it."""
    return row["name"] not in marked and not any(m.get("line") for m in row.get("misses") or [])


def compiles_text(result: dict[str, Any], show_internal: bool = True) -> str:
    rows = result.get("compiles") or []
    marked = {ins.get("fn_name") for ins in result.get("inspections") or []} - {None, ""}
    hidden = [] if show_internal else [r for r in rows if is_internal(r, marked)]
    rows = [r for r in rows if r not in hidden]
    lines = []
    if hidden:
        names = ", ".join(r["name"] for r in hidden[:4]) + (", …" if len(hidden) > 4 else "")
        count = sum(r["compiles"] for r in hidden)
        lines.append(f"  {len(hidden)} of JAX's own functions hidden ({names}: {count} compilations); "
                     "a shows them.\n")
    elif show_internal and any(is_internal(r, marked) for r in rows):
        lines.append("  All functions, JAX's own too; a hides those.\n")
    if rows:
        lines.append(f"  {'function':<32} {'compiles':>8} {'traces':>6} {'trace':>9} {'lower':>9} {'compile':>9}")
        for r in rows:
            star = "★" if r["name"] in marked else " "
            lines.append(f"{star} {r['name'][:32]:<32} {r['compiles']:>8} {r.get('traces', 0):>6} "
                         f"{format_seconds(r['trace_s']):>9} {format_seconds(r['lower_s']):>9} "
                         f"{format_seconds(r['compile_s']):>9}")
        total = sum(r["compiles"] for r in rows)
        lines.append(f"\n  {total} compilation{'s' if total != 1 else ''}, each one a cache miss. A cache hit "
                     "(same function, same shapes, dtypes and static arguments) compiles nothing and "
                     "fires no event, so it is not in this table. jnp operations outside jit compile "
                     "once per shape and dtype (broadcast_in_dim, mul...). ★ = marked with demo.inspect.")
    elif not hidden:
        lines.append("  No compilation happened: every call hit a cache (or nothing was called).")
    explained: list[tuple[str, str, str]] = []
    counts: list[int] = []
    for r in rows:
        for miss in r.get("misses") or []:
            where = f"line {miss['line']}" if miss.get("line") else miss.get("where", "?")
            key = (r["name"], where, miss["reason"])
            if explained and explained[-1] == key:  # a loop retracing: once, with a count
                counts[-1] += 1
            else:
                explained.append(key)
                counts.append(1)
    if explained:
        lines.append("\n  Why each trace happened (JAX's cache-miss explanations, jax_explain_cache_misses):")
        for (name, where, reason), count in zip(explained, counts):
            times = f" (×{count})" if count > 1 else ""
            reason = reason.replace("\n", "\n      ")
            lines.append(f"    {name} at {where}{times}: {reason}")
    views = [ins for ins in result.get("inspections") or [] if ins.get("stage_s")]
    if views:
        lines.append("\n  Building these views (not counted above; a cached function costs ~0):")
        for ins in views:
            lines.append(f"    {ins['name']}: {stages_text(ins)}")
    return "\n".join(lines)
