"""The results tabs, in order: adding a view is a file in this folder and one line here.

A view's module is imported when its view is built, after the first frame (the first frame
shows the tab bar and the lesson only: widgets/tabs.py): hence "module:Class" rather than the class itself.
`tests/test_results.py` builds every entry, so a wrong name fails there, not in the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from jaxtui.ui.results.base import ResultsView


@dataclass(frozen=True)
class Tab:
    id: str  # the tab's id: tours (`show: jaxpr`), `--tab`-like choices, CSS
    title: str  # its label in the tab bar
    view: str  # "module:Class" in jaxtui/ui/results/
    cluster_only: bool = False  # shown only when the kernel is a cluster (--processes, --remote h1,h2)

    def view_class(self) -> type[ResultsView]:
        module, name = self.view.split(":")
        cls = getattr(import_module(f"jaxtui.ui.results.{module}"), name)
        if not (isinstance(cls, type) and issubclass(cls, ResultsView)):
            raise TypeError(f"results tab {self.id!r}: {self.view} is not a ResultsView")
        return cls

    def build(self) -> ResultsView:
        return self.view_class()(id=self.id, classes=f"results-view view-{self.id}")


TABS: list[Tab] = [
    Tab("lesson", "Lesson", "lesson:LessonView"),  # the first tab: shown, and built with the first frame
    Tab("output", "Output", "output:OutputView"),
    Tab("processes", "Processes", "processes:ProcessesView", cluster_only=True),
    Tab("jaxpr", "Jaxpr", "inspection:JaxprView"),
    Tab("stablehlo", "StableHLO", "inspection:StableHLOView"),
    Tab("hlo", "HLO", "inspection:HLOView"),
    Tab("cost", "Cost", "cost:CostView"),
    Tab("compiles", "Compiles", "compiles:CompilesView"),
    Tab("timing", "Timing", "timing:TimingView"),
    Tab("plots", "Plots", "plots:PlotsView"),
]
