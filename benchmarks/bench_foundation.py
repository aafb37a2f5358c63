"""Foundation figures, each against a baseline measured in the same run (medians of repeats).

1. First frame: jaxtui vs a minimal Textual app, both started in tmux and polled until
   their first screen shows, timed from the process launch (target: within 1.3x of the
   minimal app, never waiting on jax); and the lesson's text on screen (it is built just after
   the first frame; target: within 1.5x of the minimal app's first frame).
2. Kernel ready vs a bare `python -c "import jax; jax.devices()"` (target: within 0.3 s).
3. Round trip of a trivial run on a warm kernel: client wall time minus the kernel's own
   compute time, through the protocol and through the app up to the Output (target: 100 ms).
4. UI event-loop gaps while the kernel computes for a few seconds (target: under 50 ms).
5. UI process RSS after the kernel is ready (target: under 120 MB).
6. A key (F1) while a run prints as fast as it can (200,000 lines), against the same key on
   the idle app, in tmux (target: under 250 ms, within 5x idle).

Run: python benchmarks/bench_foundation.py [--repeats N] [--frames-only] [--flood-only]
Needs tmux. Prints one line per figure with PASS/FAIL against its target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SOCK = f"jaxtui-bench-{os.getpid()}"
MINIMAL_APP = textwrap.dedent("""
    from textual.app import App
    from textual.widgets import Footer, Static
    class Minimal(App):
        def compose(self):
            yield Static("minimal app ready")
            yield Footer()
    Minimal().run()
""")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCK, *args], capture_output=True, text=True).stdout


def new_session(command: str) -> None:
    """Start `command` in a fresh 100x30 tmux session (a server still shutting down can
    refuse the first try)."""
    for _ in range(5):
        done = subprocess.run(["tmux", "-L", SOCK, "new-session", "-d", "-s", "b", "-x", "100",
                               "-y", "30", command], capture_output=True, text=True)
        if done.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"tmux would not start a session: {done.stderr.strip()}")


def time_to_screen(command: str, *markers: str, timeout: float = 30.0) -> list[float]:
    """Seconds from launch until each marker is on the screen (in order)."""
    tmux("kill-server")
    t0 = time.perf_counter()
    new_session(command)
    times: list[float] = []
    try:
        while time.perf_counter() - t0 < timeout:
            screen = tmux("capture-pane", "-p", "-t", "b")
            while len(times) < len(markers) and markers[len(times)] in screen:
                times.append(time.perf_counter() - t0)
            if len(times) == len(markers):
                return times
            time.sleep(0.01)
        raise RuntimeError(f"{markers[len(times)]!r} never appeared for {command!r}")
    finally:
        tmux("kill-server")


def compile_bytecode() -> None:
    """Write jaxtui's .pyc files, as `pip install` does: a checkout run with
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module at each start."""
    import compileall

    import jaxtui

    compileall.compile_dir(Path(jaxtui.__file__).parent, quiet=1)


FLOOD = '''"""# flood

Prints as fast as it can."""
for i in range(200_000):
    print("line", i, "x" * 40)
'''


def wait_kernel_ready(timeout: float) -> None:
    """Until the app in the tmux session says its kernel is ready."""
    t0 = time.perf_counter()
    while "ready" not in tmux("capture-pane", "-p", "-t", "b"):
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError("kernel never became ready")
        time.sleep(0.1)


def f1_latency() -> float:
    """Seconds from sending F1 until the help screen shows, then closes it."""
    t0 = time.perf_counter()
    tmux("send-keys", "-t", "b", "F1")
    while "Keys here" not in tmux("capture-pane", "-p", "-t", "b"):
        if time.perf_counter() - t0 > 30:
            raise RuntimeError("F1 never showed the help")
        time.sleep(0.005)
    latency = time.perf_counter() - t0
    tmux("send-keys", "-t", "b", "Escape")
    while "Keys here" in tmux("capture-pane", "-p", "-t", "b"):  # closed before the next F1
        time.sleep(0.01)
    time.sleep(0.3)
    return latency


def flood_figures(repeats: int) -> dict[str, float]:
    """F1 on the idle app, then F1 while a run floods the Output (a new run each time the
    last one ended), in one tmux session."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "flood.py"
        path.write_text(FLOOD)
        tmux("kill-server")
        new_session(f"env JAXTUI_STATE_DIR={tmp}/state {sys.executable} -m jaxtui {path}")
        try:
            wait_kernel_ready(120)
            idle = [f1_latency() for _ in range(repeats)]
            busy: list[float] = []
            while len(busy) < repeats:
                if "kernel busy" not in tmux("capture-pane", "-p", "-t", "b"):
                    tmux("send-keys", "-t", "b", "C-r")
                    time.sleep(2.0)  # printing in full flow
                    continue
                busy.append(f1_latency())
            return {"idle": statistics.median(idle), "busy": statistics.median(busy)}
        finally:
            tmux("kill-server")


