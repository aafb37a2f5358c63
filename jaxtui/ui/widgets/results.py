"""A pane's results tabs: Lesson, Output, Jaxpr, StableHLO, HLO, Cost, Compiles, Timing, Plots.

Each tab's view has `show_result(result)`; the pane hands every run's result to all of
them (`RESULT_VIEWS`), so adding a view means adding a tab here and a class in its own file.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane

from jaxtui.ui.widgets.deferred import Deferred, built
from jaxtui.ui.widgets.output import OutputView

RESULT_VIEWS = "InspectionView, CostView, CompilesView, TimingView, PlotsView"
# Tabs whose views are built after the first frame (their modules imported then too).
LATER_TABS = (("jaxpr", "Jaxpr"), ("stablehlo", "StableHLO"), ("hlo", "HLO"), ("cost", "Cost"),
              ("compiles", "Compiles"), ("timing", "Timing"), ("plots", "Plots"))


def build_view(tab_id: str) -> Widget:
    """The view behind a results tab."""
    from jaxtui.ui.widgets import inspect_views
    from jaxtui.ui.widgets.plots_view import PlotsView
    from jaxtui.ui.widgets.timing_view import TimingView

    if tab_id in ("jaxpr", "stablehlo", "hlo"):
        return inspect_views.InspectionView(tab_id, language="python" if tab_id == "jaxpr" else None)
    views: dict[str, type[Widget]] = {"cost": inspect_views.CostView, "timing": TimingView,
                                      "compiles": inspect_views.CompilesView, "plots": PlotsView}
    return views[tab_id]()


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
        self.last_result: dict[str, Any] | None = None  # the last run's
        self.last_live: dict[str, Any] | None = None  # the last live inspection, if newer

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
                yield Deferred(self._lesson, visible=True)  # Markdown is slow to build
            with TabPane("Output", id="output"):
                yield OutputView(classes="output")
            for tab_id, title in LATER_TABS:
                with TabPane(title, id=tab_id):
                    yield Deferred(partial(build_view, tab_id), then=self._catch_up)

    def _lesson(self) -> Widget:
        from textual.widgets import Markdown  # markdown-it and the widget: after the first frame

        return Markdown(self.lesson or "*This file has no lesson: add a module docstring.*",
                        classes="lesson")

    def _catch_up(self, view: Widget) -> None:
        """A view built after a result came: a run, or a live inspection (live mode is on
        when a pane opens: its first inspection can beat its views)."""
        from jaxtui.ui.widgets.inspect_views import InspectionView  # (loaded with the view)

        if self.last_result is not None:
            view.show_result(self.last_result)  # type: ignore[attr-defined]
        if self.last_live is not None and isinstance(view, InspectionView):
            view.show_result(self.last_live, live=True)

    def show_live(self, result: dict[str, Any]) -> None:
        """A live inspection: the inspection views only."""
        self.last_live = result
        for view in built(self.query("InspectionView")):  # the others catch up when built
            view.show_result(result, live=True)  # type: ignore[attr-defined]

    @property
    def output(self) -> OutputView:
        return self.query_one(OutputView)

    def show_result(self, result: dict[str, Any]) -> None:
        self.last_result, self.last_live = result, None
        for view in built(self.query(RESULT_VIEWS)):  # the others catch up when built
            view.show_result(result)  # type: ignore[attr-defined]
