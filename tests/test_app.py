"""The app, driven with Pilot against the real kernel: run, errors, interrupt, death, keys."""

from __future__ import annotations

import asyncio
import textwrap
import time
from pathlib import Path

from textual.command import CommandPalette

from conftest import count_starts, output_text, output_view, views_built, wait_for
from jaxtui.core.catalog import load
from jaxtui.core.client import KernelConfig
from jaxtui.ui.app import JaxTUI
from jaxtui.ui.widgets.pane import DemoPane


def make_app(tmp_path: Path, code: str, **kw) -> JaxTUI:
    path = tmp_path / "mine.py"
    path.write_text('"""# mine\n\nA test demo."""\n' + textwrap.dedent(code))
    return JaxTUI(kernel_config=KernelConfig(host_devices=2), user_demo=load(path), initial_pane="mine",
                  cursor_blink=False, **kw)


async def run_and_wait(pilot, app: JaxTUI, key: str = "ctrl+r") -> str:
    await wait_for(pilot, lambda: app.kernel.state == "ready")
    await pilot.press(key)
    await wait_for(pilot, lambda: "── mine:" in output_text(app) or ("kernel" in output_text(app).lower()
                   and "restarted" in output_text(app)))
    await app.workers.wait_for_complete()
    await pilot.pause()
    return output_text(app)


async def test_paints_before_the_kernel_is_ready_and_runs_with_ctrl_r_and_f5(tmp_path):
    app = make_app(tmp_path, "import jax.numpy as jnp\nprint('hi from the kernel')\njnp.ones((2, 3))\n")
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.query_one("#status")
        assert "starting" in str(status.render()) or app.kernel.state == "ready"
        assert app.focused is app.current_pane.editor
        text = await run_and_wait(pilot, app)
        assert "hi from the kernel" in text and "f32[2,3] on cpu:0" in text and "── mine: ok on cpu:0" in text
        assert app.current_pane.results.active == "output"
        assert app.focused is app.current_pane.editor, "ctrl+r from the code keeps the focus there"
        assert "2 devices" in str(status.render())
        output_view(app).run_started("again")
        text = await run_and_wait(pilot, app, key="f5")
        assert "hi from the kernel" in text


async def test_syntax_error_moves_the_cursor_to_its_line(tmp_path):
    app = make_app(tmp_path, "x = 1\ny = 2\nz = (x +\n")
    async with app.run_test(size=(80, 24)) as pilot:
        text = await run_and_wait(pilot, app)
        assert "SyntaxError at line" in text
        editor = app.current_pane.editor
        # a file that does not parse keeps its docstring in the editor: lines are the editor's own
        bad_line = editor.text.splitlines().index("z = (x +")
        assert editor.cursor_location[0] in (bad_line, bad_line + 1)
        assert app.focused is editor


async def test_exception_points_at_the_users_line(tmp_path):
    app = make_app(tmp_path, "def f(x):\n    return x / 0\n\nf(1)\n")
    async with app.run_test(size=(80, 24)) as pilot:
        text = await run_and_wait(pilot, app)
        assert "ZeroDivisionError" in text and "jaxtui/kernel" not in text
        editor = app.current_pane.editor
        assert editor.cursor_location[0] == 1  # the code's second row...
        # ...which is the file's line 5 below the 3-line lesson docstring, in the gutter and
        # in the traceback alike
        assert editor.line_number_start == 4 and 'mine.py", line 5' in text


async def test_ctrl_c_interrupts_a_python_loop_and_edits_survive(tmp_path):
    app = make_app(tmp_path, "print('looping', flush=True)\nwhile True:\n    pass\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready")
        app.current_pane.editor.insert("# my edit\n", (0, 0))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "looping" in output_text(app))
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: "Interrupted" in output_text(app))
        assert app.current_pane.editor.text.startswith("# my edit\n")
        assert app.kernel.state == "ready"


