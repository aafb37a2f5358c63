"""Screenshots of the real app for the README: every pane after a real run, the Devices tab,
a tour step (at 120x36 and at 80x24), help, jump mode and the palette, plus a 200x50 view.

    python scripts/screenshots.py                 # all of them, into screenshots/
    python scripts/screenshots.py --only tour     # names containing "tour"
    python scripts/screenshots.py --out /tmp/shots

Each shot is the app driven with Pilot (headless) against the real kernel, saved as SVG by
Textual and converted to PNG by rsvg-convert (librsvg2-bin; fonts-firacode and
fonts-symbola for the glyphs). The SVG's root gets xml:space="preserve" first, or
rsvg-convert drops the leading space of every text run ("import jax" renders as "importjax";
seen with librsvg 2.54).
Edits saved on this machine are kept out: the app gets an empty state directory.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
os.environ["JAXTUI_STATE_DIR"] = tempfile.mkdtemp(prefix="jaxtui-shots-state-")
for var in ("NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_COLOR_SYSTEM"):  # the default look
    os.environ.pop(var, None)
sys.path.insert(0, str(REPO))

from jaxtui.core.tour_format import find_tour  # noqa: E402
from jaxtui.ui.app import JaxTUI  # noqa: E402
from jaxtui.ui.widgets.deferred import pending  # noqa: E402

WIDE = (120, 36)
SMALL = (80, 24)
HUGE = (200, 50)
PNG_PX_PER_COLUMN = 12  # 120 columns -> 1440 px: readable on a README page


@dataclass
class Shot:
    name: str
    size: tuple[int, int]
    prepare: Callable[[Any, JaxTUI], Awaitable[None]]  # (pilot, app)
    tour_step: int | None = None  # start the app in the default tour at this step
    pane: str = "grad"


async def until(pilot: Any, predicate: Callable[[], bool], timeout: float = 120.0, what: str = "") -> None:
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.05)


async def run_pane(pilot: Any, app: JaxTUI, name: str, tab: str) -> None:
    """Show a pane, run it on the kernel, wait for the result, show a results tab."""
    app.show_pane(name)
    await until(pilot, lambda: app.current_pane.is_mounted and bool(app.current_pane.query("CodeEditor")),
                what=f"the {name} pane")
    await until(pilot, lambda: not pending(app), what="the views built after the first frame")
    await until(pilot, lambda: app.kernel.state == "ready", what="the kernel")
    worker = app.action_run()
    assert worker is not None, f"{name}: an input was refused"
    await worker.wait()
    result = app.current_pane.last_result or {}
    if not result.get("ok"):
        raise RuntimeError(f"{name} failed: {result.get('error')}")
    app.current_pane.results.active = tab
    app.set_focus(None)  # no cursor in the picture
    await pilot.pause(0.5)  # plots and tables draw


def pane_shot(name: str, tab: str, size: tuple[int, int] = WIDE, suffix: str = "") -> Shot:
    async def prepare(pilot: Any, app: JaxTUI) -> None:
        await run_pane(pilot, app, name, tab)

    return Shot(f"pane-{name}{suffix}", size, prepare, pane=name)


async def devices(pilot: Any, app: JaxTUI) -> None:
    await until(pilot, lambda: app.kernel.state == "ready", what="the kernel")
    app.show_pane("devices")
    await until(pilot, lambda: not pending(app), what="the Devices view")
    view = app.query_one("#devices-view")
    await until(pilot, lambda: bool(getattr(view, "described", None)), what="the device table")
    app.set_focus(None)
    await pilot.pause(0.5)


def tour_shot(name: str, step: int, size: tuple[int, int]) -> Shot:
    async def prepare(pilot: Any, app: JaxTUI) -> None:
        await until(pilot, lambda: app.tour_panel is not None and app.tour_panel.settled,
                    what="the tour step")
        app.set_focus(None)
        await pilot.pause(0.5)

    return Shot(name, size, prepare, tour_step=step)


async def help_screen(pilot: Any, app: JaxTUI) -> None:
    app.current_pane.editor.focus()
    await pilot.press("f1")
    await pilot.pause(0.5)


async def jump_mode(pilot: Any, app: JaxTUI) -> None:
    await run_pane(pilot, app, "vmap", "output")
    await pilot.press("ctrl+o")
    await pilot.pause(0.3)


async def palette(pilot: Any, app: JaxTUI) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause(0.3)
    await pilot.press(*"tour")
    await pilot.pause(0.6)


def timing_step() -> int:
    """The tour step that times jit (its title may change; its tab will not)."""
    steps = find_tour().steps
    return next(i for i, s in enumerate(steps) if s.pane == "jit" and s.show == "timing")


SHOTS = [
    pane_shot("grad", "output"),
    pane_shot("jit", "timing"),
    pane_shot("vmap", "jaxpr"),
    pane_shot("lax", "output"),
    pane_shot("pmap", "output"),
    pane_shot("stax", "plots"),
    Shot("devices", WIDE, devices),
    tour_shot("tour", timing_step(), WIDE),
    tour_shot("tour-80x24", 2, SMALL),
    Shot("help", WIDE, help_screen),
    Shot("jump", WIDE, jump_mode, pane="vmap"),
    Shot("palette", WIDE, palette),
    pane_shot("jit", "timing", size=HUGE, suffix="-200x50"),
    pane_shot("grad", "output", size=SMALL, suffix="-80x24"),
]


async def take(shot: Shot, out: Path) -> Path:
    tour = find_tour() if shot.tour_step is not None else None
    first = tour.steps[shot.tour_step].pane if tour is not None and shot.tour_step is not None else shot.pane
    app = JaxTUI(cursor_blink=False, tour=tour, initial_pane=first)
    svg = out / f"{shot.name}.svg"
    async with app.run_test(size=shot.size) as pilot:
        if tour is not None and shot.tour_step:
            await until(pilot, lambda: app.tour_panel is not None, what="the tour")
            app.tour_panel.go(shot.tour_step)
        await shot.prepare(pilot, app)
        app.save_screenshot(filename=svg.name, path=str(out))
    return svg


_TEXT = re.compile(r'(<text [^>]*?textLength=")([0-9.]+)("[^>]*>)([^<]*)(</text>)')


def _trim_trailing_spaces(match: re.Match[str]) -> str:
    """rsvg-convert drops a text run's trailing spaces but still stretches the rest to the
    run's textLength, so the glyphs drift right; trim them and shorten the length to match."""
    head, length, mid, body, tail = match.groups()
    chars = len(html.unescape(body))
    trimmed = re.sub(r"(&#160;| )+$", "", body)
    kept = len(html.unescape(trimmed))
    if kept == chars or chars == 0:
        return match.group(0)
    return f"{head}{float(length) * kept / chars:.1f}{mid}{trimmed}{tail}"


def to_png(svg: Path, columns: int) -> Path:
    png = svg.with_suffix(".png")
    text = svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1)
    text = _TEXT.sub(_trim_trailing_spaces, text)
    subprocess.run(["rsvg-convert", "-f", "png", "-w", str(columns * PNG_PX_PER_COLUMN), "-o", str(png)],
                   input=text.encode(), check=True)
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="only shots whose name contains TEXT (repeatable)")
    args = parser.parse_args(argv)
    if shutil.which("rsvg-convert") is None:
        print("rsvg-convert is missing: apt-get install librsvg2-bin fonts-firacode fonts-symbola",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    shots = [s for s in SHOTS if not args.only or any(t in s.name for t in args.only)]
    for shot in shots:
        t0 = time.monotonic()
        svg = asyncio.run(take(shot, args.out))
        png = to_png(svg, shot.size[0])
        print(f"{png.relative_to(REPO) if png.is_relative_to(REPO) else png}  "
              f"({shot.size[0]}x{shot.size[1]}, {time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
