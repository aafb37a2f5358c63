"""What a run prints, faithfully: one ordered stream of stdout, stderr, jax.debug.print and
everything written below Python, through the kernel's events and `jaxtui run --json`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import textwrap
import time

import pytest
import pytest_asyncio

from conftest import PYTHON, running_kernel
from jaxtui import protocol as P
from jaxtui.core.client import KernelClient, KernelConfig

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
USER_FILE = "/tmp/jaxtui_output_test.py"

INTERLEAVED = """
import sys
import jax
import jax.numpy as jnp

@jax.jit
def debug(i):
    jax.debug.print("line {i} debug", i=i)
    return i

for i in range(200):
    if i % 3 == 0:
        print(f"line {i} out")
    elif i % 3 == 1:
        print(f"line {i} err", file=sys.stderr)
    else:
        jax.block_until_ready(debug(i))
"""
EXPECTED = [f"line {i} {('out', 'err', 'debug')[i % 3]}" for i in range(200)]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kernel():
    async with running_kernel(KernelConfig(host_devices=1)) as client:
        yield client


async def run(kernel: KernelClient, code: str) -> tuple[dict, list[P.Event]]:
    events: list[P.Event] = []
    result = await kernel.request(P.OP_EXEC, {"code": textwrap.dedent(code), "filename": USER_FILE,
                                              "demo": "t"}, on_event=events.append)
    return result, [e for e in events if e.kind == P.EV_STREAM]


def shown_lines(events: list[P.Event]) -> list[tuple[str, str]]:
    """The lines a reader of the stream contract shows: a partial line per stream."""
    lines = P.StreamLines()
    for event in events:
        lines.feed(event.data["name"], event.data["text"])
    return lines.lines + lines.partial()


@MODULE_LOOP
async def test_interleaved_stdout_stderr_and_debug_print_keep_their_order(kernel):
    result, events = await run(kernel, INTERLEAVED)
    assert result["ok"], result["error"]
    assert result["stdout"].splitlines() == EXPECTED
    shown = shown_lines(events)
    assert [line for _, line in shown] == EXPECTED
    names = {line: name for name, line in shown}
    assert names["line 1 err"] == "stderr" and names["line 0 out"] == names["line 2 debug"] == "stdout"


@MODULE_LOOP
async def test_a_partial_line_is_continued_by_its_own_stream_only(kernel):
    result, events = await run(kernel, """
        import sys
        print("progress", end="", flush=True)
        print("a warning", file=sys.stderr)
        print(" done")
    """)
    assert [(e.data["name"], e.data["text"]) for e in events] == [
        ("stdout", "progress"), ("stderr", "a warning\n"), ("stdout", " done\n")]
    assert result["stdout"] == "a warning\nprogress done\n"  # lines as they completed, none merged


@MODULE_LOOP
async def test_output_written_below_python_is_shown_in_order(kernel):
    result, events = await run(kernel, """
        import ctypes, os, subprocess, sys
        print("python 1")
        os.write(1, b"fd 1\\n")
        print("python 2", file=sys.stderr)
        os.write(2, b"fd 2\\n")
        sys.stdout.buffer.write("bytes \\u00e9\\n".encode())
        ctypes.CDLL(None).printf(b"printf\\n")
        subprocess.run(["echo", "subprocess"], check=True)
        print("python 3")
    """)
    expected = ["python 1", "fd 1", "python 2", "fd 2", "bytes é", "printf", "subprocess", "python 3"]
    assert result["stdout"].splitlines() == expected
    assert [line for _, line in shown_lines(events)] == expected


@MODULE_LOOP
async def test_more_than_the_pipe_holds_is_drained_while_the_run_goes_on(kernel):
    result, _ = await run(kernel, """
        import os
        for i in range(40):
            os.write(1, b"x" * 4095 + b"\\n")  # 160 KiB: more than a pipe buffers
        print("after")
    """)
    assert result["ok"], result["error"]
    lines = result["stdout"].splitlines()
    assert len(lines) == 41 and lines[-1] == "after"


@MODULE_LOOP
async def test_control_characters_reach_the_json_raw(kernel):
    result, _ = await run(kernel, 'print("\\x1b[2J\\x1b]0;title\\x07 \\x00 tab\\there")')
    assert result["stdout"] == "\x1b[2J\x1b]0;title\x07 \x00 tab\there\n"


@MODULE_LOOP
async def test_a_thread_the_run_left_running_prints_into_no_later_run(kernel):
    first, _ = await run(kernel, """
        import threading, time
        def chatter():
            while True:
                print("chatter")
                time.sleep(0.01)
        threading.Thread(target=chatter, name="chatter", daemon=True).start()
        time.sleep(0.05)
    """)
    assert "chatter" in first["stdout"] and "still running after the run: thread 'chatter'" in first["stdout"]
    second, events = await run(kernel, "import time\ntime.sleep(0.2)\nprint('mine')")
    assert second["stdout"] == "mine\n"
    assert "".join(e.data["text"] for e in events) == "mine\n"


@MODULE_LOOP
async def test_a_process_the_run_left_running_prints_into_no_later_run(kernel):
    first, _ = await run(kernel, """
        import subprocess
        subprocess.Popen(["sh", "-c", "echo started; sleep 0.5; echo late"])
        import time; time.sleep(0.2)
    """)
    assert first["stdout"].startswith("started\n") and "still holds its output" in first["stdout"]
    second, _ = await run(kernel, "import time\ntime.sleep(1)\nprint('mine')")
    assert second["stdout"] == "mine\n"


def test_the_garbage_collector_closing_a_sink_does_not_deadlock():
    """A run's sys.stdout becomes garbage when the run ends, and the collector closes it on
    whatever thread allocates next: maybe one that holds that run's stream lock (writing its
    last note, or the pump forwarding a leftover process's output). Closing must not flush."""
    import gc
    import threading

    from jaxtui.kernel.capture import RunOutput, TextSink

    output = RunOutput(emit=None)
    TextSink("stdout", 1, output).write("held, no newline yet")  # garbage now: a cycle with .buffer

    def collect_under_the_lock() -> None:
        with output.lock:
            gc.collect()

    worker = threading.Thread(target=collect_under_the_lock, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "deadlocked"


@pytest.mark.parametrize("in_cluster", [True, False])
def test_gloos_pieces_around_a_print_are_not_the_programs_output(monkeypatch, in_cluster):
    """A cluster's kernel: Gloo writes "[Gloo] Rank 0 is connected to 1 peer ranks. ..." in
    pieces from several threads, and "0 is connected to " once reached the output glued to
    the program's next line ("0 is connected to first sum 6.0", seen in CI). Elsewhere a bare
    number written below Python keeps its place before the next print."""
    from jaxtui.kernel import capture

    monkeypatch.setattr(capture, "_IN_CLUSTER", in_cluster, raising=False)
    # Where Gloo's message was seen split: after "0 is connected to ", and before "Expected".
    for before, after in (("0 is connected to ", "1 peer ranks. Expected number of connected peer ranks is : 1\n"),
                          ("[Gloo] Rank 1 is connected to 1 peer ranks. Expected", " number of connected peer "
                           "ranks is : 1\n"),
                          ("Expected number of connected peer ranks is : 3\n", "")):
        output = capture.RunOutput(emit=None)
        with output.lock:
            output._add_fd_locked(before if in_cluster else "3")
        output.write("stdout", "first sum 6.0\n")
        with output.lock:
            output._add_fd_locked(after if in_cluster else "\n")
        output.close()
        assert output.text() == ("first sum 6.0\n" if in_cluster else "3first sum 6.0\n\n"), before


@MODULE_LOOP
async def test_a_long_output_keeps_its_head_and_its_tail(kernel):
    result, events = await run(kernel, """
        import sys
        for i in range(100_000):
            print(f"spam line {i}", file=sys.stderr if i % 2 else sys.stdout)
        print("the answer is 42")
    """)
    out = result["stdout"]
    assert len(out) < 600_000
    head, _, tail = out.partition("characters not kept")
    assert head.startswith("spam line 0\nspam line 1\n") and "output cut here" in head
    assert tail.rstrip().endswith("spam line 99999\nthe answer is 42")
    streamed = "".join(e.data["text"] for e in events)
    assert streamed.startswith("spam line 0\n") and streamed.endswith("the answer is 42\n")


@MODULE_LOOP
async def test_a_keyboard_interrupt_of_the_code_keeps_its_message(kernel):
    result, _ = await run(kernel, "raise KeyboardInterrupt('stopped by my own check')")
    assert result["error"]["type"] == "KeyboardInterrupt"
    assert result["error"]["message"] == "stopped by my own check" and result["error"]["line"] == 1


@MODULE_LOOP
async def test_an_oversized_event_is_cut_and_the_run_still_answers(kernel):
    """A `progress` label of 70 MiB: over the 64 MiB message limit."""
    events: list[P.Event] = []
    code = ("from jaxtui import demo\n"
            "demo.progress('start ' + 'x' * (70 * 2**20) + ' end', 1, 2)\n"
            "print('done')\n")
    result = await kernel.request(P.OP_EXEC, {"code": code, "filename": USER_FILE, "demo": "t"},
                                  on_event=events.append)
    assert result["ok"] and result["stdout"] == "done\n"
    [progress] = [e.data for e in events if e.kind == P.EV_PROGRESS]
    label = progress["label"]
    assert label.startswith("start xxx") and label.endswith("xxx end") and "characters cut here" in label
    assert len(label) < P.MAX_MESSAGE_BYTES


@MODULE_LOOP
async def test_a_deeply_nested_request_is_refused_and_the_kernel_carries_on(kernel):
    assert kernel.proc and kernel.proc.stdin
    kernel.proc.stdin.write(b'{"v": 1, "id": 7, "op": "ping", "params": ' + b"[" * 100_000 + b"]" * 100_000
                            + b"}\n")
    await kernel.proc.stdin.drain()
    assert (await kernel.request(P.OP_PING))["pong"] is True
    assert kernel.alive


@MODULE_LOOP
async def test_a_stderr_line_over_the_limit_does_not_stall_the_client(kernel):
    """A thread the run leaves behind writes one 65 MiB line to the kernel's stderr."""
    await run(kernel, """
        import os, threading, time
        def shout():
            time.sleep(0.5)
            os.write(2, b"y" * (65 * 2**20) + b"\\n")
            os.write(2, b"after the long line\\n")
        threading.Thread(target=shout).start()
    """)
    deadline = time.monotonic() + 60
    while "after the long line" not in kernel.stderr_tail:
        assert time.monotonic() < deadline, list(kernel.stderr_tail)[-3:]
        await asyncio.sleep(0.1)
    assert any("line cut" in line for line in kernel.stderr_tail)
    assert (await kernel.request(P.OP_PING))["pong"] is True


def test_headless_json_keeps_the_order_and_a_coding_line_file_runs(tmp_path):
    path = tmp_path / "interleaved.py"
    path.write_text(textwrap.dedent(INTERLEAVED))
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(path), "--json"], check=False, capture_output=True,
                          text=True, timeout=180)
    assert json.loads(proc.stdout)["stdout"].splitlines() == EXPECTED