async def test_ctrl_c_kills_a_running_xla_loop_and_the_kernel_comes_back(tmp_path):
    app = make_app(tmp_path, """
        import jax
        from jax import lax
        f = jax.jit(lambda n: lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 1.0000001), (0, 1.0)))
        print('spinning', flush=True)
        f(2_000_000_000)
    """)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready")
        old_pid = app.kernel.info["pid"]
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "spinning" in output_text(app))
        await pilot.pause(0.5)
        t0 = time.monotonic()
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: "kernel was killed" in output_text(app))
        await wait_for(pilot, lambda: app.kernel.state == "ready")
        assert time.monotonic() - t0 < 15
        assert app.kernel.info["pid"] != old_pid


async def test_code_that_exits_the_kernel_gets_a_restart(tmp_path):
    app = make_app(tmp_path, "import os\nos._exit(1)\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready")
        old_pid = app.kernel.info["pid"]
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "kernel died" in output_text(app))
        assert "restarted" in output_text(app) and "Your code is unchanged" in output_text(app)
        await wait_for(pilot, lambda: app.kernel.state == "ready" and app.kernel.info.get("pid") != old_pid)
        assert app.current_pane.editor.text.startswith("import os")


async def test_huge_result_is_summarised_in_the_ui(tmp_path):
    app = make_app(tmp_path, "import jax.numpy as jnp\njnp.arange(10_000_000, dtype=jnp.float32)\n")
    async with app.run_test(size=(80, 24)) as pilot:
        text = await run_and_wait(pilot, app)
        assert "f32[10000000]" in text and "10,000,000 elements" in text
        assert len(text) < 20_000


async def test_panes_help_and_palette_without_a_kernel():
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.current_pane.demo.name == "grad"
        # hidden panes are built on first visit
        assert len(app.query(DemoPane)) == 1
        await pilot.press("f2")
        assert app.current_pane.demo.name == "jit"
        await pilot.press("f3")
        assert app.current_pane.demo.name == "grad"
        await pilot.press("f1")
        assert app.screen.id == "help-screen"
        await pilot.press("escape")
        assert app.screen.id != "help-screen"
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"pane: vmap")
        await pilot.pause(0.4)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.current_pane.demo.name == "vmap"


async def test_quit_does_not_wait_for_a_busy_kernel(tmp_path):
    app = make_app(tmp_path, "import time\nprint('sleeping', flush=True)\ntime.sleep(60)\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready")
        proc = app.kernel.proc
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "sleeping" in output_text(app))
        t0 = time.monotonic()
        await pilot.press("ctrl+q")
        await asyncio.wait_for(proc.wait(), 5)
        assert time.monotonic() - t0 < 3


async def test_the_views_behind_the_first_frame_are_built_next_and_miss_nothing():
    """The first frame shows the shell, the editor, the tab bars and the lesson; the other
    results views and the Devices tab come just after it. A result that arrives before they
    exist still reaches them."""
    from jaxtui.ui.results.base import ResultsView
    from jaxtui.ui.results.lesson import LessonView
    from jaxtui.ui.results.registry import TABS
    from jaxtui.ui.widgets.deferred import pending

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.current_pane
        result = {"ok": True, "elapsed_s": 0.1, "cost": [{"name": "f", "flops": 1234.0, "bytes_accessed": 56.0}],
                  "plots": [{"name": "loss", "x": [0, 1, 2], "y": [3.0, 2.0, 1.0], "label": "loss"}]}
        pane.results.show_result(result)  # before the views exist
        assert pending(app) and [type(v) for v in pane.results.views(ResultsView)] == [LessonView]
        assert not app.query("DevicesView")
        await views_built(pilot)
        assert not pending(app)
        lesson = pane.results.views(LessonView)[0]
        assert "automatic differentiation" in lesson.text
        shown = [t.view_class() for t in TABS if not t.cluster_only]  # Processes: a cluster's only
        assert [type(v) for v in pane.results.views(ResultsView)] == shown
        assert app.query("DevicesView")
        assert pane.results.query("SeriesPlot"), "the plot came before the Plots view and still shows"
        assert pane.editor.language == "python"  # highlighting is switched on after the first frame


