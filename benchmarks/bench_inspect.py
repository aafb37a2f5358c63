"""Inspection figures, each against a baseline measured in the same run (medians of repeats).

1. Live update, per demo: an edit is made in the app (real kernel: a line added at the top,
   so every source line moves), and the time is taken from the end of the pause (the live
   timer firing) to the Jaxpr view painted with the new jaxpr (it comes before compiling),
   and to the compiled result shown in every view. Target: 300 ms for the jaxpr.
   Baselines: the kernel's ping round trip, and the same demo run whole in inspect mode
   (what each pause would cost without live mode's slice).
2. A 5,000+-line HLO view opens: from handing the result to the pane to the painted frame
   with the HLO tab showing, and switching to the HLO tab after the text arrived while the
   tab was hidden (it loads when shown). Target: 0.5 s. Baseline: Textual's `Log` writing
   the same lines (the fastest of Textual's viewers: about 0.15 s for 5,000 lines, against 0.35 s
   for a read-only TextArea and 1.5 s for a Static, measured with Textual 8.2.8).
3. Scrolling that view: one pagedown, from the action to the view painted.

"Painted" is the view's own first render with the new text: the tab underline's animation
and Pilot's idle waits are not part of opening a view.

Run: python benchmarks/bench_inspect.py [--repeats N] [--demos grad,jit,...]
Prints one line per figure with PASS/FAIL against its target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("JAXTUI_STATE_DIR", tempfile.mkdtemp(prefix="jaxtui-bench-state-"))  # never the user's edits

from textual.app import App  # noqa: E402
from textual.widgets import Log  # noqa: E402

from jaxtui import protocol as P  # noqa: E402
from jaxtui.core.client import KernelConfig  # noqa: E402
from jaxtui.ui.app import JaxTUI  # noqa: E402
from jaxtui.ui.results.inspection import InspectionView  # noqa: E402
from jaxtui.ui.widgets.deferred import pending  # noqa: E402

LIVE_TARGET_S = 0.300
OPEN_TARGET_S = 0.500
DEMOS = ("grad", "jit", "vmap", "lax", "pmap", "stax", "playground")
UNROLLED = """
import jax.numpy as jnp
from jaxtui import demo

def unrolled(x):
    for i in range({steps}):
        x = jnp.sin(x) * (i + 1.0) + jnp.cos(x * 0.5)
    return x

