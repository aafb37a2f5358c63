"""F1 help for the focused part, the palette listing every action with its key, the footer
fitting 80 columns, and jump mode: every action is reachable without a mouse."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Footer, Input

from conftest import wait_for
from jaxtui.core.tour_format import find_tour
from jaxtui.ui import actions
from jaxtui.ui.app import JaxTUI
from jaxtui.ui.commands import JaxtuiCommands
from jaxtui.ui.screens.help import HelpScreen
from jaxtui.ui.screens.jump import JumpScreen
from jaxtui.ui.widgets.pane import CodeEditor


def app_without_kernel(**kwargs) -> JaxTUI:
    return JaxTUI(start_kernel=False, cursor_blink=False, **kwargs)


async def open_help(pilot, app: JaxTUI) -> HelpScreen:
    await pilot.press("f1")
    await pilot.pause(0.1)
    assert isinstance(app.screen, HelpScreen)
    return app.screen


async def test_f1_explains_the_focused_part_with_all_its_keys():
    app = app_without_kernel()
    async with app.run_test(size=(80, 24)) as pilot:
        editor = app.current_pane.editor
        editor.focus()
        help_screen = await open_help(pilot, app)
        content = help_screen.content
        assert content.title == "Code editor" and content.text == CodeEditor.HELP
        here = {action for _keys, action, _owner in content.here}
        assert {"Cursor up", "Undo", "Select all"} <= here  # the editor's own bindings
        everywhere = "\n".join(f"{keys} {text}" for keys, text in content.everywhere)
        for action in actions.ACTIONS:  # and every app key, each with what it does
            assert action.help in everywhere
        assert "f8" in everywhere and "(during a tour)" in everywhere
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        app.current_pane.form.query_one(Input).focus()  # a field: that field's help (item 7)
        content = (await open_help(pilot, app)).content
        assert content.title == "Input n" and "number of samples" in content.text
        assert "int, >= 1 and <= 10_000_000" in content.text  # as the code writes it, not 1e+07
        assert "Keys here (Input n)" not in content.where and content.where == "Input n"
        await pilot.press("f1")  # f1 closes it too
        assert not isinstance(app.screen, HelpScreen)

        app.set_focus(None)  # nothing focused: what the app is
        content = (await open_help(pilot, app)).content
        assert content.title == "jaxtui" and "ctrl+o" in content.text


async def test_the_palette_lists_every_action_with_its_key():
    app = app_without_kernel()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        provider = JaxtuiCommands(app.screen, None)
        listed = {title: help_text for title, _cb, help_text in provider._commands()}
        for action in actions.ACTIONS:
            if not action.palette or action.name.startswith("tour_") or action.name == "interrupt":
                continue  # the tour's keys without a tour, and interrupt when idle, do nothing
            assert action.palette in listed, action.name
            first_key = action.keys.split(",")[0]
            if first_key:
                assert listed[action.palette].endswith(f"({first_key})"), action.name
        assert "pane: jit" in listed and "tour: start notes" in listed
        await pilot.press("escape")

    touring = app_without_kernel(tour=find_tour())
    async with touring.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("ctrl+p")
        listed = [t for t, _cb, _h in JaxtuiCommands(touring.screen, None)._commands()]
        assert {"tour: next step", "tour: previous step", "tour: restart this step", "tour: end"} <= set(listed)


async def footer_layout(app: JaxTUI) -> list[tuple[str, int, int]]:
    return [(key.description, key.region.x, key.region.right) for key in app.query_one(Footer).query("FooterKey")]


async def test_the_footer_fits_80_columns_most_important_first():
    for tour in (None, find_tour()):
        app = app_without_kernel(tour=tour)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.2)
            app.current_pane.editor.focus()  # the editor binds f7 and ctrl+c too: order must hold
            await pilot.pause(0.2)
            footer = app.query_one(Footer)
            await wait_for(pilot, lambda: len(footer.query("FooterKey")) > 3,  # noqa: B023 - awaited here
                           what="the footer's keys (it recomposes after a focus change)")
            keys = await footer_layout(app)
            labels = [label for label, _x, _right in keys]
            expected = [a.footer for a in actions.ACTIONS  # at 80 columns, the less important go
                        if a.footer and a.name != "command_palette" and not a.wide
                        and app.check_action(a.name, ()) is not False]
            assert labels[:-1] == expected  # registry order; the palette key is docked last
            assert labels[-1] == "Cmds"
            assert all(right <= 80 for _label, _x, right in keys)
            palette_x = keys[-1][1]
            assert all(right <= palette_x for _label, _x, right in keys[:-1]), keys  # nothing hidden
            if tour is not None:
                assert labels[:3] == ["Next", "Back", "Again"]


async def test_jump_mode_reaches_tabs_fields_and_the_editor():
    app = app_without_kernel()
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.query("ResultsTabs"):  # the start-up pane's results mount after the first frame
            await pilot.pause(0.05)
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.pause(0.1)
        jump = app.screen
        assert isinstance(jump, JumpScreen)
        names = {t.name: t.key for t in jump.targets}
        assert {"tab jit", "tab Output", "input-n"} <= set(names)
        editor_key = next(t.key for t in jump.targets if isinstance(t.widget, CodeEditor))
        assert len(jump.query(".jump-label")) == len(jump.targets)

        await pilot.press(names["tab jit"])  # a pane tab: that pane
        await pilot.pause(0.2)
        assert not isinstance(app.screen, JumpScreen) and app.current_pane.demo.name == "jit"

        await pilot.press("ctrl+o")
        await pilot.pause(0.1)
        key = next(t.key for t in app.screen.targets if t.name == "tab Output")
        await pilot.press(key)  # a results tab: shown
        assert app.current_pane.results.active == "output"

        await pilot.press("ctrl+o")
        await pilot.pause(0.1)
        key = next(t.key for t in app.screen.targets if isinstance(t.widget, CodeEditor))
        await pilot.press(key)  # a widget: focused
        assert isinstance(app.focused, CodeEditor)
        assert editor_key  # every target has a key

        await pilot.press("ctrl+o", "escape")  # any other key leaves, doing nothing
        assert not isinstance(app.screen, JumpScreen) and isinstance(app.focused, CodeEditor)


async def test_jump_mode_with_two_keys_at_once_leaves_once():
    """Two keys that arrive together (`z x`, or a label then ctrl+a) used to dismiss the
    jump screen twice: ScreenStackError, and the app was gone."""
    from textual import events

    app = app_without_kernel()
    async with app.run_test(size=(80, 24)) as pilot:
        for pair in (("z", "x"), ("1", "ctrl+a")):
            await pilot.press("ctrl+o")
            await pilot.pause(0.1)
            assert isinstance(app.screen, JumpScreen)
            for key in pair:  # queued together, as a terminal delivers a burst
                char = key if len(key) == 1 else None
                app.post_message(events.Key(key, char))
            await pilot.pause(0.2)
            assert not isinstance(app.screen, JumpScreen) and len(app.screen_stack) == 1
        assert app.is_running and app.return_code is None
