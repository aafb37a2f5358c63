"""Tours: the file format (errors name the line), the default tour against the demos, the
`jaxtui tour` command, and walking a tour with the keys in the app (Pilot)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from conftest import wait_for
from jaxtui.core.catalog import builtin_demos
from jaxtui.core.tour_format import (
    ChangeDoesNotApply,
    CodeChange,
    Step,
    TourError,
    check_tour,
    find_tour,
    parse_tour,
    step_code,
)
from jaxtui.ui.app import JaxTUI

GOOD = textwrap.dedent("""\
    # a comment
    title: A test tour
    about: two steps

    step: First
    pane: grad
    action: run
    show: jaxpr            # a trailing comment
    input: n = 100
    input: seed = 7
    text:
        Some *Markdown*.

        A second paragraph.
    replace:
        grads = grad_fn(w, b, x, y)
    with:
        grads = jax.grad(loss_fn, argnums=(0, 1))(w, b, x, y)
    append:
        print("appended")

    step: Second
    text: one line of narrative
    """)


def demos_by_name() -> dict[str, tuple[str, list[object]]]:
    return {d.name: (d.code, list(d.inputs)) for d in builtin_demos()}


# -- the file format --------------------------------------------------------------------
def test_parse_a_good_tour():
    tour = parse_tour(GOOD, source="good.tour")
    assert tour.title == "A test tour" and tour.about == "two steps"
    first, second = tour.steps
    assert (first.title, first.pane, first.action, first.show) == ("First", "grad", "run", "jaxpr")
    assert first.inputs == {"n": "100", "seed": "7"}
    assert first.text == "Some *Markdown*.\n\nA second paragraph."
    assert [c.kind for c in first.changes] == ["replace", "append"]
    assert first.changes[0].old == "grads = grad_fn(w, b, x, y)"
    assert first.line == 5 and first.changes[0].line == 15
    # a later step stays on the previous step's pane; the defaults apply
    assert (second.pane, second.action, second.show, second.text) == ("grad", "none", None,
                                                                        "one line of narrative")


BAD = [
    ("step: x\npane: grad\ntext: t\n", 1, "needs a 'title: ...'"),
    ("title: t\n", 1, "at least one 'step"),
    ("title: t\nstep: s\ntext: hi\n", 2, "must name its pane"),
    ("title: t\nstep: s\npane: grad\n", 2, "has no 'text:'"),
    ("title: t\nstep: s\npane: grad\npain: jit\ntext: x\n", 4, "unknown field 'pain'"),
    ("title: t\nstep: s\npane: grad\naction: jump\ntext: x\n", 4, "unknown action 'jump'"),
    ("title: t\nstep: s\npane: grad\ninput: n100\ntext: x\n", 4, "NAME = VALUE"),
    ("title: t\nstep: s\npane: grad\ninput: n = 1\ninput: n = 2\ntext: x\n", 5, "set twice"),
    ("title: t\nstep: s\npane: grad\npane: jit\ntext: x\n", 4, "a second 'pane:'"),
    ("title: t\n  indented\n", 2, "indented line outside a block"),
    ("title: t\nstep: s\npane: grad\ntext: x\nwith:\n    y = 1\n", 5, "must follow a 'replace:'"),
    ("title: t\nstep: s\npane: grad\ntext: x\nreplace:\n    y = 1\n", 5, "needs a 'with:'"),
    ("title: t\nstep: s\npane: grad\ntext: x\nreplace:\n    y = 1\nshow: hlo\n", 5, "needs a 'with:'"),
    ("title: t\nstep: s\npane: grad\ntext: x\nappend:\n    y = 1\ncode:\n    z = 2\n", 7, "put it before"),
    ("title: t\nstep: s\npane: grad\ntext:\ncode:\n    z = 2\n", 4, "nothing under it"),
    ("title: t\nstep: s\npane: grad\ntitle: again\ntext: x\n", 4, "top of the file"),
    ("title: t\npane: grad\n", 2, "belongs to a step"),
    ("title: t\nstep: s\npane: grad\nJust some prose\n", 4, "expected 'field: value'"),
    ("title: t\nstep:\n", 2, "needs a title"),
]


@pytest.mark.parametrize("text,line,message", BAD)
def test_a_malformed_tour_names_its_line(text, line, message):
    with pytest.raises(TourError) as info:
        parse_tour(text, source="bad.tour")
    assert info.value.line == line, str(info.value)
    assert message in info.value.message
    assert str(info.value).startswith(f"bad.tour:{line}: ")


def test_step_code_replace_append_and_whole_code():
    original = "a = 1\nif a:\n    b = a + 1\nprint(b)\n"
    step = Step("s", "p", 1, text="t", changes=[
        CodeChange("replace", "b = a * 10\nc = 3\n", old="b = a + 1", line=2),  # keeps the indent
        CodeChange("append", "print('end')\n", line=4),
    ])
    assert step_code(step, original) == "a = 1\nif a:\n    b = a * 10\nc = 3\nprint(b)\n\nprint('end')\n"
    # re-indented old code still matches, and the replacement takes the demo's indentation
    loose = Step("s", "p", 1, text="t", changes=[CodeChange("replace", "b = 0\n", old="  b = a + 1  ", line=2)])
    assert step_code(loose, original) == "a = 1\nif a:\n    b = 0\nprint(b)\n"
    whole = Step("s", "p", 1, text="t", changes=[CodeChange("code", "x = 2\n", line=2)])
    assert step_code(whole, original) == "x = 2\n"
    missing = Step("s", "p", 1, text="t", changes=[CodeChange("replace", "x\n", old="nowhere()", line=9)])
    with pytest.raises(ChangeDoesNotApply, match=r"t\.tour:9: the code to replace is not in the demo"):
        step_code(missing, original, source="t.tour")


def test_check_tour_finds_what_the_parser_cannot():
    text = textwrap.dedent("""\
        title: t
        step: a
        pane: gard
        text: x
        step: b
        pane: grad
        input: nn = 5
        input: n = -3
        text: x
        replace:
            this is not in the demo
        with:
            pass
        """)
    problems = check_tour(parse_tour(text, source="c.tour"), demos_by_name())
    messages = [str(p) for p in problems]
    assert messages[0].startswith("c.tour:3: unknown pane 'gard'")
    assert messages[1].startswith("c.tour:7: pane 'grad' has no input 'nn'")
    assert messages[2].startswith("c.tour:8: input n: must be >= 1")
    assert messages[3].startswith("c.tour:10: the code to replace is not in the demo")


def test_the_default_tour_fits_the_demos():
    tour = find_tour()  # notes
    assert tour.name == "notes" and len(tour.steps) >= 15
    assert check_tour(tour, demos_by_name()) == []
    panes = [s.pane for s in tour.steps]
    assert set(panes) == {"grad", "jit", "vmap", "lax", "pmap", "stax"}  # the notes' order
    assert sorted(set(panes), key=panes.index) == ["grad", "jit", "vmap", "lax", "pmap", "stax"]
    for step in tour.steps:  # short enough to read above the code at 80x24
        assert len(step.title) <= 45 and len(step.text) <= 400, step.title


# -- the command line ------------------------------------------------------------------
def jaxtui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jaxtui", *args], capture_output=True, text=True, timeout=60)


def test_tour_command_lists_checks_and_rejects(tmp_path):
    listed = jaxtui("tour", "--list")
    assert listed.returncode == 0 and listed.stdout.startswith("notes ")
    checked = jaxtui("tour", "--check", "notes")
    assert checked.returncode == 0 and "no problems" in checked.stdout
    bad = tmp_path / "bad.tour"
    bad.write_text("title: t\nstep: s\npane: grad\ntxet: typo\n")
    refused = jaxtui("tour", str(bad))
    assert refused.returncode == 2
    assert f"{bad}:4: unknown field 'txet'" in refused.stderr
    unknown = jaxtui("tour", "nosuchtour")
    assert unknown.returncode == 2 and "built-in tours are notes" in unknown.stderr


# -- in the app -------------------------------------------------------------------------
NAV = textwrap.dedent("""\
    title: Navigation
    step: One
    pane: grad
    show: lesson
    input: n = 77
    text: first step
    append:
        print("step one")
    step: Two
    pane: jit
    show: output
    text: second step
    step: Three
    pane: grad
    text: third step
    """)


def own(tour):
    """A tour trusted as jaxtui's own: it starts at once, without the foreign-tour warning."""
    tour.builtin = True
    return tour


