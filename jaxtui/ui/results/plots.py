"""The Plots tab: the demo's `demo.plot` series, drawn live while it runs."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static


class PlotsView(Vertical):
    """The demo's `demo.plot` series, updated live while it runs."""

    def compose(self) -> ComposeResult:
        yield Static("This demo has not plotted anything (demo.plot).", id="plots-empty")

    def _plot(self) -> Any:
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

    def show_result(self, result: dict[str, Any]) -> None:
        self.show_series(result.get("plots") or [])
