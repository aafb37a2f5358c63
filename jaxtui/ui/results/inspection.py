"""Views of what JAX made of the marked functions: Jaxpr, StableHLO, HLO (and, in cost.py
and compiles.py, Cost and Compiles).

All five are `InspectionView`: a status line, a problem box (shown when the view is stale),
a find bar, and a read-only `TextView`. A subclass only says how to turn a result into text
blocks (`blocks`). Results come from a real run (ctrl+r) or from live mode
(core/live_schedule.py); a result that failed keeps the last good text on screen, marked
stale, with JAX's error and the offending line above it.

Keys inside a view: `/` or ctrl+f find (enter: back to the view, where `n`/`N` go to the
next/previous match), `y` copy the selection or the view, `Y` copy the view (OSC 52, works
over SSH), `s` save to a file. Moving the cursor onto a jaxpr equation or an HLO instruction
tints the source line it came from in the editor, and the reverse.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static, TextArea

from jaxtui.render.report import error_text
from jaxtui.render.units import format_bytes, format_seconds
from jaxtui.ui.results.base import Result
from jaxtui.ui.results.searchable import SearchableView
from jaxtui.ui.widgets.text_view import TextView

NOTHING_MARKED = ("No function is marked for inspection in this code.\n"
                  "Add `demo.inspect(f, *example_args)` and run it (ctrl+r), or turn on live mode (ctrl+l).")
STAGE_VERB = {"trace": "tracing", "lower": "lowering", "compile": "compiling"}
PROBLEM_MAX_LINES = 40  # the problem box scrolls; a huge traceback is cut


@dataclass
class Block:
    """One marked function's part of a view."""

    name: str  # the inspection's name: the key under which the last good block is kept
    body: str = ""
    links: list[tuple[int, int]] = field(default_factory=list)  # (body line, source line), 1-based
    line: int | None = None  # the `demo.inspect` line
    problem: str = ""  # why the body could not be built this time
    pending: bool = False  # not built yet (compiling); keep the last good one meanwhile


def inspection_problem(ins: dict[str, Any]) -> str:
    err = ins.get("error")
    if not err:
        return ""
    where = f", line {err['line']}: {err['source']}" if err.get("line") else ""
    return (f"✗ {ins['name']}: {err['type']} while {STAGE_VERB.get(err['stage'], err['stage'])}{where}\n"
            f"{err['message']}")


def run_problem(error: dict[str, Any]) -> str:
    if error.get("type") == "LiveBudgetExceeded":
        return f"✗ The live update was stopped: {error['message']}."
    return "✗ " + error_text(error)


def bytes_note(n: float) -> str:
    """`  (3.81 MiB)` beside a byte count of a KiB or more; nothing for smaller ones."""
    return f"  ({format_bytes(n)})" if abs(n) >= 1024 else ""


def stages_text(ins: dict[str, Any]) -> str:
    stages = ins.get("stage_s") or {}
    return " · ".join(f"{k} {format_seconds(v)}" for k, v in stages.items())


