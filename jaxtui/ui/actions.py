"""The app's named actions: one registry that the key bindings, the footer, the help screen
and the command palette all read, so a key is declared once."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Action:
    name: str  # the App's action_<name>
    keys: str  # comma-separated Textual key names; the first is shown
    footer: str  # short label for the footer ("" = not in the footer)
    palette: str  # palette title, namespaced ("run: run this pane")
    help: str
    priority: bool = True  # works even while the editor has focus


# Order matters: the footer fits 80 columns with the most important keys first.
ACTIONS: tuple[Action, ...] = (
    # Tour keys show in the footer only during a tour, when they matter most.
    Action("tour_next", "f8", "Next", "tour: next step", "Go to the tour's next step (on the last, end it)"),
    Action("tour_back", "f7", "Back", "tour: previous step", "Go back one step in the tour"),
    Action("tour_restart", "f9", "Again", "tour: restart this step",
           "Put this step's code and inputs back and do its action again"),
    Action("run", "ctrl+r,f5", "Run", "run: run this pane's code", "Run the current pane's code on the kernel"),
    Action("interrupt", "ctrl+c", "Stop", "kernel: interrupt the run",
           "Interrupt the running code; restarts the kernel if XLA does not stop within a second"),
    Action("help", "f1", "Help", "help: keys and help for the focused part", "Show help and keys", priority=False),
    Action("next_pane", "f2", "Pane", "pane: next", "Go to the next pane"),
    Action("prev_pane", "f3", "", "pane: previous", "Go to the previous pane"),
    Action("next_result", "f4", "Tab", "view: next results tab", "Cycle the results tabs (Lesson, Output, Jaxpr...)"),
    Action("toggle_live", "ctrl+l", "Live", "live: toggle live inspection",
           "Live mode: after each pause in typing, update the Jaxpr, StableHLO, HLO, Cost and Compiles "
           "views (only the code the marked functions need runs; no timings)"),
    Action("save_view", "ctrl+s", "", "view: save the current view to a file",
           "Save the Jaxpr, StableHLO, HLO, Cost or Compiles view shown to jaxtui-<demo>-<view>.txt in "
           "the working directory (in a view: s)"),
    Action("copy_view", "", "", "view: copy the current view to the clipboard",
           "Copy the view shown (or its selection) to the clipboard with OSC 52, which works over SSH "
           "(in a view: y)"),
    Action("export_timings", "", "", "timing: export this pane's timings (CSV + JSON)",
           "Save the current pane's timings in the working directory: CSV, one row per timing, and "
           "JSON with every sample (in the Timing tab: e)"),
    Action("jump", "ctrl+o", "", "view: jump (a key for every place)",
           "Jump mode: label every tab, field and view with a key; press one to go there"),
    Action("reset_demo", "f12", "", "pane: reset to the original",
           "Reset this pane's code and inputs to the original (ctrl+z in the editor undoes it)"),
    Action("undo_reset", "", "", "pane: undo the reset (bring back the code f12 replaced)",
           "Bring back the code and inputs the last reset replaced, even after a restart"),
    Action("tour_end", "", "", "tour: end", "End the tour; the panes it used get your own code back"),
    Action("restart_kernel", "ctrl+t", "", "kernel: restart", "Start a fresh kernel (edits are kept)"),
    Action("command_palette", "ctrl+p", "Cmds", "", "Open the command palette", priority=False),
    Action("quit", "ctrl+q", "Quit", "app: quit",
           "Quit (the kernel gets half a second to exit and free the device, then is killed)"),
)


def bindings() -> list[BindingType]:
    # Textual's footer docks the palette key at its right edge by itself (with the footer
    # label as its text): listing it again would take 9 of the 80 columns twice.
    return [Binding(a.keys, a.name, a.footer or a.help, show=bool(a.footer) and a.name != "command_palette",
                    priority=a.priority, tooltip=a.help) for a in ACTIONS if a.keys]  # keyless: palette only


def by_name(name: str) -> Action | None:
    return next((a for a in ACTIONS if a.name == name), None)
