"""The Processes tab (a cluster only: `--processes N`, `--remote h1,h2`): every process's
Output side by side, the process × device map, and which shards of each `demo.sharding`
array each process holds. The text comes from jaxtui/render/processes.py, as in
`jaxtui run --processes N`."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from jaxtui.render.processes import device_map, parts_of, placements, process_block, status_text
from jaxtui.ui.results.base import COPY_SAVE_BINDINGS, Result, ResultsView


class ProcessesView(VerticalScroll, ResultsView):
    """The map and the shards above, one column per process below (or one under another)."""

    HELP_TITLE = "Processes"
    SAVE_NAME = "processes"
    HELP = ("Every process of the cluster: where it runs and the devices it drives (local ids; "
            "jax.devices() lists them all), then for each demo.sharding array its global shape, "
            "whether one process holds it whole (is_fully_addressable) and the shards each process "
            "holds (addressable_shards). Below, each process's output, side by side. `l` puts the "
            "processes one under another (full width: long lines, many processes) and back.")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "toggle_layout", "Layout", tooltip="Processes side by side, or one under another"),
        *COPY_SAVE_BINDINGS,
    ]
    DEFAULT_CSS = """
    ProcessesView #processes-columns { height: auto; }
    ProcessesView .process-column { width: 1fr; height: auto; padding: 0 1; border-left: solid $panel; }
    ProcessesView.-stacked #processes-columns { layout: vertical; }
    ProcessesView.-stacked .process-column { width: 100%; border-left: none; border-top: solid $panel; }
    ProcessesView #processes-map { padding: 0 1 1 1; }
    """
    can_focus = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._text = ""

    def compose(self) -> Any:
        yield Static("Run the code (ctrl+r): each process's output shows here.", id="processes-map")
        yield Horizontal(id="processes-columns")

    @property
    def text(self) -> str:
        return self._text

    @property
    def stacked(self) -> bool:
        return self.has_class("-stacked")

    def action_toggle_layout(self) -> None:
        self.toggle_class("-stacked")

    def run_started(self, title: str) -> None:
        self._show_map(Text(f"▶ {title}: every process runs it; their outputs come at the end.", style="bold"))
        self.query_one("#processes-columns").remove_children()

    def run_failed(self, message: str) -> None:
        self._show_map(Text(message, style="bold red"))

    def show_result(self, result: Result) -> None:
        lines = ["── processes", *device_map(result)]
        shards = placements(result)
        if shards:
            lines += ["", "── where the arrays live", *shards]
        self._show_map(Text("\n".join(lines)))
        columns = self.query_one("#processes-columns")
        columns.remove_children()
        blocks = []
        for part in parts_of(result):
            title = f"process {part.get('process_index', 0)} ({status_text(part)})"
            body = process_block(part)
            blocks.append("\n".join([f"── {title}", *body]))
            text = Text(title + "\n", style="bold green" if part.get("ok") else "bold red")
            text.append("\n".join(body))
            columns.mount(Static(text, classes="process-column"))
        self._text = "\n".join(lines) + "\n\n" + "\n\n".join(blocks)

    def _show_map(self, text: Text) -> None:
        self.query_one("#processes-map", Static).update(text)
        self._text = text.plain