class InspectionView(SearchableView):
    """Jaxpr / StableHLO / optimised HLO of the marked functions (and the base of the
    Cost and Compiles views). A subclass sets `key`: the inspection's field it shows."""

    # Built after the first frame: its rules live here, not in app.tcss (parsed before it).
    SCOPED_CSS = False  # its rules name screen classes and ids above it too
    DEFAULT_CSS = """
    /* Jaxpr, StableHLO, HLO, Cost, Compiles.
       A status line, a problem box while the view is stale, a find bar, then the text. */
    InspectionView {
        height: 1fr;
    }

    CostView, CompilesView {
        padding: 0;
    }

    InspectionView .inspect-status {
        height: 1;
        padding: 0 1;
        background: $boost;
    }

    InspectionView .inspect-problem {
        height: auto;
        max-height: 8;
        padding: 0 1;
        background: $error 15%;
        color: $text;
    }

    .-narrow InspectionView .inspect-problem {
        max-height: 4;
    }

    InspectionView .inspect-problem-text {
        width: 1fr;
    }

    InspectionView .inspect-text {
        height: 1fr;
    }

    InspectionView.-stale .inspect-text {
        tint: $warning 10%;
    }
    """

    key: ClassVar[str] = ""  # the inspection's field shown (also SAVE_NAME)
    language: ClassVar[str | None] = None  # tree-sitter highlighting of the text
    comment: ClassVar[str] = "//"  # how a header line starts: a comment in the view's language
    HELP = ("What JAX made of the functions the code marks with demo.inspect(f, *args). "
            "Updated by a run (ctrl+r), or after each pause in typing when live mode is on "
            "(ctrl+l). Keys: / or ctrl+f find (enter goes back to the view), n / N next and "
            "previous match, y copy the selection (after a find: the match) or else the view, "
            "Y copy the whole view, to the clipboard (OSC 52, works over SSH; in tmux it "
            "needs `set -g set-clipboard on`), s save it to a file. Moving the cursor in the "
            "code tints the equations that came from that line, and moving it here tints "
            "the source line.")
    empty_text = "Run the code (ctrl+r) or turn on live mode (ctrl+l) to see this view."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stale = False
        self.problem = ""
        self.origin = ""  # "run" or "live"
        self.shown_at = 0.0
        self._good: dict[str, Block] = {}  # last good block per marked function
        self._links: list[tuple[int, int]] = []  # (view line, source line), 1-based
        self._rows_by_source: dict[int, list[int]] = {}
        self._linked_source: int | None = None  # the editor line the tint follows
        self._unloaded: str | None = None  # text waiting until the view is shown

    def compose(self) -> ComposeResult:
        yield Static(self.empty_text, classes="inspect-status")
        with VerticalScroll(classes="inspect-problem") as problem:
            problem.display = False
            yield Static("", classes="inspect-problem-text")
        yield from self.find_bar()
        yield TextView(language=self.language, classes="inspect-text")

    @property
    def text(self) -> str:
        """What the view shows (or will show when its tab is opened)."""
        return self._unloaded if self._unloaded is not None else self.view.text

    @property
    def selected_text(self) -> str:
        return self.view.selected_text if self._unloaded is None else ""


    # -- what the view shows -------------------------------------------------------------
    def blocks(self, result: dict[str, Any]) -> list[Block]:
        """The view's text for each marked function in `result`."""
        out = []
        for ins in result.get("inspections") or []:
            body = ins.get(self.key) or ""
            pending = not body and not ins.get("error") and self.key == "hlo" and not ins.get("compiled")
            links = [(a, b) for a, b in ins.get(f"{self.key}_links") or []]
            out.append(Block(ins["name"], body, links, ins.get("line"),
                             "" if body else inspection_problem(ins), pending))
        return out


    def header(self, block: Block, stale: bool) -> str:
        where = f" · demo.inspect at line {block.line}" if block.line else ""
        return f"{self.comment} ── {block.name}{where}{' · STALE' if stale else ''}"

    def show_result(self, result: Result) -> None:
        self._show(result, live=False)

    def show_inspection(self, result: Result) -> None:
        self._show(result, live=True)

    def _show(self, result: Result, *, live: bool) -> None:
        """Show a run's (or a live update's) result; a failed one keeps the last good
        text, marked stale, with the error above it."""
        self.origin = "live" if live else "run"
        self.shown_at = time.time()
        if result.get("error"):
            self._mark(stale=True, problem=run_problem(result["error"]), partial=False)
            return
        blocks = self.blocks(result)
        if not blocks:
            if not result.get("partial"):
                self._good.clear()
                self._set(self.empty_text if "inspections" not in result else NOTHING_MARKED, [])
                self._mark(stale=False, problem="", partial=False)
            return
        lines: list[str] = []
        links: list[tuple[int, int]] = []
        problems: list[str] = []
        stale = partial = False
        for block in blocks:
            if block.pending:
                partial = True
            shown = block if block.body else self._good.get(block.name)
            if block.body:
                self._good[block.name] = block
            elif block.problem:
                problems.append(block.problem)
            block_stale = not block.body
            stale |= block_stale and not block.pending
            if lines:
                lines.append("")
            if block.line:
                links.append((len(lines) + 1, block.line))
            lines.append(self.header(block, block_stale and not block.pending and shown is not None))
            if shown is None:
                lines.append(f"{self.comment} " + ("(nothing yet)" if block.pending else "(no earlier result to show)"))
                continue
            base = len(lines)
            body = shown.body.rstrip("\n").split("\n")
            lines.extend(body)
            links.extend((base + a, src) for a, src in shown.links)
        self._good = {b.name: self._good[b.name] for b in blocks if b.name in self._good}  # renamed: forget
        self._set("\n".join(lines), links)
        self._mark(stale=stale, problem="\n\n".join(problems), partial=partial)

    def _set(self, text: str, links: list[tuple[int, int]]) -> None:
        self._links = links
        rows: dict[int, list[int]] = {}
        for view_line, src in links:
            rows.setdefault(src, []).append(view_line - 1)
        self._rows_by_source = rows
        # A hidden tab loads its text when shown: a live update of a huge module then costs
        # one TextArea load, not five.
        if self._displayed():
            self._unloaded = None
            self.view.set_text(text)
        else:
            self._unloaded = text

    def _displayed(self) -> bool:
        return all(node.display for node in self.ancestors_with_self if hasattr(node, "display"))

    def on_show(self) -> None:
        if self._unloaded is not None:
            text, self._unloaded = self._unloaded, None
            self.view.set_text(text)
            if self._linked_source is not None:
                self.link_source_line(self._linked_source)

    def _mark(self, *, stale: bool, problem: str, partial: bool) -> None:
        self.stale = stale
        self.problem = problem
        self.set_class(stale, "-stale")
        box = self.query_one(".inspect-problem")
        box.display = bool(problem)
        if problem:
            lines = problem.splitlines()
            if len(lines) > PROBLEM_MAX_LINES:
                lines = [*lines[:PROBLEM_MAX_LINES], "…"]
            shown = "\n".join(lines)
            if stale:
                shown += ("\nBelow: the last good result, stale." if self._good
                          else "\nThere is no earlier result to show.")
            self.query_one(".inspect-problem-text", Static).update(Text(shown))
        status = Text()
        status.append(self.origin or "", style="bold cyan" if self.origin == "live" else "bold")
        status.append(" " + time.strftime("%H:%M:%S", time.localtime(self.shown_at)), style="dim")
        if stale:
            status.append("  STALE: the last good result", style="bold yellow")
        elif partial:
            status.append("  compiling…", style="italic")
        count = self.text.count("\n") + 1
        status.append(f"  {count:,} lines", style="dim")
        self.query_one(".inspect-status", Static).update(status)

    # -- linking -------------------------------------------------------------------------
    def link_source_line(self, line: int) -> None:
        """The editor's cursor is on `line`: tint what came from it."""
        self._linked_source = line
        if self._unloaded is None:
            self.view.set_linked(self._rows_by_source.get(line, ()))

    def source_lines_at(self, row: int) -> list[int]:
        return sorted({src for view_line, src in self._links if view_line - 1 == row})

    @on(TextArea.SelectionChanged)
    def _cursor_moved(self, event: TextArea.SelectionChanged) -> None:
        if event.text_area is not self.view:
            return
        event.stop()
        if not self.view.has_focus:
            return  # moved by new text or a search: the editor's cursor leads the tint
        sources = self.source_lines_at(event.selection.end[0])
        rows = [r for src in sources for r in self._rows_by_source.get(src, ())]
        self.view.set_linked(rows, reveal=False)
        self.post_message(self.SourceLinked(self, sources))


class JaxprView(InspectionView):
    HELP_TITLE = "Jaxpr"
    key = SAVE_NAME = "jaxpr"
    comment = "#"
    language = "python"  # a jaxpr reads well with Python's highlighting


class StableHLOView(InspectionView):
    HELP_TITLE = "StableHLO"
    key = SAVE_NAME = "stablehlo"


class HLOView(InspectionView):
    HELP_TITLE = "HLO"
    key = SAVE_NAME = "hlo"
