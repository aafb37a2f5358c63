"""Charts drawn with plotext inside Textual: log-log lines (textual-plotext) and bar rows.

Both widgets keep their chart as data (`jaxtui/render/textplot.py`) and draw it from scratch on
every render, so a resize or a theme change redraws the same data. (plotext 5 applies log10
to its stored data in place when it builds a log-scale figure, so re-building a kept figure
takes the log of the logs and crashes: piccolomo/plotext#209. textplot does the log
transform itself, and nothing is kept between renders.)
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget
from textual_plotext import PlotextPlot

from jaxtui.render.textplot import Chart, bar_height, bar_text, draw_lines, series_chart


class SeriesPlot(PlotextPlot):
    """A "lines" chart (time vs size, roofline...) or `demo.plot` series, on plotext axes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.series: list[dict[str, Any]] = []
        self.chart: Chart | None = None

    def set_series(self, series: list[dict[str, Any]]) -> None:
        self.series = [dict(s) for s in series]
        self.chart = None
        self.refresh()

    def set_chart(self, chart: Chart) -> None:
        self.chart = dict(chart)
        self.refresh()

    def render(self) -> Any:
        if self.chart is None and any(s.get("kind") == "bar" for s in self.series):
            plt = self.plt
            plt.clear_figure()
            for s in self.series:
                plt.bar(list(s.get("labels") or s.get("x") or []), list(s.get("y") or []), label=s.get("name"))
        else:
            draw_lines(self.plt, self.chart if self.chart is not None else series_chart(self.series),
                       self.size.width)
        return super().render()


class BarChart(Widget):
    """A "bars" chart: plotext's one-row-per-bar layout with each value at the bar's end.

    Its height follows the number of bars; its width, the space it is given.
    """

    DEFAULT_CSS = """
    BarChart {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(self, chart: Chart, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chart = dict(chart)

    def set_chart(self, chart: Chart) -> None:
        self.chart = dict(chart)
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return bar_height(self.chart)

    def render(self) -> Text:
        return Text.from_ansi(bar_text(self.chart, self.content_region.width or 60))
