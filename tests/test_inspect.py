"""Inspection: jaxpr, StableHLO, HLO, cost, memory and compiles; live mode and linking.

Through the public surfaces: the kernel's protocol (one kernel for the module), the
`jaxtui run --json` command line, and the app driven with Pilot.
"""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import textwrap
from typing import Any

import pytest
import pytest_asyncio

from conftest import DEMOS, PYTHON, output_text, running_kernel, views_built, wait_for
from jaxtui import protocol as P
from jaxtui.core.catalog import load
from jaxtui.core.client import KernelClient, KernelConfig
from jaxtui.core.live_schedule import LiveInspector
from jaxtui.kernel.live import inspection_slice
from jaxtui.ui.app import JaxTUI
from jaxtui.ui.results.inspection import InspectionView
from jaxtui.ui.widgets.text_view import TextView

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
USER_FILE = "/tmp/jaxtui_inspect_test.py"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kernel():
    async with running_kernel(KernelConfig(host_devices=2)) as client:
        yield client


async def inspect(kernel: KernelClient, code: str, *, live: bool = True, filename: str = USER_FILE,
                  events: list[P.Event] | None = None, **params: Any) -> dict[str, Any]:
    return await kernel.request(P.OP_INSPECT, {"code": textwrap.dedent(code), "filename": filename,
                                               "demo": "t", "live": live, **params},
                                on_event=events.append if events is not None else None)


def demo_params(name: str) -> dict[str, Any]:
    return load(DEMOS / f"{name}.py", builtin=True).run_params()


# -- the kernel: views of the lessons ---------------------------------------------------------

@MODULE_LOOP
async def test_jit_lesson_views_and_compiles(kernel):
    """Inspect mode runs the whole lesson without its timings; every view has content."""
    r = await kernel.request(P.OP_INSPECT, demo_params("jit"))
    assert r["ok"] and r["timings"] == []
    chain, sin_chain, scale = r["inspections"]
    assert chain["name"].startswith("jit(chain)") and sin_chain["name"].startswith("jit(sin_chain)")
    assert "stablehlo.multiply" in chain["stablehlo"] and "stablehlo.sine" not in chain["stablehlo"]
    assert "stablehlo.sine" in sin_chain["stablehlo"] and sin_chain["cost"]["transcendentals"] > 0
    assert "mul" in chain["jaxpr"] and "# jit.py:" in chain["jaxpr"], "the path is shortened"
    assert "fusion" in chain["hlo"] and "HloModule" in chain["hlo"]
    assert "FileNames" not in chain["hlo"], "the source-location tables are not shown"
    assert chain["cost"]["flops"] > 0 and chain["cost"]["bytes accessed"] > 0
    assert chain["memory"]["argument_size_in_bytes"] == 4 * 1_000_000  # n float32
    params = demo_params("jit")  # the code runs at its file's lines (first_line)
    code_lines = params["code"].splitlines()
    def_line = next(i for i, line in enumerate(code_lines, params["first_line"]) if line.startswith("def chain"))
    assert {src for _, src in chain["jaxpr_links"]} <= set(range(def_line, def_line + 5)), "chain's body"
    assert chain["hlo_links"], "HLO instructions link to their source lines too"
    assert "mul" in scale["jaxpr"] and scale["error"] is None
    # the lesson calls scale_jit with a new static value, shape and dtype: each one a miss,
    # explained at its line; the first call is "never seen"
    rows = {row["name"]: row for row in r["compiles"]}
    assert rows["scale"]["compiles"] == 4
    reasons = [m["reason"] for m in rows["scale"]["misses"]]
    assert reasons[0].startswith("first call") and any("Static(val=3)" in x for x in reasons)
    assert all(m["line"] for m in rows["scale"]["misses"])


@MODULE_LOOP
async def test_vmap_of_cond_becomes_select_n_in_live_mode(kernel):
    r = await kernel.request(P.OP_INSPECT, {**demo_params("lax"), "live": True, "budget_s": 10})
    assert r["ok"], r["error"]
    vf = r["inspections"][0]
    assert vf["name"].startswith("vmap(f)")
    assert "select_n" in vf["jaxpr"] and "cond[" not in vf["jaxpr"]
    assert "scan[" in r["inspections"][1]["jaxpr"]
    # live mode ran only what the marked functions need: none of the lesson's prints
    assert "f(3.0) =" not in r["stdout"] and r["corrections"] == []


