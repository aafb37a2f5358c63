"""The timing harness, its charts and tables, headless and in the app.

No test asserts an absolute time. The harness's logic (first call apart, warm-up, budget,
blocking) is checked with a fake clock that only the timed function advances; with real
JAX only orderings that hold by orders of magnitude are asserted (a compile against a
cached call of a tiny function).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import PYTHON, views_built
from jaxtui.render import textplot
from jaxtui.render import timing_report as report

# -- the harness, with a fake clock -------------------------------------------------------------


class FakeClock:
    """Time that moves only when the timed code says so: durations are exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def measure(fn, *args, **kw):
    from jaxtui.kernel import timing

    return timing.measure("f", fn, *args, analyse=False, peak=None, **kw)


def test_first_call_is_measured_apart_and_never_mixed_into_the_samples():
    from jaxtui.kernel import timing

    clock, calls = FakeClock(), []

    def fn():
        calls.append(clock.now)
        clock.advance(100.0 if len(calls) == 1 else 1.0)  # the first call "compiles"

    rec = measure(fn, clock=clock, budget_s=8.0)
    assert rec["first_call_s"] == 100.0
    assert rec["samples_s"] == [1.0] * rec["n"] and rec["median_s"] == rec["min_s"] == 1.0
    assert rec["n"] == 8  # the budget, filled by 1-second calls
    assert len(calls) == 1 + timing.WARMUP_CALLS + rec["n"]  # first, warm-up, samples: in that order
    assert rec["error"] is None and rec["iqr_s"] == 0.0

    clock, calls = FakeClock(), []
    rec = measure(fn, clock=clock, budget_s=8.0, first_call=False)
    assert rec["first_call_s"] is None and 100.0 not in rec["samples_s"]  # the slow call was a warm-up


@pytest.mark.parametrize(("call_s", "budget_s", "expected"), [
    (1 / 64, 1.0, 64),  # the budget is filled
    (1 / 64, 1e9, 100),  # ... up to max_samples
    (0.3, 0.5, 5),  # at least min_samples
    (10.0, 0.5, 3),  # one call longer than the budget: three samples make a median
])
def test_sample_count_follows_the_budget(call_s, budget_s, expected):
    clock = FakeClock()
    rec = measure(lambda: clock.advance(call_s), clock=clock, budget_s=budget_s, max_samples=100)
    assert rec["n"] == len(rec["samples_s"]) == expected


class Leaf:
    """An output leaf that takes `cost` seconds to become ready."""

    def __init__(self, clock: FakeClock, cost: float, log: list[str], name: str) -> None:
        self.clock, self.cost, self.log, self.name = clock, cost, log, name

    def block_until_ready(self) -> Leaf:
        self.clock.advance(self.cost)
        self.log.append(self.name)
        return self


def test_every_leaf_of_the_output_pytree_is_blocked_inside_the_timed_region():
    clock, log = FakeClock(), []

    def fn():  # dispatch is free; readiness of each leaf costs time, as with async dispatch
        return {"a": Leaf(clock, 1.0, log, "a"), "b": [Leaf(clock, 2.0, log, "b"), (Leaf(clock, 4.0, log, "c"),)]}

    rec = measure(fn, clock=clock, budget_s=0.0)
    assert rec["samples_s"] == [7.0] * rec["n"] and rec["first_call_s"] == 7.0
    calls = 1 + 2 + rec["n"]
    assert sorted(log) == sorted(["a", "b", "c"] * calls)


def test_a_function_that_fails_reports_the_error_not_a_time():
    calls = []

    def flaky(x):
        calls.append(x)
        if len(calls) == 4:
            raise ValueError("bad shape (7, -1)")
        return x

    rec = measure(flaky, 1, budget_s=0.01)
    assert rec["error"] == {"type": "ValueError", "message": "bad shape (7, -1)"}
    assert rec["median_s"] is None and rec["n"] == 0 and rec["samples_s"] == []
    assert "✗ ValueError: bad shape (7, -1)" in report.timings_table([rec])


# -- the harness, with real JAX -----------------------------------------------------------------


