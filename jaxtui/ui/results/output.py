"""The Output tab: what a run printed (streamed as it comes), its values and its error.

The text lives in a read-only, soft-wrapped `TextView`, so it wraps at the width the tab has
now and wraps again when the terminal is resized (nothing needs sideways scrolling), and it
has the inspection views' find, copy and save. The last runs are kept: `[` and `]` step
through them.

Streams follow the kernel's contract (jaxtui/protocol.py `stream` events, in order): a text
may end without a newline, and the next text of the same stream continues that line; text of
the other stream starts a new one. Control characters other than newline and tab are shown
escaped (`\\x1b`), so printed escape sequences cannot repaint the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Static

from jaxtui import protocol as P
from jaxtui.render.report import error_text, footer
from jaxtui.ui.results.base import Result
from jaxtui.ui.results.searchable import SearchableView
from jaxtui.ui.widgets.text_view import TextView

HISTORY = 5  # runs kept for `[`
# Streamed text reaches the screen at most this often: a run that prints as fast as it can
# sends many events a second, and painting each one kept keys waiting (F1 took 0.8 s).
PAINT_EVERY_S = 0.05
WAITING = " (waiting for the kernel to start)"  # in a run's title until it starts (app.py)
STYLES = {  # a line's look by what it is
    "title": Style(bold=True),
    "stderr": Style(color="yellow"),
    "error": Style(color="red", bold=True),
    "ok": Style(color="green"),
    "failed": Style(color="red"),
    "note": Style(italic=True),
}
# C0 controls but newline and tab, DEL and the C1 controls: shown, never sent to the terminal.
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if c not in (0x09, 0x0A)}
_ESCAPES[0x0D] = "\\r"


def escape_controls(text: str) -> str:
    return text.translate(_ESCAPES)


# JAX's note under every filtered traceback: true, long, and not about the user's code.
BOILERPLATE = ("For simplicity, JAX has removed its internal frames", "-" * 20)


def without_boilerplate(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(BOILERPLATE))


def error_summary(error: dict[str, Any]) -> str:
    """`✗ TypeError: the message's first line` (a syntax error: its own line and caret)."""
    if error.get("kind") == "syntax":
        return "✗ " + error_text(error)
    message = without_boilerplate(str(error.get("message") or "")).strip().splitlines()
    return f"✗ {error.get('type', 'Error')}: {message[0] if message else ''}".rstrip(": ")


Piece = tuple[str, str] | dict[str, Any]  # (stream name, text) or a value record


def in_code_order(streams: list[tuple[str, str]], values: list[dict[str, Any]]) -> list[Piece]:
    """The streamed text with each value placed where the code showed it: a value's `at` is
    how many characters had been printed by then (values without one come last)."""
    placed = sorted((v for v in values if isinstance(v.get("at"), int)), key=lambda v: v["at"])
    pieces: list[Piece] = []
    printed, i = 0, 0
    for name, text in streams:
        start, printed = printed, printed + len(text)
        while i < len(placed) and placed[i]["at"] <= printed:
            cut = max(0, placed[i]["at"] - start)
            if cut:
                pieces.append((name, text[:cut]))
                text, start = text[cut:], start + cut
            pieces.append(placed[i])
            i += 1
        if text:
            pieces.append((name, text))
    pieces.extend(placed[i:])
    pieces.extend(v for v in values if not isinstance(v.get("at"), int))
    return pieces


@dataclass
class OutputRun:
    """One run's output: its text and the style of each styled line (0-based rows).

    Text is appended in pieces, joined when read: a run that prints for minutes appends
    thousands of pieces, and each append must cost the piece, not the whole text so far."""

    title: str
    done: bool = False
    styles: dict[int, str] = field(default_factory=dict)
    open_stream: str | None = None  # the stream whose last line has no newline yet
    streams: list[tuple[str, str]] = field(default_factory=list)  # (name, text) as streamed
    error_row: int | None = None  # the error's first line
    _pieces: list[str] = field(default_factory=list)
    last_row: int = 0  # rows so far (the newlines in the text)

    @property
    def text(self) -> str:
        if len(self._pieces) > 1:
            self._pieces[:] = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""

    @text.setter
    def text(self, value: str) -> None:
        self._pieces[:] = [value]
        self.last_row = value.count("\n")

    def add(self, text: str) -> None:
        self._pieces.append(text)
        self.last_row += text.count("\n")


class OutputText(TextView):
    """The Output's text: soft-wrapped, no line numbers, some lines styled."""

    follows_app_theme = False  # printed text is not code: the app's own colours ("css")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.soft_wrap = True
        self.show_line_numbers = False
        self.highlight_cursor_line = False  # the cursor is for selecting, not a line to read
        self.theme = "css"
        self.row_styles: dict[int, str] = {}

    def show(self, text: str, styles: dict[int, str]) -> None:
        self.row_styles = styles
        self.set_text(text)
        self._line_cache.clear()  # its key does not know about the styles
        self.refresh()

    def reveal(self, row: int) -> None:
        """Scroll `row` to the top (the verdict; after a failure, the error's first line: on a
        small screen it is what matters). After the next refresh too: loading the text queued
        a scroll back to where the view was."""
        self.move_cursor((row, 0))

        def scroll() -> None:
            self.scroll_to(y=self.wrapped_document.location_to_offset((row, 0)).y, animate=False,
                           immediate=True)

        scroll()
        self.call_after_refresh(scroll)

    def append(self, text: str) -> None:
        if self.wrapped_document._width != self.wrap_width:
            # The tab came to the front a moment ago (a run shows its Output): the view has its
            # width but not yet its Resize, and the text so far was wrapped while hidden.
            self._rewrap_and_refresh_virtual_size()
        following = self.scroll_offset.y >= self.max_scroll_y - 1  # at the end: stay there
        self.insert(text, self.document.end)
        self.history.clear()  # nothing to undo in a read-only view: keep no copies
        self._line_starts = None  # (search offsets)
        self._line_cache.clear()
        if following:
            self.scroll_end(animate=False)

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        style = self.row_styles.get(line_index)
        if style:
            line.stylize(STYLES[style])
        return line