@MODULE_LOOP
async def test_playground_views(kernel):
    r = await kernel.request(P.OP_INSPECT, {**demo_params("playground"), "live": True})
    f, grad = r["inspections"]
    assert "sin" in f["jaxpr"] and "cos" in f["jaxpr"] and "stablehlo.cosine" in f["stablehlo"]
    assert "transcendentals" in f["cost"] and f["memory"]["output_size_in_bytes"] == 4 * 8
    assert "neg" in grad["jaxpr"], "the gradient of cos needs -sin"


# -- the kernel: errors, budget, partial results -------------------------------------------

TRACER_IF = """
    import jax.numpy as jnp
    from jaxtui import demo

    def f(x):
        if x.sum() > 0:
            return x
        return -x

    demo.inspect(f, jnp.ones(3))
"""


@MODULE_LOOP
async def test_python_if_on_a_tracer_names_the_line(kernel):
    r = await inspect(kernel, TRACER_IF)
    assert r["ok"], "the code itself runs; only tracing f fails"
    err = r["inspections"][0]["error"]
    assert err["stage"] == "trace" and err["type"] == "TracerBoolConversionError"
    assert err["line"] == 6 and err["source"] == "if x.sum() > 0:"
    assert "jaxpr" in r["inspections"][0] and r["inspections"][0]["jaxpr"] == ""


@MODULE_LOOP
async def test_value_dependent_shape_names_the_line(kernel):
    r = await inspect(kernel, """
        import jax.numpy as jnp
        from jaxtui import demo

        def nz(x):
            return jnp.nonzero(x)

        demo.inspect(nz, jnp.array([0, 3, 0, 5]))
    """)
    err = r["inspections"][0]["error"]
    assert err["type"] == "ConcretizationTypeError" and err["line"] == 6


@MODULE_LOOP
async def test_live_budget_stops_a_slow_slice_and_the_kernel_carries_on(kernel):
    r = await inspect(kernel, """
        import jax.numpy as jnp
        from jaxtui import demo
        x = jnp.ones(3)
        while True:
            x = x + 0
        demo.inspect(jnp.sin, x)
    """, budget_s=0.3)
    assert not r["ok"] and r["error"]["type"] == "LiveBudgetExceeded" and r["error"]["line"] in (5, 6)
    again = await inspect(kernel, TRACER_IF.replace("if x.sum() > 0:", "if True:"))
    assert again["ok"] and "neg" not in again["inspections"][0]["jaxpr"]
    assert (await kernel.request(P.OP_PING))["pong"]


# The kernel that answers live mode also serves real runs (on a TPU VM, the only one): a
# budget that stops live code must leave JAX as it found it.
CONTEXT_LOOP = """
    import jax, jax.numpy as jnp, traceback
    from jaxtui import demo
    try:
        while True:
            with jax.numpy_rank_promotion("raise"):
                n = 3
    except KeyboardInterrupt as stop:  # the frame it was raised in (below the budget's own)
        print("stopped in", [f.filename for f in traceback.extract_tb(stop.__traceback__)
                                 if "jaxtui/kernel" not in f.filename][-1])
        raise
    demo.inspect(jnp.sin, jnp.ones(n))
"""
JAX_STATE = """
    import jax, jax.numpy as jnp
    from jax._src import core
    print(jax.config.jax_numpy_rank_promotion, jax.config.jax_enable_x64, jax.config.jax_disable_jit,
          core.trace_state_clean())
    print(jax.jit(lambda a, b: a + b)(jnp.ones(3), jnp.ones((2, 3))).sum())
"""


async def jax_state(kernel: KernelClient) -> str:
    r = await kernel.request(P.OP_EXEC, {"code": textwrap.dedent(JAX_STATE), "filename": "/tmp/state.py",
                                         "demo": "state"})
    assert r["ok"], r["error"]
    return r["stdout"]