def ui_rss_mb() -> float:
    """Start jaxtui in tmux, wait for the kernel, read the UI process's RSS."""
    tmux("kill-server")
    new_session(f"{sys.executable} -m jaxtui")
    try:
        wait_kernel_ready(60)
        pane_pid = tmux("display-message", "-p", "-t", "b", "#{pane_pid}").strip()
        rss_kb = int(subprocess.run(["ps", "-o", "rss=", "-p", pane_pid], capture_output=True,
                                    text=True).stdout.strip())
        return rss_kb / 1024
    finally:
        tmux("kill-server")


async def kernel_figures(repeats: int) -> dict[str, float]:
    from jaxtui import protocol as P
    from jaxtui.core.client import KernelClient, KernelConfig

    ready, overhead = [], []
    for _ in range(max(3, repeats // 2)):
        client = KernelClient(KernelConfig())
        t0 = time.perf_counter()
        await client.start()
        ready.append(time.perf_counter() - t0)
        if not overhead:
            for _ in range(5):  # warm-up
                await client.request(P.OP_EXEC, {"code": "1 + 1"})
            for _ in range(50):
                t = time.perf_counter()
                result = await client.request(P.OP_EXEC, {"code": "import jax.numpy as jnp\njnp.float32(2) * 3"})
                overhead.append(time.perf_counter() - t - result["elapsed_s"])
        await client.stop()
    return {"ready": statistics.median(ready), "overhead": statistics.median(overhead)}


def bare_import_jax(repeats: int) -> float:
    times = []
    for _ in range(max(3, repeats // 2)):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import jax, jax.numpy; jax.devices()"], check=True,
                       env={**os.environ, "JAX_PLATFORMS": "cpu"})
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def app_figures(repeats: int) -> dict[str, float]:
    """Run -> Output latency beyond the kernel's compute time, and loop gaps during compute."""
    from jaxtui.core.catalog import load
    from jaxtui.ui.app import JaxTUI

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.py"
        path.write_text("import jax.numpy as jnp\nprint(jnp.float32(2) * 3)\n")
        app = JaxTUI(user_demo=load(path), initial_pane="bench", cursor_blink=False)
        latencies: list[float] = []
        gaps: list[float] = []
        async with app.run_test(size=(100, 30)) as pilot:
            while app.kernel.state != "ready":
                await pilot.pause(0.05)
            pane = app.current_pane
            for i in range(repeats + 2):
                pane.last_result = None
                t0 = time.perf_counter()
                app.action_run()
                while pane.last_result is None:  # set once the result is on screen
                    await asyncio.sleep(0.001)
                wall = time.perf_counter() - t0
                if i >= 2:  # the first runs compile
                    latencies.append(wall - pane.last_result["elapsed_s"])
            # event-loop gaps while the kernel computes for ~3 s
            pane.editor.load_text(textwrap.dedent("""
                import time, jax, jax.numpy as jnp
                x = jnp.ones((700, 700))
                t = time.perf_counter()
                while time.perf_counter() - t < 3:
                    x = (x @ x) / 700.0
                    x.block_until_ready()
                print('done')
            """))
            last = time.perf_counter()

            def tick() -> None:
                nonlocal last
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

            timer = app.set_interval(0.01, tick)
            pane.last_result = None
            app.action_run()
            while pane.last_result is None:
                await asyncio.sleep(0.01)
            timer.stop()
    return {"ui_overhead": statistics.median(latencies), "max_gap": max(gaps[1:]),
            "median_gap": statistics.median(gaps)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--frames-only", action="store_true", help="only the first-frame and lesson figures")
    parser.add_argument("--flood-only", action="store_true", help="only the key-while-printing figure")
    args = parser.parse_args()
    if not shutil.which("tmux"):
        print("tmux is needed for the first-frame figures")
        return 2
    if args.flood_only:
        compile_bytecode()
        _print(_flood_rows(flood_figures(args.repeats)))
        return 0
    py = sys.executable
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(MINIMAL_APP)
        minimal = f.name
    compile_bytecode()
    state = tempfile.mkdtemp(prefix="jaxtui-bench-state-")  # no remembered pane or theme
    ours, lesson, base = [], [], []
    for _ in range(args.repeats):  # interleaved, so drift hits both alike
        base += time_to_screen(f"{py} {minimal}", "minimal app ready")
        # the status bar is in the first frame; the lesson's Markdown is built right after it
        frame, text = time_to_screen(f"env JAXTUI_STATE_DIR={state} {py} -m jaxtui --pane grad", "kernel",
                                     "automatic differentiation")
        ours.append(frame)
        lesson.append(text)
    os.unlink(minimal)
    rows = []
    m_base, m_ours, m_lesson = statistics.median(base), statistics.median(ours), statistics.median(lesson)
    rows.append(("first frame: minimal Textual app", m_base, None, ""))
    rows.append(("first frame: jaxtui", m_ours, m_ours <= 1.3 * m_base,
                 f"{m_ours / m_base:.2f}x minimal (target <= 1.3x)"))
    rows.append(("jaxtui: lesson text on screen", m_lesson, m_lesson <= 1.5 * m_base,
                 f"{m_lesson / m_base:.2f}x minimal's first frame (target <= 1.5x)"))
    if args.frames_only:
        _print(rows)
        return 0
    kernel = asyncio.run(kernel_figures(args.repeats))
    bare = bare_import_jax(args.repeats)
    rows.append(("bare python: import jax + devices()", bare, None, ""))
    rows.append(("kernel ready (spawn to ready event)", kernel["ready"], kernel["ready"] - bare <= 0.3,
                 f"{kernel['ready'] - bare:+.3f} s vs bare (target <= +0.3 s)"))
    rows.append(("protocol round trip beyond compute", kernel["overhead"], kernel["overhead"] <= 0.1,
                 "target <= 100 ms; Jupyter's tiny cell: 8-13 ms"))
    app = asyncio.run(app_figures(args.repeats))
    rows.append(("app: run key to Output, beyond compute", app["ui_overhead"], app["ui_overhead"] <= 0.1,
                 "target <= 100 ms"))
    rows.append(("app: max event-loop gap during 3 s compute", app["max_gap"], app["max_gap"] <= 0.05,
                 f"median gap {app['median_gap'] * 1000:.1f} ms for a 10 ms timer (target max <= 50 ms)"))
    rows += _flood_rows(flood_figures(args.repeats))
    rss = ui_rss_mb()
    _print(rows)
    verdict = "PASS" if rss <= 120 else "FAIL"
    print(f"{'UI process RSS with the kernel ready':<46} {rss:>8.1f} MB  {verdict} target <= 120 MB")
    return 0


def _flood_rows(flood: dict[str, float]) -> list[tuple[str, float, bool | None, str]]:
    ok = flood["busy"] <= 0.25 and flood["busy"] <= 5 * flood["idle"]
    return [("F1 to help, idle app (tmux)", flood["idle"], None, ""),
            ("F1 to help while a run prints 200,000 lines", flood["busy"], ok,
             f"{flood['busy'] / flood['idle']:.1f}x idle (target <= 250 ms, <= 5x idle)")]


def _print(rows: list[tuple[str, float, bool | None, str]]) -> None:
    print(f"{'figure':<46} {'median':>10}  verdict")
    for name, value, ok, note in rows:
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{name:<46} {value * 1000:>8.1f} ms  {verdict:<4} {note}")


if __name__ == "__main__":
    raise SystemExit(main())
