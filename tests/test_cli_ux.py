"""The command line's answers to a learner: usage errors exit 2 (JSON with --json), `list`
fits the terminal as plain text, `--pane devices` and `--help` list every pane, and the text
report draws `demo.plot` series."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import PYTHON
from jaxtui.render.report import render_text


def jaxtui(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([PYTHON, "-m", "jaxtui", *args], capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize(("args", "reason"), [
    (("--input", "n=0"), "input n: must be >= 1"),
    (("--input", "nope=1"), "has no input 'nope'"),
    (("--input", "n=abc"), "input n: not a Python literal"),
    (("--input", "n"), "--input needs NAME=VALUE"),
    (("--timeout", "nan"), "--timeout must be a positive number"),
    (("--timeout", "-1"), "--timeout must be a positive number"),
])
def test_bad_run_values_exit_2_with_the_reason(args, reason):
    """Item 17: exit 2 (not 1), the reason on stderr, and with --json a usage error object."""
    proc = jaxtui("run", "grad", *args)
    assert proc.returncode == 2 and reason in proc.stderr and proc.stdout == ""
    proc = jaxtui("run", "grad", *args, "--json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout) == {"ok": False, "error": {"kind": "usage", "message": proc.stderr.strip()
                                                              .removeprefix("jaxtui run: ")}}


def test_help_lists_every_pane_and_devices_is_one():
    from jaxtui.cli import main as cli
    from jaxtui.core.catalog import builtin_names

    proc = jaxtui("--help", columns=300)
    assert ", ".join([*builtin_names(), "devices"]) in " ".join(proc.stdout.split())
    assert cli._pane_names()[-1] == "devices"


def test_list_fits_the_terminal_as_plain_text():
    """Item 18: no Markdown marks, no line wider than the terminal."""
    proc = jaxtui("list", columns=60)
    assert proc.returncode == 0 and "grad" in proc.stdout
    lines = proc.stdout.splitlines()
    assert all(len(line) < 60 for line in lines), lines
    assert "`" not in proc.stdout and "**" not in proc.stdout


def test_the_text_report_draws_plot_series():
    result = {"demo": "stax", "ok": True, "device": "cpu:0", "elapsed_s": 1.0, "stdout": "", "values": [],
              "plots": [{"name": "loss", "x": [0, 1, 2, 3], "y": [2.0, 1.0, 0.7, 0.5], "title": "training loss",
                         "xlabel": "step", "ylabel": "loss", "logx": False, "logy": False}]}
    text = render_text(result)
    assert "training loss" in text and "┤" in text and "step" in text


async def test_the_app_opens_on_the_devices_pane():
    from conftest import views_built
    from jaxtui.ui.app import JaxTUI

    app = JaxTUI(start_kernel=False, cursor_blink=False, initial_pane="devices")
    async with app.run_test(size=(80, 24)) as pilot:
        await views_built(pilot)
        assert app.shown_name == "devices" and app.devices_view is not None
        await pilot.press("f2")
        await pilot.pause()
        assert app.current_pane.demo.name == "grad"


def test_a_reader_that_leaves_early_gets_no_traceback():
    """`jaxtui list | head -5` printed a BrokenPipeError traceback: a command whose reader
    went away stops quietly with 128 + SIGPIPE."""
    import signal

    proc = subprocess.Popen([PYTHON, "-m", "jaxtui", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before it writes a line: its first write finds no reader
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 128 + signal.SIGPIPE
    assert "Traceback" not in err and "BrokenPipe" not in err