@MODULE_LOOP
async def test_a_live_budget_never_leaves_a_jax_setting_changed(kernel):
    """An asynchronous exception landing just after `__enter__` set the value leaked
    `numpy_rank_promotion="raise"` into every later run (about one stop in three)."""
    clean = await jax_state(kernel)
    assert clean == "allow False False True\n12.0\n"
    for _ in range(12):
        r = await inspect(kernel, CONTEXT_LOOP, budget_s=0.03)
        assert r["error"]["type"] == "LiveBudgetExceeded" and r["error"]["line"] in (5, 6, 7)
        assert r["stdout"] == f"stopped in {USER_FILE}\n"  # in the user's code, not in JAX
        assert await jax_state(kernel) == clean
    assert not [line for line in kernel.stderr_tail if "left changed" in line]  # nothing needed fixing


@MODULE_LOOP
async def test_a_live_budget_firing_while_jax_traces_compiles_or_runs_leaves_it_working(kernel):
    code = """
        import jax, jax.numpy as jnp, traceback
        from jaxtui import demo
        try:
            x = jnp.arange(8.0)
            for step in range(1000):
                def f(v, step=step):
                    for i in range(30):  # long to trace, new to compile each step
                        v = jnp.sin(v) * (i + step) + jnp.cos(v).sum()
                    return v
                x = jax.jit(f)(x)
                x = jax.grad(lambda v: jnp.sum(jnp.tanh(v) ** 2))(x)
        except KeyboardInterrupt as stop:
            print("stopped in", [f.filename for f in traceback.extract_tb(stop.__traceback__)
                                     if "jaxtui/kernel" not in f.filename][-1])
            raise
        demo.inspect(jnp.sin, x)
    """
    clean = await jax_state(kernel)
    stopped_in = set()
    for budget in (0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3):
        r = await inspect(kernel, code, budget_s=budget)
        assert r["error"]["type"] == "LiveBudgetExceeded", r["error"]
        assert r["stdout"] == f"stopped in {USER_FILE}\n", r["error"]
        stopped_in.add(r["error"]["line"])
        assert await jax_state(kernel) == clean
    assert stopped_in <= {5, 6, 7, 8, 9, 10, 11, 12}  # where depends on the machine's speed
    # the compile cache still serves and computes right
    again = await kernel.request(P.OP_EXEC, {"code": "import jax, jax.numpy as jnp\n"
                                             "print(jax.jit(jnp.cos)(jnp.zeros(2)))", "filename": "/tmp/c.py",
                                             "demo": "c"})
    assert again["stdout"] == "[1. 1.]\n"
    assert not [line for line in kernel.stderr_tail if "left changed" in line]


@MODULE_LOOP
async def test_an_interrupted_run_leaves_no_jax_setting_changed(kernel):
    """ctrl+c raises KeyboardInterrupt wherever the code is: the run's end puts back a
    thread-local JAX setting an interrupted context manager left set."""
    clean = await jax_state(kernel)
    code = CONTEXT_LOOP.replace("try:", "print('spinning', flush=True)\n    try:")
    for _ in range(8):
        spinning = asyncio.Event()
        request = asyncio.create_task(kernel.request(
            P.OP_EXEC, {"code": textwrap.dedent(code), "filename": USER_FILE, "demo": "t"},
            on_event=lambda e, spinning=spinning: spinning.set() if e.kind == P.EV_STREAM else None))
        await asyncio.wait_for(spinning.wait(), 30)
        assert await kernel.interrupt(grace=10) == "interrupted"
        r = await request
        assert r["error"]["type"] == "KeyboardInterrupt"
        assert await jax_state(kernel) == clean


@MODULE_LOOP
async def test_jaxpr_comes_before_compiling(kernel):
    events: list[P.Event] = []
    r = await inspect(kernel, "import jax.numpy as jnp\nfrom jaxtui import demo\n"
                              "demo.inspect(lambda v: jnp.tanh(v) * 2, jnp.ones(5), name='t')\n",
                      events=events)
    partial = [e.data for e in events if e.kind == P.EV_INSPECTION]
    assert len(partial) == 1 and partial[0]["partial"]
    early = partial[0]["inspections"][0]
    assert "tanh" in early["jaxpr"] and "stablehlo.tanh" in early["stablehlo"]
    assert early["hlo"] == "" and not early["compiled"]
    assert r["inspections"][0]["compiled"] and r["inspections"][0]["hlo"]