def test_jitted_first_call_is_clean_staged_and_slower_than_cached():
    import jax
    import jax.numpy as jnp

    from jaxtui.kernel import timing

    f = jax.jit(lambda v: jnp.sin(v) * 2.0 + 1.0)
    x = jnp.ones(1000)
    for _ in range(3):
        f(x).block_until_ready()  # compiled before: the harness must still see a real first call
    peak = {"source": "measured", "bytes_per_s": 1e10, "flops_per_s": {"f32": 1e11, "bf16": 1e11}}
    rec = timing.measure("jit f", f, x, budget_s=0.02, peak=peak)
    stages = rec["first_call_stages"]
    assert set(stages) == {"trace_s", "lower_s", "compile_s", "run_s", "compiles"}
    assert stages["compiles"] == 1 and stages["trace_s"] > 0 and stages["lower_s"] > 0
    assert rec["first_call_s"] > rec["median_s"], "the first call includes the compile"
    assert stages["compile_s"] > rec["median_s"]
    assert stages["trace_s"] + stages["lower_s"] + stages["compile_s"] + stages["run_s"] == pytest.approx(
        rec["first_call_s"])
    work, achieved = rec["work"], rec["achieved"]
    assert work["source"] == "compiled" and work["flops"] > 0 and work["bytes"] > 0
    assert achieved["flops_per_s"] == work["flops"] / rec["median_s"]
    assert achieved["bytes_per_s"] == work["bytes"] / rec["median_s"]
    assert achieved["bytes_frac"] == achieved["bytes_per_s"] / 1e10
    assert achieved["attainable_flops_per_s"] == min(1e11, achieved["intensity"] * 1e10)


def test_eager_work_is_the_unfused_program_and_moves_more_bytes():
    import jax
    import jax.numpy as jnp

    from jaxtui.kernel import timing

    def chain(v):
        for _ in range(3):
            v = jnp.sin(v) * 0.5 + v * v - 0.1
        return v

    x = jnp.ones(4096)
    eager = timing.measure("eager", chain, x, budget_s=0.01, first_call=False, peak=None)
    fused = timing.measure("jit", jax.jit(chain), x, budget_s=0.01, first_call=False, peak=None)
    assert eager["work"]["source"].startswith("lowered") and fused["work"]["source"] == "compiled"
    assert eager["work"]["bytes"] > 3 * fused["work"]["bytes"]
    assert not eager["jitted"] and fused["jitted"]
    eager_first = timing.measure("eager", chain, x, budget_s=0.01, peak=None, analyse=False)
    assert eager_first["first_call_stages"]["compiles"] >= 3  # sin, mul, add...: each op compiles once


def test_a_function_jit_cannot_trace_still_gets_a_time():
    import jax.numpy as jnp

    from jaxtui.kernel import timing

    def python_branch(v):
        return v * 2 if float(v.sum()) > 0 else v  # concrete in eager mode, a tracer under jit

    rec = timing.measure("branchy", python_branch, jnp.ones(8), budget_s=0.01, first_call=False, peak=None)
    assert rec["error"] is None and rec["median_s"] > 0
    assert rec["work"] is None and ("Concretization" in rec["work_error"] or "Tracer" in rec["work_error"])
    assert "n/a:" in report.limits_table([rec])


def test_peaks_nominal_table_and_cpu_probe():
    import jax

    from jaxtui.kernel import peaks

    assert peaks.nominal_peak("NVIDIA H100 80GB HBM3")["name"] == "NVIDIA H100 SXM"
    assert peaks.nominal_peak("NVIDIA H100 PCIe")["name"] == "NVIDIA H100 PCIe"
    assert peaks.nominal_peak("NVIDIA A100-SXM4-40GB")["bytes_per_s"] == 1.555e12
    assert peaks.nominal_peak("NVIDIA L40S")["name"] == "NVIDIA L40S"
    assert peaks.nominal_peak("TPU v5 lite")["name"] == "TPU v5e"
    assert peaks.nominal_peak("TPU v5")["name"] == "TPU v5p"
    assert peaks.nominal_peak("TPU v4")["source"] == "nominal"
    assert peaks.nominal_peak("Some Future Chip") is None
    cpu = peaks.device_peak()
    assert cpu["source"] == "measured" and cpu["bytes_per_s"] > 0 and cpu["flops_per_s"]["f32"] > 0
    assert peaks.device_peak() is cpu  # once per kernel
    assert peaks.nominal_peaks(jax.devices()[0]) == {}  # doctor: no nominal figure for a CPU


# -- sweeps -------------------------------------------------------------------------------------