async def settle(pilot, app, timeout: float = 60.0) -> None:
    t0 = time.monotonic()
    while app.tour_panel is None or not app.tour_panel.settled:
        assert time.monotonic() - t0 < timeout, "the tour step did not settle"
        await pilot.pause(0.05)


async def test_tour_keys_walk_the_steps_and_give_the_code_back():
    app = JaxTUI(start_kernel=False, cursor_blink=False, tour=own(parse_tour(NAV, source="nav.tour")))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        panel = app.tour_panel
        head = str(panel.query_one("#tour-head").render())
        assert "1/3" in head and "One" in head
        grad = app.current_pane
        assert grad.demo.name == "grad"
        assert grad.editor.text.endswith('print("step one")\n') and grad.input_texts()["n"] == "77"
        assert grad.results.active == "lesson"
        await pilot.pause()  # the footer rebuilds itself with the tour's keys
        footer_keys = {k.key for k in app.query("FooterKey")}
        assert {"f8", "f7", "f9"} <= footer_keys

        await pilot.press("f8")
        await settle(pilot, app)
        assert panel.counter == "2/3" and app.current_pane.demo.name == "jit"
        assert app.current_pane.results.active == "output"

        await pilot.press("f8")
        await settle(pilot, app)
        assert panel.counter == "3/3" and app.current_pane is grad
        assert grad.editor.text == grad.demo.code and grad.input_texts()["n"] == "1000"  # step 3: original

        await pilot.press("f7")
        await pilot.press("f7")
        await settle(pilot, app)
        assert panel.counter == "1/3" and grad.input_texts()["n"] == "77"

        grad.editor.insert("# my experiment\n", (0, 0))  # the presenter tries something
        await pilot.press("f9")  # again: the step's own code comes back
        await settle(pilot, app)
        assert "# my experiment" not in grad.editor.text and grad.editor.text.endswith('print("step one")\n')

        await pilot.press("f8", "f8", "f8")  # the last f8 ends the tour
        await pilot.pause(0.1)
        assert app.tour_panel is None
        assert grad.editor.text == grad.demo.code and grad.input_texts()["n"] == "1000"
        assert not {"f8", "f7"} & {k.key for k in app.query("FooterKey")}  # keys hidden again


