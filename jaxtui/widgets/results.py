"""A pane's results tabs: Lesson, Output, Jaxpr, StableHLO, HLO, Cost, Compiles, Timing, Plots.

Each tab's view has `show_result(result)`; the pane hands every run's result to all of
them (`RESULT_VIEWS`), so adding a view means adding a tab here and a class in its own file.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, TabbedContent, TabPane

from jaxtui.widgets.inspect_views import CompilesView, CostView, InspectionView
from jaxtui.widgets.output import OutputView
from jaxtui.widgets.plots_view import PlotsView
from jaxtui.widgets.timing_view import TimingView

RESULT_VIEWS = "InspectionView, CostView, CompilesView, TimingView, PlotsView"


class ResultsTabs(Vertical):
    """Lesson first; a run switches to Output."""

    HELP = ("Results of the last run. Lesson: the pane's summary. Output: what the code "
            "printed, its values and the notes' corrections. Jaxpr, StableHLO, HLO: what JAX "
            "and XLA made of each function marked with `demo.inspect`. Cost: flops and bytes. "
            "Compiles: what compiled and how long it took. Timing and Plots: measurements. "
            "f4 cycles the tabs; left and right move along the tab bar.")

    def __init__(self, lesson: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.lesson = lesson

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one(TabbedContent)

    @property
    def active(self) -> str:
        return self.tabs.active

    @active.setter
    def active(self, tab_id: str) -> None:
        self.tabs.active = tab_id

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="lesson"):
            with TabPane("Lesson", id="lesson"):
                yield Markdown(self.lesson or "*This file has no lesson: add a module docstring.*",
                               classes="lesson")
            with TabPane("Output", id="output"):
                yield OutputView(classes="output")
            with TabPane("Jaxpr", id="jaxpr"):
                yield InspectionView("jaxpr", language="python")
            with TabPane("StableHLO", id="stablehlo"):
                yield InspectionView("stablehlo")
            with TabPane("HLO", id="hlo"):
                yield InspectionView("hlo")
            with TabPane("Cost", id="cost"):
                yield CostView()
            with TabPane("Compiles", id="compiles"):
                yield CompilesView()
            with TabPane("Timing", id="timing"):
                yield TimingView()
            with TabPane("Plots", id="plots"):
                yield PlotsView()

    @property
    def output(self) -> OutputView:
        return self.query_one(OutputView)

    def show_result(self, result: dict[str, Any]) -> None:
        for view in self.query(RESULT_VIEWS):
            view.show_result(result)  # type: ignore[attr-defined]