@pytest.mark.parametrize("raw", [
    "# -*- coding: latin-1 -*-\nprint('caf\u00e9 cr\u00e8me')\n".encode("latin-1"),
    b"\xef\xbb\xbf" + "print('caf\u00e9 cr\u00e8me')\n".encode(),
], ids=["pep263-latin-1", "utf-8-bom"])
def test_a_file_decodes_as_python_reads_it(tmp_path, raw):
    path = tmp_path / "mine.py"
    path.write_bytes(raw)
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(path), "--json"], check=False, capture_output=True,
                          text=True, timeout=180)
    result = json.loads(proc.stdout)
    assert proc.returncode == 0 and result["stdout"] == "café crème\n", result["error"]


@pytest.mark.parametrize("raw, reason", [
    (b"print('caf\xe9')\n", "utf-8"),
    (b"# coding: no-such-codec\nprint(1)\n", "no-such-codec"),
], ids=["bad-utf-8", "unknown-coding"])
@pytest.mark.parametrize("command", [["run"], []], ids=["run", "app"])
def test_an_undecodable_file_is_one_line_of_error(tmp_path, raw, reason, command):
    path = tmp_path / "mine.py"
    path.write_bytes(raw)
    proc = subprocess.run([PYTHON, "-m", "jaxtui", *command, str(path)], check=False, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and reason in proc.stderr and str(path) in proc.stderr


def test_an_unreadable_file_is_one_line_of_error(tmp_path):
    path = tmp_path / "mine.py"
    path.symlink_to("/proc/self/mem")  # a file that every reader, root too, fails to read (EIO)
    proc = subprocess.run([PYTHON, "-m", "jaxtui", "run", str(path)], check=False, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "cannot read" in proc.stderr
