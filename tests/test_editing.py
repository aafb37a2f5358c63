"""Inputs and editing: the form says why a value is refused and what a field takes; ctrl+s
saves the code where it belongs."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from conftest import views_built
from jaxtui.core.catalog import load
from jaxtui.ui.app import JaxTUI
from jaxtui.ui.widgets.inputs_form import InputField


def field(app: JaxTUI, name: str) -> InputField:
    return next(f for f in app.current_pane.form.query(InputField) if f.spec.name == name)


async def test_a_refused_value_says_why_next_to_its_field_and_choices_show():
    """Item 7: the reason row was clipped ("must be >= 1" and vmap's in_axes choices never
    showed)."""
    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="vmap")
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        axes = field(app, "in_axes")
        axes.input.focus()
        await pilot.pause()
        hint = axes.query_one(".input-hint")
        assert hint.display and "(0, None)" in str(hint.render()) and "(None, None)" in str(hint.render())
        assert hint.region.height >= 1 and hint.region.width > 20  # on screen, not clipped away
        axes.input.value = "(1, 2)"
        await pilot.pause()
        text = str(hint.render())
        assert axes.has_class("-invalid") and text.startswith("✗ must be one of")
        assert hint.region.height >= text.count("\n") + 1
        app.current_pane.editor.focus()  # the reason stays while the value is wrong
        await pilot.pause()
        assert hint.display and hint.region.height >= 1

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)  # the form's fields are built just after the first frame
        n = field(app, "n")
        n.input.value = "0"
        await pilot.pause()
        hint = n.query_one(".input-hint")
        assert "must be >= 1" in str(hint.render()) and hint.region.height >= 1


async def test_ctrl_s_in_the_editor_writes_the_users_file_back_with_a_backup(tmp_path, monkeypatch):
    """Item 10."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "my_file.py"
    original = '"""# mine\n\nA lesson."""\nx = 1\nprint(x)\n'
    path.write_text(original)
    app = JaxTUI(start_kernel=False, cursor_blink=False, user_demo=load(path), initial_pane="my_file")
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.current_pane
        pane.editor.focus()
        pane.editor.move_cursor((0, 0))
        await pilot.press(*"# edited", "enter")
        assert pane.modified
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert path.read_text() == '"""# mine\n\nA lesson."""\n# edited\nx = 1\nprint(x)\n'
        assert Path(f"{path}.bak").read_text() == original
        assert not pane.modified  # the file is the new original
        assert any("my_file.py.bak" in n.message for n in app._notifications)


async def test_ctrl_s_saves_a_copy_of_a_builtin_demo_and_the_view_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="jit")
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        pane.editor.focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        copy = tmp_path / "jaxtui-jit.py"
        assert copy.read_text() == pane.demo.source  # the lesson and the code, as a demo file
        pane.form.query_one(Input).focus()  # an input of the form counts as the code side
        await pilot.press("ctrl+s")
        pane.results.active = "lesson"
        pane.results.shown_view().focus()
        await pilot.pause()
        await pilot.press("ctrl+s")  # a results view: the view
        await pilot.pause()
        assert (tmp_path / "jaxtui-jit-lesson.txt").read_text().startswith("# jit")
        assert any(t == "save_code" for t, _title, _help in
                   [(a, p, h) for a, p, h in app.palette_actions()]), "the palette lists it"


async def test_the_form_follows_the_code_after_a_run():
    """Item 8: a demo.input added in the editor appears after the next run, one removed
    disappears (a value typed in a field that stays is kept)."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)
        pane = app.current_pane
        assert [s.name for s in pane.form.specs] == ["n", "seed"]
        field(app, "seed").input.value = "7"
        code = pane.editor.text.replace('n = demo.input("n", 1000, "number of samples", min=1, max=10_000_000)\n',
                                        'steps = demo.input("steps", 3, "how many steps", min=1)\n')
        assert code != pane.editor.text
        pane.replace_code(code)
        await pilot.pause()
        assert [s.name for s in pane.form.specs] == ["n", "seed"], "not before the run"
        pane.show_result({"ok": True, "demo": "grad", "device": "cpu:0", "elapsed_s": 0.1, "values": []})
        await pilot.pause()
        assert [f.spec.name for f in pane.form.query(InputField)] == ["steps", "seed"]
        assert pane.input_texts() == {"steps": "3", "seed": "7"}
        assert pane.run_params()["inputs"] == {"steps": 3, "seed": 7}
        await pilot.press("f12")  # the original's fields come back with the original code
        await pilot.pause()
        assert [f.spec.name for f in pane.form.query(InputField)] == ["n", "seed"]


def test_bounds_are_written_as_the_code_writes_them():
    """`max=10_000_000` was shown as `<= 1e+07`, in the hint and in the refusal."""
    import pytest

    from jaxtui.inputs import InputError, InputSpec, parse_value
    from jaxtui.ui.widgets.inputs_form import allowed

    spec = InputSpec(name="n", default=1000, help="samples", min=1, max=10_000_000, line=1)
    assert allowed(spec) == "int, >= 1 and <= 10_000_000"
    with pytest.raises(InputError, match=r"must be <= 10_000_000$"):
        parse_value(spec, "20000000")
    half = InputSpec(name="p", default=0.25, help="", min=0.5, max=None, line=1)
    assert allowed(half) == "float, >= 0.5"
