"""Saved work: atomic files, corrupt files set aside, autosave timing, restore on the next
start, the modified marker, reset (undoable), and edits surviving a kill -9 of the app."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import views_built
from jaxtui.core.state import (
    ENV_VAR,
    Autosave,
    DemoStore,
    SavedDemo,
    StateProblem,
    before_reset,
    demo_key,
    snapshot,
    state_dir,
)
from jaxtui.ui.app import JaxTUI


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "state"
    monkeypatch.setenv(ENV_VAR, str(root))
    return root


# -- the store ---------------------------------------------------------------------------
def test_env_var_chooses_the_directory(state):
    assert state_dir() == state
    assert DemoStore().root == state


def test_save_load_delete_roundtrip(state):
    store = DemoStore()
    saved = snapshot("a = 1\n", "a = 2\n", {"n": "10"}, {"n": "20"})
    store.save("grad", saved)
    assert sorted(p.name for p in store.demos_dir.iterdir()) == ["grad.json"]  # no temp files left
    loaded = store.load("grad")
    assert (loaded.code, loaded.inputs) == ("a = 2\n", {"n": "20"})
    assert not loaded.original_changed("a = 1\n") and loaded.original_changed("a = 3\n")
    # nothing differs from the original: the file goes away
    store.save("grad", snapshot("a = 1\n", "a = 1\n", {"n": "10"}, {"n": "10"}))
    assert store.load("grad") is None and not store.path_for("grad").exists()


def test_a_format_1_file_is_migrated(state):
    """Files written before the versioned format 2 (no `before_reset`) still load, and the
    next save writes format 2."""
    store = DemoStore()
    store.demos_dir.mkdir(parents=True)
    store.path_for("grad").write_text(json.dumps(
        {"format": 1, "code": "a = 2\n", "inputs": {"n": "20"}, "original_sha": "abc", "saved_at": 1.0}))
    loaded = store.load("grad")
    assert (loaded.code, loaded.inputs, loaded.before_reset) == ("a = 2\n", {"n": "20"}, None)
    store.save("grad", loaded)
    assert json.loads(store.path_for("grad").read_text())["format"] == 2


def test_what_a_reset_replaced_is_kept(state):
    store = DemoStore()
    replaced = before_reset("a = 1\n", "a = 2\n", {"n": "10"}, {"n": "20"})
    store.save("grad", snapshot("a = 1\n", "a = 1\n", {"n": "10"}, {"n": "10"}, replaced))
    loaded = store.load("grad")  # at its original, but the reset can still be undone
    assert loaded.code is None and loaded.inputs == {}
    assert (loaded.before_reset.code, loaded.before_reset.inputs) == ("a = 2\n", {"n": "20"})


def test_only_changed_inputs_are_kept():
    saved = snapshot("x\n", "x\n", {"n": "10", "seed": "42"}, {"n": "10", "seed": "7"})
    assert saved.code is None and saved.inputs == {"seed": "7"}


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"format": 99}', '{"format": 1, "code": 5}',
                                     '{"format": 1, "inputs": {"n": 3}}', "\udcff",
                                     '{"format": 2, "before_reset": {"code": 7}}'])
def test_a_corrupt_file_is_set_aside(state, content):
    store = DemoStore()
    store.demos_dir.mkdir(parents=True)
    path = store.path_for("jit")
    path.write_text(content, encoding="utf-8", errors="surrogateescape")
    with pytest.raises(StateProblem, match="could not be read") as info:
        store.load("jit")
    assert not path.exists()
    aside = list(store.demos_dir.glob("jit.json.corrupt-*"))
    assert len(aside) == 1 and str(aside[0]) in str(info.value)
    assert store.load("jit") is None  # and the next start is clean


def test_user_files_get_their_own_key(tmp_path):
    one, two = tmp_path / "a" / "model.py", tmp_path / "b" / "model.py"
    assert demo_key("grad", "/anywhere/grad.py", True) == "grad"
    assert demo_key("model", one, False) != demo_key("model", two, False)
    assert demo_key("model", one, False).startswith("file-model-")


class FakePane:
    def __init__(self, key: str, code: str) -> None:
        self.state_key, self.code = key, code

    def saved_state(self) -> SavedDemo:
        return snapshot("orig\n", self.code, {}, {})


def test_autosave_batches_and_pauses(state):
    store, timers, problems = DemoStore(), [], []
    autosave = Autosave(store, lambda delay, fn: timers.append((delay, fn)), problems.append)
    pane = FakePane("grad", "edit 1\n")
    autosave.touch(pane)
    autosave.touch(pane)
    assert len(timers) == 1 and timers[0][0] <= 1.0  # one timer for a burst, within a second
    pane.code = "edit 2\n"
    timers[0][1]()  # the snapshot is taken now; the write (and its fsync) on the writer thread
    pane.code = "edit 3\n"
    autosave.drain()
    assert store.load("grad").code == "edit 2\n"
    autosave.paused.add("grad")  # a tour owns the pane: its code is not the user's
    pane.code = "tour code\n"
    autosave.touch(pane)
    assert len(timers) == 1 and store.load("grad").code == "edit 2\n"


async def test_autosave_writes_off_the_event_loop(state, monkeypatch):
    """The timer's save (an fsync: seconds on a slow disk) runs on the writer thread: the
    UI's loop goes on meanwhile; the write lands, and a problem is reported on the loop."""
    import asyncio
    import threading

    store, timers, problems = DemoStore(), [], []
    autosave = Autosave(store, lambda delay, fn: timers.append(fn), problems.append)
    release, writers = threading.Event(), []
    real_save = store.save

    def slow_save(key, saved):
        writers.append(threading.current_thread())
        release.wait(10)
        real_save(key, saved)

    monkeypatch.setattr(store, "save", slow_save)
    autosave.touch(FakePane("grad", "edit\n"))
    timers[0]()  # returns at once: the loop is free while the disk is slow
    assert store.load("grad") is None
    await asyncio.sleep(0.05)
    assert writers and writers[0] is not threading.main_thread()
    release.set()
    await autosave.flush_now()  # waits for the earlier write too
    assert store.load("grad").code == "edit\n" and problems == []


