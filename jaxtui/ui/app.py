"""The Textual app: one pane per demo, a kernel status bar, keys for run/interrupt/help.

Never imports jax: all JAX work happens in the kernel process (jaxtui.core.client). The first
frame paints before the kernel is ready; panes other than the visible one are built the
first time they are shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Footer
from textual.worker import Worker

from jaxtui import protocol as P
from jaxtui.core.catalog import Demo, builtin_demos
from jaxtui.core.client import (
    ConnectionLost,
    KernelConfig,
    KernelDied,
    KernelError,
    KernelOutOfMemory,
    RequestFailed,
    Transport,
)
from jaxtui.core.cluster import ClusterRunEnded, ClusterSpec, make_kernel
from jaxtui.core.live_schedule import delay_from_env
from jaxtui.core.state import (
    Autosave,
    DemoStore,
    SavedDemo,
    Settings,
    StateProblem,
    demo_key,
    load_settings,
    save_settings,
)
from jaxtui.render.units import format_bytes
from jaxtui.ui import actions
from jaxtui.ui.commands import JaxtuiCommands
from jaxtui.ui.results.base import ResultsView
from jaxtui.ui.screens.main import MainScreen, TourScreen, breakpoint_class
from jaxtui.ui.widgets.deferred import after_visible, later
from jaxtui.ui.widgets.pane import DemoPane
from jaxtui.ui.widgets.status import KernelStatus
from jaxtui.ui.widgets.tabs import TabbedPanes
from jaxtui.ui.widgets.text_view import LinkedLines

if TYPE_CHECKING:  # imported where they are built, after the first frame
    from jaxtui.core.tour_format import Tour
    from jaxtui.ui.widgets.devices_view import DevicesView
    from jaxtui.ui.widgets.tour_panel import TourPanel

RESTART_LIMIT = 3  # deaths within a minute before we stop restarting and say why
RUN_IN_PROGRESS = "A run is in progress: ctrl+c stops it."
DEVICES = "devices"  # the Devices tab, after the demo panes (not a DemoPane)
FATAL_EXIT_BACKSTOP_S = 1.0  # SIGTERM/SIGHUP: the longest the app takes to exit once its kernel is killed


class JaxTUI(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "jaxtui"
    BINDINGS: ClassVar[list[BindingType]] = actions.bindings()
    COMMANDS = App.COMMANDS | {JaxtuiCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def __init__(self, *, kernel_config: KernelConfig | None = None, user_demo: Demo | None = None,
                 initial_pane: str | None = None, demos: list[Demo] | None = None,
                 start_kernel: bool = True, cursor_blink: bool = True, tour: Tour | None = None,
                 transport: Transport | None = None, cluster: ClusterSpec | None = None,
                 remember: bool = False, resume_gc: bool = False) -> None:
        super().__init__()
        self._resume_gc = resume_gc  # the command line paused the collector for start-up
        self.demos = list(demos if demos is not None else builtin_demos())
        if user_demo is not None:
            self.demos.append(user_demo)
        # The theme and the last pane, from the last session (the command line's app only:
        # tests and scripts start the same way every time).
        self.remember = remember
        self.settings = load_settings() if remember else Settings()
        remembered = self.settings.pane if self.settings.pane in [d.name for d in self.demos] + [DEVICES] else None
        self.initial_pane = initial_pane or remembered or self.demos[0].name
        self._last_demo = self.initial_pane if self.initial_pane != DEVICES else self.demos[0].name
        # One kernel, or (--processes, --remote h1,h2) a cluster of them driven the same way.
        self.kernel = make_kernel(kernel_config, transport=transport, cluster=cluster,
                                  on_state=self._on_kernel_state)
        self.start_kernel = start_kernel
        self.cursor_blink = cursor_blink
        self.interrupting = False
        self._deaths: list[float] = []
        # Not `_running`: that is Textual's own flag behind `is_running`.
        self._running_pane: DemoPane | None = None
        self._run_worker: Worker[None] | None = None  # the one run at a time
        self.tour_at_start = tour
        self.store = DemoStore()  # saved edits: jaxtui/core/state.py
        self.autosave = Autosave(self.store, self.set_timer, self._state_problem)
        self._saved: dict[str, SavedDemo | None] = {}
        self._devices: DevicesView | None = None  # the Devices tab's view, once built
        self._tour: TourPanel | None = None  # the tour bar, once a tour started
        self._painted = False  # the first frame is on screen
        self.live_mode = False  # ctrl+l: re-inspect after each pause in typing (jaxtui/core/live_schedule.py)
        self.live_delay_s = delay_from_env()

    # -- layout --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield KernelStatus(self.kernel.transport.host, id="status")
        # One tab per demo, then Devices; a tab's pane is built when first shown (tabs.py).
        yield TabbedPanes([(d.name, d.name + ("*" if self._saved_edits(d) else "")) for d in self.demos]
                          + [(DEVICES, "devices")], initial=self.initial_pane, build=self._build_pane,
                          id="panes")
        yield Footer(compact=True)  # every key the footer must show fits in 80 columns, with a tour

    def _build_pane(self, name: str) -> Widget:
        if name == DEVICES:
            return self._devices_view()
        demo = next(d for d in self.demos if d.name == name)
        return DemoPane(demo, cursor_blink=self.cursor_blink, saved=self._saved_edits(demo),
                        sketch_form=not self._painted, id=f"demo-{name}")

    @property
    def panes(self) -> TabbedPanes:
        return self.query_one("#panes", TabbedPanes)

    @property
    def shown_name(self) -> str:
        """The name of the tab in front: a demo's, or "devices"."""
        return self.panes.active

    def _devices_view(self) -> DevicesView:
        from jaxtui.ui.widgets.devices_view import DevicesView

        self._devices = DevicesView(self.kernel, id="devices-view")
        return self._devices

    @property
    def devices_view(self) -> DevicesView | None:
        """The Devices tab's view once built (it catches up with the kernel then: deferred.py)."""
        view = self._devices
        return view if view is not None and view.is_mounted else None

    def get_default_screen(self) -> MainScreen:
        # The footer lists keys in the registry's order; the layout fits the terminal at once.
        screen = MainScreen if self.tour_at_start is None else TourScreen
        return screen(id="_default", classes=" ".join((
            breakpoint_class(self.size.width, self.HORIZONTAL_BREAKPOINTS),
            breakpoint_class(self.size.height, self.VERTICAL_BREAKPOINTS))))

    def on_mount(self) -> None:
        self._install_signal_handlers()
        self.query_one(KernelStatus).pane = self.initial_pane
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.start_kernel:
            # Spawned once the first frame is up: on 2 cores, the kernel's `import jax`
            # would otherwise compete with the UI's own start-up.
            # A run asked for before then starts it itself: join that one, never kill it.
            # And once the lesson is on screen: on 2 cores, what the learner reads comes first.
            after_visible(self, lambda: self.start_kernel_worker(restart=False))
        after_visible(self, self._first_frame_painted)
        later(self, lambda: self.panes.ensure(DEVICES))  # ready when shown; it catches up with the kernel
        if self.tour_at_start is not None:
            self.start_tour(self.tour_at_start)
        if self._resume_gc:
            after_visible(self, self._start_up_done)

    def _first_frame_painted(self) -> None:
        self._painted = True

    def _start_up_done(self) -> None:
        """The first frame and the lesson are painted: collect again, leaving the start-up's
        objects (the app itself, Textual's and our modules) out of every later pass."""
        gc.freeze()
        gc.enable()

    def _theme_changed(self, theme: Any) -> None:
        for view in self.query(LinkedLines):  # a light app theme gets light code colours
            view.follow_theme()
        self._remember(theme=theme.name)

    def _remember(self, **changes: str) -> None:
        if self.remember:
            self.settings = replace(self.settings, **changes)
            save_settings(self.settings)

    def pane_titles(self) -> list[tuple[str, str]]:
        return [(d.name, d.title) for d in self.demos] + [(DEVICES, "Devices")]

    def palette_actions(self) -> list[tuple[str, str, str]]:
        return [(a.name, a.palette, a.help) for a in actions.ACTIONS if a.palette]

    def key_for(self, action: str) -> str:
        spec = actions.by_name(action)
        return spec.keys.split(",")[0] if spec else ""

    def _ensure_pane(self, name: str) -> DemoPane:
        pane = self.panes.pane(name)
        assert isinstance(pane, DemoPane)
        return pane

    async def _pane_built(self, name: str) -> None:
        """Wait until a pane created just now has its editor and form: the keys after the one
        that opened it (f2 then ctrl+r, typed fast or sent by a script) need them."""
        await self.panes.mounted(name)

    async def on_tabbed_panes_tab_activated(self, event: TabbedPanes.TabActivated) -> None:
        if event.tabbed.id != "panes":
            return
        name = event.tab_id
        if name != DEVICES:
            await self._pane_built(name)
            self._last_demo = name
            if self.live_mode:
                self._ensure_pane(name).live.now()
        self.query_one(KernelStatus).pane = name
        self._remember(pane=name)

    @property
    def current_pane(self) -> DemoPane:
        """The demo pane in view; on the Devices tab, the demo pane last shown."""
        name = self.shown_name
        return self._ensure_pane(self._last_demo if name == DEVICES else name)

    def show_pane(self, name: str) -> None:
        if name == self.shown_name:
            return  # in view already (a run from its own pane): the focus stays where it is
        if name != DEVICES:
            self._ensure_pane(name)
        # A widget focused in the tab being left keeps the focus once hidden (keys would go
        # to it): drop the focus first.
        self.set_focus(None)
        self.panes.active = name

    # -- kernel --------------------------------------------------------------------
    def _on_kernel_state(self, state: str, info: dict[str, Any]) -> None:
        if not self.is_running or not self.query(KernelStatus):
            return  # the app is closing: its own stop() is not news
        status = self.query_one(KernelStatus)
        self.refresh_bindings()  # ^c Stop follows the kernel's busy state
        if self.devices_view is not None:
            self.devices_view.kernel_state(state, info)
        if state == "dead" and info.get("start_failed"):
            return  # start_kernel_worker says why; the same environment would fail again
        if state == "dead" and info.get("connection_lost"):
            # Not reconnected by itself: a network that just failed fails again; ctrl+t retries.
            status.set_kernel("lost", detail="ctrl+t reconnects")
            self.notify(f"{info['error'][0].upper()}{info['error'][1:]}.\nYour edits are kept; ctrl+t reconnects.",
                        severity="error", timeout=15)
            return
        if state == "dead" and info.get("cluster_ended"):
            # The cluster ended a run (stuck, or a process died): the run's pane says why;
            # a fresh cluster is started, as the old runtime cannot be rejoined.
            status.set_kernel("dead", detail="restarting the cluster")
            self.start_kernel_worker()
            return
        if state == "dead":
            if not self.interrupting:
                self._kernel_died(info)
            status.set_kernel("dead", detail="restarting" if self._restarting_after_death
                              else "not restarting (ctrl+t to retry)")
            return
        if state == "stopped":
            return
        status.set_kernel(state, info if state == "ready" else None)

    @property
    def _restarting_after_death(self) -> bool:
        """Whether the last death was followed by a restart (not past the restart limit)."""
        return len(self._deaths) <= RESTART_LIMIT

    def _kernel_died(self, info: dict[str, Any]) -> None:
        loop_time = asyncio.get_running_loop().time()
        self._deaths = [t for t in self._deaths if loop_time - t < 60] + [loop_time]
        if not self._restarting_after_death:
            self.query_one(KernelStatus).set_kernel("dead", detail="not restarting (ctrl+t to retry)")
            self.notify(f"The kernel died {len(self._deaths)} times in a minute; not restarting. "
                        f"Its last words:\n{info.get('error') or '(none)'}", severity="error", timeout=15)
            return
        oom = bool(info.get("out_of_memory"))
        why = f"{info['error'][:1].upper()}{info['error'][1:]}." if oom else "The kernel died."
        self.notify(f"{why} A fresh one is starting; your edits are kept.", severity="warning",
                    timeout=10 if oom else 5)
        self.start_kernel_worker()

    @work(exclusive=True, group="kernel")
    async def start_kernel_worker(self, restart: bool = True) -> None:
        """Start a kernel (restart: a new one even if one runs; else the one running or starting)."""
        try:
            await (self.kernel.start() if restart else self.kernel.wait_ready())
        except (KernelError, ValueError) as exc:
            if not self.is_running or not self.query(KernelStatus):
                return  # the app is closing: its own stop() ended the start
            reason = str(exc)  # the kernel's error, its stderr, and the steps to fix it
            if getattr(exc, "kind", "") == P.KIND_CONNECTION:
                host = self.kernel.transport.host
                self.query_one(KernelStatus).set_kernel("lost", detail="cannot connect (ctrl+t to retry)")
                self.current_pane.show_failure(f"Could not connect to {host}:\n{reason}")
                return
            self.query_one(KernelStatus).set_kernel("dead", detail="failed to start (ctrl+t to retry)")
            self.current_pane.show_failure(f"The kernel could not start:\n{reason}")

    def action_restart_kernel(self) -> None:
        """ctrl+t: a fresh kernel, with the platform and device count the Devices tab shows
        (after a platform change that failed, the user may have picked another there)."""
        view = self.devices_view
        if view is not None and view.form_changed() and view.request_config() is not None:
            return  # it asked for that kernel: on_devices_view_config_requested starts it
        self._restart_kernel()

    def _restart_kernel(self) -> None:
        self._deaths.clear()
        self.query_one(KernelStatus).set_kernel("restarting")
        self.start_kernel_worker()

    def on_devices_view_config_requested(self, event: DevicesView.ConfigRequested) -> None:
        """A new platform or virtual device count: a new kernel. The panes keep their edits."""
        self.kernel.config = event.config
        self._restart_kernel()

    def on_devices_view_target_chosen(self, event: DevicesView.TargetChosen) -> None:
        self.kernel.config.device = event.device
        self.query_one(KernelStatus).target = event.name if event.device is not None else ""
        if self.devices_view is not None:
            self.devices_view.target_changed()
        where = f"on {event.name}" if event.device is not None else "on JAX's default device"
        self.notify(f"Runs go {where}.", timeout=3)

    # -- running -------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interrupt":
            # Shown (^c Stop) while a run is going; hidden when idle: ctrl+c then copies.
            return self.kernel.busy or self.run_in_progress
        if action.startswith("tour_"):
            return self.tour_panel is not None  # hidden without a tour: the keys pass through
        return True

    @property
    def run_in_progress(self) -> bool:
        """A run (of any pane) has been started and has not ended."""
        return self._run_worker is not None and not self._run_worker.is_finished

    def action_run(self) -> Worker[None] | None:
        """Start a run of the current pane; returns its worker (None: an input is invalid, or
        a run is in progress: one at a time, so two runs' output never mix in one pane)."""
        if self.run_in_progress:
            self.notify(RUN_IN_PROGRESS, severity="warning", timeout=4)
            return None
        pane = self.current_pane
        self.show_pane(pane.demo.name)  # from the Devices tab: the pane it came from, in view
        if pane.run_params() is None:
            self.notify("An input is invalid: fix the marked field, then run.", severity="error")
            return None
        worker: Worker[None] = self._run(pane)
        self._run_worker = worker
        self.refresh_bindings()  # ^c Stop shows in the footer
        return worker

    async def _typing_done(self) -> None:
        """The run key is a priority binding: it acts before the focused editor or field has
        handled the keys typed just before it (pasted, or sent by a script). Wait for them."""
        if self.focused is not None:
            handled = asyncio.Event()
            self.focused.call_later(handled.set)  # queued behind those keys
            await handled.wait()

    @work(group="run")
    async def _run(self, pane: DemoPane) -> None:
        await self._typing_done()
        params = pane.run_params()  # the code and inputs with every keystroke in
        if params is None:
            self.notify("An input is invalid: fix the marked field, then run.", severity="error")
            return
        waiting = self.kernel.state not in ("ready", "busy")
        target = self.query_one(KernelStatus).target
        pane.begin_run((f" on {target}" if target else "")
                       + (" (waiting for the kernel to start)" if waiting else ""))

        def on_event(event: P.Event) -> None:
            pane.on_kernel_event(event.kind, event.data)

        self._running_pane = pane
        try:
            result = await self.kernel.request(P.OP_EXEC, params, on_event=on_event)
        except KernelOutOfMemory as exc:
            pane.show_failure(f"Out of memory: the kernel used {format_bytes(exc.over.rss)} (resident), past "
                              f"--memory-limit {format_bytes(exc.over.limit)}, so it was stopped and a fresh "
                              f"one started. Your code is unchanged.")
            return
        except ClusterRunEnded as exc:
            pane.show_result(exc.result)  # every process's part, and who was stuck or died
            self.notify(f"{str(exc)[0].upper()}{str(exc)[1:]}.\nA fresh cluster is starting; your code is "
                        "unchanged.", severity="error", timeout=15)
            return
        except ConnectionLost as exc:
            pane.show_failure(f"{str(exc)[0].upper()}{str(exc)[1:]}.\nYour code is unchanged; ctrl+t reconnects.")
            return
        except KernelDied as exc:
            if self.interrupting:
                pane.show_failure("Interrupted. XLA computations ignore SIGINT, so the kernel was "
                                  "killed and a fresh one started. Your code is unchanged.")
            else:
                detail = f"\n{exc.stderr}" if exc.stderr else ""
                after = ("and was restarted" if self._restarting_after_death else
                         "and was not restarted: it died too often (ctrl+t starts a new one)")
                pane.show_failure(f"The kernel died during the run ({exc}) {after}. "
                                  f"Your code is unchanged.{detail}")
            return
        except RequestFailed as exc:
            pane.show_failure(f"The run failed: {exc}")
            return
        except KernelError as exc:
            state = self.kernel.state_info
            if state.get("start_failed") and state.get("error"):  # the reason with its fixes
                pane.show_failure(f"The kernel could not start:\n{state['error']}")
            else:
                pane.show_failure(f"The kernel is not available: {exc}")
            return
        finally:
            self._running_pane = None
            self.sub_title = ""
            self.call_later(self.refresh_bindings)  # ^c Stop leaves the footer once the worker ends
        pane.show_result(result)

    async def action_interrupt(self) -> None:
        if not self.kernel.busy:
            return
        self.interrupting = True
        self.query_one(KernelStatus).set_kernel("busy", detail="interrupting")
        try:
            outcome = await self.kernel.interrupt()
        finally:
            self.interrupting = False
        if outcome == "restarted":
            self.notify("XLA did not stop on SIGINT: the kernel was restarted.", severity="warning")

    # -- navigation ----------------------------------------------------------------
    async def _cycle_pane(self, step: int) -> None:
        names = [d.name for d in self.demos] + [DEVICES]
        current = self.shown_name
        name = names[(names.index(current) + step) % len(names)]
        self.show_pane(name)
        await self._pane_built(name)
        if name != DEVICES and self.shown_name == name:
            self.set_focus(self.current_pane.editor)  # typing goes to the pane just opened

    async def action_next_pane(self) -> None:
        await self._cycle_pane(1)

    async def action_prev_pane(self) -> None:
        await self._cycle_pane(-1)

    def action_next_result(self) -> None:
        tabs = self.current_pane.results
        ids = tabs.tab_ids
        tabs.active = ids[(ids.index(tabs.active) + 1) % len(ids)]  # shown now: f4 then y copies it

    def action_export_timings(self) -> None:
        from jaxtui.ui.results.timing import TimingView  # (loaded with the view)

        pane = self.current_pane
        for view in pane.results.views(TimingView):
            view.export(demo=pane.demo.name)

    # -- live mode and the inspection views ------------------------------------------
    def action_toggle_live(self) -> None:
        self.live_mode = not self.live_mode
        self.query_one(KernelStatus).live = self.live_mode  # the header says so
        if self.live_mode:
            self.current_pane.live.now()
            self.notify(f"Live mode on: Jaxpr, StableHLO, HLO, Cost and Compiles update "
                        f"{self.live_delay_s * 1000:.0f} ms after you stop typing. Only the code the "
                        "marked functions need runs; ctrl+r runs everything.", timeout=5)
        else:
            for pane in self.query(DemoPane):
                pane.live.cancel()
            self.notify("Live mode off: the views update when you run (ctrl+r).", timeout=3)

    def _shown_view(self) -> ResultsView | None:
        view = self.current_pane.results.shown_view()
        if view is None or not view.SAVE_NAME:
            self.notify("This tab has nothing to copy or save: show Output, a Jaxpr, StableHLO, "
                        "HLO, Cost or Compiles tab first (f4).", severity="warning")
            return None
        return view

    def action_save(self) -> None:
        """ctrl+s: the code when the editor (or an input) has the focus, else the view shown."""
        pane = self.current_pane
        focused = self.focused
        code_side = pane.query_one(".code-side")
        if focused is not None and (focused is code_side or code_side in focused.ancestors):
            self.action_save_code()
        else:
            self.action_save_view()

    def action_save_code(self) -> None:
        try:
            message = self.current_pane.save_code()
        except OSError as exc:
            self.notify(f"Could not save the code: {exc}", severity="error", timeout=10)
            return
        self.notify(message, timeout=6)

    def action_maximize(self) -> None:
        """The focused results view (with its tab bar) or the editor gets the whole screen."""
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        # The part of ours the focus is in that may take the screen (ALLOW_MAXIMIZE: the editor,
        # a pane's results, the tour's text; Textual's own widgets may say so too), else
        # the current pane's results.
        focused = self.focused
        parts = [node for node in (focused.ancestors_with_self if focused is not None else ())
                 if isinstance(node, Widget) and type(node).__module__.startswith("jaxtui.")
                 and getattr(node, "ALLOW_MAXIMIZE", None) is True]
        screen.maximize(parts[0] if parts else self.current_pane.results, container=False)

    def action_save_view(self) -> None:
        if view := self._shown_view():
            view.action_save_view()

    def action_copy_view(self) -> None:
        if view := self._shown_view():
            view.action_copy_view()

    def action_help(self) -> None:
        from jaxtui.ui.screens.help import HelpScreen, help_for

        if (self.screen is None) or self.screen.id == "help-screen":
            return
        self.push_screen(HelpScreen(help_for(self, self.focused, self.screen.active_bindings)))

    # -- saved edits, tours, jump mode ------------------------------------------------
    def _saved_edits(self, demo: Demo) -> SavedDemo | None:
        """Load a demo's saved edits once; an unreadable file is set aside with a message."""
        if demo.name not in self._saved:
            try:
                saved = self.store.load(demo_key(demo.name, demo.path, demo.builtin))
            except StateProblem as exc:
                self.notify(f"{exc}. {demo.name} starts from its original.", severity="warning",
                            timeout=15)
                saved = None
            if saved is not None and saved.original_changed(demo.code):
                self.notify(f"{demo.name}: your saved edits were made to an older version of this "
                            f"demo; f12 resets it to the new original.", timeout=10)
            self._saved[demo.name] = saved
        return self._saved[demo.name]

    def _state_problem(self, message: str) -> None:
        self.notify(message, severity="error", timeout=20)  # where edits went: time to read it

    def on_demo_pane_edited(self, event: DemoPane.Edited) -> None:
        pane = event.pane
        self.autosave.touch(pane)
        name = pane.demo.name
        try:  # an edit that arrives while the app closes finds the tabs gone
            panes = self.panes
        except NoMatches:
            return
        panes.set_label(name, name + ("*" if pane.modified else ""))

    def action_reset_demo(self) -> None:
        pane = self.current_pane
        if not pane.modified:
            self.notify(f"{pane.demo.name} is already the original.", timeout=3)
            return
        pane.reset()
        self.notify(f"{pane.demo.name}: back to the original code and inputs. ctrl+z in the editor "
                    "brings your code back; so does \"pane: undo the reset\" in the palette "
                    "(ctrl+p), with your inputs, even after a restart.", timeout=8)

    def action_undo_reset(self) -> None:
        pane = self.current_pane
        if not pane.undo_reset():
            self.notify(f"{pane.demo.name} has no reset to undo.", timeout=3)
            return
        self.notify(f"{pane.demo.name}: the code and inputs from before the reset are back "
                    "(ctrl+z in the editor undoes this).", timeout=5)

    @property
    def tour_panel(self) -> TourPanel | None:
        """The tour bar while a tour runs. (Kept, not queried: the footer asks on every
        refresh, and importing the tour bar's module costs the first frame 100 ms.)"""
        panel = self._tour
        return panel if panel is not None and panel.active else None

    def start_tour(self, tour: Tour) -> None:
        from jaxtui.ui.widgets.tour_panel import TourPanel

        if self.tour_panel is not None:
            self.tour_panel.end()
        self._tour = TourPanel(tour, id="tour")
        self.screen_stack[0].mount(self._tour, before=self.query_one(Footer))

    def action_tour_next(self) -> None:
        if self.tour_panel is not None and not self.tour_panel.next():
            self.action_tour_end()

    def action_tour_back(self) -> None:
        if self.tour_panel is not None:
            self.tour_panel.back()

    def action_tour_restart(self) -> None:
        if self.tour_panel is not None:
            self.tour_panel.restart()

    def action_tour_end(self) -> None:
        if self.tour_panel is not None:
            self.tour_panel.end()
            self.notify("Tour finished. The panes it used have your own code back.", timeout=5)

    def action_tour_read(self) -> None:
        panel = self.tour_panel
        if panel is None:
            return
        if self.screen.maximized is not panel:  # ctrl+g's rule, with the focus in the step's text
            self.screen.minimize()
            self.screen.set_focus(panel.query_one("#tour-body"))  # now: the rule reads the focus
        self.action_maximize()

    def action_jump(self) -> None:
        from jaxtui.ui.screens.jump import JumpScreen

        if len(self.screen_stack) == 1:  # not over the palette, help or another jump
            self.push_screen(JumpScreen(self.screen))

    async def on_unmount(self) -> None:
        await self.kernel.stop()  # however the app ends, no kernel outlives it

    async def action_quit(self) -> None:
        await self.autosave.flush_now()  # the last half second of typing, written off the loop
        # The shutdown ladder (core/client.py): half a second at most, unless a killed kernel
        # held a TPU, which is waited for (and said on screen) so the next session can start.
        await self.kernel.shutdown(on_wait=self._say_quit_wait)
        self.exit(0)

    def _say_quit_wait(self, message: str) -> None:
        self.query_one(KernelStatus).set_kernel("stopping", detail=message)
        self.notify(f"Quitting: {message}.", timeout=10)

    def _install_signal_handlers(self) -> None:
        """SIGTERM and SIGHUP (the terminal closed, the SSH session dropped): kill the kernel's
        group at once, busy in XLA or not, then exit 128 + the signal number."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._on_fatal_signal, signum)

    def _on_fatal_signal(self, signum: int) -> None:
        self.kernel.kill_now()
        self.autosave.flush()  # the edits since the last save; the terminal may be gone
        # Textual's exit restores the terminal through its writer thread. With the terminal gone
        # (SIGHUP) while a run's output streams, that thread's bounded queue blocks the exit for
        # good and the app lives on with no terminal: past a second, end the process anyway.
        backstop = threading.Timer(FATAL_EXIT_BACKSTOP_S, os._exit, (128 + signum,))
        backstop.daemon = True
        backstop.start()
        self.exit(return_code=128 + signum)