async def test_a_tour_gives_back_the_users_own_edits(tmp_path):
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        grad = app.current_pane
        grad.replace_code("print('mine')\n")
        await pilot.pause(0.7)  # autosaved
        app.start_tour(own(parse_tour(NAV, source="nav.tour")))
        await settle(pilot, app)
        assert grad.editor.text != "print('mine')\n"
        said = [n.message for n in app._notifications]  # item 12: it says so, and how to get them back
        assert any("Your edits are kept and come back when the tour ends" in m for m in said), said
        app.autosave.flush()
        saved = app.store.load(grad.state_key)
        assert saved is not None and saved.code == "print('mine')\n"  # the tour's code is not saved
        await pilot.press("ctrl+p")
        await pilot.press(*"tour: end")
        await pilot.pause(0.4)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.tour_panel is None and grad.editor.text == "print('mine')\n"


def test_only_jaxtuis_own_tours_are_builtin(tmp_path):
    assert find_tour().builtin and find_tour("notes").builtin
    assert find_tour(str(find_tour().source)).builtin  # its own file, by path
    mine = tmp_path / "notes.tour"  # the same name elsewhere is not jaxtui's
    mine.write_text(NAV)
    assert not find_tour(str(mine)).builtin
    assert not parse_tour(NAV).builtin


async def test_a_foreign_tour_says_it_runs_code_and_runs_nothing_before_a_key(tmp_path):
    """A tour file from elsewhere, whose first step runs code at once: the app warns and waits,
    with a real kernel ready to run it; the next-step key starts it."""
    marker = tmp_path / "ran"
    path = tmp_path / "elsewhere.tour"
    path.write_text(textwrap.dedent(f"""\
        title: From elsewhere
        step: Runs at once
        pane: grad
        action: run
        text: this step runs code
        code:
            open({str(marker)!r}, "w").write("ran")
        """))
    tour = find_tour(str(path))
    app = JaxTUI(cursor_blink=False, tour=tour, initial_pane="grad")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        panel = app.tour_panel
        warning = panel.query_one("#tour-text").source
        assert "This tour runs code" in warning and str(path) in warning and "f8" in warning
        assert "0/1" in str(panel.query_one("#tour-head").render())
        await wait_for(pilot, lambda: app.kernel.state == "ready", 120, "the kernel")
        await pilot.press("f9", "f7")  # neither starts it
        await pilot.pause(1.0)
        grad = app.current_pane
        assert not marker.exists() and str(marker) not in grad.editor.text and not app.kernel.busy
        await pilot.press("f8")
        await settle(pilot, app, timeout=120)
        assert panel.counter == "1/1" and panel.run_ok is True
        assert marker.read_text() == "ran"