def test_a_failed_save_is_reported_once(state):
    state.mkdir()
    (state / "demos").write_text("a file where the folder should be")
    problems: list[str] = []
    autosave = Autosave(DemoStore(), lambda delay, fn: None, problems.append)
    for _ in range(3):
        autosave.touch(FakePane("grad", "x\n"))
        autosave.flush()
    assert len(problems) == 1 and "could not save" in problems[0]


# -- in the app ----------------------------------------------------------------------------
async def wait_saved(pilot, store: DemoStore, key: str, predicate, timeout: float = 5.0):
    t0 = time.monotonic()
    while True:
        try:
            saved = store.load(key)
        except StateProblem:
            saved = None
        if predicate(saved):
            return saved
        assert time.monotonic() - t0 < timeout, f"not saved: {saved}"
        await pilot.pause(0.05)


def tab_label(app: JaxTUI, name: str) -> str:
    return app.panes.strip.label(name)


async def test_edits_are_saved_restored_marked_and_reset(state):
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await views_built(pilot)  # the form's fields come just after the first frame
        grad = app.current_pane
        assert tab_label(app, "grad") == "grad"
        grad.editor.focus()
        grad.editor.move_cursor((0, 0))
        await pilot.press(*"# mine", "enter")
        grad.form.query_one("#input-n").value = "64"
        await pilot.pause(0.05)
        assert tab_label(app, "grad") == "grad*" and grad.modified
        saved = await wait_saved(pilot, app.store, "grad", lambda s: s and s.inputs.get("n") == "64")
        assert saved.code.startswith("# mine\n")

    again = JaxTUI(start_kernel=False, cursor_blink=False)
    async with again.run_test(size=(100, 30)) as pilot:
        grad = again.current_pane
        assert grad.editor.text.startswith("# mine\n") and grad.input_texts()["n"] == "64"
        assert tab_label(again, "grad") == "grad*"
        await pilot.press("f12")  # reset to the original
        await pilot.pause(0.05)
        assert grad.editor.text == grad.demo.code and grad.input_texts()["n"] == "1000"
        assert tab_label(again, "grad") == "grad"
        saved = await wait_saved(pilot, again.store, "grad", lambda s: s and s.code is None)
        assert saved.before_reset.code.startswith("# mine\n")  # kept for "undo the reset"
        grad.editor.focus()
        await pilot.press("ctrl+z")  # the reset is one undoable edit
        assert grad.editor.text.startswith("# mine\n")


