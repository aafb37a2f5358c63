"""The results views: the registry, the base class's contract, and each view's behaviour
through the app (Pilot)."""

from __future__ import annotations

from conftest import views_built
from jaxtui.ui.app import JaxTUI
from jaxtui.ui.results.base import ResultsView
from jaxtui.ui.results.registry import TABS


def test_every_registry_line_names_a_results_view():
    ids = [tab.id for tab in TABS]
    assert len(set(ids)) == len(ids)
    for tab in TABS:
        assert issubclass(tab.view_class(), ResultsView), tab


async def test_each_tab_gets_its_view_and_a_view_built_late_gets_the_last_run():
    """Views are built after the first frame; one built after a run's events and result were
    sent gets them replayed: the run's start, then its result."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.current_pane
        pane.begin_run()
        pane.on_kernel_event("stream", {"name": "stdout", "text": "printed early\n"})
        pane.show_result({"ok": True, "demo": "grad", "device": "cpu:0", "elapsed_s": 0.1,
                          "stdout": "printed early\n", "values": []})
        await views_built(pilot)
        views = pane.results.views(ResultsView)
        shown = pane.results.shown_tabs()  # the Processes tab is a cluster's only
        assert [type(v) for v in views] == [tab.view_class() for tab in shown]
        for tab, view in zip(shown, views):
            assert view.id == tab.id and view.parent is pane.results
        from conftest import output_text

        assert output_text(app).count("printed early") == 1


# -- Output --------------------------------------------------------------------------------
def long_result(**kw):
    return {"ok": True, "demo": "grad", "device": "cpu:0", "elapsed_s": 0.1, "stdout": "", "values": [], **kw}


async def test_output_wraps_at_the_tab_width_and_again_after_a_resize():
    """Item 3: a long line (a correction, a traceback) is never cut off behind a sideways
    scrollbar, and it wraps again when the terminal grows."""
    from conftest import output_view

    correction = "✗ the notes say: " + "x " * 60 + "/ ✓ JAX does: " + "y " * 60
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        pane.begin_run()
        pane.on_kernel_event("stream", {"name": "stdout", "text": correction + "\n"})
        await pilot.pause()
        text = output_view(app).view
        rows_at_80 = text.wrapped_document.height
        assert text.max_scroll_x == 0 and rows_at_80 >= 5
        await pilot.resize_terminal(108, 30)  # still one above the other: the tab is wider
        await pilot.pause(0.2)
        assert text.max_scroll_x == 0 and text.wrapped_document.height < rows_at_80


async def test_output_follows_the_stream_contract():
    """Partial lines continue on the same stream; the other stream starts a new line; control
    characters are shown escaped; the running line says how the run ended."""
    from conftest import output_text

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        pane.begin_run()
        for name, text in (("stdout", "step 1"), ("stdout", " done\n"), ("stdout", "partial"),
                           ("stderr", "warning\x1b[31m red\n"), ("stdout", "tail\r\n")):
            pane.on_kernel_event("stream", {"name": name, "text": text})
        await pilot.pause()
        lines = output_text(app).splitlines()
        assert lines[0].startswith("▶ running grad")
        assert lines[1:] == ["step 1 done", "partial", "warning\\x1b[31m red", "tail\\r"]
        pane.show_result(long_result(stdout="step 1 done\npartialwarning\x1b[31m red\ntail\r\n"))
        await pilot.pause()
        lines = output_text(app).splitlines()
        assert lines[0] == "✓ ran grad" and "▶" not in output_text(app)
        assert lines[1:5] == ["step 1 done", "partial", "warning\\x1b[31m red", "tail\\r"]
        assert lines[-1] == "── grad: ok on cpu:0 in 100 ms"


async def test_a_flood_of_stream_events_is_painted_in_a_few_appends_and_nothing_is_lost(monkeypatch):
    """A run printing as fast as it can sends many events a second: painting each one kept
    keys waiting (F1 took 0.8 s in tmux). Text is painted at most every PAINT_EVERY_S, in
    one append, and find, copy and the run's end see all of it at once."""
    from conftest import output_view
    from jaxtui.ui.results.output import OutputText

    appends: list[str] = []
    original = OutputText.append
    monkeypatch.setattr(OutputText, "append", lambda self, text: (appends.append(text), original(self, text)))
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        pane.begin_run()
        for i in range(2000):
            pane.on_kernel_event("stream", {"name": "stdout", "text": f"line {i}\n"})
        view = output_view(app)
        assert view.text.splitlines()[-1] == "line 1999"  # the run's text: at once
        assert len(appends) <= 2  # not one per event
        assert view.view.text.splitlines()[-1] == "line 1999"  # what find and copy read
        pane.on_kernel_event("stream", {"name": "stdout", "text": "late line\n"})
        await pilot.pause(0.2)
        assert view.query_one(OutputText).text.splitlines()[-1] == "late line"  # painted by the timer
        reloads: list[str] = []
        show = OutputText.show
        monkeypatch.setattr(OutputText, "show",
                            lambda self, text, styles: (reloads.append(text), show(self, text, styles)))
        pane.show_result(long_result(stdout="".join(f"line {i}\n" for i in range(2000)) + "late line\n"))
        await pilot.pause(0.2)
        shown = view.query_one(OutputText).text
        assert shown == view.text + "\n"  # the streamed text, its first line the verdict
        assert shown.startswith("✓ ran grad\nline 0\n") and shown.count("late line") == 1
        assert shown.rstrip().endswith("── grad: ok on cpu:0 in 100 ms")
        assert not reloads  # edited in place: 100,000 lines loaded again kept keys waiting 3 s
        # A failed run's error, after text still waiting to be painted: there, and scrolled to.
        pane.begin_run()
        reloads.clear()  # the new run's start shows its (empty) text: not a reload
        for i in range(3000):
            pane.on_kernel_event("stream", {"name": "stdout", "text": f"again {i}\n"})
        await pilot.pause(0.06)  # a paint done, more text waiting for the next
        error = {"kind": "exception", "type": "ValueError", "message": "boom", "traceback": ""}
        pane.show_result(long_result(ok=False, error=error, stdout="".join(f"again {i}\n" for i in range(3000))))
        await pilot.pause(0.2)
        text_view = view.query_one(OutputText)
        assert "✗ ValueError: boom" in text_view.text and not reloads
        assert text_view.cursor_location[0] == text_view.text.splitlines().index("✗ ValueError: boom")


