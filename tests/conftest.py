"""Shared test set-up: a hermetic environment for the app and the kernel."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# Snapshots and colours must not depend on the developer's terminal settings: with NO_COLOR or
# TEXTUAL_THEME set, every snapshot fails (App reads them when it is created).
for var in ("NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_ANIMATIONS", "TEXTUAL_COLOR_SYSTEM", "TEXTUAL_FPS"):
    os.environ.pop(var, None)
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Saved edits of a developer's own sessions must never leak into tests, nor tests into them.
os.environ["JAXTUI_STATE_DIR"] = tempfile.mkdtemp(prefix="jaxtui-test-state-")


REPO = Path(__file__).resolve().parent.parent
DEMOS = REPO / "demos"
PYTHON = sys.executable


def make_sysfs(root: Path, devices: list[tuple[str, str, str]]) -> Path:
    """A fake PCI bus under root/sys, for the hardware survey; devices: (vendor, device, class)
    per PCI function."""
    base = root / "sys" / "bus" / "pci" / "devices"
    base.mkdir(parents=True)
    for i, (vendor, device, cls) in enumerate(devices):
        d = base / f"0000:00:{i + 4:02x}.0"
        d.mkdir()
        for name, value in (("vendor", vendor), ("device", device), ("class", cls)):
            (d / name).write_text(value + "\n")
    return root / "sys"


async def wait_for(pilot, predicate, timeout: float = 30.0, what: str = "") -> None:
    """Let the app run until `predicate()` holds (fail after `timeout` seconds)."""
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < timeout, f"timed out waiting{' for ' + what if what else ''}"
        await pilot.pause(0.05)


async def views_built(pilot, timeout: float = 10.0) -> None:
    """Wait until the widgets built after the first frame (jaxtui/ui/widgets/deferred.py) are."""
    from jaxtui.ui.widgets.deferred import pending

    await wait_for(pilot, lambda: not pending(pilot.app), timeout, "the deferred widgets")
    await pilot.pause()


@contextlib.asynccontextmanager
async def running_kernel(*args, **kwargs) -> AsyncIterator:
    """A started `KernelClient(*args, **kwargs)`, stopped afterwards whatever happened."""
    from jaxtui.core.client import KernelClient

    client = KernelClient(*args, **kwargs)
    try:
        await client.start()
        yield client
    finally:
        await client.stop()


def count_starts(kernel) -> list[int]:
    """Record each `kernel.start()` (one entry per kernel process spawned)."""
    starts: list[int] = []
    start = kernel.start

    async def counted():
        starts.append(1)
        return await start()

    kernel.start = counted
    return starts


def output_view(app):
    """The current pane's Output view, once built (None before)."""
    from jaxtui.ui.results.output import OutputView

    views = app.current_pane.results.views(OutputView)
    return views[0] if views else None


def output_text(app) -> str:
    """What the current pane's Output tab shows, as plain text."""
    view = output_view(app)
    return view.text if view is not None else ""


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path_factory, monkeypatch):
    """Each test saves edits in a state directory of its own: edits one test typed (a loop in
    grad, say) must not come back in the next test's panes. A test that wants a particular
    directory sets JAXTUI_STATE_DIR itself."""
    monkeypatch.setenv("JAXTUI_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    # `import jax` in this process (a few tests do) sets TPU_LIBRARY_PATH to the installed
    # libtpu, and every later subprocess would inherit it: a kernel meant to lack libtpu would
    # then load it anyway. The UI never imports jax, so only tests need this.
    for var in ("TPU_LIBRARY_PATH", "TPU_SKIP_MDS_QUERY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A real OpenSSH server on 127.0.0.1 (tests/sshd.py), killed with its sessions at the
    end of the test session. The tests that use it are skipped, saying why, only when sshd
    cannot be started on this machine."""
    import sshd as server

    try:
        running = server.start(tmp_path_factory.mktemp("sshd"), PYTHON, str(REPO))
    except server.SshdUnavailable as exc:
        pytest.skip(f"no sshd for the remote-kernel tests: {exc}")
    yield running
    running.stop()


@pytest.fixture
def ssh_env(sshd, monkeypatch):
    """Point jaxtui's ssh at the test server (for clients inside the test process)."""
    monkeypatch.setenv("JAXTUI_SSH_COMMAND", sshd.ssh_command)
    return sshd