@MODULE_LOOP
async def test_a_slice_that_misses_a_name_runs_in_full(kernel):
    r = await inspect(kernel, """
        import jax.numpy as jnp
        from jaxtui import demo
        exec("k = 3.0")  # invisible to the syntax tree: the slice drops it

        def f(x):
            return x * k

        demo.inspect(f, jnp.ones(2))
    """)
    assert r["ok"] and "3.0" in r["inspections"][0]["jaxpr"]


@MODULE_LOOP
async def test_the_views_own_compilations_are_not_counted_as_the_runs(kernel):
    r = await inspect(kernel, """
        import jax, jax.numpy as jnp
        from jaxtui import demo

        def marked(x):
            return x * 2

        g = jax.jit(lambda x: x + 1)
        g(jnp.ones(2)); g(jnp.ones(2)); g(jnp.ones(3))
        demo.inspect(marked, jnp.ones(2))
        demo.inspect(g, jnp.ones(2))
    """, live=False)
    rows = {row["name"]: row for row in r["compiles"]}
    assert rows["<lambda>"]["compiles"] == 2, "a cache hit compiles nothing"
    assert "marked" not in rows, "compiled only to build the views"
    assert r["inspections"][0]["stage_s"]["compile"] > 0


# -- the slice (kernel/live.py), on syntax alone ------------------------------------------

def sliced_lines(source: str) -> list[int] | None:
    tree = inspection_slice(ast.parse(textwrap.dedent(source)))
    return None if tree is None else [s.lineno for s in tree.body]


def test_slice_keeps_what_the_marked_functions_need():
    assert sliced_lines("""
        import jax
        from jaxtui import demo
        n = demo.input("n", 3)
        print("slow aside")
        data = list(range(n))
        data.append(7)
        unrelated = [i * 2 for i in range(10**6)]
        demo.time("t", sum, unrelated)
        jax.config.update("jax_enable_x64", True)
        jax.block_until_ready(None)

        def f(x):
            return x * len(data)

        demo.show(f(2))
        demo.inspect(f, 1.0)
        print("after")
    """) == [2, 3, 4, 6, 7, 10, 13, 17]


def test_slice_gives_up_when_inspect_is_not_top_level():
    assert sliced_lines("""
        from jaxtui import demo
        def main():
            demo.inspect(abs, 1.0)
        main()
    """) is None


def test_slice_of_the_jit_lesson_skips_its_timings():
    code = load(DEMOS / "jit.py", builtin=True).code
    tree = inspection_slice(ast.parse(code))
    kept = "\n".join(ast.unparse(s) for s in tree.body)
    assert "def chain" in kept and "def scale" in kept and "demo.time" not in kept
    assert "clear_caches" not in kept


# -- live mode's timing rules (jaxtui/core/live_schedule.py), with a stand-in kernel ---------------------

class FakeKernel:
    def __init__(self, delay_s: float = 0.05) -> None:
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.busy = False
        self.state = "ready"

    async def wait_free(self) -> None:  # the stand-in's state is set by hand: look often
        while self.busy or self.state not in ("ready", "busy"):
            await asyncio.sleep(0.01)

    async def request(self, op, params, *, on_event=None, background=False):
        assert op == P.OP_INSPECT and background and params["live"]
        self.requests.append(params)
        if on_event is not None:
            on_event(P.Event(1, P.EV_INSPECTION, {"inspections": [{"name": params["code"]}]}))
        await asyncio.sleep(self.delay_s)
        return {"ok": True, "code": params["code"]}


def live_setup(kernel: FakeKernel, delay_s: float = 0.05):
    code = {"text": "v0"}
    shown: list[dict[str, Any]] = []
    live = LiveInspector(kernel, lambda: {"code": code["text"]} if code["text"] else None, shown.append,
                         delay_s=delay_s)
    return live, code, shown


async def settle(live: LiveInspector) -> None:
    for _ in range(200):
        if not live.pending:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("live update never settled")