async def test_a_text_views_height_in_constant_time_agrees_with_textuals_sum():
    """text_view._WrappedDocument: Textual summed every line's rows for each height asked
    (half a second per key with a 100,000-line Output); the constant-time count must agree
    with that sum after wrapping, appends, edits and a resize."""
    from conftest import output_view
    from jaxtui.ui.widgets.text_view import _WrappedDocument

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        pane.begin_run()
        view = output_view(app).view
        assert isinstance(view.wrapped_document, _WrappedDocument)

        def rows_by_sum() -> int:
            return sum(len(offsets) + 1 for offsets in view.wrapped_document._wrap_offsets)

        for i in range(50):
            pane.on_kernel_event("stream", {"name": "stdout", "text": ("word " * (i % 37)) + "\n"})
            view = output_view(app).view
            assert view.wrapped_document.height == rows_by_sum()
        view.insert("a line in the middle " * 9 + "\n", (20, 0))
        assert view.wrapped_document.height == rows_by_sum()
        await pilot.resize_terminal(120, 30)
        await pilot.pause(0.2)
        assert view.wrapped_document.height == rows_by_sum()


async def test_output_values_in_code_order_and_the_devices_of_a_multi_device_run():
    from conftest import output_text

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        pane.begin_run()
        pane.on_kernel_event("stream", {"name": "stdout", "text": "before\nafter\n"})
        values = [{"text": "x: 1", "at": 7, "device_names": ["cpu:0"]},
                  {"text": "y: sharded", "at": 13,
                   "devices": [{"device": f"cpu:{i}", "device_id": i, "process_index": 0} for i in range(4)]}]
        pane.show_result(long_result(stdout="before\nafter\n", values=values, demo="pmap"))
        await pilot.pause()
        lines = [line for line in output_text(app).splitlines() if line]
        assert lines[1:5] == ["before", "x: 1", "after", "y: sharded"]
        assert lines[-1] == "── pmap: ok on cpu:0-3 (4 devices) in 100 ms"


async def test_output_find_copy_save_and_the_runs_before(tmp_path, monkeypatch):
    """Item 13: Output is searched, copied and saved like the inspection views, and the last
    runs stay one key away."""
    from conftest import output_view

    monkeypatch.chdir(tmp_path)
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        for n in (1, 2):
            pane.begin_run()
            pane.show_result(long_result(stdout=f"the output of run {n}\nneedle {n}\n"))
        await pilot.pause()
        view = output_view(app)
        view.view.focus()
        await pilot.press("slash", *"needle", "enter")
        assert app.focused is view.view and view.selected_text == "needle"
        await pilot.press("y")
        assert app.clipboard == "needle"
        await pilot.press("Y")
        assert app.clipboard == view.text and "run 2" in app.clipboard
        await pilot.press("s")
        assert (tmp_path / "jaxtui-grad-output.txt").read_text() == view.text + "\n"
        await pilot.press("left_square_bracket")  # the run before
        assert "the output of run 1" in view.text and view.query_one(".output-status").display
        await pilot.press("right_square_bracket")
        assert "the output of run 2" in view.text and not view.query_one(".output-status").display


