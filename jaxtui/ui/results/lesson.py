"""The Lesson tab: the demo's module docstring, rendered in the first frame.

Not Textual's Markdown widget (a widget per block: about 150 ms for the grad lesson on 2
cores), nor rich's Markdown (markdown-it's import alone is 60 ms): lessons use a small part of
Markdown (headings, paragraphs, bullets, tables, code fences, `code`, **strong**, *emphasis*),
rendered here into rich text in a millisecond, so the lesson is on screen with the first frame.
The view is focusable: it scrolls with the arrows, PageUp/PageDown and Home/End.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from jaxtui.ui.results.base import COPY_SAVE_BINDINGS, ResultsView

NO_LESSON = "*This file has no lesson: add a module docstring.*"
INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])")
CODE_STYLE = "bold cyan"


def inline(text: str, style: str = "") -> Text:
    """`code`, **strong** and *emphasis* of one paragraph as styled text."""
    out = Text(style=style)
    at = 0
    for match in INLINE.finditer(text):
        out.append(text[at:match.start()])
        code, strong, emphasis = match.groups()
        if code is not None:
            out.append(code, CODE_STYLE)
        elif strong is not None:
            out.append_text(inline(strong, "bold"))
        else:
            out.append_text(inline(emphasis, "italic"))
        at = match.end()
    out.append(text[at:])
    return out


def _table(rows: list[str]) -> Table:
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows
             if not re.fullmatch(r"\|?[\s:|-]+\|?", row.strip())]
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
    for head in cells[0]:
        table.add_column(inline(head))
    for row in cells[1:]:
        table.add_row(*(inline(c) for c in row))
    return table


class _Bullets:
    """A bulleted list: `• ` before each item, its wrapped lines indented under its text (a
    rich Table grid did the same at several times the cost, in the first frame)."""

    def __init__(self, items: list[str]) -> None:
        self.items = [inline(item) for item in items]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        inner = options.update_width(max(1, options.max_width - 2))
        for item in self.items:
            for i, line in enumerate(console.render_lines(item, inner, pad=False)):
                yield Segment("• " if i == 0 else "  ")
                yield from line
                yield Segment.line()


def render_lesson(markdown: str) -> RenderableType:
    """The lesson's Markdown as rich renderables, blank lines between blocks."""
    blocks: list[RenderableType] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        if stripped.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")), len(lines))
            blocks.append(Text("\n".join(lines[i + 1:end]), style="cyan"))
            i = end + 1
        elif stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            blocks.append(inline(stripped[level:].strip(), "bold underline" if level == 1 else "bold"))
            i += 1
        elif stripped.startswith("|"):
            end = next((j for j in range(i, len(lines)) if not lines[j].strip().startswith("|")), len(lines))
            blocks.append(_table(lines[i:end]))
            i = end
        elif re.match(r"[-*] ", stripped):
            items: list[str] = []
            while i < len(lines) and lines[i].strip():
                item = lines[i].strip()
                if re.match(r"[-*] ", item):
                    items.append(item[2:])
                else:
                    items[-1] += " " + item  # a continuation line of the item
                i += 1
            blocks.append(_Bullets(items))
        else:
            paragraph: list[str] = []
            while i < len(lines) and lines[i].strip() and not re.match(r"(#|```|\||[-*] )", lines[i].strip()):
                paragraph.append(lines[i].strip())
                i += 1
            blocks.append(inline(" ".join(paragraph)))
    spaced: list[RenderableType] = []
    for block in blocks:
        if spaced:
            spaced.append(Text(""))
        spaced.append(block)
    return Group(*spaced)


class LessonView(ScrollView, ResultsView):
    """The lesson, scrollable with the arrows, PageUp/PageDown and Home/End. One widget that
    draws its own lines (a scroll container holding a Static is two: each widget mounted
    costs the first frame 5-10 M instructions)."""

    HELP_TITLE = "Lesson"
    HELP = ("The pane's lesson: what the code shows and where the source notes were wrong. "
            "Scroll with the arrows, PageUp/PageDown and Home/End; y copies it, s saves it. "
            "The lesson is the module docstring of the demo file.")
    SAVE_NAME = "lesson"
    BINDINGS = COPY_SAVE_BINDINGS
    ALLOW_MAXIMIZE = False  # ctrl+g gives the screen to the results (tab bar and view), as elsewhere

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lines: list[Strip] = []
        self._laid_out_for: tuple[int, str] | None = None  # (width, theme) the lines are for

    @property
    def text(self) -> str:
        return self.demo.lesson if self.demo is not None else ""

    def _lay_out(self) -> None:
        """Render the lesson at the width it has now (again when the width or theme changes)."""
        width = self.scrollable_content_region.width
        key = (width, self.app.theme)
        if width <= 0 or key == self._laid_out_for:
            return
        self._laid_out_for = key
        console = self.app.console
        options = console.options.update_width(width)
        style = self.rich_style
        self._lines = [Strip(line) for line in
                       console.render_lines(render_lesson(self.text or NO_LESSON), options, style=style)]
        self.virtual_size = Size(width, len(self._lines))

    def on_resize(self) -> None:
        self._lay_out()

    def render_line(self, y: int) -> Strip:
        self._lay_out()
        row = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if row >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        return self._lines[row].crop_extend(self.scroll_offset.x, self.scroll_offset.x + width, self.rich_style)