async def test_live_debounces_edits_into_one_request():
    kernel = FakeKernel()
    live, code, shown = live_setup(kernel)
    for i in range(5):
        code["text"] = f"v{i}"
        live.edited()
        await asyncio.sleep(0.01)  # typing faster than the pause
    await settle(live)
    assert [r["code"] for r in kernel.requests] == ["v4"]
    assert [s["code"] for s in shown if not s.get("partial")] == ["v4"]
    assert shown[0]["partial"], "the jaxpr (partial result) is shown first"


async def test_live_drops_a_result_edited_since_and_sends_the_newest():
    kernel = FakeKernel(delay_s=0.2)
    live, code, shown = live_setup(kernel, delay_s=0.01)
    live.edited()
    await asyncio.sleep(0.05)  # v0 is in flight
    code["text"] = "v1"
    live.edited()
    await asyncio.sleep(0.02)
    code["text"] = "v2"
    live.edited()  # v1 never leaves: replaced while waiting for v0
    await settle(live)
    assert [r["code"] for r in kernel.requests] == ["v0", "v2"]
    assert [s["code"] for s in shown if not s.get("partial")] == ["v2"]
    assert live.dropped == 1 and live.last_latency_s is not None


async def test_live_waits_for_a_real_run_and_a_ready_kernel():
    kernel = FakeKernel()
    kernel.busy, kernel.state = True, "busy"
    live, code, _ = live_setup(kernel, delay_s=0.01)
    live.edited()
    await asyncio.sleep(0.15)
    assert kernel.requests == [] and live.pending
    kernel.busy, kernel.state = False, "starting"
    await asyncio.sleep(0.15)
    assert kernel.requests == [], "live mode never starts a kernel"
    kernel.state = "ready"
    await settle(live)
    assert len(kernel.requests) == 1
    code["text"] = ""  # an invalid input: nothing to send
    live.edited()
    await settle(live)
    assert len(kernel.requests) == 1


# -- the views in the app (Pilot, no kernel) ----------------------------------------------

def fake_result(jaxpr_body: str = "  c:f32[3] = sin a  # mine.py:5:8 (f)", **extra: Any) -> dict[str, Any]:
    ins = {"name": "f", "fn_name": "f", "line": 9, "jaxpr": "{ lambda ; a:f32[3]. let\n" + jaxpr_body + "\n  in (c,) }",
           "jaxpr_links": [[2, 5]], "stablehlo": "module @jit_f {\n  stablehlo.sine\n}",
           "hlo": "HloModule jit_f\n" + "\n".join(f"%i.{i} = f32[] sine()" for i in range(6000)),
           "hlo_links": [[2, 5]], "cost": {"flops": 30.0, "bytes accessed": 24.0, "transcendentals": 3.0},
           "memory": {"argument_size_in_bytes": 12, "output_size_in_bytes": 12, "temp_size_in_bytes": 0},
           "stage_s": {"trace": 0.001, "lower": 0.002, "compile": 0.01}, "compiled": True, "error": None}
    ins.update(extra)
    return {"demo": "playground", "ok": True, "error": None, "inspections": [ins], "stdout": "", "values": [],
            "timings": [], "corrections": [], "plots": [],
            "compiles": [{"name": "f", "compiles": 1, "traces": 1, "trace_s": 0.001, "lower_s": 0.002,
                          "compile_s": 0.01, "misses": [{"line": 12, "where": "mine.py:12",
                                                         "reason": "first call: never seen this function before"}]}]}


def ui_app() -> JaxTUI:
    return JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="playground")


async def results_ready(pilot, app: JaxTUI) -> None:
    """The start-up pane's results tabs mount just after the first frame."""
    while not app.query("ResultsTabs"):
        await pilot.pause(0.05)
    await views_built(pilot)


def view(app: JaxTUI, tab: str) -> InspectionView:
    return app.current_pane.results.query_one(f"#{tab}", InspectionView)