async def test_every_tour_key_has_a_ctrl_alternative_and_f7_stays_the_editors():
    """Item 12: F7-F9 are media keys on many laptops; and in the editor F7 is "select all"."""
    from jaxtui.ui import actions

    for name in ("tour_next", "tour_back", "tour_restart"):
        keys = actions.by_name(name).keys.split(",")
        assert any(k.startswith("f") for k in keys) and any(k.startswith("ctrl+") for k in keys), name
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.start_tour(own(parse_tour(NAV, source="nav.tour")))
        await settle(pilot, app)
        await pilot.press("ctrl+n")
        await settle(pilot, app)
        assert app.tour_panel.index == 1
        await pilot.press("ctrl+backslash")
        await settle(pilot, app)
        assert app.tour_panel.index == 0
        editor = app.current_pane.editor
        editor.focus()
        await pilot.pause()
        await pilot.press("f7")  # the editor's select all, not "back"
        assert editor.selected_text == editor.text and app.tour_panel.index == 0


async def test_the_palette_starts_the_default_tour():
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"tour: start notes")
        await pilot.pause(0.4)
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.tour_panel.tour.name == "notes"
        assert f"1/{len(app.tour_panel.tour.steps)}" in str(app.tour_panel.query_one("#tour-head").render())


async def test_the_default_tour_start_to_finish_at_80x24():
    """Every step of notes.tour with the real kernel, by keyboard only: each run finishes
    (only the step that fails on purpose fails), each shows its tab, the counter is visible."""
    tour = find_tour()
    app = JaxTUI(cursor_blink=False, tour=tour, initial_pane=tour.steps[0].pane)
    async with app.run_test(size=(80, 24)) as pilot:
        for i, step in enumerate(tour.steps):
            if i:
                await pilot.press("f8")
            await settle(pilot, app, timeout=120)
            panel = app.tour_panel
            assert panel.counter == f"{i + 1}/{len(tour.steps)}"
            assert panel.counter in str(panel.query_one("#tour-head").render())
            pane = app.current_pane
            assert pane.demo.name == step.pane
            if step.action == "run":
                expect_ok = "fails on purpose" not in step.text
                assert panel.run_ok is expect_ok, (step.title, pane.last_result and pane.last_result.get("error"))
            if step.show:
                assert pane.results.active == step.show, step.title
        await pilot.press("f8")
        await pilot.pause(0.1)
        assert app.tour_panel is None


async def test_a_step_cut_short_at_80x24_is_marked_and_read_whole_with_ctrl_g(tmp_path):
    """At 80x24 the tour bar takes 2 rows: a step's first line. The head says there is more
    (⋯), and ctrl+g in the tour's text shows the whole step; ctrl+g again gives the bar back."""
    path = tmp_path / "long.tour"
    words = " ".join(f"word{i}" for i in range(120))
    path.write_text(f"title: Long\nstep: A long step\npane: grad\ntext: {words} END\n")
    app = JaxTUI(cursor_blink=False, start_kernel=False, tour=find_tour(str(path)), initial_pane="grad")
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.tour_panel
        await pilot.press("f8")  # a tour from a file waits for a key
        await settle(pilot, app)
        await pilot.pause(0.2)
        body = panel.query_one("#tour-body")
        assert body.region.height == 1 and "⋯" in str(panel.query_one("#tour-head").render())
        body.focus()
        await pilot.press("ctrl+g")
        await pilot.pause(0.2)
        assert app.screen.maximized is panel
        assert body.max_scroll_y == 0 and body.region.height >= 6  # all of it, nothing to scroll
        await pilot.press("ctrl+g")
        await pilot.pause(0.2)
        assert app.screen.maximized is None and body.region.height == 1
        # From anywhere (the editor has the focus): the palette's "tour: read this step whole"
        app.current_pane.editor.focus()
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"read this step")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen.maximized is panel and app.focused is body and body.region.height >= 6
        await app.run_action("tour_read")  # again: the bar is a bar again
        await pilot.pause(0.2)
        assert app.screen.maximized is None and body.region.height == 1


async def test_ending_the_app_while_a_maximised_tour_step_runs_raises_nothing():
    """The app ended while a tour step's run was going and its text was maximised: the step's
    worker, cancelled, set its verdict on a bar already being taken down, and the app ended
    on a NoMatches traceback (found taking a screenshot of ctrl+g in a tour)."""
    app = JaxTUI(cursor_blink=False, tour=find_tour("notes"), initial_pane="grad")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.kernel.state == "ready", 120, "the kernel")
        await settle(pilot, app)
        await pilot.press("f8")  # step 2 runs the grad demo
        await wait_for(pilot, lambda: app.kernel.busy, 60, "the step's run")
        app.tour_panel.query_one("#tour-body").focus()
        await pilot.press("ctrl+g")  # reading the step whole while it runs
        await pilot.pause()
        # and the app ends here, its run still going (ctrl+q stops the kernel first: it did not fail)
    assert app.return_code in (0, None)