async def test_quitting_while_the_later_views_are_being_built_is_clean():
    for delay in (0, 0.01, 0.03, 0.06, 0.1, 0.2):
        app = JaxTUI(start_kernel=False, cursor_blink=False)
        async with app.run_test(size=(80, 24)):
            if delay:
                await asyncio.sleep(delay)
        assert app.return_code in (0, None), delay


async def test_a_run_asked_for_before_the_kernel_start_is_not_killed_by_it(tmp_path):
    """The app starts its kernel after the first frame; a run (a tour's first step) that came
    first has started one already: the app's start joins it instead of replacing it."""
    app = make_app(tmp_path, "print('the early run', flush=True)\n", start_kernel=False)
    spawned = count_starts(app.kernel)
    async with app.run_test(size=(80, 24)) as pilot:
        worker = app.action_run()  # the kernel is stopped: the run starts it
        await wait_for(pilot, lambda: app.kernel.state == "starting")
        app.start_kernel_worker(restart=False)  # what on_mount schedules after the first frame
        await worker.wait()
        await pilot.pause()
        assert "the early run" in output_text(app) and "── mine: ok" in output_text(app)
        assert len(spawned) == 1


async def test_the_first_frame_has_the_layout_of_the_terminal_width():
    """Textual adds the breakpoint class on the first Resize, after the first frame; the main
    screen has it from the start, so 80 columns never flash the side-by-side layout."""
    for width, expected in ((80, "-narrow"), (200, "-wide")):
        app = JaxTUI(start_kernel=False, cursor_blink=False)
        async with app.run_test(size=(width, 30)):
            fresh = app.get_default_screen()  # as built before the first frame
            assert fresh.has_class(expected) and app.screen.has_class(expected)


async def test_a_view_still_being_built_is_left_alone():
    """A query finds a deferred view as soon as it is mounted, before its own children are;
    a cursor move or a result in that moment must not touch it (it catches up once built)."""
    from jaxtui.ui.results.inspection import InspectionView, JaxprView

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        late = JaxprView()
        pane.results.mount(late)  # not awaited: in the DOM, its children not composed yet
        assert late in pane.query(InspectionView) and not late.is_mounted
        pane.relink()  # what every cursor move does
        pane.results.show_result({"ok": True, "elapsed_s": 0.0})
        await pilot.pause()
        assert late.is_mounted


