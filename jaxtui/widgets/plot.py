"""Line and bar plots drawn with plotext inside Textual (textual-plotext).

plotext 5 applies log10 to its stored data in place when it builds a log-scale figure, so
a second render (a resize, a theme change) takes the log of the logs and crashes
(piccolomo/plotext#209). The fix: keep the data here and rebuild the whole figure on
every render.
"""

from __future__ import annotations

from typing import Any

from textual_plotext import PlotextPlot


class SeriesPlot(PlotextPlot):
    """Draws `series`: a list of {name, x, y, title, xlabel, ylabel, logx, logy, kind}."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.series: list[dict[str, Any]] = []

    def set_series(self, series: list[dict[str, Any]]) -> None:
        self.series = [dict(s) for s in series]
        self.refresh()

    def render(self) -> Any:
        plt = self.plt
        plt.clear_figure()  # data, scales and title: rebuilt from self.series every time
        first = self.series[0] if self.series else {}
        logx = bool(first.get("logx"))
        logy = bool(first.get("logy"))
        for s in self.series:
            xs, ys = list(s.get("x") or []), list(s.get("y") or [])
            if s.get("kind") == "bar":
                plt.bar(list(s.get("labels") or xs), ys, label=s.get("name"))
                continue
            if logx or logy:  # log of a non-positive value is undefined: drop such points
                keep = [(x, y) for x, y in zip(xs, ys) if (x > 0 or not logx) and (y > 0 or not logy)]
                xs, ys = [k[0] for k in keep], [k[1] for k in keep]
            if xs:
                plt.plot(xs, ys, label=s.get("name") if len(self.series) > 1 else None, marker="braille")
        if first:
            if logx:
                plt.xscale("log")
            if logy:
                plt.yscale("log")
            plt.title(first.get("title", ""))
            plt.xlabel(first.get("xlabel", ""))
            plt.ylabel(first.get("ylabel", ""))
        return super().render()
