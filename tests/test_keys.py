"""Keys: a burst applied in order, pane keys from every widget, the keys of the registry."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid

import pytest
from textual import events

from conftest import PYTHON, views_built
from jaxtui.ui.app import JaxTUI
from jaxtui.ui.results.searchable import SearchableView


def burst(app: JaxTUI, *keys: str) -> None:
    """Queue keys all at once, as a terminal delivers what SSH sent in one packet."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


async def test_a_burst_of_keys_is_applied_in_order():
    """Item 9: `abc`, Up, Home, `W` in one burst typed `abcW` on one line (the arrows ran
    after the letters: a widget's bindings ran only once the key had bubbled up)."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.current_pane.editor
        editor.focus()
        editor.move_cursor((2, 0))
        await pilot.pause()
        burst(app, "a", "b", "c", "up", "home", "W")
        await pilot.pause(0.3)
        lines = editor.text.splitlines()
        assert lines[1] == "W" + app.current_pane.demo.code.splitlines()[1]
        assert lines[2].startswith("abc")


async def test_a_burst_in_a_form_field_and_a_find_bar_is_applied_in_order():
    """Item 9 beyond the editor: `End BSpace BSpace BSpace BSpace 0` in one burst typed the 0
    before the backspaces ran (they are bindings, run once the key reached the app), and the
    backspaces then deleted it: the field was left empty, "a value is required"."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        field = app.query_one("#input-n")
        field.focus()
        await pilot.pause()
        burst(app, "home", "end", "backspace", "backspace", "backspace", "backspace", "0", "left", "7")
        await pilot.pause(0.3)
        assert field.value == "70"
        results = app.current_pane.results
        results.active = "jaxpr"
        await pilot.pause()
        shown = results.shown_view()
        assert isinstance(shown, SearchableView)
        shown.view.focus()
        await pilot.pause()
        await pilot.press("slash")
        find = app.focused
        assert find is not None and "inspect-find-input" in find.classes
        burst(app, "x", "y", "backspace", "backspace", "a", "home", "b")
        await pilot.pause(0.3)
        assert find.value == "ba"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_a_burst_through_a_real_terminal_is_applied_in_order_and_ctrl_s_writes_it_back(tmp_path):
    """Item 9 in a real terminal: tmux sends `abc`, Up, Home and `W` in one write, as SSH on
    a slow link does; item 10: ctrl+s in the editor writes the file back, keeping a .bak."""
    path = tmp_path / "burst.py"
    original = '"""# burst\n\nKeys in a burst."""\nfirst = 1\nsecond = 2\nthird = 3\n'
    path.write_text(original)
    socket = f"jaxtui-burst-{uuid.uuid4().hex[:8]}"

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30).stdout

    def wait_for(predicate, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"{what} never happened:\n{tmux('capture-pane', '-p')}"
            time.sleep(0.1)

    tmux("new-session", "-d", "-x", "80", "-y", "24",
         f"env JAXTUI_STATE_DIR={tmp_path / 'state'} JAX_PLATFORMS=cpu {PYTHON} -m jaxtui {path}")
    try:
        wait_for(lambda: "third = 3" in tmux("capture-pane", "-p"), "the editor on screen")
        time.sleep(0.5)  # the editor has the focus at start
        tmux("send-keys", "Down", "Down")
        time.sleep(0.5)
        # One tmux command: the keys reach the app's terminal in one burst.
        tmux("send-keys", "-l", "abc", ";", "send-keys", "Up", "Home", ";", "send-keys", "-l", "W")
        wait_for(lambda: "abcthird = 3" in tmux("capture-pane", "-p"), "the burst typed")
        tmux("send-keys", "C-s")
        wait_for(lambda: path.read_text() != original, "the file written back")
        assert path.read_text() == original.replace("second", "Wsecond").replace("third", "abcthird")
        assert (tmp_path / "burst.py.bak").read_text() == original
    finally:
        tmux("kill-server")


async def test_f2_and_f3_change_pane_from_every_widget_of_the_devices_tab():
    """Item 11: the platform select, the device-count input and the restart button too."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_pane("devices")
        await views_built(pilot)
        for selector in ("#platform-select", "#host-devices-input", "#apply-config", "#devices-table"):
            app.show_pane("devices")
            await pilot.pause()
            app.query_one(selector).focus()
            await pilot.pause()
            await pilot.press("f2")
            await pilot.pause()
            assert app.shown_name == "grad", selector  # after devices: the first
            app.show_pane("devices")
            await pilot.pause()
            app.query_one(selector).focus()
            await pilot.pause()
            await pilot.press("f3")
            await pilot.pause()
            assert app.shown_name == app.demos[-1].name, selector


async def test_ctrl_g_maximises_the_focused_view_or_the_editor_and_restores_it():
    """Item 4: at 80x24 the lesson gets 3 lines; one key gives it (or the editor) the screen.
    The lesson scrolls from the keyboard."""
    from jaxtui.ui.results.lesson import LessonView

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        lesson = pane.results.views(LessonView)[0]
        lesson.focus()
        await pilot.pause()
        assert app.focused is lesson
        await pilot.press("pagedown", "pagedown")
        assert lesson.scroll_offset.y > 0
        await pilot.press("end")
        assert lesson.scroll_offset.y == lesson.max_scroll_y > 0
        await pilot.press("home")
        assert lesson.scroll_offset.y == 0
        small = lesson.size.height
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert app.screen.maximized is pane.results and lesson.size.height > 2 * small
        await pilot.press("ctrl+g")
        assert app.screen.maximized is None
        pane.editor.focus()
        await pilot.press("ctrl+g")
        assert app.screen.maximized is pane.editor
        await pilot.press("escape")
        assert app.screen.maximized is None


async def test_jump_mode_labels_the_lesson():
    from jaxtui.ui.results.lesson import LessonView
    from jaxtui.ui.screens.jump import JumpScreen

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause(0.1)
        assert isinstance(app.screen, JumpScreen)
        key = next(t.key for t in app.screen.targets if isinstance(t.widget, LessonView))
        await pilot.press(key)
        assert isinstance(app.focused, LessonView)


async def test_the_footer_keeps_quit_and_run_and_shows_more_when_wide():
    """Item 19: at 80 columns the less important keys leave the footer (F1 and the palette
    list them); quit and run always stay."""
    from textual.widgets import Footer

    from conftest import wait_for

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        footer = app.query_one(Footer)
        await wait_for(pilot, lambda: len(footer.query("FooterKey")) > 3)
        labels = [k.description for k in footer.query("FooterKey")]
        assert {"Run", "Quit", "Help"} <= set(labels) and "Max" not in labels
        await pilot.resize_terminal(140, 40)
        await wait_for(pilot, lambda: "Max" in [k.description for k in footer.query("FooterKey")])
        labels = [k.description for k in footer.query("FooterKey")]
        assert {"Run", "Quit", "Max", "Live", "Tab"} <= set(labels)


async def test_the_theme_and_the_last_pane_are_remembered_and_light_themes_get_light_code(tmp_path, monkeypatch):
    """Item 19, for the command line's app (remember=True); tests and scripts start plain."""
    from jaxtui.core.state import ENV_VAR
    from jaxtui.ui.widgets.status import KernelStatus
    from jaxtui.ui.widgets.text_view import LIGHT_THEME

    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    app = JaxTUI(start_kernel=False, cursor_blink=False, remember=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        app.theme = "textual-light"
        await pilot.pause()
        assert app.current_pane.editor.theme == LIGHT_THEME
        await pilot.press("ctrl+l")  # live mode shows in the header
        assert "● live" in str(app.query_one(KernelStatus).render())
    again = JaxTUI(start_kernel=False, cursor_blink=False, remember=True)
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert again.theme == "textual-light" and again.current_pane.demo.name == "jit"
        assert again.current_pane.editor.theme == LIGHT_THEME
    plain = JaxTUI(start_kernel=False, cursor_blink=False)
    async with plain.run_test(size=(100, 30)):
        assert plain.theme != "textual-light" and plain.current_pane.demo.name == "grad"


async def test_ctrl_t_restarts_with_the_platform_the_devices_tab_shows():
    """Item 16: after a platform change that failed, ctrl+t retries with what the Devices tab
    shows now (the user picked another platform there), not the one that failed."""
    from conftest import count_starts
    from jaxtui.core.client import KernelConfig

    app = JaxTUI(start_kernel=False, cursor_blink=False, kernel_config=KernelConfig(platform="gpu", host_devices=2))
    starts = count_starts(app.kernel)
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_pane("devices")
        await views_built(pilot)
        app.query_one("#platform-select").value = "cpu"  # chosen, not applied
        await pilot.pause()
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)
        assert app.kernel.config.platform == "cpu" and app.kernel.config.host_devices == 2
        assert len(starts) == 1


async def test_a_failure_outside_a_run_shows_in_output():
    """The kernel could not start before any run: the reason (and its fixes) is in Output."""
    from conftest import output_text

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        app.current_pane.show_failure("The kernel could not start:\nRuntimeError: no TPU\n\nTo fix it:\n  1. ...")
        await pilot.pause()
        assert "To fix it:" in output_text(app) and output_text(app).startswith("✗ The kernel could not start")


async def test_the_results_tab_bar_fits_at_120_columns_and_jump_labels_leave_values_alone():
    """Item 19."""
    from textual.widgets import Tab

    from jaxtui.ui.screens.jump import JumpScreen

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await views_built(pilot)
        results = app.current_pane.results
        right = results.region.right
        assert all(tab.region.right <= right for tab in results.query(Tab)), "a tab is cut off"
        await pilot.press("ctrl+o")
        await pilot.pause(0.1)
        assert isinstance(app.screen, JumpScreen)
        field = app.current_pane.form.query_one("#input-n")
        label = next(t for t in app.screen.targets if t.widget is field)
        assert label.offset.x < field.region.x, "the label is beside the value, not over its first digit"


async def test_at_start_what_a_learner_types_goes_into_the_code():
    """Walking the app: at start the focus was on the pane tab bar, typed text went nowhere
    and ctrl+s saved the Lesson view. The editor has it now (the Devices table when the app
    opens on Devices); a tour at start leaves the presenter's keys to the tour."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x", "=", "1", "enter")
        await pilot.pause()
        assert app.current_pane.editor.text.startswith("x=1\n")
    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="devices")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "devices-table"
    from jaxtui.core.tour_format import find_tour

    app = JaxTUI(start_kernel=False, cursor_blink=False, tour=find_tour("notes"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused is None