async def test_views_show_every_marked_function_and_load_hidden_tabs_when_shown():
    app = ui_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await results_ready(pilot, app)
        pane = app.current_pane
        pane.results.active = "jaxpr"
        await pilot.pause()
        pane.show_result(fake_result())
        await pilot.pause()
        jaxpr = view(app, "jaxpr")
        assert jaxpr.view.text.startswith("# ── f · demo.inspect at line 9\n{ lambda")
        hlo = view(app, "hlo")
        assert hlo.text.startswith("// ── f") and hlo.view.text == "", "hidden: loaded when shown"
        pane.results.active = "hlo"
        await pilot.pause()
        assert hlo.view.document.line_count > 6000
        assert "flops" in view(app, "cost").text and "arithmetic intensity" in view(app, "cost").text
        compiles = view(app, "compiles").text
        assert "★ f" in compiles and "line 12: first call" in compiles
        assert output_text(app), "a real run writes the Output"


async def test_a_failed_update_keeps_the_last_good_view_marked_stale():
    app = ui_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await results_ready(pilot, app)
        pane = app.current_pane
        pane.results.active = "jaxpr"
        pane.show_live(fake_result())
        await pilot.pause()
        jaxpr = view(app, "jaxpr")
        good = jaxpr.text
        error = {"stage": "trace", "type": "TracerBoolConversionError", "message": "Attempted boolean conversion",
                 "line": 6, "source": "if x.sum() > 0:"}
        pane.show_live(fake_result(jaxpr="", stablehlo="", hlo="", compiled=False, error=error, stage_s={}))
        await pilot.pause()
        assert jaxpr.stale and jaxpr.has_class("-stale")
        assert "sin a" in jaxpr.text and "· STALE" in jaxpr.text.splitlines()[0]
        assert "TracerBoolConversionError while tracing, line 6: if x.sum() > 0:" in jaxpr.problem
        assert jaxpr.query_one(".inspect-problem").display
        # a syntax error (the whole code failed) keeps everything
        pane.show_live({"ok": False, "error": {"type": "SyntaxError", "message": "invalid syntax", "line": 3,
                                               "kind": "syntax"}, "inspections": []})
        assert jaxpr.stale and "SyntaxError at line 3" in jaxpr.problem and "sin a" in jaxpr.text
        pane.show_live(fake_result("  c:f32[3] = cos a  # mine.py:5:8 (f)"))
        await pilot.pause()
        assert not jaxpr.stale and "cos a" in jaxpr.text and jaxpr.text != good
        assert not jaxpr.query_one(".inspect-problem").display
        assert output_text(app) == "", "live updates never touch the Output"


async def test_cursor_links_source_lines_and_jaxpr_equations_both_ways():
    app = ui_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await results_ready(pilot, app)
        pane = app.current_pane
        pane.results.active = "jaxpr"
        first = pane.editor.line_number_start  # the demo file's line of the editor's first row
        assert first == pane.demo.first_line > 1, "the gutter numbers the file's lines"
        pane.show_result(fake_result(line=first + 8, jaxpr_links=[[2, first + 4]]))
        await pilot.pause()
        jaxpr = view(app, "jaxpr")
        pane.editor.focus()
        pane.editor.move_cursor((4, 0))  # the file's line first + 4
        await pilot.pause()
        assert jaxpr.view.linked_rows == {2}, "header + lambda line, then the equation"
        pane.editor.move_cursor((2, 0))
        await pilot.pause()
        assert jaxpr.view.linked_rows == frozenset()
        jaxpr.view.focus()
        await pilot.pause()
        jaxpr.view.move_cursor((2, 3))
        await pilot.pause()
        assert pane.editor.linked_rows == {4}
        jaxpr.view.move_cursor((0, 0))  # the header links to the demo.inspect line
        await pilot.pause()
        assert pane.editor.linked_rows == {8}


