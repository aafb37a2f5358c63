"""One state directory, several jaxtui processes (two terminals, two browser tabs of `jaxtui
serve`): no save writes over edits it has not seen; both versions are kept and the user is told.
And a saved file the OS will not let us read (its permissions) is reported as that, left alone,
and its edits come back once it is readable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO, wait_for
from jaxtui.core.state import ENV_VAR, DemoStore, SavedDemo, snapshot
from jaxtui.ui.app import JaxTUI

ORIGINAL = "a = 1\n"


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "state"
    monkeypatch.setenv(ENV_VAR, str(root))
    return root


def edits(code: str) -> SavedDemo:
    return snapshot(ORIGINAL, code, {}, {})


def saved_code(path: Path) -> str:
    return json.loads(path.read_text())["code"]


# -- two stores on one directory ---------------------------------------------------------
def test_a_second_writer_keeps_both_versions_and_says_so(state):
    first, second = DemoStore(), DemoStore()
    assert first.load("grad") is None and second.load("grad") is None  # both open grad
    assert first.save("grad", edits("a = 'first'\n")) is None
    diverted = second.save("grad", edits("a = 'second'\n"))
    assert diverted is not None
    main = first.path_for("grad")
    assert saved_code(main) == "a = 'first'\n"  # not written over
    assert saved_code(diverted.path) == "a = 'second'\n"  # nor lost
    assert diverted.path.name.startswith("grad.json.conflict-")
    assert "another jaxtui" in diverted.message and str(diverted.path) in diverted.message
    # from then on each keeps its own file, and says nothing more
    assert second.save("grad", edits("a = 'second, later'\n")) is None
    assert first.save("grad", edits("a = 'first, later'\n")) is None
    assert saved_code(main) == "a = 'first, later'\n"
    assert saved_code(diverted.path) == "a = 'second, later'\n"
    assert DemoStore().load("grad").code == "a = 'first, later'\n"  # the next start: the first's


def test_a_file_changed_since_it_was_read_is_not_written_over(state):
    DemoStore().save("jit", edits("a = 'yesterday'\n"))
    first, second = DemoStore(), DemoStore()
    assert first.load("jit").code == second.load("jit").code == "a = 'yesterday'\n"
    first.save("jit", edits("a = 'today'\n"))
    assert second.save("jit", edits(ORIGINAL)) is not None  # a reset would delete the first's edits
    assert DemoStore().load("jit").code == "a = 'today'\n"


def test_a_file_nobody_read_is_not_written_over(state):
    DemoStore().save("vmap", edits("a = 'there'\n"))
    stranger = DemoStore()  # never loaded vmap
    assert stranger.save("vmap", edits("a = 'blind'\n")) is not None
    assert DemoStore().load("vmap").code == "a = 'there'\n"


def test_one_writer_alone_is_never_diverted(state):
    store = DemoStore()
    assert store.load("lax") is None
    for i in range(3):
        assert store.save("lax", edits(f"a = {i + 2}\n")) is None
    assert store.save("lax", edits(ORIGINAL)) is None and not store.path_for("lax").exists()
    assert store.save("lax", edits("a = 9\n")) is None
    assert list(store.demos_dir.iterdir()) == [store.path_for("lax")]


# -- two apps on one directory (Pilot) -------------------------------------------------------
async def type_code(pilot, app, text: str) -> None:
    app.current_pane.editor.focus()
    app.current_pane.editor.move_cursor((0, 0))
    await pilot.press(*[{" ": "space", "\n": "enter", "=": "equals_sign", "'": "apostrophe"}.get(c, c)
                        for c in text])


async def test_two_apps_on_one_state_dir_lose_nothing(state):
    first = JaxTUI(start_kernel=False, cursor_blink=False)
    second = JaxTUI(start_kernel=False, cursor_blink=False)
    async with first.run_test(size=(100, 30)) as one, second.run_test(size=(100, 30)) as two:
        await type_code(one, first, "one = 1\n")
        first.autosave.flush()
        await type_code(two, second, "two = 2\n")
        second.autosave.flush()
        await two.pause()
        messages = [n.message for n in second._notifications]
        assert any("another jaxtui" in m and "conflict-" in m for m in messages), messages
        assert not any("another jaxtui" in n.message for n in first._notifications)
        main = DemoStore().path_for("grad")
        copies = list(main.parent.glob("grad.json.conflict-*"))
        assert len(copies) == 1
        assert saved_code(main).startswith("one = 1\n") and saved_code(copies[0]).startswith("two = 2\n")
    third = JaxTUI(start_kernel=False, cursor_blink=False)
    async with third.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: third.current_pane.editor.text.startswith("one = 1\n"), 10, "the edits")


# -- permissions -------------------------------------------------------------------------
PERMISSIONS = textwrap.dedent("""\
    import asyncio, json, os, sys
    sys.path[:0] = [sys.argv[2], os.path.join(sys.argv[2], "tests")]
    from conftest import wait_for  # also makes the environment hermetic, as in the tests
    os.environ["JAXTUI_STATE_DIR"] = sys.argv[1]
    from jaxtui.core.state import DemoStore, snapshot
    from jaxtui.ui.app import JaxTUI

    async def main():
        store = DemoStore()
        path = store.path_for("grad")
        app = JaxTUI(start_kernel=False, cursor_blink=False)
        original = app.demos[0].code
        store.save("grad", snapshot(original, "mine = 1\\n", {}, {}))
        os.chmod(path, 0)
        out = {}
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.1)
            out["start_messages"] = [n.message for n in app._notifications]
            out["started_from_original"] = app.current_pane.editor.text == original
            app.current_pane.editor.insert("typed = 2\\n", (0, 0))
            await pilot.pause()
            app.autosave.flush()
            await pilot.pause()
            out["save_messages"] = [n.message for n in app._notifications][len(out["start_messages"]):]
        out["files"] = sorted(os.listdir(store.demos_dir))
        out["mode"] = os.stat(path).st_mode & 0o777
        os.chmod(path, 0o600)
        again = JaxTUI(start_kernel=False, cursor_blink=False)
        async with again.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: again.current_pane.editor.is_mounted, 10)
            await pilot.pause(0.1)
            out["after_fix"] = again.current_pane.editor.text
        print(json.dumps(out))

    asyncio.run(main())
    """)


def run_unprivileged(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a script where file permissions apply: root reads any file (CAP_DAC_OVERRIDE), so
    as root the script runs without the capabilities that bypass them (util-linux setpriv)."""
    command = [sys.executable, str(script), *args]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: file permissions cannot be tried")
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_an_unreadable_file_is_reported_left_alone_and_comes_back(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    script = tmp_path / "permissions.py"
    script.write_text(PERMISSIONS)
    done = run_unprivileged(script, str(state), str(REPO))
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert any("permission denied" in m and "starts from its original" in m for m in out["start_messages"])
    assert not any("corrupt" in m or "moved to" in m for m in out["start_messages"])
    assert out["started_from_original"]
    # the typing of that session is kept beside the file, not written over it
    assert any("cannot be read" in m and "conflict-" in m for m in out["save_messages"]), out
    assert out["mode"] == 0 and "grad.json" in out["files"]
    assert not any("corrupt" in f for f in out["files"])
    assert any(f.startswith("grad.json.conflict-") for f in out["files"])
    assert out["after_fix"] == "mine = 1\n"  # readable again: the edits are back