def test_compiles_hides_jax_internal_functions_unless_asked():
    """Item 19: jnp operations outside jit and JAX's helpers are hidden by default."""
    from jaxtui.ui.results.compiles import compiles_text

    rows = [{"name": "<unnamed function>", "compiles": 10, "traces": 0, "trace_s": 0, "lower_s": 0, "compile_s": 0},
            {"name": "_reduce_sum", "compiles": 1, "traces": 1, "trace_s": 0, "lower_s": 0, "compile_s": 0},
            {"name": "step", "compiles": 2, "traces": 2, "trace_s": 0, "lower_s": 0, "compile_s": 0,
             "misses": [{"line": 30, "reason": "first call"}]},
            {"name": "loss", "compiles": 1, "traces": 1, "trace_s": 0, "lower_s": 0, "compile_s": 0}]
    result = {"compiles": rows, "inspections": [{"name": "loss", "fn_name": "loss"}]}
    shown = compiles_text(result, show_internal=False)
    assert "step" in shown and "★ loss" in shown and "_reduce_sum  " not in shown
    assert "2 of JAX's own functions hidden (<unnamed function>, _reduce_sum: 11 compilations)" in shown
    every = compiles_text(result, show_internal=True)
    assert "_reduce_sum" in every and "<unnamed function>" in every


async def test_a_failed_run_shows_the_error_type_and_message_scrolled_into_view():
    """Item 5: at 80x24 the Output shows what went wrong (type and message first, JAX's
    boilerplate gone), scrolled to it, not the top of a long output."""
    from conftest import output_view

    error = {"type": "TracerBoolConversionError", "kind": "exception", "line": 9,
             "message": "Attempted boolean conversion of traced array.\n--------------------\n"
                        "For simplicity, JAX has removed its internal frames from the traceback.",
             "traceback": 'Traceback (most recent call last):\n  File "grad", line 9, in f\n    if x > 0:\n'
                          "TracerBoolConversionError: Attempted boolean conversion of traced array.\n"
                          "--------------------\nFor simplicity, JAX has removed its internal frames."}
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        pane.begin_run()
        pane.show_result(long_result(ok=False, error=error, stdout="".join(f"line {i}\n" for i in range(60))))
        await pilot.pause()
        view = output_view(app)
        text = view.text
        assert "✗ TracerBoolConversionError: Attempted boolean conversion of traced array." in text
        assert "For simplicity" not in text and "-----" not in text.replace("── grad", "")
        row = text.splitlines().index("✗ TracerBoolConversionError: Attempted boolean conversion of traced array.")
        top = view.view.scroll_offset.y
        assert top <= row < top + view.view.scrollable_content_region.height, "scrolled to the error"


async def test_the_tour_bar_takes_two_rows_on_a_small_terminal():
    """Item 5: at 80x24 the panes keep the room (the bar was 6 rows)."""
    from jaxtui.core.tour_format import find_tour

    app = JaxTUI(start_kernel=False, cursor_blink=False, tour=find_tour())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        assert app.tour_panel is not None and app.tour_panel.size.height <= 2
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.3)
        assert app.tour_panel.size.height > 2


async def test_plots_use_the_tabs_full_height_at_80x24():
    """Item 5: a plot fills its tab, during a tour at 80x24 too (the tour bar's 2 rows are
    tested above)."""
    from jaxtui.core.tour_format import parse_tour
    from jaxtui.ui.results.plots import PlotsView
    from jaxtui.ui.widgets.plot import SeriesPlot

    tour = parse_tour("title: t\nstep: the loss\npane: stax\nshow: plots\ntext: |\n    One.\n\n    Two.\n"
                      "    Three.\n    Four.\n", source="t.tour")
    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="stax", tour=tour)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        pane.show_result(long_result(demo="stax", plots=[{"name": "loss", "x": [0, 1, 2], "y": [3.0, 2.0, 1.0],
                                                          "title": "training loss", "xlabel": "step",
                                                          "ylabel": "loss", "logx": False, "logy": False}]))
        pane.results.active = "plots"
        await pilot.pause(0.2)
        view = pane.results.views(PlotsView)[0]
        plot = view.query_one(SeriesPlot)
        assert plot.size.height == view.size.height >= 6