class OutputView(SearchableView):
    """Streamed stdout/stderr, then values, corrections and the error of the last run."""

    # Built after the first frame: its rules live here, not in app.tcss (parsed before it).
    SCOPED_CSS = False  # its rules name screen classes and ids above it too
    DEFAULT_CSS = """
    OutputView {
        height: 1fr;
    }

    OutputView .output-status {
        height: 1;
        padding: 0 1;
        background: $warning 20%;
    }

    OutputView .output-text {
        padding: 0 1;
    }
    """

    HELP_TITLE = "Output"
    SAVE_NAME = "output"
    HELP = ("Output of the last run: printed text as it arrives (stderr in yellow), then the "
            "values the demo showed (arrays with shape, dtype and device), then any error with "
            "your code's frames first. The text wraps at the tab's width. Keys: / find, n / N "
            "next and previous match, y copy the selection or the output, Y copy it all, s save "
            "it, [ and ] the runs before and after this one (the last 5 are kept).")
    BINDINGS: ClassVar[list[BindingType]] = [
        *SearchableView.BINDINGS,
        Binding("left_square_bracket", "older_run", "Earlier run"),
        Binding("right_square_bracket", "newer_run", "Later run", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs: list[OutputRun] = []
        self.shown = -1  # index in runs of the run on screen
        self._unpainted: list[str] = []  # the shown run's text not yet on the screen
        self._paint_timer: Timer | None = None

    @property
    def view(self) -> TextView:
        self._paint()  # find, copy and save see all the text there is
        return self.query_one(TextView)

    def compose(self) -> ComposeResult:
        yield Static("", classes="output-status")
        yield from self.find_bar()
        yield OutputText(classes="output-text")

    def on_mount(self) -> None:
        self.query_one(".output-status").display = False

    @property
    def current(self) -> OutputRun | None:
        return self.runs[-1] if self.runs else None

    @property
    def text(self) -> str:
        """The run on screen, as plain text."""
        return self.runs[self.shown].text.rstrip("\n") if self.runs else ""

    # -- what the pane tells the view ---------------------------------------------------
    def run_started(self, title: str) -> None:
        self.runs = [*self.runs[-(HISTORY - 1):], OutputRun(title)]
        self._show(len(self.runs) - 1)
        self._write(f"▶ {title}\n", "title")

    def run_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == P.EV_STREAM:
            self.stream(str(data.get("text", "")), str(data.get("name", "stdout")))

    def run_failed(self, message: str) -> None:
        """No result: the kernel died, was killed, or could not start (maybe with no run at all)."""
        if self.current is None or self.current.done:
            self.run_started("kernel")
        self._end_line()
        self._write(message.rstrip("\n") + "\n", "error")
        first = message.strip().splitlines()[0] if message.strip() else "no result"
        self._finish(f"✗ {first[:75]}")

    def show_result(self, result: Result) -> None:
        """The run's end: its output rebuilt in code order (values where the code showed them,
        among the printed text), then the error and the footer."""
        run = self.current
        if run is None or run.done:  # a result without its start (a view built late, tests)
            self.run_started(str(result.get("demo", "run")))
            run = self.current
            assert run is not None
        streams = run.streams or ([("stdout", str(result["stdout"]))] if result.get("stdout") else [])
        self._paint()
        on_screen = run.text if self.shown == len(self.runs) - 1 and self.is_mounted else None
        ok = bool(result.get("ok"))
        what = run.title.removeprefix("running ").removesuffix("…").replace(WAITING, "")
        self.runs[-1] = run = OutputRun(run.title, done=True)
        self._write(f"✓ ran {what}\n" if ok else f"✗ {what}: failed (the error is at the end)\n",
                    "ok" if ok else "failed")
        for piece in in_code_order(streams, list(result.get("values") or [])):
            if isinstance(piece, tuple):
                self.stream(piece[1], piece[0])
            else:
                self._end_line()
                self._write("\n" + escape_controls(str(piece.get("text", ""))).rstrip("\n") + "\n")
        self._end_line()
        error = result.get("error")
        if error:
            # What went wrong first (where a small terminal scrolls to), then where.
            self._write("\n")
            run.error_row = run.last_row
            self._write(escape_controls(error_summary(error)) + "\n", "error")
            details = without_boilerplate(error_text(error))
            if details.strip() and details.strip() != error_summary(error).removeprefix("✗ "):
                self._write(escape_controls(details).rstrip("\n") + "\n", "stderr")
        self._write("\n" + footer(result) + "\n", "ok" if result.get("ok") else "failed")
        if self.shown == len(self.runs) - 1:  # the user is not looking at an earlier run
            if on_screen is None or not self._edit_shown(on_screen, run):
                self._show(len(self.runs) - 1)
            # From the verdict down, in the order the code ran; after a failure, the error.
            self.query_one(OutputText).reveal(run.error_row if run.error_row is not None else 0)

    def _edit_shown(self, shown: str, run: OutputRun) -> bool:
        """Turn the streamed text on screen into the run's final text by editing its first
        line and appending the end, when that is all that differs (no value was placed among
        the printed lines): loading 100,000 printed lines again kept keys waiting 3 s."""
        text = run.text
        shown_body, new_body = shown.partition("\n")[2], text.partition("\n")[2]
        if "\n" not in shown or not new_body.startswith(shown_body):
            return False  # nothing painted yet (or values placed among the lines): load it all
        view = self.query_one(OutputText)
        view.row_styles = run.styles
        view.replace(text.partition("\n")[0], (0, 0), (0, len(view.document.get_line(0))))
        view.append(new_body[len(shown_body):])
        return True

    # -- writing ----------------------------------------------------------------------------
    def stream(self, text: str, name: str = "stdout") -> None:
        run = self.current
        if run is None or not text:
            return
        run.streams.append((name, text))
        if run.open_stream is not None and run.open_stream != name:
            self._write("\n")  # the other stream's partial line stays as it is
        self._write(escape_controls(text), "stderr" if name == "stderr" else "")
        run.open_stream = None if text.endswith("\n") else name

    def message(self, text: str, style: str = "note") -> None:
        """A line from the app (not the run)."""
        self._end_line()
        self._write(text.rstrip("\n") + "\n", style)

    def _end_line(self) -> None:
        run = self.current
        if run is not None and run.open_stream is not None:
            self._write("\n")
            run.open_stream = None

    def _write(self, text: str, style: str = "") -> None:
        """Append to the current run, and to the screen when it is the run shown."""
        run = self.current
        if run is None:
            return
        first = run.last_row
        run.add(text)
        if style:
            # every line this text touches, but not the empty line after its final newline
            last = run.last_row - (1 if text.endswith("\n") else 0)
            run.styles.update({row: style for row in range(first, last + 1)})
        if self.shown == len(self.runs) - 1 and self.is_mounted and not run.done:
            self._unpainted.append(text)
            if self._paint_timer is None:
                self._paint_timer = self.set_timer(PAINT_EVERY_S, self._paint)

    def _paint(self) -> None:
        """Put the text written since the last paint on the screen, in one append."""
        if self._paint_timer is not None:
            self._paint_timer.stop()
            self._paint_timer = None
        run = self.current
        if not self._unpainted or run is None or not self.is_mounted:
            return
        text = "".join(self._unpainted)
        self._unpainted.clear()
        view = self.query_one(OutputText)
        view.row_styles = run.styles
        view.append(text)

    def _finish(self, summary: str) -> None:
        """The run ended without a result: its `▶ running…` line says so instead."""
        run = self.current
        if run is None:
            return
        run.done = True
        _first, _, rest = run.text.partition("\n")
        run.text = summary + "\n" + rest
        run.styles[0] = "failed"
        if self.shown == len(self.runs) - 1:
            self._show(self.shown)

    # -- the runs kept ----------------------------------------------------------------------
    def _show(self, index: int) -> None:
        self.shown = index
        self._unpainted.clear()  # the run's whole text is shown now
        if not self.is_mounted:
            return
        run = self.runs[index]
        self.query_one(OutputText).show(run.text, run.styles)
        status = self.query_one(".output-status", Static)
        older = len(self.runs) - 1 - index
        status.display = older > 0
        if older:
            status.update(Text(f"an earlier run ({older} before the last): ] goes forward, [ back",
                               style="bold"))

    def action_older_run(self) -> None:
        if self.shown > 0:
            self._show(self.shown - 1)
        else:
            self.app.notify("No earlier run is kept.", timeout=3)

    def action_newer_run(self) -> None:
        if self.shown < len(self.runs) - 1:
            self._show(self.shown + 1)
