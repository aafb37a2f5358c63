"""A pane's results tabs, from the registry (registry.py), and the last run, replayed to
every view built after it (views are built after the first frame: widgets/deferred.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane

from jaxtui.core.catalog import Demo
from jaxtui.ui.results.base import Result, ResultsView
from jaxtui.ui.results.registry import TABS, Tab
from jaxtui.ui.widgets.deferred import Deferred

V = TypeVar("V", bound=ResultsView)
Call = Callable[[ResultsView], None]  # one thing a view was told


class ResultsTabs(Vertical):
    """The results tabs; the first (Lesson) is shown at start, a run switches to Output."""

    HELP_TITLE = "Results"
    ALLOW_MAXIMIZE = True  # ctrl+g: the tab bar and the view take the whole screen
    HELP = ("Results of the last run. Lesson: the pane's summary. Output: what the code "
            "printed, its values and the notes' corrections. Jaxpr, StableHLO, HLO: what JAX "
            "and XLA made of each function marked with `demo.inspect`. Cost: flops and bytes. "
            "Compiles: what compiled and how long it took. Timing and Plots: measurements. "
            "f4 cycles the tabs; left and right move along the tab bar.")

    def __init__(self, demo: Demo, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.demo = demo
        # The last run, as the calls its views got: replayed to a view built after them.
        self._started: Call | None = None
        self._events: list[Call] = []
        self._ended: Call | None = None
        self.last_result: Result | None = None  # the last run's
        self.last_live: Result | None = None  # the last live inspection, if newer

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one(TabbedContent)

    @property
    def active(self) -> str:
        return self.tabs.active

    @active.setter
    def active(self, tab_id: str) -> None:
        self.tabs.active = tab_id

    def shown_tabs(self) -> list[Tab]:
        """The registry's tabs this app shows (the Processes tab only for a cluster)."""
        from jaxtui.core.cluster import KernelCluster

        cluster = isinstance(getattr(self.app, "kernel", None), KernelCluster)
        return [tab for tab in TABS if cluster or not tab.cluster_only]

    def compose(self) -> ComposeResult:
        with TabbedContent(initial=TABS[0].id):
            for i, tab in enumerate(self.shown_tabs()):
                with TabPane(tab.title, id=tab.id):
                    if tab.first_frame:
                        yield self._build(tab)
                    else:
                        yield Deferred(partial(self._build, tab), then=self._catch_up, visible=i == 0)

    def _build(self, tab: Tab) -> Widget:
        view = tab.build()
        view.demo = self.demo
        return view

    # -- finding views -----------------------------------------------------------------------
    def views(self, kind: type[V]) -> list[V]:
        """The built views of this kind, in tab order (one still being built is left out)."""
        return [view for pane in self.query(TabPane) for view in pane.children
                if isinstance(view, kind) and view.is_mounted]

    def shown_view(self) -> ResultsView | None:
        """The view of the tab in front, once built."""
        found = [v for v in self.views(ResultsView) if v.parent is not None and v.parent.id == self.active]
        return found[0] if found else None

    # -- what happens, told to every built view ----------------------------------------------
    def _tell(self, call: Call) -> None:
        for view in self.views(ResultsView):
            call(view)

    def _replay(self) -> list[Call]:
        return [c for c in (self._started, *self._events, self._ended) if c is not None]

    def run_started(self, title: str) -> None:
        self.last_result = None
        self.active = "output"
        self._started, self._events, self._ended = (lambda v: v.run_started(title)), [], None
        self._tell(self._started)

    def run_event(self, kind: str, data: dict[str, Any]) -> None:
        def call(view: ResultsView) -> None:
            view.run_event(kind, data)

        self._events.append(call)
        self._tell(call)

    def show_result(self, result: Result) -> None:
        self.last_result, self.last_live = result, None
        # The result has everything its events had: a view built later needs only it.
        self._events, self._ended = [], (lambda v: v.show_result(result))
        self._tell(self._ended)

    def run_failed(self, message: str) -> None:
        self.active = "output"
        self._ended = lambda v: v.run_failed(message)
        self._tell(self._ended)

    def show_inspection(self, result: Result) -> None:
        """A live inspection (not part of a run: kept apart, the newest one only)."""
        self.last_live = result
        self._tell(lambda v: v.show_inspection(result))

    def link_source_line(self, line: int) -> None:
        self._tell(lambda v: v.link_source_line(line))

    def _catch_up(self, view: Widget) -> None:
        """A view built after the run began, or after a live inspection (live mode is on when
        a pane opens: its first inspection can beat its views)."""
        if not isinstance(view, ResultsView):
            return
        for call in self._replay():
            call(view)
        if self.last_live is not None:
            view.show_inspection(self.last_live)
