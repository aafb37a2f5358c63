"""The Devices tab: what the kernel's JAX sees, where runs go, and which kernel to start.

Shows every device (id, platform, kind, process, memory in use / peak / limit where
`memory_stats()` gives them, bytes of live arrays on CPU), refreshed every few seconds
while the tab is visible; the versions; the problems `jaxtui.core.hardware` finds (a TPU held
by another process, a silent fallback to CPU, a multi-host slice) with their fixes.
Enter on a row makes that device the target of every run. The platform and virtual CPU
device count are fixed when JAX starts, so changing them asks the app for a new kernel
(`ConfigRequested`); the demo panes, their edits and results are not touched. A TPU target
(`--target`, or the "compile also for" choice) needs no new kernel: the kernel loads its
compile-only devices, and the pod map (chips by coordinates, coloured by host) shows here.

UI side: never imports jax. The hardware survey reads sysfs and /proc in a thread.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from jaxtui import protocol as P
from jaxtui.core import hardware
from jaxtui.core.client import MAX_HOST_DEVICES, KernelConfig, KernelError, RequestFailed
from jaxtui.core.cluster import Kernel
from jaxtui.render.target_report import pod_map_planes, target_summary
from jaxtui.render.units import format_bytes
from jaxtui.target_spec import EXAMPLES as TARGET_EXAMPLES
from jaxtui.ui.widgets.in_order import Field

REFRESH_S = 2.0
AUTO = "auto"  # the platform Select's value for "JAX chooses"
NO_TARGET = "none"  # the target Select's value for "compile for this machine only"
HOST_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta")
COLUMNS = (("target", ""), ("id", "id"), ("device", "device"), ("kind", "kind"), ("proc", "proc"),
           ("in_use", "in use"), ("peak", "peak"), ("limit", "limit"), ("live", "live arrays"))


class PlatformSelect(Select[str]):
    """Textual's Select, safe to remove while it mounts (the app quitting within its first
    second): Select's own mount handler looks up its children and raises if they are gone."""

    def _on_mount(self, event: events.Mount) -> None:
        if not (self.query("SelectCurrent #label") and self.query("SelectOverlay")):
            event.prevent_default()  # skip Select._on_mount: there is nothing left to set up


