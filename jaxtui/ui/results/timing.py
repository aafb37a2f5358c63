"""The Timing tab: what the timing harness measured, as charts and tables.

Per group of variants, bars (first call vs cached, and the cached calls side by side); per
sweep, time and throughput against size on log-log axes; a roofline; then the tables
(times, the first call's stages, achieved rates against the device's peak). What to draw
is decided in `jaxtui/render/timing_report.py`, the same code that prints `jaxtui run`'s text.

Records arrive live while the demo runs (a "timing" event per record), so a long sweep
fills in point by point, and the points already timed stay when it is interrupted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from jaxtui import protocol as P
from jaxtui.render import timing_report as report
from jaxtui.ui.results.base import Result, ResultsView

TABLES = ("table", "stages", "limits")
EMPTY = ("This demo has not timed anything yet. Time a function with "
         "demo.time(label, f, *args, group=...), or a range of sizes with demo.sweep(...).")


class TimingView(VerticalScroll, ResultsView):
    """Charts and tables of the last run's timings; `e` saves them as CSV and JSON."""

    # Built after the first frame: its rules live here, not in app.tcss (parsed before it).
    SCOPED_CSS = False  # its rules name screen classes and ids above it too
    DEFAULT_CSS = """
    TimingView {
        padding: 0 1;
    }

    /* Charts stacked above the tables. Wide tables scroll sideways instead of wrapping,
       so their columns stay aligned. */
    TimingView {
        overflow-x: auto;
    }

    TimingView #timing-charts {
        height: auto;
        width: 1fr;
    }

    TimingView SeriesPlot.timing-chart {
        height: 16;
        min-width: 40;
        margin-bottom: 1;
    }

    TimingView BarChart.timing-chart {
        margin-bottom: 1;
    }

    TimingView .timing-table {
        width: auto;
        margin-bottom: 1;
    }

    TimingView .timing-note {
        color: $warning;
    }

    TimingView .timing-heading {
        width: 1fr;
        text-style: bold;
    }

    TimingView .timing-notes {
        width: 1fr;
        color: $text-muted;
    }
    """

    HELP_TITLE = "Timing"

    HELP = ("Timings of the last run, from the one harness: a clean first call (compile "
            "included) apart from the cached calls, warm-up, block_until_ready on every output, "
            "repeats filling a time budget, median / min / spread. Bars compare the variants of "
            "a group; sweeps plot time and throughput against size on log-log axes; the "
            "roofline and the last table set each function's achieved flop/s and bytes/s "
            "(cost_analysis work / median) against the device's peak (measured on CPU, "
            "nominal on GPU/TPU). Press e to save the timings as CSV and JSON.")

    BINDINGS = [Binding("e", "export", "Export CSV+JSON", tooltip="Save these timings as CSV and JSON")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timings: list[dict[str, Any]] = []
        self.live = False  # records are arriving from a run in progress

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, id="timing-empty")
        yield Static("", id="timing-status", classes="timing-note", markup=False)
        yield Vertical(id="timing-charts")
        for name in TABLES:
            # Headings wrap with the pane; tables keep their columns (and scroll sideways).
            yield Static("", id=f"timing-{name}-head", classes="timing-heading", markup=False)
            yield Static("", id=f"timing-{name}", classes="timing-table", markup=False)
        yield Static("", id="timing-notes", classes="timing-notes", markup=False)

    # -- data in -------------------------------------------------------------------------
    def run_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == P.EV_TIMING:  # each record as it is taken: a killed sweep keeps its points
            self.add_live(data)

    def run_failed(self, message: str) -> None:
        self.run_ended()

    def show_result(self, result: Result) -> None:
        timings = result.get("timings") or []
        if not timings and self.live and result.get("error"):
            timings = self.timings  # no records in the result: keep what arrived while it ran
        self.live = False
        self.timings = list(timings)
        stopped = bool(result.get("error")) and bool(self.timings)
        self._refresh(status="The run stopped early: these are the timings taken before it did."
                      if stopped else "")

    def add_live(self, record: dict[str, Any]) -> None:
        """One record from a run in progress (a `demo.time` call or a sweep point)."""
        if not self.live:
            self.live, self.timings = True, []
        self.timings.append(record)
        sweep = record.get("sweep") or {}
        where = f" (sweep point {sweep['index'] + 1} of {sweep['total']})" if sweep else ""
        self._refresh(status=f"Timing… {len(self.timings)} so far{where}. ctrl+c stops the run; "
                      "what was timed stays here.")

    def run_ended(self) -> None:
        """The run ended without a result (kernel killed or died): keep what arrived."""
        if self.live:
            self.live = False
            self._refresh(status="The run ended early (the kernel was stopped): these are the "
                          "timings taken before it did.")

    # -- drawing -------------------------------------------------------------------------
    def _refresh(self, status: str = "") -> None:
        has = bool(self.timings)
        self.query_one("#timing-empty", Static).display = not has
        note = self.query_one("#timing-status", Static)
        note.update(status)
        note.display = bool(status)
        self._sync_charts(report.timing_charts(self.timings) if has else [])
        peak = next((t["peak"] for t in self.timings if t.get("peak")), None)
        tables = {
            "table": ("Median of repeated runs after warm-up, each ended by block_until_ready "
                      "(spread = interquartile range).", report.timings_table(self.timings)),
            "stages": (report.STAGES_HEADING, report.stages_table(self.timings)),
            "limits": ("Against the device's limit. " + report.peak_line(peak),
                       report.limits_table(self.timings)),
        }
        for name, (heading, body) in tables.items():
            shown = has and bool(body)
            head = self.query_one(f"#timing-{name}-head", Static)
            table = self.query_one(f"#timing-{name}", Static)
            head.update(heading if shown else "")
            table.update(body if shown else "")
            head.display = table.display = shown
        notes = report.limits_notes(self.timings) if has else ""
        self.query_one("#timing-notes", Static).update(notes)
        self.query_one("#timing-notes", Static).display = bool(notes)

    def _sync_charts(self, charts: list[dict[str, Any]]) -> None:
        from jaxtui.ui.widgets.plot import BarChart, SeriesPlot  # plotext: imported on first use

        box = self.query_one("#timing-charts", Vertical)
        widgets = list(box.children)
        kinds = ["bars" if isinstance(w, BarChart) else "lines" for w in widgets]
        if kinds == [c["kind"] for c in charts]:
            for widget, chart in zip(widgets, charts):
                if isinstance(widget, (BarChart, SeriesPlot)):
                    widget.set_chart(chart)
            return
        box.remove_children()
        new: list[BarChart | SeriesPlot] = []
        for chart in charts:
            if chart["kind"] == "bars":
                new.append(BarChart(chart, classes="timing-chart"))
            else:
                plot = SeriesPlot(classes="timing-chart")
                plot.set_chart(chart)
                new.append(plot)
        if new:
            box.mount_all(new)

    # -- export --------------------------------------------------------------------------
    def export(self, directory: Path | None = None, demo: str | None = None) -> tuple[Path, Path] | None:
        """Write the timings as CSV (one row per record) and JSON (every sample)."""
        if not self.timings:
            self.app.notify("Nothing to export: this pane has no timings yet. Run it first.",
                            severity="warning")
            return None
        name = demo or self.demo_name
        stem = f"jaxtui-timings-{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        directory = Path.cwd() if directory is None else directory
        csv_path, json_path = directory / f"{stem}.csv", directory / f"{stem}.json"
        try:
            csv_path.write_text(report.to_csv(self.timings), encoding="utf-8")
            json_path.write_text(report.to_json(self.timings, demo=name,
                                                exported=time.strftime("%Y-%m-%dT%H:%M:%S%z")),
                                 encoding="utf-8")
        except OSError as exc:
            self.app.notify(f"Could not save the timings: {exc}", severity="error")
            return None
        self.app.notify(f"Saved {len(self.timings)} timings:\n{csv_path}\n{json_path}")
        return csv_path, json_path

    def action_export(self) -> None:
        self.export()
