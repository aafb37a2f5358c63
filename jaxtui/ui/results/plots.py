"""The Plots tab: the demo's `demo.plot` series, drawn live while it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from jaxtui import protocol as P
from jaxtui.ui.results.base import Result, ResultsView

if TYPE_CHECKING:
    from jaxtui.ui.widgets.plot import SeriesPlot


class PlotsView(Vertical, ResultsView):
    """The demo's `demo.plot` series, updated live while it runs."""

    # Built after the first frame: its rules live here, not in app.tcss (parsed before it).
    SCOPED_CSS = False  # its rules name screen classes and ids above it too
    DEFAULT_CSS = """
    PlotsView {
        height: 1fr;
    }

    SeriesPlot {
        height: 1fr;
    }
    """

    HELP_TITLE = "Plots"
    HELP = ("The series the code draws with demo.plot(name, x, y): updated while it runs, "
            "drawn to the tab's full size.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.series: dict[str, dict[str, Any]] = {}  # by name, as the run sent them

    def compose(self) -> ComposeResult:
        yield Static("This demo has not plotted anything (demo.plot).", id="plots-empty")

    def _plot(self) -> SeriesPlot:
        from jaxtui.ui.widgets.plot import SeriesPlot  # plotext: imported on first use only

        found = self.query(SeriesPlot)
        if found:
            return found.first()
        self.query_one("#plots-empty").display = False
        plot = SeriesPlot(id="series-plot")
        self.mount(plot)
        return plot

    def show_series(self, series: list[dict[str, Any]]) -> None:
        if series:
            self._plot().set_series(series)

    def run_started(self, title: str) -> None:
        self.series = {}

    def run_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == P.EV_PLOT:  # a whole series, each time it grows
            self.series[data["name"]] = data
            self.show_series(list(self.series.values()))

    def show_result(self, result: Result) -> None:
        self.show_series(result.get("plots") or [])