class DevicesView(Vertical):
    # Built after the first frame: its rules live here, not in app.tcss (parsed before it).
    DEFAULT_CSS = """
    DevicesView {
        height: 1fr;
        padding: 0 1;
        overflow-y: auto;  /* a long problem report must not push the controls off a small screen */
    }

    DevicesView #devices-summary {
        height: auto;
    }

    DevicesView #devices-problems {
        display: none;
        height: auto;
        max-height: 12;
        overflow-y: auto;
        border-left: thick $warning;
        padding: 0 1;
        margin: 1 0 0 0;
        background: $warning 10%;
    }

    DevicesView #devices-problems.-shown {
        display: block;
    }

    DevicesView #devices-problems.-error {
        border-left: thick $error;
        background: $error 15%;
    }

    DevicesView #devices-table {
        height: auto;
        max-height: 20;
        margin: 1 0 0 0;
    }

    DevicesView #devices-hint {
        height: 1;
        color: $text-muted;
    }

    DevicesView #devices-config {
        height: 1;
        margin: 1 0 0 0;
    }

    DevicesView #devices-config Label {
        width: auto;
        color: $text-muted;
    }

    DevicesView #platform-select {
        width: 10;
    }

    DevicesView #host-devices-input {
        width: 8;
        margin-right: 2;
    }

    DevicesView #host-devices-input.-invalid {
        background: $error 30%;
    }

    DevicesView #devices-message {
        display: none;
        height: auto;
        max-height: 8;
        overflow-y: auto;
    }

    DevicesView #devices-message.-shown {
        display: block;
    }

    DevicesView #target-row { height: 1; margin: 1 0 0 0; }
    DevicesView #target-row Label { width: auto; color: $text-muted; }
    DevicesView #target-select { width: 18; }
    DevicesView #target-map { height: auto; margin: 0 0 0 2; }
    """
    HELP_TITLE = "Devices"
    HELP = ("Every device the kernel's JAX sees, with its memory, refreshed while this tab is "
            "shown. Enter on a row runs every pane on that device (jax.default_device); `a` goes "
            "back to JAX's default. Below: the platform and the number of virtual CPU devices. "
            "Changing them starts a new kernel; your edits and results stay. Problems with the "
            "TPU or GPU (held by another process, a fallback to CPU) show at the top with the "
            "steps to fix them. \"compile also for\" picks a TPU slice (needs libtpu: pip install "
            "\"jaxtui[tpu]\"): runs then also compile the marked functions for it, without a TPU, "
            "and the HLO, Cost and StableHLO tabs show both; its chips are drawn below by "
            "coordinates, coloured by the host (TPU VM) they belong to.")
    # Not in the footer (80 columns are taken): the hint line under the table shows them.
    BINDINGS = [
        Binding("a", "default_target", "JAX's default device", show=False),
        Binding("r", "refresh", "Refresh now", show=False),
    ]

    class TargetChosen(Message):
        """Runs should go to this device id (None: JAX's default)."""

        def __init__(self, device: int | None, name: str) -> None:
            super().__init__()
            self.device = device
            self.name = name

    class ConfigRequested(Message):
        """Start a kernel with this (validated) configuration."""

        def __init__(self, config: KernelConfig) -> None:
            super().__init__()
            self.config = config

    def __init__(self, kernel: Kernel, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kernel = kernel
        self.survey: hardware.Survey | None = None
        self.described: dict[str, Any] = {}
        self.state = kernel.state
        self.start_error = ""  # why the last kernel could not start (without the advice)
        self.problems: list[hardware.Problem] = []
        self._announced: set[str] = set()  # problem codes already notified for this kernel
        self._timer: Timer | None = None
        self._row_ids: list[int] = []
        self.target_info: dict[str, Any] = {}  # the chosen TPU target's chips (the `target` op)

    # -- layout --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="devices-summary")
        yield Static(id="devices-problems")
        table: DataTable[Any] = DataTable(id="devices-table", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("enter: run here · a: JAX's default · r: refresh", id="devices-hint")
        platform = self.kernel.config.platform or AUTO
        hosts = self.kernel.config.host_devices
        with Horizontal(id="devices-config"):
            yield Label("platform ")
            yield PlatformSelect([("auto", AUTO), ("cpu", "cpu"), ("gpu", "gpu"), ("tpu", "tpu")],
                                 value=platform, allow_blank=False, compact=True,
                                 id="platform-select",
                                 tooltip="auto: JAX picks (TPU, then GPU, then CPU)")
            yield Label("  CPU devices ")
            yield Field(str(hosts) if hosts is not None else "", type="integer", max_length=6,
                        compact=True, id="host-devices-input", placeholder=f"1-{MAX_HOST_DEVICES}")
            yield Button("Restart kernel", compact=True, id="apply-config",
                         tooltip="Start a kernel with this platform and virtual CPU device count")
        yield Static(id="devices-message")
        target = self.kernel.config.target
        choices = [*TARGET_EXAMPLES, *([target] if target and target not in TARGET_EXAMPLES else [])]
        with Horizontal(id="target-row"):
            yield Label("compile also for ")
            yield PlatformSelect([("this machine only", NO_TARGET), *((c, c) for c in choices)],
                                 value=target or NO_TARGET, allow_blank=False, compact=True, id="target-select",
                                 tooltip="Also compile the marked functions for a TPU slice, without a TPU "
                                         "(libtpu's compile-only devices); the code still runs here")
        yield Static(id="target-map")

    def on_mount(self) -> None:
        if not self.query("#devices-table"):
            return  # removed while it mounted: the app is quitting
        self._timer = self.set_interval(REFRESH_S, self.refresh_devices, pause=True)
        # Built after the first frame: catch up with a kernel that may have moved on.
        self.kernel_state(self.kernel.state, self.kernel.state_info)
        self.run_survey()

    def on_show(self) -> None:
        if self._timer is not None:
            self._timer.resume()
        self.refresh_devices()

    def on_hide(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    # -- hardware and problems -------------------------------------------------------
    @work(thread=True, exclusive=True, group="devices-survey")
    def run_survey(self) -> None:
        if self.kernel.transport.host is not None:
            return  # this machine's sysfs says nothing about a remote kernel's host (doctor --remote does)
        found = hardware.survey()
        self.app.call_from_thread(self.set_survey, found)

    def set_survey(self, found: hardware.Survey) -> None:
        if not self.query("#devices-problems"):
            return  # the survey thread finished as the app quit: the view is being taken down
        self.survey = found
        self._update_problems()

    def _update_problems(self) -> None:
        if self.survey is None:
            return
        info = self.kernel.info if self.state in ("ready", "busy") else None
        platform = hardware.requested_platform(self.kernel.config.platform)
        self.problems = hardware.diagnose(self.survey, platform=platform, info=info,
                                          error=self.start_error, stderr=self.kernel.stderr_text(200))
        banner = self.query_one("#devices-problems", Static)
        banner.set_class(bool(self.problems), "-shown")
        banner.set_class(any(p.severity == "error" for p in self.problems), "-error")
        banner.update(Text("\n".join(p.text() for p in self.problems)))
        self._render_summary()
        # Loud, once per kernel: a TPU VM quietly running on CPU is the costly mistake, and
        # on a multi-host slice the kernel never gets ready at all.
        for p in self.problems:
            if p.severity == "error" and p.code not in self._announced and (
                    info is not None or p.code == "multi-host"):
                self._announced.add(p.code)
                self.app.notify(f"{p.title}. See the Devices tab for the fix.", severity="error", timeout=20)

    # -- kernel state (from the app) -------------------------------------------------
    def kernel_state(self, state: str, info: dict[str, Any]) -> None:
        self.state = state
        if state == "starting":
            self.start_error = ""
            self._announced.clear()
            self._show_message("")
        if state not in ("ready", "busy"):  # the old kernel's devices are gone
            self.described = {}
            self._row_ids = []
            table = self.query_one("#devices-table", DataTable)
            table.clear()
            table.display = False
            self.query_one("#devices-hint").display = False
        if state == "ready":
            self._check_target()
            self.refresh_devices()
            if self.kernel.config.target:
                self.load_target()
        elif state == "dead" and info.get("start_failed"):
            self.start_error = info.get("reason") or info.get("error", "")
            self._show_message(f"The kernel could not start: {self.start_error}", error=True)
        self._render_summary()
        self._update_problems()

    def _check_target(self) -> None:
        # Ids run 0..n-1 on one host; the kernel checks every run against its own devices too.
        target = self.kernel.config.device
        count = int(self.kernel.info.get("device_count") or 0)
        if target is not None and target >= count:
            self.app.notify(f"Device {target} does not exist in this kernel ({count} devices): runs go "
                            f"to JAX's default device.", severity="warning", timeout=8)
            # Now, not when the message is handled: a run sent meanwhile would ask for it.
            self.kernel.config.device = None
            self.post_message(self.TargetChosen(None, ""))

    # -- the table -------------------------------------------------------------------
    @work(exclusive=True, group="devices-refresh")
    async def refresh_devices(self) -> None:
        # A poll must never queue behind a long run, nor make the kernel look busy.
        if self.kernel.state != "ready" or self.kernel.busy:
            return
        try:
            described = await self.kernel.request(P.OP_DEVICES, background=True, timeout=10)
        except (KernelError, TimeoutError):
            return
        self.show_devices(described)

    def show_devices(self, described: dict[str, Any]) -> None:
        self.described = described
        table = self.query_one("#devices-table", DataTable)
        table.display = True
        self.query_one("#devices-hint").display = True
        rows = described.get("devices") or []
        ids = [int(r["id"]) for r in rows]
        target = self._target_id(described)
        if ids != self._row_ids:
            table.clear()
            for r in rows:
                table.add_row(*self._cells(r, target), key=str(r["id"]))
            self._row_ids = ids
        else:
            for r in rows:
                for (key, _), value in zip(COLUMNS, self._cells(r, target)):
                    table.update_cell(str(r["id"]), key, value)
        self._render_summary()

    def _target_id(self, described: dict[str, Any]) -> int | None:
        if self.kernel.config.device is not None:
            return self.kernel.config.device
        default = described.get("default_device")
        return next((int(r["id"]) for r in described.get("devices") or [] if r["name"] == default), None)

    def _cells(self, row: dict[str, Any], target: int | None) -> tuple[Any, ...]:
        mark = ""
        if row["id"] == target:
            mark = "▶" if self.kernel.config.device is not None else "▷"
        return (Text(mark, style="bold green"), str(row["id"]), row["name"], row["device_kind"],
                str(row["process_index"]),
                format_bytes(row.get("bytes_in_use")) if "bytes_in_use" in row else "–",
                format_bytes(row.get("peak_bytes_in_use")) if "peak_bytes_in_use" in row else "–",
                format_bytes(row.get("bytes_limit")) if row.get("bytes_limit") else "–",
                format_bytes(row["live_array_bytes"]) if "live_array_bytes" in row else "–")

    _default_platforms: str | bool | None = False  # hardware.default_platforms(), once asked

    def _platform_asked(self) -> str:
        """What decides the kernel's platform, as the summary says while the kernel starts."""
        cfg = self.kernel.config
        if cfg.platform:
            return f"--platform {cfg.platform}"
        if os.environ.get("JAX_PLATFORMS"):
            return f"JAX_PLATFORMS={os.environ['JAX_PLATFORMS']}"
        if self.kernel.transport.host is None:  # a local kernel: KernelConfig.env() applies it
            if self._default_platforms is False:
                self._default_platforms = hardware.default_platforms()  # (reads sysfs: once)
            if self._default_platforms:
                return f"platform {self._default_platforms}: libtpu is installed, but this machine has no TPU"
        return "platform: JAX's choice"

    def _render_summary(self) -> None:
        info, d = self.kernel.info, self.described
        cfg = self.kernel.config
        asked = self._platform_asked()
        text = Text()
        if self.state in ("ready", "busy") and info:
            n = info.get("device_count", 0)
            text.append(f"{info.get('platform')} · {n} device{'s' if n != 1 else ''}", style="bold")
            procs = info.get("process_count", 1)
            text.append(f" · {procs} process{'es' if procs != 1 else ''}")
            target = cfg.device
            if info.get("processes"):  # a cluster: the same code on every device of every process
                text.append(f" · a cluster joined at {info.get('coordinator', '?')}; runs go to every process\n")
                for p in info["processes"]:
                    text.append(f"process {p.get('process_index', '?')} on {p.get('hostname', '?')} (pid "
                                f"{p.get('pid', '?')}): local devices {', '.join(p.get('local_devices') or [])}\n")
            else:
                text.append(" · runs go to ")
                text.append(f"device {target}" if target is not None else "JAX's default device",
                            style="bold green")
                text.append("\n")
            text.append(f"jax {info.get('jax', '?')} · jaxlib {info.get('jaxlib', '?')} · "
                        f"backend {d.get('backend') or info.get('backend') or '?'} · "
                        f"python {info.get('python', '?')}", style="dim")
        else:
            text.append(f"kernel {self.state} ({asked}, {cfg.host_devices} virtual CPU devices)", style="bold")
        if self.survey is not None:
            text.append(f"\nhardware: {self.survey.summary()}", style="dim")
        self.query_one("#devices-summary", Static).update(text)

    # -- choosing the target ---------------------------------------------------------
    @on(DataTable.RowSelected, "#devices-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        device = int(str(event.row_key.value))
        name = next((r["name"] for r in self.described.get("devices") or [] if r["id"] == device), str(device))
        self.post_message(self.TargetChosen(device, name))

    def action_default_target(self) -> None:
        self.post_message(self.TargetChosen(None, ""))

    def action_refresh(self) -> None:
        self.run_survey()
        self.refresh_devices()

    def target_changed(self) -> None:
        """The app changed the target: redraw the marks."""
        if self.described:
            self._row_ids = []  # rebuild: the mark column changes
            self.show_devices(self.described)
        self._render_summary()

    # -- choosing the kernel ---------------------------------------------------------
    @on(Button.Pressed, "#apply-config")
    @on(Input.Submitted, "#host-devices-input")
    def _apply(self) -> None:
        self.request_config()

    def form_changed(self) -> bool:
        """The platform or device count on screen is not the kernel's (not applied yet)."""
        platform = self.query_one("#platform-select", Select).value
        chosen = None if platform in (AUTO, Select.NULL) else str(platform)
        hosts = self.kernel.config.host_devices
        text = self.query_one("#host-devices-input", Input).value.strip()
        return chosen != self.kernel.config.platform or text != (str(hosts) if hosts is not None else "")

    def request_config(self) -> KernelConfig | None:
        """Validate the form; on success ask the app for a kernel with it."""
        platform = self.query_one("#platform-select", Select).value
        field = self.query_one("#host-devices-input", Input)
        text = field.value.strip()
        try:
            hosts = int(text)
        except ValueError:
            field.add_class("-invalid")
            self._show_message(f"Virtual CPU devices: enter a whole number from 1 to {MAX_HOST_DEVICES}.",
                               error=True)
            return None
        config = replace(self.kernel.config, platform=None if platform in (AUTO, Select.NULL) else str(platform),
                         host_devices=hosts)
        try:
            config.validate()
        except ValueError as exc:
            field.add_class("-invalid")
            self._show_message(f"Not restarted: {exc}.", error=True)
            return None
        field.remove_class("-invalid")
        self._show_message(f"Starting a kernel: {config.platform or 'JAX chooses the platform'}, "
                           f"{hosts} virtual CPU device{'s' if hosts != 1 else ''}…")
        self.post_message(self.ConfigRequested(config))
        return config

    # -- a TPU target ----------------------------------------------------------------------
    @on(Select.Changed, "#target-select")
    def _target_selected(self, event: Select.Changed) -> None:
        value = None if event.value in (NO_TARGET, Select.NULL) else str(event.value)
        if value == self.kernel.config.target and (value is None or self.target_info):
            return
        self.kernel.config.target = value  # each run carries it: no new kernel
        self.load_target()

    @work(exclusive=True, group="devices-target")
    async def load_target(self) -> None:
        """Ask the kernel for the chosen target's chips and draw them; a target the kernel
        cannot load (no libtpu) is dropped, with the fix."""
        name = self.kernel.config.target
        self.target_info = {}
        if name is None:
            self.query_one("#target-map", Static).update("")
            self._show_message("Runs compile the marked functions for this machine only.")
            return
        if self.kernel.state not in ("ready", "busy"):
            self._show_message(f"{name}: loads when the kernel is ready.")
            return
        self._show_message(f"Loading {name}…")
        try:
            info = await self.kernel.request(P.OP_TARGET, {"target": name}, background=True, timeout=120)
        except RequestFailed as exc:
            self.kernel.config.target = None
            self.query_one("#target-select", Select).value = NO_TARGET
            self._show_message(f"{exc.data.get('message', exc)}", error=True)
            self.query_one("#target-map", Static).update("")
            return
        except (KernelError, TimeoutError):
            return
        self.target_info = info
        self.query_one("#target-map", Static).update(pod_map(info))
        self._show_message(f"Runs (ctrl+r) also compile the marked functions for {name}: the HLO, Cost and "
                           f"StableHLO tabs show `name @ {name}` after each one.")

    def _show_message(self, text: str, error: bool = False) -> None:
        message = self.query_one("#devices-message", Static)
        message.update(Text(text, style="bold red" if error else "italic"))
        message.set_class(bool(text), "-shown")


def pod_map(info: dict[str, Any]) -> Text:
    """The target's chips at their (x, y) coordinates, one plane per z, each cell its host
    (h0, h1...) in that host's colour: which chips share a TPU VM."""
    text = Text(target_summary(info) + "\n", style="bold")
    planes = pod_map_planes(info)
    width = max(3, len(f"h{max(1, info.get('hosts', 1)) - 1}") + 1)
    for z, plane in enumerate(planes):
        if len(planes) > 1:
            text.append(f"z={z}\n", style="dim")
        columns = len(plane[0]) if plane else 0
        text.append("y\\x ".ljust(5) + "".join(f"x{x}".rjust(width) for x in range(columns)) + "\n", style="dim")
        for y, row in enumerate(plane):
            text.append(f"y{y}".ljust(5), style="dim")
            for cell in row:
                label = f"h{cell[1]}" if cell else "·"
                text.append(label.rjust(width), style=HOST_COLOURS[cell[1] % len(HOST_COLOURS)] if cell else "dim")
            text.append("\n")
    text.rstrip()
    return text