async def test_a_live_inspection_that_comes_before_the_views_reaches_them():
    """Live mode inspects a pane as soon as it opens; that first answer can come before the
    pane's inspection views are built, and they show it once they are."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.current_pane
        live = {"ok": True, "inspections": [{"name": "loss_fn", "line": 10,
                                             "jaxpr": "{ lambda ; a:f32[]. let b:f32[] = sin a in (b,) }"}]}
        pane.show_live(live)
        await views_built(pilot)
        from jaxtui.ui.results.inspection import JaxprView

        jaxpr = pane.results.views(JaxprView)[0]
        assert "sin a" in jaxpr.text and jaxpr.origin == "live"


async def test_a_run_sees_the_keys_typed_just_before_it(tmp_path):
    """ctrl+r is a priority binding: it acts before the editor has handled the keys queued
    ahead of it (a paste, a script's keys). The run waits for them."""
    app = make_app(tmp_path, "print('the file')\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready")
        editor = app.current_pane.editor
        editor.focus()
        await pilot.pause()
        editor.call_later(editor.insert, "print('typed just before the run')\n", (0, 0))  # queued
        worker = app.action_run()
        await worker.wait()
        await pilot.pause()
        assert "typed just before the run" in output_text(app)


async def test_values_appear_in_code_order_among_the_printed_text(tmp_path):
    """Item 6: a demo.show between two prints is shown between them (the kernel says how much
    had been printed when it was shown), and the running line is replaced when the run ends."""
    app = make_app(tmp_path, "from jaxtui import demo\nprint('first')\ndemo.show(41 + 1, 'answer')\n"
                             "print('last')\n")
    async with app.run_test(size=(80, 24)) as pilot:
        text = await run_and_wait(pilot, app)
        lines = [line for line in text.splitlines() if line]
        assert lines[:4] == ["✓ ran mine", "first", "answer: 42", "last"]
        assert "▶ running" not in text


async def test_errors_show_the_source_line_and_name_the_edited_buffer(tmp_path):
    """Item 15: a syntax error shows its line with a caret; a traceback of edited code names
    the pane's buffer, not the file on disk (which does not have those lines)."""
    app = make_app(tmp_path, "x = 1\nprint(x)\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready")
        pane = app.current_pane
        pane.replace_code("x = 1\nz = (x +\n")
        text = await run_and_wait(pilot, app)
        assert "SyntaxError at line 5" in text and "    z = (x +\n" in text and "^" in text
        pane.replace_code("def f(x):\n    return x / 0\n\nf(1)\n")
        text = await run_and_wait(pilot, app)
        assert 'File "mine (edited)", line 5, in f' in text and "return x / 0" in text
        assert "mine.py" not in text.split("ZeroDivisionError")[0]
async def test_one_run_at_a_time_ctrl_r_twice_then_ctrl_c(tmp_path):
    """A second ctrl+r while a run is going is refused with a hint (it used to queue a hidden
    run into the same Output, which the grace timer then killed as "XLA did not stop"). The
    footer shows ^c Stop while the run goes."""
    app = make_app(tmp_path, "import time\nprint('run started', flush=True)\nwhile True:\n    time.sleep(0.01)\n")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready")
        pid = app.kernel.info["pid"]
        assert "Stop" not in {k.description for k in app.query("FooterKey")}
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "run started" in output_text(app))
        await wait_for(pilot, lambda: "Stop" in {k.description for k in app.query("FooterKey")}, what="^c Stop")
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)
        assert any("a run is in progress: ctrl+c stops it" in str(n.message).lower()
                   for n in app._notifications)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: "Interrupted" in output_text(app))
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        assert output_text(app).count("run started") == 1  # one run's output, never two mixed
        assert app.kernel.state == "ready" and app.kernel.info["pid"] == pid and app.kernel.alive
        await wait_for(pilot, lambda: "Stop" not in {k.description for k in app.query("FooterKey")},
                       what="^c Stop to leave the footer")


async def test_quit_with_a_detached_grandchild_takes_under_a_second(tmp_path):
    app = make_app(tmp_path, "import subprocess, sys\n"
                             "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
                             " start_new_session=True)\nprint('detached', flush=True)\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await run_and_wait(pilot, app)
        proc = app.kernel.proc
        t0 = time.monotonic()
        await app.action_quit()
        assert time.monotonic() - t0 < 1.0
        assert not proc.alive


async def test_after_the_restart_limit_the_message_does_not_say_restarted(tmp_path):
    app = make_app(tmp_path, "import os\nos._exit(1)\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready")
        app._deaths = [asyncio.get_running_loop().time()] * 3  # three deaths this minute already
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "kernel died" in output_text(app))
        text = output_text(app)
        assert "was restarted" not in text and "not restarted" in text
        assert "not restarting" in str(app.query_one("#status").render())


async def test_the_collector_paused_for_start_up_runs_again_once_the_first_frame_is_painted(tmp_path):
    """`jaxtui` pauses Python's cyclic collector while it starts (cli/main.py): the app turns
    it back on, with the start-up's objects frozen, once the lesson is on screen."""
    import gc

    gc.disable()
    try:
        app = make_app(tmp_path, "x = 1\n", start_kernel=False, resume_gc=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await views_built(pilot)
            await wait_for(pilot, gc.isenabled, what="the collector to run again")
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