def test_sweep_refuses_what_will_not_fit_before_running_it():
    import jax
    import jax.numpy as jnp

    from jaxtui.kernel import timing

    seen: list[dict[str, Any]] = []
    made: list[tuple[int, bool]] = []

    def make_args(n):
        out = jnp.ones(n)
        made.append((n, type(out).__name__ == "ArrayImpl"))  # a real array, or only traced
        return out

    recs = timing.sweep("double", {"jit": jax.jit(lambda v: v * 2)}, [16, 1024, 10**13], make_args,
                        budget_s=0.005, on_record=seen.append, analyse=False)
    assert [r["size"] for r in recs] == [16, 1024, 10**13] and seen == recs
    assert [r["sweep"] for r in recs] == [{"index": i, "total": 3} for i in range(3)]
    assert recs[0]["median_s"] > 0 and recs[1]["median_s"] > 0
    big = recs[2]
    assert big["error"]["type"] == "TooLarge" and big["median_s"] is None
    assert "size 10,000,000,000,000 needs about 72.8 TiB (inputs 36.4 TiB, outputs 36.4 TiB" in big["error"]["message"]
    assert (10**13, False) in made and (10**13, True) not in made  # shapes read, never built
    assert big["memory_estimate"]["total_bytes"] == 8 * 10**13


def test_demo_sweep_records_progress_and_keeps_points_when_interrupted():
    import jax.numpy as jnp

    import jaxtui.demo as demo

    events: list[tuple[str, dict[str, Any]]] = []
    session = demo.Session(emit=lambda kind, data: events.append((kind, data)))
    demo._session = session
    calls = {"n": 0}

    def slow_at_large_sizes(v):
        if v.shape[0] >= 4096:
            raise KeyboardInterrupt  # what SIGINT does to the kernel mid-sweep
        calls["n"] += 1
        return v + 1

    try:
        with pytest.raises(KeyboardInterrupt):
            demo.sweep("add one", slow_at_large_sizes, [16, 256, 4096, 65536], lambda n: jnp.ones(n),
                       budget_s=0.005)
    finally:
        demo._session = None
    assert [t["size"] for t in session.timings] == [16, 256]  # the points done stay
    kinds = [k for k, _ in events]
    assert kinds == ["timing", "progress", "timing", "progress"]
    assert events[1][1] == {"label": "sweep add one", "done": 1, "total": 4}


def test_demo_time_returns_none_and_records_the_error(capsys):
    import jaxtui.demo as demo

    session = demo.Session()
    demo._session = session
    try:
        assert demo.time("broken", lambda: 1 / 0, budget_s=0.001) is None
    finally:
        demo._session = None
    assert session.timings[0]["error"]["type"] == "ZeroDivisionError"
    assert "timing failed: broken: ZeroDivisionError" in capsys.readouterr().err


# -- charts and tables (no jax, no textual) -----------------------------------------------------


def test_bar_height_matches_the_text_and_log_axes_survive_redraws():
    bars = {"kind": "bars", "title": "g", "labels": ["a", "bb", "ccc"], "legend": ["first call", "cached"],
            "values": [[0.05, 0.001], [0.04, 0.002], [0.03, 0.003]], "unit": "s"}
    text = textplot.bar_text(bars, 60)
    assert len(text.rstrip("\n").splitlines()) == textplot.bar_height(bars)
    assert "(ms per call)" in text and "50.00" in text and "first call" in text
    one = {**bars, "legend": [], "values": [[0.001], [0.002], [0.003]]}
    assert len(textplot.bar_text(one, 60).rstrip("\n").splitlines()) == textplot.bar_height(one)
    lines = {"kind": "lines", "title": "t", "logx": True, "logy": True, "xunit": "count", "yunit": "s",
             "series": [{"name": "a", "x": [1e3, 1e4, 1e5], "y": [1e-5, 1e-4, 1e-3]}]}
    first = textplot.render_text(lines, 70, 14)
    assert first == textplot.render_text(lines, 70, 14)  # nothing kept between draws
    assert "1k" in first and "100k" in first and "10 µs" in first and "1 ms" in first


# -- headless: `jaxtui run` ---------------------------------------------------------------------

DEMO = '''
"""# timing test demo"""
import jax
import jax.numpy as jnp
from jaxtui import demo

x = jnp.ones(2048)
y = jnp.ones(2048)

def mul(a, b):
    return a * b

demo.time("no jit: x * y", mul, x, y, group="one op", budget_s=0.02)
demo.time("jit: x * y", jax.jit(mul), x, y, group="one op", budget_s=0.02)
demo.time("broken", lambda a: a.reshape(7, -1), x, group="one op", budget_s=0.02)
demo.sweep("double", {"eager": lambda v: v * 2, "jit": jax.jit(lambda v: v * 2)},
           [256, 4096, 65536, 10**13], lambda n: jnp.ones(n), budget_s=0.01)
'''


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("timing") / "timed.py"
    path.write_text(textwrap.dedent(DEMO))
    return path


