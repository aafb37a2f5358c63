"""Charts as data, drawn with plotext: in the app (textual-plotext) and as plain text.

A chart is a JSON-able dict, so the kernel's records, the app and `jaxtui run` share it:

    {"kind": "bars", "title": ..., "unit": "s", "labels": [variant, ...],
     "legend": ["first call", "cached"], "values": [[first, cached], ...]}
    {"kind": "lines", "title": ..., "xlabel": ..., "ylabel": ..., "logx": bool, "logy": bool,
     "xunit": "count", "yunit": "s", "series": [{"name", "x", "y", "style": "line"|"points"}]}

Log axes are drawn by plotting log10 of the data on linear axes with decade ticks labelled
in the data's own units. plotext 5's own log scale applies log10 to its stored data in
place, so a second render (a resize) takes the log of the logs (piccolomo/plotext#209);
doing the transform here sidesteps that, and the figure is rebuilt on every draw anyway.

Imports neither jax nor textual; plotext only when a chart is drawn (it is not needed for
the app's first frame).
"""

from __future__ import annotations

import math
from typing import Any

from jaxtui.render.units import TIME_UNITS, format_value, scale_for

Chart = dict[str, Any]

def _log_ticks(lo: float, hi: float, unit: str) -> tuple[list[float], list[str]]:
    """Ticks for an axis that shows log10(data) between lo and hi (both in log10)."""
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    mantissas = (1.0,) if hi - lo > 2.5 else (1.0, 2.0, 5.0)
    step = max(1, int((hi - lo) // 6))  # at most ~7 decade ticks
    ticks = []
    for decade in range(math.floor(lo), math.ceil(hi) + 1, step):
        for m in mantissas:
            t = decade + math.log10(m)
            if lo - 1e-9 <= t <= hi + 1e-9:
                ticks.append(t)
    if len(ticks) < 2:  # a narrow range: its ends are the most useful labels
        ticks = [lo, hi]
    return ticks, [format_value(10 ** t, unit) for t in ticks]


def _linear_ticks(lo: float, hi: float, most: int = 6) -> tuple[list[float], list[str]]:
    """Round ticks (steps of 1, 2 or 5 times a power of ten) within [lo, hi], for a linear
    axis: plotext's own put ticks at the data's ends (0.4873...)."""
    if hi - lo < 1e-12:
        return [lo], [f"{lo:.4g}"]
    raw = (hi - lo) / (most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = [k * step for k in range(first, math.floor(hi / step + 1e-9) + 1)]
    if len(ticks) < 2:
        return [lo, hi], [f"{lo:.3g}", f"{hi:.3g}"]
    return ticks, [f"{t:.10g}" if abs(t) >= 1e-12 else "0" for t in ticks]


def _finite_positive(xs: list[float], ys: list[float], logx: bool, logy: bool) -> tuple[list[float], list[float]]:
    keep = [(x, y) for x, y in zip(xs, ys)
            if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)
            and (x > 0 or not logx) and (y > 0 or not logy)]
    return ([math.log10(x) if logx else x for x, _ in keep], [math.log10(y) if logy else y for _, y in keep])


LINE_MARKERS = ("braille", "•", "x", "+", "o", "*")  # told apart without colour, too
POINT_MARKERS = ("●", "■", "▲", "◆", "✚", "○", "□", "△")


def fit(text: str, width: int) -> str:
    """`text` in `width` columns, cut with an ellipsis (plotext drops a title that does not
    fit instead of shortening it)."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def draw_lines(fig: Any, chart: Chart, width: int | None = None) -> None:
    """Draw a "lines" chart on a plotext figure (the module itself or a textual-plotext
    widget's `plt`) that will be `width` columns wide. The caller sets the size and builds."""
    fig.clear_figure()
    lines = points = 0
    logx, logy = bool(chart.get("logx")), bool(chart.get("logy"))
    all_x: list[float] = []
    all_y: list[float] = []
    series = chart.get("series") or []
    named = len(series) > 1
    for s in series:
        xs, ys = _finite_positive(list(s.get("x") or []), list(s.get("y") or []), logx, logy)
        if not xs:
            continue
        all_x += xs
        all_y += ys
        label = s.get("name") if named else None
        if s.get("style") == "points":
            fig.scatter(xs, ys, label=label, marker=POINT_MARKERS[points % len(POINT_MARKERS)])
            points += 1
        else:
            fig.plot(xs, ys, label=label, marker=LINE_MARKERS[lines % len(LINE_MARKERS)])
            lines += 1
    if all_x:
        fig.xticks(*(_log_ticks(min(all_x), max(all_x), chart.get("xunit", "")) if logx
                     else _linear_ticks(min(all_x), max(all_x))))
    ytick_width = 8
    if all_y:
        yticks = (_log_ticks(min(all_y), max(all_y), chart.get("yunit", "")) if logy
                  else _linear_ticks(min(all_y), max(all_y)))
        fig.yticks(*yticks)
        ytick_width = max((len(label) for label in yticks[1]), default=0)
    title = chart.get("title", "")
    # plotext centres the title on the canvas (right of the y labels) and drops it if it spills
    fig.title(fit(title, width - ytick_width - 2) if width else title)
    fig.xlabel(chart.get("xlabel", ""))
    fig.ylabel(chart.get("ylabel", ""))


def _time_scale(values: list[float]) -> tuple[str, float]:
    return scale_for(max((v for v in values if v), default=1.0), TIME_UNITS)


def bar_text(chart: Chart, width: int) -> str:
    """A "bars" chart as plotext's one-row-per-bar text, values printed at the bar ends.

    Rows, not a plotext canvas: each bar is exact at any width and its number is on it.
    """
    values = [[v if v is not None else 0.0 for v in row] for row in chart.get("values") or []]
    labels = [str(x) for x in chart.get("labels") or []]
    if not values or not labels:
        return ""
    import plotext

    flat = [v for row in values for v in row]
    if chart.get("unit", "s") == "s":
        unit, scale = _time_scale(flat)
        title = f"{chart.get('title', '')} ({unit} per call)"
    else:
        unit, scale, title = chart.get("unit", ""), 1.0, chart.get("title", "")
    scaled = [[v / scale for v in row] for row in values]
    legend = list(chart.get("legend") or [])
    width = max(width, 30)
    plotext.clear_figure()
    try:
        if len(legend) > 1:
            plotext.simple_multiple_bar(labels, [list(col) for col in zip(*scaled)], width=width,
                                        labels=legend, title=title)
        else:
            plotext.simple_bar(labels, [row[0] for row in scaled], width=width, title=title)
        return plotext.build()
    finally:
        plotext.clear_figure()


def bar_height(chart: Chart) -> int:
    """Rows `bar_text` uses: title, a row per bar, a blank row between variants, a legend."""
    rows = len(chart.get("labels") or [])
    per = max(1, len(chart.get("legend") or []))
    if per > 1:
        return 1 + rows * per + (rows - 1) + 1
    return 1 + rows


def series_chart(series: list[dict[str, Any]]) -> Chart:
    """`demo.plot` series ({name, x, y, title, xlabel, ylabel, logx, logy}) as one chart."""
    first = series[0] if series else {}
    return {"kind": "lines", "title": first.get("title", ""), "xlabel": first.get("xlabel", ""),
            "ylabel": first.get("ylabel", ""), "logx": bool(first.get("logx")),
            "logy": bool(first.get("logy")),
            "series": [{"name": s.get("name"), "x": s.get("x") or [], "y": s.get("y") or []} for s in series]}


def render_text(chart: Chart, width: int = 80, height: int = 16, color: bool = False) -> str:
    """The chart as text (for `jaxtui run` and scripts)."""
    import plotext

    if chart.get("kind") == "bars":
        text = bar_text(chart, width)
    else:
        try:
            draw_lines(plotext, chart, width)
            plotext.plotsize(width, height)
            if not color:
                plotext.theme("clear")
            text = plotext.build()
        finally:
            plotext.clear_figure()
    return (text if color else plotext.uncolorize(text)).rstrip()