async def test_find_copy_and_save_from_the_keyboard(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = ui_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await results_ready(pilot, app)
        pane = app.current_pane
        pane.results.active = "hlo"
        pane.show_result(fake_result())
        await pilot.pause()
        hlo = view(app, "hlo")
        hlo.view.focus()
        await pilot.press("slash", *"%i.59")
        await pilot.pause()
        assert hlo.view.selected_text == "%i.59"
        count = str(hlo.query_one(".inspect-find-count").render())
        assert count.strip() == "1/111"  # %i.59 and %i.590 ... %i.5999
        await pilot.press("down")  # the next match, still in the find box
        assert hlo.view.selected_text == "%i.59" and hlo.view.cursor_location[0] == 592
        await pilot.press("up")
        assert hlo.view.cursor_location[0] == 61
        await pilot.press("enter")  # back to the view, the match still selected
        assert app.focused is hlo.view and hlo.view.selected_text == "%i.59"
        await pilot.press("y")  # copies the match the find left selected, and says so
        assert app.clipboard == "%i.59"
        assert "Copied the selection '%i.59'" in list(app._notifications)[-1].message
        await pilot.press("n")  # the next match, from the view
        assert hlo.view.cursor_location[0] == 592
        await pilot.press("Y")  # the whole view, whatever is selected
        assert app.clipboard == hlo.text
        await pilot.press("slash", "escape")  # the find box closes, the view has the keys
        assert app.focused is hlo.view
        await pilot.press("ctrl+s")
        saved = tmp_path / "jaxtui-playground-hlo.txt"
        assert saved.read_text() == hlo.text + "\n"
        pane.results.active = "plots"
        await pilot.press("ctrl+s")  # nothing to save there: says so, saves nothing
        assert len(list(tmp_path.iterdir())) == 1


async def test_a_5000_line_view_scrolls_by_page():
    app = ui_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await results_ready(pilot, app)
        pane = app.current_pane
        pane.results.active = "hlo"
        pane.show_result(fake_result())
        await pilot.pause()
        text_view = view(app, "hlo").query_one(TextView)
        text_view.focus()
        for _ in range(3):
            await pilot.press("pagedown")
        assert text_view.scroll_offset.y > 0 and text_view.cursor_location[0] > 10


# -- live mode end to end: the app with its kernel ----------------------------------------


async def test_live_mode_follows_typing_and_marks_a_tracing_error_stale():
    app = JaxTUI(kernel_config=KernelConfig(host_devices=1), initial_pane="playground", cursor_blink=False)
    app.live_delay_s = 2.0  # a pause in typing, even on a loaded machine: the debounce is counted
    async with app.run_test(size=(120, 40)) as pilot:
        await results_ready(pilot, app)
        pane = app.current_pane
        pane.results.active = "jaxpr"
        jaxpr = view(app, "jaxpr")
        await wait_for(pilot, lambda: app.kernel.state == "ready", 60)
        await pilot.press("ctrl+l")
        assert app.live_mode
        await wait_for(pilot, lambda: "sin a" in jaxpr.text, 60)
        editor = pane.editor
        row = editor.text.splitlines().index("    z = jnp.sin(x) * y")
        editor.focus()
        editor.move_cursor((row, 8))
        await pilot.press(*"jnp.tanh(x) + ")  # z = jnp.tanh(x) + jnp.sin(x) * y
        await wait_for(pilot, lambda: "tanh" in jaxpr.text and not pane.live.pending, 60)
        assert not jaxpr.stale and pane.live.sent <= 3, "typing was debounced"
        editor.move_cursor((row, 0))
        await pilot.press(*"    if x.sum() > 0:", "enter", *"        return x", "enter")
        # on a loaded machine a pause mid-typing can show a SyntaxError first: wait for the end
        await wait_for(pilot, lambda: jaxpr.stale and not pane.live.pending
                       and "SyntaxError" not in jaxpr.problem, 60)
        assert "TracerBoolConversionError" in jaxpr.problem
        assert f"line {row + editor.line_number_start}" in jaxpr.problem, "the file's line, as the gutter shows"
        assert "tanh" in jaxpr.text, "the last good jaxpr stays, marked stale"
        assert output_text(app) == ""
        await pilot.press("ctrl+l")
        assert not app.live_mode
        await app.kernel.stop()


def test_headless_json_has_the_views_of_the_marked_functions():
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", "playground", "--json"], capture_output=True,
                          text=True, timeout=120)
    result = json.loads(proc.stdout)
    assert proc.returncode == 0 and result["ok"]
    assert "sin" in result["jaxpr"] and "stablehlo.sine" in result["stablehlo"]
    assert "HloModule" in result["hlo"] and "fusion" in result["hlo"]
    assert result["cost"]["flops"] > 0 and result["memory"]["argument_size_in_bytes"] == 64
    assert len(result["inspections"]) == 2