async def test_undo_after_a_reset_with_the_cursor_below_the_old_code(state):
    """f12 replaced a short edit with the long original; the cursor went down; ctrl+z put the
    short text back with the cursor past its end: ValueError, and the app was gone."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        grad = app.current_pane
        short = 'from jaxtui import demo\nn = demo.input("n", 1000, "number of samples", min=1)\n'
        grad.replace_code(short)
        grad.form.query_one("#input-n").value = "64"
        grad.editor.focus()
        await pilot.press("f12")
        await pilot.pause()
        grad.editor.move_cursor((grad.editor.document.line_count - 1, 0))  # far below line 2
        assert grad.editor.cursor_location[0] > 5
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.is_running and grad.editor.text == short
        await pilot.press("ctrl+y")  # and redo, the other way round
        await pilot.pause()
        assert grad.editor.text == grad.demo.code
        assert any("even after a restart" in n.message for n in app._notifications)
        await pilot.press("ctrl+q")  # quitting saves the last half second of edits
    saved = DemoStore().load("grad")
    assert saved.code is None and saved.before_reset.code == short

    again = JaxTUI(start_kernel=False, cursor_blink=False)  # a restart: no undo history
    async with again.run_test(size=(80, 24)) as pilot:
        grad = again.current_pane
        assert grad.editor.text == grad.demo.code
        await again.run_action("undo_reset")  # "pane: undo the reset" in the palette
        await pilot.pause()
        assert grad.editor.text == short and grad.input_texts()["n"] == "64"


async def test_panes_not_yet_opened_show_their_mark_and_restore(state):
    DemoStore().save("vmap", snapshot("", "print('my vmap')\n", {}, {}))
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert tab_label(app, "vmap") == "vmap*" and tab_label(app, "jit") == "jit"
        await pilot.press("f2", "f2")
        await pilot.pause(0.1)
        assert app.current_pane.demo.name == "vmap"
        assert app.current_pane.editor.text == "print('my vmap')\n"


async def test_a_corrupt_state_file_starts_clean_with_a_message(state):
    store = DemoStore()
    store.demos_dir.mkdir(parents=True)
    store.path_for("grad").write_text("{truncated")
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.05)
        assert app.current_pane.editor.text == app.current_pane.demo.code
        messages = [n.message for n in app._notifications]
        assert any("could not be read" in m and "starts from its original" in m for m in messages)
    assert list(store.demos_dir.glob("grad.json.corrupt-*"))


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_edits_survive_kill_9(state):
    """The real app in a real terminal (tmux): type, wait one second, kill -9, and the
    typing is on disk."""
    sock = f"jaxtui-state-{os.getpid()}"
    pid_file = state.parent / "app.pid"
    command = (f"echo $$ > {pid_file}; exec env {ENV_VAR}={state} {sys.executable} -m jaxtui --pane grad")

    def tmux(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", sock, *args], capture_output=True, text=True, timeout=10)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "app").stdout

    def wait_for(text: str, timeout: float = 20.0) -> None:
        t0 = time.monotonic()
        while text not in screen():
            assert time.monotonic() - t0 < timeout, f"{text!r} not on screen:\n{screen()}"
            time.sleep(0.05)

    tmux("new-session", "-d", "-s", "app", "-x", "80", "-y", "24", command)
    try:
        wait_for("import jax")  # the grad pane's code is up
        wait_for("Lesson")  # and its results tabs, mounted just after the first frame
        tmux("send-keys", "-t", "app", "C-o")  # jump mode puts a key on the editor's first row
        wait_for("jump: press")
        row = next(line for line in screen().splitlines() if "import jax" in line)
        tmux("send-keys", "-t", "app", "-l", row[0])
        time.sleep(0.2)
        tmux("send-keys", "-t", "app", "-l", "# typed before the kill")
        wait_for("# typed before the kill")
        time.sleep(1.0)  # the promise: at most the last second of typing is lost
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGKILL)
    finally:
        tmux("kill-server")
    saved = json.loads((state / "demos" / "grad.json").read_text())
    assert "# typed before the kill" in saved["code"]
