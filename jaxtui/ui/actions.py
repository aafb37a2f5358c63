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
    wide: bool = False  # in the footer only from WIDE columns (at 80, F1 and the palette list it)


WIDE = 100  # columns from which the footer has room for every key

# Keys: none with Alt, none of tmux's prefixes (ctrl+b, ctrl+a), none the editor uses (ctrl+a/c/d/
# e/k/u/v/w/x/y/z, f6, f7), all passed through by terminals and tmux; every F-key has a ctrl
# alternative (F7-F9 are media keys on many laptops). Order matters: the footer shows the most
# important keys first, and quit and run/stop always.
ACTIONS: tuple[Action, ...] = (
    # Tour keys show in the footer only during a tour, when they matter most.
    Action("tour_next", "f8,ctrl+n", "Next", "tour: next step", "Go to the tour's next step (on the last, end it)"),
    # Not a priority binding: in the editor, f7 stays the editor's "select all".
    Action("tour_back", "f7,ctrl+backslash", "Back", "tour: previous step", "Go back one step in the tour",
           priority=False),
    Action("tour_restart", "f9,ctrl+right_square_bracket", "Again", "tour: restart this step",
           "Put this step's code and inputs back and do its action again"),
    Action("run", "ctrl+r,f5", "Run", "run: run this pane's code", "Run the current pane's code on the kernel"),
    Action("interrupt", "ctrl+c", "Stop", "kernel: interrupt the run",
           "Interrupt the running code; restarts the kernel if XLA does not stop within a second"),
    Action("quit", "ctrl+q", "Quit", "app: quit",
           "Quit (the kernel gets half a second to exit and free the device, then is killed)"),
    Action("help", "f1", "Help", "help: keys and help for the focused part", "Show help and keys", priority=False),
    Action("next_pane", "f2", "Pane", "pane: next", "Go to the next pane"),
    Action("prev_pane", "f3", "", "pane: previous", "Go to the previous pane"),
    Action("next_result", "f4", "Tab", "view: next results tab", "Cycle the results tabs (Lesson, Output, Jaxpr...)",
           wide=True),
    Action("maximize", "ctrl+g", "Max", "view: maximise the editor or results view (again: restore)",
           "Give the focused results view (or the editor, or the tour's text) the whole screen; "
           "ctrl+g or escape restores",
           wide=True),
    Action("toggle_live", "ctrl+l", "Live", "live: toggle live inspection",
           "Live mode: after each pause in typing, update the Jaxpr, StableHLO, HLO, Cost and Compiles "
           "views (only the code the marked functions need runs; no timings)", wide=True),
    Action("save", "ctrl+s", "", "", "Save: in the editor the code, in a results view the view"),
    Action("save_code", "", "", "code: save the code (your file, or a copy of a built-in demo)",
           "Write the code back to your file (the previous content kept as FILE.bak), or save a copy "
           "of a built-in demo as jaxtui-<demo>.py in the working directory (ctrl+s in the editor)"),
    Action("save_view", "", "", "view: save the current view to a file",
           "Save the view shown (Output, Jaxpr, StableHLO, HLO, Cost, Compiles, Lesson) to "
           "jaxtui-<demo>-<view>.txt in the working directory (in a view: s or ctrl+s)"),
    Action("copy_view", "", "", "view: copy the current view to the clipboard",
           "Copy the view shown (or its selection) to the clipboard with OSC 52, which works over SSH "
           "(in a view: y the selection, Y all of it)"),
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
    Action("tour_read", "", "", "tour: read this step whole (again: back)",
           "Give the tour's text the whole screen, with the focus in it to scroll (a step marked ⋯ "
           "is cut short on a small terminal); again, ctrl+g or escape gives the screen back"),
    Action("restart_kernel", "ctrl+t", "", "kernel: restart", "Start a fresh kernel (edits are kept)"),
    Action("command_palette", "ctrl+p", "Cmds", "", "Open the command palette", priority=False),
)


def bindings() -> list[BindingType]:
    # Textual's footer docks the palette key at its right edge by itself (with the footer
    # label as its text): listing it again would take 9 of the 80 columns twice.
    return [Binding(a.keys, a.name, a.footer or a.help, show=bool(a.footer) and a.name != "command_palette",
                    priority=a.priority, tooltip=a.help) for a in ACTIONS if a.keys]  # keyless: palette only


def by_name(name: str) -> Action | None:
    return next((a for a in ACTIONS if a.name == name), None)
