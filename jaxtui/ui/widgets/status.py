"""The top bar: app name, current pane, and the kernel's state, platform and devices."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

STATE_STYLE = {
    "starting": "bold yellow",
    "ready": "bold green",
    "busy": "bold cyan",
    "dead": "bold red",
    "stopped": "dim",
    "restarting": "bold yellow",
    "lost": "bold red",  # a remote kernel's connection dropped, or could not be made
}
STATE_WORDS = {"lost": "connection lost"}


class KernelStatus(Static):
    """One line: `λ jaxtui │ jit │ kernel ready · cpu · 8 devices · jax 0.10.2`; a remote
    kernel names its host: `kernel on tpu-vm ready · tpu · 4 devices · ...`."""

    state: reactive[str] = reactive("starting")
    pane: reactive[str] = reactive("")
    detail: reactive[str] = reactive("")
    target: reactive[str] = reactive("")  # the device runs go to, when the user chose one
    live: reactive[bool] = reactive(False)  # live mode (ctrl+l) is on

    def __init__(self, host: str | None = None, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.host = host  # where a remote kernel runs (None: this machine)
        self.info: dict[str, Any] = {}

    def set_kernel(self, state: str, info: dict[str, Any] | None = None, detail: str = "") -> None:
        if info:
            self.info = info
        self.detail = detail
        self.state = state
        self.refresh()

    def render(self) -> Text:
        text = Text.assemble(("λ jaxtui", "bold"), "  ")
        if self.pane:
            text.append(f"{self.pane}  ", style="bold")
        text.append("kernel ", style="dim")
        if self.host:
            text.append("on ", style="dim")
            text.append(self.host, style="bold")
            text.append(" ")
        text.append(STATE_WORDS.get(self.state, self.state), style=STATE_STYLE.get(self.state, ""))
        info = self.info
        if info.get("platform") and self.state in ("ready", "busy"):
            n = info.get("device_count", 0)
            kind = info.get("device_kind", "")
            parts = [str(info["platform"]), f"{n} device{'s' if n != 1 else ''}"]
            if info.get("processes"):  # a cluster: its devices are spread over its processes
                procs = len(info["processes"])
                parts.append(f"{procs} process{'es' if procs != 1 else ''}")
            if kind and kind != info["platform"]:
                parts.append(str(kind))
            if self.target:
                parts.append(f"→ {self.target}")
            parts.append(f"jax {info.get('jax', '?')}")
            text.append(" · " + " · ".join(parts), style="dim")
        if self.detail:
            text.append(f" · {self.detail}", style="italic")
        if self.live:
            text.append("  ● live", style="bold cyan")
        return text
