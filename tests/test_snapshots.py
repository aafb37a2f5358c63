"""Snapshots of the main screens at 80x24 and 120x40 (pytest-textual-snapshot), so a layout
regression fails CI. Hermetic: no kernel (the status bar says "starting"), a pinned theme, no
cursor blink, no toasts, every deferred view built, and no measured figures on screen (the one
result shown is made up, with a fixed time). Pinned to textual==8.2.8 (pyproject): another
Textual draws differently. `pytest tests/test_snapshots.py --snapshot-update` accepts changes
after looking at them (`snapshot_report.html`)."""

from __future__ import annotations

import pytest

from conftest import views_built
from jaxtui.ui.app import JaxTUI

SIZES = [(80, 24), (120, 40)]
RESULT = {"ok": True, "demo": "grad", "device": "cpu:0", "platform": "cpu", "elapsed_s": 0.25,
          "stdout": "grad(f)(x) = 6.0\nvalue_and_grad: (9.0, 6.0)\n",
          "values": [{"label": "x", "type": "Array", "text": "x: f32[3] on cpu:0\n[1. 2. 3.]", "at": 17}],
          "corrections": [], "timings": [], "inspections": [], "plots": [], "compiles": []}


def app() -> JaxTUI:
    return JaxTUI(start_kernel=False, cursor_blink=False)


async def settled(pilot) -> None:
    """Pinned theme, every view built, no toast, no focus ring that depends on timing."""
    pilot.app.theme = "textual-dark"
    await views_built(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


def shot(snap_compare, size, then=None) -> bool:
    """The app at `size`, settled, after `then(pilot)` (a step of the scenario) and a pause."""
    async def run_before(pilot) -> None:
        await settled(pilot)
        if then is not None:
            await then(pilot)
        await pilot.pause()

    return snap_compare(app(), terminal_size=size, run_before=run_before)


BY_SIZE = pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")


@BY_SIZE
def test_the_first_pane(snap_compare, size):
    assert shot(snap_compare, size)


@BY_SIZE
def test_output_after_a_run(snap_compare, size):
    async def run(pilot) -> None:
        pane = pilot.app.current_pane
        pane.begin_run()
        pane.show_result(RESULT)
        pilot.app.set_focus(None)

    assert shot(snap_compare, size, run)


@BY_SIZE
def test_help_for_the_editor(snap_compare, size):
    async def help_(pilot) -> None:
        pilot.app.current_pane.editor.focus()
        await pilot.press("f1")

    assert shot(snap_compare, size, help_)


@BY_SIZE
def test_jump_mode(snap_compare, size):
    assert shot(snap_compare, size, lambda pilot: pilot.press("ctrl+o"))


@BY_SIZE
def test_an_invalid_input(snap_compare, size):
    async def invalid(pilot) -> None:
        field = pilot.app.current_pane.form.query_one("#input-n")
        field.focus()
        field.value = "0"

    assert shot(snap_compare, size, invalid)
