"""The walkthrough bar: a tour's steps played on the real panes, one key per step.

Mounted under the panes (not a separate screen) so the code, the run and its results stay
in view while the narrative explains them. Each step shows its pane with the step's code
and inputs, then runs it if the step says so; the header line always shows where the tour
is ("3/18") and, while something runs, a clock that ticks every tenth of a second.

A tour that is not one of jaxtui's own is code from elsewhere (its steps put code in the panes
and run it): the bar first says so, and nothing happens until the next-step key starts it.

The panes a tour uses are borrowed: the user's own code and inputs are put aside when the
tour first touches a pane (and not autosaved while the tour owns it), and given back when
the tour ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Markdown, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from jaxtui.core.tour_format import (
    ChangeDoesNotApply,
    Step,
    Tour,
    first_changed_line,
    step_code,
)
from jaxtui.ui.widgets.deferred import quitting

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
PANE_MOUNT_TIMEOUT_S = 10.0


class TourPanel(Vertical):
    """Step counter and title, the step's narrative, and what the step is doing."""

    # Built when a tour starts: its rules live here, not in app.tcss (parsed before the first frame).
    SCOPED_CSS = False  # its rules name screen classes and ids above it too
    DEFAULT_CSS = """
    /* The tour bar sits between the panes and the footer: a header line that always shows
       the step counter, then a few lines of narrative (scrollable when longer). */
    TourPanel {
        height: auto;
        max-height: 10;
        background: $boost;
    }

    .-narrow TourPanel {
        max-height: 6;
    }

    #tour-head {
        height: 1;
        background: $primary-muted;
        color: $text;
    }

    #tour-body {
        height: auto;
        max-height: 9;
        padding: 0 1;
    }

    .-narrow #tour-body {
        max-height: 5;
    }

    /* A short terminal (24 rows): the bar takes 2 rows, the panes the rest (the narrative's first
       line shows; the presenter talks over it). */
    .-short TourPanel {
        max-height: 2;
    }

    .-short #tour-body {
        max-height: 1;
    }

    /* ctrl+g in the tour's text: the whole step, on any terminal */
    TourPanel.-maximized, .-short TourPanel.-maximized {
        max-height: 100%;
        height: 1fr;
    }

    TourPanel.-maximized #tour-body, .-short TourPanel.-maximized #tour-body {
        max-height: 100%;
        height: 1fr;
    }

    #tour-text {
        margin: 0;
        padding: 0;
        background: transparent;
    }

    #tour-text MarkdownParagraph, #tour-text MarkdownBulletList, #tour-text MarkdownFence {
        margin: 0 0 0 0;
    }
    """

    ALLOW_MAXIMIZE = True  # ctrl+g with the focus in the tour's text: the whole step

    HELP = ("A guided tour. Each step opens a pane, puts the step's code and inputs in it, "
            "and may run it. Go forward and back with the keys in the footer; 'again' puts "
            "the step's code back and runs it once more, so you can experiment freely. "
            "A small terminal shows the first line of a step (marked ⋯ when there is more): "
            "the text scrolls with the arrows once focused (tab), and ctrl+g shows it whole; "
            "from anywhere, \"tour: read this step whole\" in the palette (ctrl+p) does both. "
            "When the tour ends, every pane it used gets your own code back.")

    status: reactive[str] = reactive("", init=False)  # the right end of the header line

    def __init__(self, tour: Tour, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tour = tour
        self.index = 0
        self.borrowed: dict[str, tuple[Any, str, dict[str, str]]] = {}  # key -> pane, code, inputs
        self.run_started = 0.0
        self.active = True  # False once ended (removal takes a moment)
        self.held = not tour.builtin  # a foreign tour waits for a key before it touches anything
        self.settled = False  # the current step has done its action (tests wait on this)
        self.run_ok: bool | None = None  # the step's run: True, False (error), None (no run)
        self._ticker: Timer | None = None
        self._doing = "running"
        self._spin = 0

    @property
    def step(self) -> Step:
        return self.tour.steps[self.index]

    @property
    def counter(self) -> str:
        return f"{0 if self.held else self.index + 1}/{len(self.tour.steps)}"

    def compose(self) -> ComposeResult:
        yield Static(id="tour-head")
        with VerticalScroll(id="tour-body"):
            yield Markdown(id="tour-text")

    def on_mount(self) -> None:
        self.app.refresh_bindings()  # the tour keys appear in the footer
        if self.held:
            self._show_warning()
            self.settled = True  # nothing to do until the presenter starts it
        else:
            self.go(0)

    # -- navigation ----------------------------------------------------------------------
    def go(self, index: int) -> None:
        index = max(0, min(index, len(self.tour.steps) - 1))
        self.index = index
        self.settled = False
        self.run_ok = None
        self._show_step()
        self._enter(index)

    def next(self) -> bool:
        """Forward one step; False on the last step (the caller ends the tour)."""
        if self.held:  # the presenter read the warning: the first step starts now
            self.held = False
            self.go(0)
            return True
        if self.index + 1 >= len(self.tour.steps):
            return False
        self.go(self.index + 1)
        return True

    def back(self) -> None:
        if self.held:
            self._not_started()
            return
        if self.index == 0:
            self.app.notify("This is the first step of the tour.", timeout=3)
        self.go(self.index - 1)

    def restart(self) -> None:
        if self.held:
            self._not_started()
            return
        self.go(self.index)

    def _not_started(self) -> None:
        self.app.notify(f"The tour has not started: {self._key('tour_next')} starts it.", timeout=3)

    def end(self) -> None:
        """Give every borrowed pane its user's code and inputs back, then leave."""
        self.workers.cancel_group(self, "tour")
        self._stop_ticker()
        autosave = getattr(self.app, "autosave", None)
        for key, (pane, code, inputs) in self.borrowed.items():
            if autosave is not None:
                autosave.paused.discard(key)
            if pane.is_mounted:
                pane.replace_code(code)
                pane.set_inputs(inputs)
        self.borrowed.clear()
        self.active = False
        self.app.refresh_bindings()  # the tour keys leave the footer
        self.remove()

    # -- display --------------------------------------------------------------------------
    def _show_step(self) -> None:
        self.status = ""
        self.query_one("#tour-text", Markdown).update(self.step.text)
        self.query_one("#tour-body", VerticalScroll).scroll_home(animate=False)
        self._render_head()
        self.call_after_refresh(self._render_head)  # ⋯ once the text is laid out

    def _show_warning(self) -> None:
        next_key = self._key("tour_next")
        self.status = f"not started · {next_key} starts it"
        self.query_one("#tour-text", Markdown).update(
            f"**This tour runs code.** `{self.tour.source}` is not one of jaxtui's own tours: its "
            f"steps put their own Python in the panes and run it, as you, able to do whatever your "
            f"account can (files, network).\n\n"
            f"Nothing has run yet. Read the file first if you did not write it. **{next_key}** starts "
            f"the tour; the palette's `tour: end` closes it.")
        self._render_head()

    def watch_status(self) -> None:
        self._render_head()

    def _render_head(self) -> None:
        heads = self.query("#tour-head")
        if not heads:
            return  # the bar is being taken down: the app quit while a step's run ended
        step = self.step
        head = (Text.assemble((f" {self.counter} ", "reverse bold"), " ", (self.tour.title, "bold"))
                if self.held else
                Text.assemble((f" {self.counter} ", "reverse bold"), " ", (step.pane, "bold"), " · ", step.title))
        body = self.query("#tour-body")
        if body and body.first().max_scroll_y > 0:
            head.append(" ⋯", style="bold")  # more text than the bar shows: tab to it, ctrl+g
        head.truncate(max(10, self.size.width - len(self.status) - 3), overflow="ellipsis")
        if self.status:
            pad = max(1, self.size.width - head.cell_len - len(self.status) - 1)
            head.append(" " * pad)
            head.append(self.status, style="italic")
        heads.first(Static).update(head)

    def on_resize(self) -> None:
        self._render_head()

    def _say(self, message: str, severity: str = "warning") -> None:
        """A problem with this step (not the user's code): say it where the presenter looks."""
        self.status = "⚠ see message"
        self.app.notify(message, severity=severity, timeout=8)  # type: ignore[arg-type]

    # -- playing a step --------------------------------------------------------------------
    @work(exclusive=True, group="tour")
    async def _enter(self, index: int) -> None:
        try:
            await self._play(index)
        finally:
            if index == self.index:
                self.settled = True

    async def _play(self, index: int) -> None:
        step = self.tour.steps[index]
        app: Any = self.app
        if step.pane not in {d.name for d in app.demos}:
            self._say(f"{self.tour.source}:{step.line}: this step's pane {step.pane!r} is not open "
                      f"in this app.", "error")
            return
        app.show_pane(step.pane)
        pane = await self._mounted(app.current_pane)
        if pane is None:
            return
        self._borrow(pane)
        try:
            code = step_code(step, pane.demo.code, source=self.tour.source)
        except ChangeDoesNotApply as exc:
            code = pane.demo.code
            self._say(f"{exc}. The demo changed since the tour was written: showing the demo "
                      f"as it is.")
        pane.replace_code(code)
        pane.set_inputs(pane.default_inputs() | step.inputs)
        changed = first_changed_line(pane.demo.code, code)
        if changed is not None:
            # the audience sees what the step changed (`changed` counts from the code's start)
            # without the focus: the presenter's keys stay the tour's (f7 is the editor's "select all")
            pane.editor.go_to(changed + pane.editor.line_number_start - 1, focus=False)
        if step.action == "run":
            await self._run(pane, step)
        elif step.show:
            self._show_tab(pane, step)
        if index + 1 == len(self.tour.steps):
            ending = f"last step: {self._key('tour_next')} ends the tour"
            self.status = f"{self.status} · {ending}" if self.status else ending

    def _key(self, action: str) -> str:
        key = getattr(self.app, "key_for", lambda _action: "")(action)
        return self.app.get_key_display(Binding(key, "")) if key else action

    async def _mounted(self, pane: Any) -> Any:
        """Wait (briefly) until a freshly created pane has composed its editor and form."""
        deadline = time.monotonic() + PANE_MOUNT_TIMEOUT_S
        while not (pane.is_mounted and pane.query("CodeEditor")):
            if time.monotonic() > deadline:
                self._say(f"The {pane.demo.name} pane did not open in time.", "error")
                return None
            await asyncio.sleep(0.02)
        return pane

    def _borrow(self, pane: Any) -> None:
        key = pane.state_key
        if key in self.borrowed:
            return
        autosave = getattr(self.app, "autosave", None)
        if autosave is not None:
            autosave.flush()  # the user's last keystrokes are theirs: save them first
            autosave.paused.add(key)
        self.borrowed[key] = (pane, pane.editor.text, pane.input_texts())
        if pane.modified:  # the step is about to replace the user's own edits: say where they are
            self.app.notify(f"The tour put its own code in the {pane.demo.name} pane. Your edits are "
                            f"kept and come back when the tour ends ({self._key('tour_next')} on the "
                            "last step, or \"tour: end\" in the palette, ctrl+p).", timeout=10)

    def _show_tab(self, pane: Any, step: Step) -> None:
        if not step.show:
            return
        if step.show not in pane.results.tab_ids:
            line = step.field_lines.get("show", step.line)
            self._say(f"{self.tour.source}:{line}: there is no results tab {step.show!r}.")
            return
        pane.results.active = step.show

    def _run_in_flight(self) -> bool:
        app: Any = self.app
        return app.kernel.busy or any(w.group == "run" and w.is_running for w in app.workers)

    async def _run(self, pane: Any, step: Step) -> None:
        if self._run_in_flight():
            # The presenter moved on while a run was going: let it finish (an XLA computation
            # cannot be interrupted without a new kernel), then run this step, not both at once.
            self.run_started = time.monotonic()
            self._start_ticker("waiting for the last run")
            try:
                while self._run_in_flight():  # woken by the run's end, not polled
                    run = getattr(self.app, "_run_worker", None)
                    if run is not None and not run.is_finished:
                        with contextlib.suppress(WorkerCancelled, WorkerFailed):
                            await run.wait()
                    await self.app.kernel.wait_idle()  # type: ignore[attr-defined]
            finally:
                self._stop_ticker()
        worker: Worker[Any] | None = self.app.action_run()  # type: ignore[attr-defined]
        if worker is None:  # an input was refused; the app marked it
            self._say("This step's inputs were refused: see the marked field.")
            return
        self.run_started = time.monotonic()
        self._start_ticker()
        try:
            await worker.wait()
        except (WorkerCancelled, WorkerFailed):
            pass
        finally:
            self._stop_ticker()
        if quitting(self.app) or not pane.is_attached or not pane.query("ResultsTabs"):
            return  # the app ended during the run: its panes are being taken down
        elapsed = time.monotonic() - self.run_started
        result = pane.last_result or {}
        ok = bool(result.get("ok"))
        self.run_ok = ok
        self._show_tab(pane, step)
        verdict = f"✓ ran in {elapsed:.1f} s" if ok else f"✗ error after {elapsed:.1f} s: see Output"
        self.status = verdict

    def _start_ticker(self, doing: str = "running") -> None:
        self._stop_ticker()
        self._doing = doing
        self._ticker = self.set_interval(0.1, self._tick)
        self._tick()

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _tick(self) -> None:
        """A run shows progress every tenth of a second: a spinner, the clock, and the
        demo's own progress (`demo.progress`) or the kernel's state when it is not ready."""
        self._spin = (self._spin + 1) % len(SPINNER)
        app: Any = self.app
        elapsed = time.monotonic() - self.run_started
        detail = app.sub_title or ""
        if not detail and app.kernel.state not in ("ready", "busy"):
            detail = f"kernel {app.kernel.state}"
        self.status = f"{SPINNER[self._spin]} {self._doing} {elapsed:.1f} s" + (f" · {detail}" if detail else "")
