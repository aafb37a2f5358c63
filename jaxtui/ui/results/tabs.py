"""A pane's results tabs, from the registry (registry.py), and the last run, replayed to
every view built after it (views are built after the first frame: widgets/deferred.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from textual.widget import Widget

from jaxtui.core.catalog import Demo
from jaxtui.ui.results.base import Result, ResultsView
from jaxtui.ui.results.registry import TABS, Tab
from jaxtui.ui.widgets.deferred import later
from jaxtui.ui.widgets.tabs import TabbedPanes

V = TypeVar("V", bound=ResultsView)
Call = Callable[[ResultsView], None]  # one thing a view was told


class ResultsTabs(TabbedPanes):
    """The results tabs; the first (Lesson) is shown at start, a run switches to Output.
    The Lesson is built with the first frame, the other views just after it (or as soon as
    their tab is shown); each view built late is told the last run (`pane_ready`)."""

    HELP_TITLE = "Results"
    ALLOW_MAXIMIZE = True  # ctrl+g: the tab bar and the view take the whole screen
    HELP = ("Results of the last run. Lesson: the pane's summary. Output: what the code "
            "printed, its values and the notes' corrections. Jaxpr, StableHLO, HLO: what JAX "
            "and XLA made of each function marked with `demo.inspect`. Cost: flops and bytes. "
            "Compiles: what compiled and how long it took. Timing and Plots: measurements. "
            "f4 cycles the tabs; left and right move along the tab bar.")

    def __init__(self, demo: Demo, *, cluster: bool = False, **kwargs: Any) -> None:
        self._tabs = {tab.id: tab for tab in TABS if cluster or not tab.cluster_only}
        # tight: one space between labels, so nine fit in the results half of 120 columns
        super().__init__([(tab.id, tab.title) for tab in self._tabs.values()], initial=TABS[0].id,
                         build=self._build, tight=True, **kwargs)
        self.demo = demo
        # The last run, as the calls its views got: replayed to a view built after them.
        self._started: Call | None = None
        self._events: list[Call] = []
        self._ended: Call | None = None
        self._ready: set[ResultsView] = set()  # views told everything so far: told from now on
        self.last_result: Result | None = None  # the last run's
        self.last_live: Result | None = None  # the last live inspection, if newer

    def shown_tabs(self) -> list[Tab]:
        """The registry's tabs this pane shows (the Processes tab only for a cluster)."""
        return list(self._tabs.values())

    def on_mount(self) -> None:
        super().on_mount()
        for tab_id in self.tab_ids:  # the rest, after the first frame
            later(self.app, partial(self.ensure, tab_id))

    def _build(self, tab_id: str) -> Widget:
        view = self._tabs[tab_id].build()
        view.demo = self.demo
        return view

    # -- finding views -----------------------------------------------------------------------
    def views(self, kind: type[V]) -> list[V]:
        """The built views of this kind, in tab order (one still being built is left out)."""
        return [view for view in self.panes() if isinstance(view, kind) and view in self._ready]

    def shown_view(self) -> ResultsView | None:
        """The view of the tab in front, once built."""
        view = self.built(self.active)
        return view if isinstance(view, ResultsView) and view in self._ready else None

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

    def pane_ready(self, pane: Widget) -> None:
        """A view is mounted: tell it the run so far (it may have begun before the view was
        built, as may a live inspection: live mode is on when a pane opens, and its first
        inspection can beat its views); from now on it is told as it happens."""
        if not isinstance(pane, ResultsView):
            return
        for call in self._replay():
            call(pane)
        if self.last_live is not None:
            pane.show_inspection(self.last_live)
        self._ready.add(pane)