@pytest.fixture(scope="module")
def headless_json(demo_file) -> dict[str, Any]:
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(demo_file), "--json"], capture_output=True,
                          text=True, timeout=180)
    return json.loads(proc.stdout)


def test_headless_json_carries_every_sample_and_the_limits(headless_json):
    timings = headless_json["timings"]
    assert headless_json["ok"] is True  # a timing that fails does not fail the demo
    assert [t["label"] for t in timings[:3]] == ["no jit: x * y", "jit: x * y", "broken"]
    for t in timings:
        if t["error"]:
            continue
        assert len(t["samples_s"]) == t["n"] >= 5
        assert t["peak"]["source"] == "measured" and t["achieved"]["bytes_per_s"] > 0
    assert timings[2]["error"]["type"] == "TypeError" and timings[2]["median_s"] is None
    assert timings[1]["first_call_stages"]["compile_s"] > 0
    sizes = [(t["label"], t["size"]) for t in timings[3:]]
    assert sizes == [(v, n) for n in (256, 4096, 65536, 10**13) for v in ("eager", "jit")]
    assert all(t["error"]["type"] == "TooLarge" for t in timings[-2:])
    assert "timing failed: broken: TypeError: cannot reshape" in headless_json["stdout"]
    compiles = {c["name"]: c for c in headless_json["compiles"]}
    assert compiles["mul"]["compiles"] == 1 and compiles["mul"]["traces"] == 1  # the first call only
    assert not any("peak_probe" in name for name in compiles)  # the harness's own work is filed apart


def all_in_cache(result: dict[str, Any]) -> bool:
    """Every timed function's data fit in the CPU's last-level cache (the demo's arrays are
    small): then nothing is set against the DRAM peak and no roofline is drawn."""
    rated = [t for t in result["timings"] if t.get("achieved")]
    return all(t["achieved"]["in_cache"] for t in rated)


def test_headless_text_prints_tables_and_charts(demo_file, headless_json):
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(demo_file)], capture_output=True, text=True,
                          timeout=180, env={**__import__("os").environ, "COLUMNS": "90"})
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    for expected in ("one op: first call vs cached", "one op: cached calls, median",
                     "double: time per call vs size (log-log)", "double: memory throughput vs size",
                     "Against the device's limit", "First call, stage by stage",
                     "✗ TooLarge: size 10,000,000,000,000", "✗ TypeError: cannot reshape"):
        assert expected in out, expected
    roofline = "roofline: achieved flop/s vs arithmetic intensity" in out
    assert roofline is not all_in_cache(headless_json)
    if all_in_cache(headless_json):
        assert "in cache: the data of one call" in out
        limits = [line for line in out.splitlines() if line.endswith(("compiled", "unfused"))]
        assert limits and all(" in cache " in line for line in limits)


SLOW_SWEEP = '''
"""# a slow sweep"""
import time
import jax.numpy as jnp
from jaxtui import demo

def slow(v):
    time.sleep(0.2)  # Python code: SIGINT interrupts it at once; 36 points outlast the timeout
    return v + 1

demo.sweep("slow", slow, [2 ** k for k in range(4, 40)], lambda n: jnp.ones(min(n, 1024)), budget_s=0.05)
'''


def test_headless_timeout_keeps_the_sweep_points_taken(tmp_path):
    path = tmp_path / "sweepy.py"
    path.write_text(SLOW_SWEEP)
    # 8 s: the first timing also runs the once-per-kernel peak probe (a STREAM pass over
    # arrays larger than the cache, about a second or two on a shared 2-core VM)
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(path), "--json", "--timeout", "8"],
                          capture_output=True, text=True, timeout=120)
    result = json.loads(proc.stdout)
    assert proc.returncode == 124 and result["error"]["kind"] == "timeout"
    assert len(result["timings"]) >= 2 and all(t["median_s"] > 0 for t in result["timings"])
    assert [t["size"] for t in result["timings"]] == [2 ** k for k in range(4, 4 + len(result["timings"]))]


# -- the app --------------------------------------------------------------------------------------


