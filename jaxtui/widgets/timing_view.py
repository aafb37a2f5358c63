"""The Timing tab: the timing harness's records as a table (and plots)."""

from __future__ import annotations

from typing import Any

from textual.containers import VerticalScroll
from textual.app import ComposeResult
from textual.widgets import Static

from jaxtui.report import timings_table


class TimingView(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static("This demo has not timed anything yet (demo.time).", id="timing-text")

    def show_result(self, result: dict[str, Any]) -> None:
        if result.get("timings"):
            text = "Median of repeated runs after warm-up, each ended by block_until_ready:\n\n"
            self.query_one("#timing-text", Static).update(text + timings_table(result["timings"]))