demo.inspect(unrolled, jnp.ones(8), name="unrolled")
"""


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:7.1f} ms"


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "FAIL"


async def wait_until(pilot: Any, predicate: Callable[[], bool], timeout: float = 120.0) -> None:
    t0 = time.perf_counter()
    while not predicate():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("timed out")
        await pilot.pause(0.01)


def inspection_view(app: JaxTUI, tab: str) -> InspectionView:
    return app.current_pane.results.query_one(f"#{tab}", InspectionView)


# -- 1. live updates ----------------------------------------------------------------------

async def live_updates(app: JaxTUI, pilot: Any, demos: list[str], repeats: int) -> list[str]:
    lines = []
    pings = []
    for _ in range(repeats * 4):
        t = time.perf_counter()
        await app.kernel.request(P.OP_PING)
        pings.append(time.perf_counter() - t)
    lines.append(f"baseline: kernel ping round trip            median {ms(statistics.median(pings))}")
    app.action_toggle_live()
    for name in demos:
        app.show_pane(name)
        await wait_until(pilot, lambda: bool(app.current_pane.query("ResultsTabs")))
        await wait_until(pilot, lambda: not pending(app))  # its views are built after it shows
        pane = app.current_pane
        pane.results.active = "jaxpr"
        live = pane.live
        if not live.pending and live.shown == 0:
            live.now()
        await wait_until(pilot, lambda live=live: live.shown >= 1 and not live.pending)
        jaxpr_view = inspection_view(app, "jaxpr")
        renders: list[float] = []
        render_lines = jaxpr_view.view.render_lines

        def recording_render_lines(crop: Any, render_lines: Any = render_lines, renders: list = renders) -> Any:
            renders.append(time.perf_counter())
            return render_lines(crop)

        jaxpr_view.view.render_lines = recording_render_lines  # type: ignore[method-assign]
        painted, complete = [], []
        for i in range(repeats + 1):  # the first edit warms the caches of this pane's slice
            shown = live.shown
            # A line at the top: every source line moves, so the jaxpr's source info changes.
            pane.editor.insert(f"# edit {i}\n", (0, 0))
            await wait_until(pilot, lambda live=live, shown=shown: live.shown > shown and not live.pending)
            jaxpr_shown = live.fired_at + (live.last_partial_latency_s or live.last_latency_s or 0.0)
            await wait_until(pilot, lambda at=jaxpr_shown, renders=renders: any(t >= at for t in renders))
            if i:
                painted.append(min(t for t in renders if t >= jaxpr_shown) - live.fired_at)
                complete.append(live.last_latency_s)
        stale = " (stale!)" if jaxpr_view.stale else ""
        params = pane.run_params(focus_invalid=False) or {}
        whole = []
        for _ in range(2):
            t = time.perf_counter()
            await app.kernel.request(P.OP_INSPECT, params, background=True)
            whole.append(time.perf_counter() - t)
        p_med, c_med = statistics.median(painted), statistics.median(complete)
        lines.append(f"live update {name:<11} jaxpr painted {ms(p_med)}  compiled, every view updated {ms(c_med)}  "
                     f"whole demo in inspect mode {ms(statistics.median(whole))}  target {ms(LIVE_TARGET_S)}  "
                     f"{verdict(p_med, LIVE_TARGET_S)}{stale}")
    app.action_toggle_live()
    return lines


# -- 2 and 3. a 5,000-line HLO view ---------------------------------------------------------

class LogApp(App[None]):
    def compose(self):
        yield Log(id="log")


async def log_baseline(text: str, size: tuple[int, int], repeats: int) -> float:
    app = LogApp()
    samples = []
    async with app.run_test(size=size) as pilot:
        log = app.query_one(Log)
        for _ in range(repeats):
            log.clear()
            await pilot.pause()
            t = time.perf_counter()
            log.write_lines(text.split("\n"))
            await pilot.pause()
            samples.append(time.perf_counter() - t)
    return statistics.median(samples)


async def big_view(app: JaxTUI, pilot: Any, repeats: int, size: tuple[int, int]) -> list[str]:
    pane = app.current_pane
    params = {"code": UNROLLED.format(steps=900), "filename": "/tmp/jaxtui_bench_unrolled.py", "demo": "bench"}
    result = await app.kernel.request(P.OP_INSPECT, params)
    hlo = result["inspections"][0]["hlo"]
    n_lines = hlo.count("\n") + 1
    variants = []
    for i in range(2):  # two texts, so that no reload is skipped as "unchanged"
        ins = {**result["inspections"][0], "hlo": hlo + f"\n// variant {i}"}
        variants.append({**result, "inspections": [ins]})
    hlo_view = inspection_view(app, "hlo")
    text_view = hlo_view.view
    # When the view itself is painted: its first render with the new text (the tab's
    # underline animation and Pilot's idle wait are not part of opening the view).
    painted: list[float] = []
    render_lines = text_view.render_lines

    def recording_render_lines(crop: Any) -> Any:
        if not painted and text_view.text == hlo_view.text and text_view.document.line_count >= n_lines:
            painted.append(time.perf_counter())
        return render_lines(crop)

    text_view.render_lines = recording_render_lines  # type: ignore[method-assign]

    async def until_painted(t0: float) -> float:
        await wait_until(pilot, lambda: bool(painted))
        return painted[0] - t0

    shown_open = []
    pane.results.active = "hlo"
    await pilot.pause()
    for i in range(repeats):
        painted.clear()
        t = time.perf_counter()
        pane.show_result(variants[i % 2])
        shown_open.append(await until_painted(t))

    switch_open = []
    for i in range(repeats):
        pane.results.active = "jaxpr"
        await pilot.pause()
        pane.show_result(variants[(i + 1) % 2])
        await pilot.pause()
        painted.clear()
        t = time.perf_counter()
        pane.results.active = "hlo"
        switch_open.append(await until_painted(t))

    loaded_switch = []  # baseline: the same switch when the text is already loaded
    for _ in range(repeats):
        pane.results.active = "jaxpr"
        await pilot.pause()
        text_view.move_cursor((_ % 2, 0))  # a change to paint
        await pilot.pause()
        painted.clear()
        t = time.perf_counter()
        pane.results.active = "hlo"
        loaded_switch.append(await until_painted(t))

    text_view.focus()
    text_view.move_cursor((0, 0))
    await pilot.pause()
    pages = []
    for _ in range(20):
        painted.clear()
        t = time.perf_counter()
        text_view.action_cursor_page_down()
        pages.append(await until_painted(t))
    per_page = statistics.median(pages)

    baseline = await log_baseline(hlo, size, repeats)
    a, b = statistics.median(shown_open), statistics.median(switch_open)
    return [
        f"baseline: Log.write_lines of the same {n_lines:,} lines  median {ms(baseline)}",
        f"{n_lines:,}-line HLO, tab showing: result -> painted  median {ms(a)}  target {ms(OPEN_TARGET_S)}  "
        f"{verdict(a, OPEN_TARGET_S)}  ({a / baseline:.1f}x Log)",
        f"baseline: the same tab switch with the text already loaded  median {ms(statistics.median(loaded_switch))}",
        f"{n_lines:,}-line HLO, loaded while hidden: tab switch -> painted  median {ms(b)}  "
        f"target {ms(OPEN_TARGET_S)}  {verdict(b, OPEN_TARGET_S)}",
        f"pagedown in it: action -> painted  median {ms(per_page)} per page",
    ]


async def main(repeats: int, demos: list[str]) -> None:
    size = (140, 44)
    app = JaxTUI(kernel_config=KernelConfig(host_devices=8), initial_pane=demos[0], cursor_blink=False)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.kernel.state == "ready")
        await wait_until(pilot, lambda: bool(app.current_pane.query("ResultsTabs")))
        await wait_until(pilot, lambda: not pending(app))  # its views are built after it shows
        report = await live_updates(app, pilot, demos, repeats)
        report += await big_view(app, pilot, repeats, size)
        await app.kernel.stop()
    print(f"bench_inspect ({repeats} repeats, medians; live delay {app.live_delay_s * 1e3:.0f} ms not counted)")
    for line in report:
        print("  " + line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--demos", default=",".join(DEMOS))
    args = parser.parse_args()
    asyncio.run(main(args.repeats, args.demos.split(",")))