async def test_timing_tab_draws_redraws_and_exports(headless_json, tmp_path, monkeypatch):
    from jaxtui.ui.app import JaxTUI
    from jaxtui.ui.results.timing import TimingView
    from jaxtui.ui.widgets.plot import BarChart, SeriesPlot

    monkeypatch.chdir(tmp_path)
    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="jit")
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.current_pane
        pane.show_result(headless_json)  # before the Timing view is built: it catches up
        pane.results.active = "timing"
        await views_built(pilot)
        view = pane.results.query_one(TimingView)
        bars, lines = view.query(BarChart), view.query(SeriesPlot)
        # first vs cached, cached; time, throughput and (for data out of the cache) a roofline
        assert len(bars) == 2 and len(lines) == (2 if all_in_cache(headless_json) else 3)
        assert "TooLarge" in str(view.query_one("#timing-table").content)
        for size in ((120, 40), (60, 20), (200, 50)):  # redraws of log-log plots must not crash
            await pilot.resize_terminal(*size)
            await pilot.pause()
        view.focus()
        await pilot.press("e")
        await pilot.pause()
        written = sorted(tmp_path.glob("jaxtui-timings-*"))
        assert [p.suffix for p in written] == [".csv", ".json"]
        rows = list(csv.DictReader(io.StringIO(written[0].read_text())))
        assert len(rows) == len(headless_json["timings"])
        assert rows[0]["label"] == "no jit: x * y" and float(rows[0]["median_s"]) > 0
        saved = json.loads(written[1].read_text())
        assert saved["timings"][0]["samples_s"] == headless_json["timings"][0]["samples_s"]


async def test_live_records_stay_when_the_run_is_killed(headless_json):
    from jaxtui.ui.app import JaxTUI
    from jaxtui.ui.results.timing import TimingView

    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="jit")
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)  # the Timing view is built after the first frame
        pane = app.current_pane
        pane.begin_run()
        sweep = [t for t in headless_json["timings"] if t.get("sweep")][:3]
        for rec in sweep:
            pane.on_kernel_event("timing", rec)
        view = pane.results.query_one(TimingView)
        assert view.live and len(view.timings) == 3
        assert "sweep point 3 of 8" in str(view.query_one("#timing-status").content)
        pane.show_failure("The kernel was killed.")
        await pilot.pause()
        assert not view.live and len(view.timings) == 3
        assert "ended early" in str(view.query_one("#timing-status").content)


async def test_export_from_the_palette_action(headless_json, tmp_path, monkeypatch):
    from jaxtui.ui.app import JaxTUI

    monkeypatch.chdir(tmp_path)
    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="jit")
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)  # the Timing view is built after the first frame
        assert any(a == "export_timings" for a, _, _ in app.palette_actions())
        await app.run_action("export_timings")  # nothing yet: a warning, no files
        assert not list(tmp_path.glob("jaxtui-timings-*"))
        app.current_pane.show_result(headless_json)
        await app.run_action("export_timings")
        await pilot.pause()
        assert sorted(p.suffix for p in tmp_path.glob("jaxtui-timings-jit-*")) == [".csv", ".json"]


async def test_a_real_sweep_streams_progress_and_an_interrupt_keeps_its_points(tmp_path):
    from jaxtui.core.catalog import load
    from jaxtui.core.client import KernelConfig
    from jaxtui.ui.app import JaxTUI
    from jaxtui.ui.results.timing import TimingView

    path = tmp_path / "sweepy.py"
    path.write_text(SLOW_SWEEP)
    app = JaxTUI(kernel_config=KernelConfig(host_devices=1), user_demo=load(path), initial_pane="sweepy",
                 cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        t0 = time.monotonic()
        while app.kernel.state != "ready":
            assert time.monotonic() - t0 < 60
            await pilot.pause(0.05)
        await pilot.press("ctrl+r")
        view = app.current_pane.results.query_one(TimingView)
        while len(view.timings) < 3:
            assert time.monotonic() - t0 < 90
            await pilot.pause(0.05)
        assert "sweep slow" in app.sub_title
        await pilot.press("ctrl+c")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(view.timings) >= 3 and not view.live
        assert all(t["median_s"] > 0 for t in view.timings)
        status = str(view.query_one("#timing-status").content)
        assert "stopped early" in status or "ended early" in status
        await app.action_quit()


def test_a_long_chart_title_is_shortened_not_dropped():
    """plotext drops a title that does not fit; the charts cut it with an ellipsis instead."""
    from jaxtui.render.textplot import render_text

    title = "time per call vs array size for the chain of ten elementwise ops"
    for logy in (True, False):
        chart = {"kind": "lines", "title": title, "logx": True, "logy": logy,
                 "series": [{"name": "jit", "x": [1e3, 1e4, 1e5], "y": [1e-5, 1e-4, 1e-3]}]}
        shown = render_text(chart, width=44, height=12).splitlines()[0].strip()
        assert shown.startswith("time per call") and shown.endswith("…"), shown
        assert render_text(chart, width=100, height=12).splitlines()[0].strip() == title
