"""What a run prints: one ordered stream of stdout and stderr, from Python and from below it.

During a run
- file descriptors 1 and 2 point at one pipe, drained continuously by a pump thread (a
  full 64 KiB pipe would block the writer). One pipe for both keeps the order of what is
  written below Python (`os.write`, C `printf`, subprocesses, XLA's own logging); its
  stdout/stderr label cannot be kept, so all of it shows as "stdout";
- `sys.stdout` and `sys.stderr` write straight into the stream with their own label, after
  draining the pipe, so text written at the fd level before a `print` shows before it;
  `jax.debug.print` writes to `sys.stdout`, from XLA's threads too: same path;
- one lock orders everything: the pipe drain, each write, and the `stream` events, which
  carry the chunks in write order (batched every 50 ms, adjacent chunks of one stream merged).

The run's `stdout` (the JSON's) is the same chunks put into lines as the app shows them
(protocol.StreamLines: a partial line per stream), cut to head and tail when it is long.
Threads a run started that still run at its end are named in a note; what they print
later goes to the kernel's stderr, never into another run. The protocol channel lives
on a private fd (kernel/__main__.py), so nothing printed here can corrupt it.
"""

from __future__ import annotations

import codecs
import ctypes
import io
import os
import re
import select
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from jaxtui.kernel.runstate import STATE
from jaxtui.protocol import ENV_COORDINATOR, EV_STREAM, StreamLines

Emit = Callable[[str, dict[str, Any]], None]

MAX_STDOUT = 512 * 1024  # characters of a run's output kept for its result: half head, half tail
MAX_BATCH = 256 * 1024  # characters one 50 ms batch of stream events carries: head and tail
FLUSH_S = 0.05
_SLACK = 64 * 1024  # the tail may pass its size by this much before it is trimmed
_PIPE_READ = 1 << 16
# absl/glog (XLA, libtpu): "W0102 03:04:05.678901   1234 file.cc:56] ..."; Gloo: "[Gloo] Rank 0
# is connected to 3 peer ranks. ...", written in pieces by several threads at once, so a line
# can start with its second piece ("0 is connected to ") or its third ("3 peer ranks. ...").
_LIBRARY_LOG = re.compile(r"^(?:[IWEF]\d{4} [\d:.]+ +\d+ [\w./+-]+:\d+\] |\[Gloo\] "
                          r"|\d+ is connected to (?:\d+ peer ranks|$)"
                          r"|\d+ peer ranks\. |Expected number of connected peer ranks is : ).*\n?", re.M)
# Gloo's pieces that can start a line: after a number, and not.
_GLOO_AFTER_NUMBER = (" is connected to ", " peer ranks. ")
_GLOO_ALONE = ("[Gloo] Rank ", "Expected number of connected peer ranks is : ")
# Only a kernel of a cluster (jax.distributed over Gloo) holds a bare number back as the start
# of Gloo's second piece: elsewhere it is the program's, and holding it could reorder it.
_IN_CLUSTER = bool(os.environ.get(ENV_COORDINATOR))

_KERNEL_ERR = os.dup(2)  # the kernel's stderr, taken at import (outside any run)
_stale_threads: set[threading.Thread] = set()  # started by an earlier run, still running
_libc = ctypes.CDLL(None)


def _line_buffer_c_stdout() -> None:
    """C `printf` output shows line by line, as on a terminal (the pipe would make libc
    buffer it in 4 KiB blocks). glibc names its stream `stdout`; elsewhere: leave it."""
    try:
        c_stdout = ctypes.c_void_p.in_dll(_libc, "stdout")
        _libc.setvbuf(c_stdout, None, 1, 0)  # _IOLBF
    except (ValueError, AttributeError):
        pass


_line_buffer_c_stdout()


class HeadTail:
    """(name, text) chunks in order, at most `limit` characters: the first half and the
    last half are kept, the middle is counted in `cut`. A chunk is [name, parts]: adding
    text to the last chunk of its stream appends a part (no copying), and the tail is
    trimmed in steps of _SLACK characters, so a print costs the same however long the run."""

    def __init__(self, limit: int):
        self.half = limit // 2
        self.head: list[list[Any]] = []
        self.tail: deque[list[Any]] = deque()
        self.head_size = self.tail_size = self.cut = 0

    def __bool__(self) -> bool:
        return bool(self.head or self.tail)

    @staticmethod
    def _append(chunks: list[list[Any]] | deque[list[Any]], name: str, text: str) -> None:
        if chunks and chunks[-1][0] == name:
            chunks[-1][1].append(text)
        else:
            chunks.append([name, [text]])

    def add(self, name: str, text: str) -> None:
        room = self.half - self.head_size
        if room > 0 and not self.tail and not self.cut:
            self._append(self.head, name, text[:room])
            self.head_size += min(room, len(text))
            text = text[room:]
        if text:
            self._append(self.tail, name, text)
            self.tail_size += len(text)
            if self.tail_size > self.half + _SLACK:
                self._trim()

    def _trim(self) -> None:
        while self.tail_size > self.half:
            front = self.tail[0]
            text = "".join(front[1])
            excess = self.tail_size - self.half
            if len(text) <= excess:
                self.tail.popleft()
                dropped = len(text)
            else:
                front[1] = [text[excess:]]
                dropped = excess
            self.cut += dropped
            self.tail_size -= dropped

    def chunks(self, note: str) -> list[tuple[str, str]]:
        """All kept chunks in order, `note` (a stderr chunk, formatted with the count)
        between head and tail when something was cut; adjacent chunks of a stream merged."""
        self._trim()
        out: list[tuple[str, str]] = []
        middle = [["stderr", [note.format(cut=self.cut)]]] if self.cut else []
        for name, parts in [*self.head, *middle, *self.tail]:
            text = "".join(parts)
            if out and out[-1][0] == name:
                out[-1] = (name, out[-1][1] + text)
            elif text:
                out.append((name, text))
        return out


class RunOutput:
    """The ordered stream of one run. Every method takes the one lock."""

    CUT_NOTE = "\n… output cut here: {cut:,} characters not kept …\n"
    BATCH_NOTE = "\n… {cut:,} characters skipped: printing faster than the app can show …\n"

    def __init__(self, emit: Emit | None, pipe: int | None = None):
        self._emit = emit
        self._pipe = pipe  # read end of the fd-level pipe, non-blocking
        self._poller = select.poll()  # "anything in the pipe?" for each write: 3x cheaper than a read
        if pipe is not None:
            self._poller.register(pipe, select.POLLIN)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # Re-entrant: text written while the lock is held (a warning printed from inside `emit`,
        # a finalizer the garbage collector runs mid-update) must not deadlock the run.
        self.lock = threading.RLock()
        self.record = HeadTail(MAX_STDOUT)
        self._batch = HeadTail(MAX_BATCH)
        self._last_flush = time.monotonic()
        self._held: dict[str, list[str]] = {"stdout": [], "stderr": []}  # no newline yet
        self._fd_partial = ""  # fd-level text after its last newline
        self.closed = False  # the run ended: what still arrives goes to the kernel's stderr
        self.pipe_eof = False

    def write(self, name: str, text: str) -> None:
        """Python-level text. Held per stream until it completes a line (as a line-buffered
        sys.stdout holds it): then the pipe is drained (fd-level text written before comes
        first) and the held text joins the stream. The pump commits what waits longer."""
        with self.lock:
            held = self._held[name]
            held.append(text)
            if "\n" in text:
                self._commit_locked(name)
                if time.monotonic() - self._last_flush >= FLUSH_S:
                    self._flush_locked()

    def commit(self, name: str) -> None:
        """`sys.stdout.flush()`: the held text joins the stream now."""
        with self.lock:
            self._commit_locked(name)

    def pump(self) -> None:
        """The pump thread's step: drain the pipe, commit held text, send what is due."""
        with self.lock:
            self._drain_locked()
            self._commit_locked(*self._held)
            if time.monotonic() - self._last_flush >= FLUSH_S:
                self._flush_locked()

    def _commit_locked(self, *names: str) -> None:
        if self._pipe is not None and not self.pipe_eof and self._poller.poll(0):
            self._drain_locked()
        if self._fd_partial and not _may_be_library_log(self._fd_partial):  # a log line waits for its end
            partial, self._fd_partial = self._fd_partial, ""  # before the Python text it preceded
            self._add_locked("stdout", partial)
        for name in names:
            held = self._held[name]
            if held:
                self._held[name] = []  # before anything re-entrant can add to it
                self._add_locked(name, "".join(held))

    def _add_locked(self, name: str, text: str) -> None:
        if not text:
            return
        if self.closed:
            _to_kernel_stderr(text)
            return
        self.record.add(name, text)
        self._batch.add(name, text)

    def _drain_locked(self) -> None:
        if self._pipe is None or self.pipe_eof:
            return
        while True:
            try:
                data = os.read(self._pipe, _PIPE_READ)
            except BlockingIOError:
                return
            except OSError:  # closed under us: nothing more will come
                data = b""
            if not data:
                self.pipe_eof = True
                self._add_fd_locked(self._decoder.decode(b"", final=True))
                return
            self._add_fd_locked(self._decoder.decode(data))

    def _add_fd_locked(self, text: str) -> None:
        """Text from fds 1 and 2. Whole lines of the libraries' own logging (XLA's absl
        format, Gloo's connection messages of a cluster) go to the kernel's stderr, where
        they go outside runs too: the program's output is what the program printed."""
        text = self._fd_partial + text
        end = text.rfind("\n") + 1  # a line's last part may come in the next read: hold it
        text, self._fd_partial = text[:end], text[end:]
        start = 0
        for match in _LIBRARY_LOG.finditer(text):
            self._add_locked("stdout", text[start:match.start()])
            _to_kernel_stderr(match.group())
            start = match.end()
        self._add_locked("stdout", text[start:])

    def _flush_locked(self) -> None:
        self._last_flush = time.monotonic()
        if not self._batch:
            return
        batch, self._batch = self._batch, HeadTail(MAX_BATCH)
        if self._emit is None:
            return
        for name, text in batch.chunks(self.BATCH_NOTE):
            self._emit(EV_STREAM, {"name": name, "text": text})

    def note(self, text: str) -> None:
        """A line of jaxtui's own on stderr (a note, not the program's output)."""
        with self.lock:
            self._commit_locked(*self._held)
            self._add_locked("stderr", text)

    def pipe_held(self) -> bool:
        """After fds 1 and 2 are restored: does another process still hold the pipe?
        (A read on an empty pipe says "try again" while a writer exists, EOF when none.)"""
        with self.lock:
            self._drain_locked()
            return self._pipe is not None and not self.pipe_eof

    def close(self) -> None:
        """Drain the pipe, send everything; later arrivals go to the kernel's stderr."""
        with self.lock:
            self._drain_locked()
            self._add_fd_locked("\n" if self._fd_partial and _may_be_library_log(self._fd_partial) else "")
            self._commit_locked(*self._held)
            self._flush_locked()
            self.closed = True

    def printed(self) -> int:
        """How many characters the run has printed, everything written so far committed
        first: a `demo.show` value's place among the printed text (the Output shows values in
        code order)."""
        with self.lock:
            self._commit_locked("stdout", "stderr")
            return self.record.head_size + self.record.tail_size + self.record.cut

    def text(self) -> str:
        """The run's output as the JSON `stdout`: its lines in the order they completed,
        head and tail when it was long."""
        lines = StreamLines()
        for name, text in self.record.chunks(self.CUT_NOTE):
            lines.feed(name, text)
        return lines.text()


def _may_be_library_log(partial: str) -> bool:
    """Could this unfinished line still turn out to be the libraries' logging?"""
    return (bool(_LIBRARY_LOG.match(partial)) or "[Gloo] ".startswith(partial)
            or bool(_LOG_START.match(partial)) or (_IN_CLUSTER and _may_be_gloo_piece(partial)))


def _may_be_gloo_piece(partial: str) -> bool:
    """A piece of Gloo's message (`0 is connected to `, `Expected number of ...`), or the
    start of one."""
    rest = partial.lstrip("0123456789")
    pieces = _GLOO_AFTER_NUMBER if rest != partial else _GLOO_ALONE
    return not rest or any(piece.startswith(rest) or rest.startswith(piece) for piece in pieces)


_LOG_START = re.compile(r"^[IWEF]\d{0,4}(?: [\d:.]*(?: +\d*(?: [\w./+-]*(?::\d*)?)?)?)?$")


def _to_kernel_stderr(text: str) -> None:
    with suppress(OSError):
        os.write(_KERNEL_ERR, text.encode("utf-8", "replace"))


class _BinarySink(io.RawIOBase):
    """`sys.stdout.buffer`: bytes decoded (UTF-8) into the same ordered stream."""

    def __init__(self, text: TextSink):
        super().__init__()
        self._text = text
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        pass  # see TextSink.close

    def write(self, data: Any) -> int:
        data = bytes(data)
        self._text.write(self._decoder.decode(data))
        return len(data)

    def fileno(self) -> int:
        return self._text.fileno()


class TextSink(io.TextIOBase):
    """`sys.stdout` / `sys.stderr` during a run."""

    def __init__(self, name: str, fd: int, output: RunOutput):
        super().__init__()
        self._name = name
        self._fd = fd
        self._output = output
        self.buffer = _BinarySink(self)

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if _stale_threads and threading.current_thread() in _stale_threads:
            _to_kernel_stderr(text)  # a thread of an earlier run: not this run's output
        else:
            self._output.write(self._name, text)
        return len(text)

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd  # points at the capture pipe during the run: subprocesses land there

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        self._output.commit(self._name)  # into the stream now; events still go out every 50 ms

    def close(self) -> None:
        """Nothing to close. (The garbage collector closes an old run's sink at any moment,
        maybe while this thread holds a stream's lock: it must not flush.)"""

    def reconfigure(self, **kwargs: Any) -> None:
        pass  # always UTF-8 and line-wise here

    @property
    def encoding(self) -> str:  # type: ignore[override]  # read-only, as on a real stream
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "strict"

    @property
    def name(self) -> str:
        return f"<{self._name}>"

    @property
    def line_buffering(self) -> bool:
        return True


class _Pump:
    """The thread that keeps the pipe drained, during the run and after it for as long as
    a process the run started still holds the pipe (its output then goes to stderr)."""

    def __init__(self, output: RunOutput, pipe: int):
        self._output = output
        self._pipe = pipe
        self._run_ended = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jaxtui-output", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        poller = select.poll()
        poller.register(self._pipe, select.POLLIN)
        while True:
            poller.poll(FLUSH_S * 1000)
            self._output.pump()
            if self._output.pipe_eof:
                self._run_ended.wait()  # the run's end drains too: close only after it
                os.close(self._pipe)
                return

    def run_ended(self) -> None:
        self._run_ended.set()


@contextmanager
def captured(emit: Emit | None) -> Iterator[RunOutput]:
    """Capture everything the run prints, in order (see the module docstring)."""
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    output = RunOutput(emit, read_end)
    for stream in (sys.stdout, sys.stderr):
        _flush_quietly(stream)  # the kernel's own pending text is not the run's
    saved_fds = os.dup(1), os.dup(2)
    saved_streams = sys.stdout, sys.stderr
    pump = _Pump(output, read_end)
    threads_before = set(threading.enumerate())
    to_close = [*saved_fds, write_end]  # an fd leaves the list before it is closed: never twice
    try:
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        # process-global on purpose: debug.print callbacks on XLA's threads write here too
        sys.stdout, sys.stderr = TextSink("stdout", 1, output), TextSink("stderr", 2, output)
        to_close.remove(write_end)
        os.close(write_end)  # fds 1 and 2 hold the pipe now: it ends when they are restored
        yield output
    finally:
        def restore() -> None:
            for stream in (*saved_streams, sys.__stdout__, sys.__stderr__):
                _flush_quietly(stream)  # the run may have printed to the kernel's own (sys.__stdout__)
            _libc.fflush(None)  # C stdio's partial lines, into the pipe before it is drained
            sys.stdout, sys.stderr = saved_streams
            os.dup2(saved_fds[0], 1)
            os.dup2(saved_fds[1], 2)

        def release() -> None:
            while to_close:
                fd = to_close.pop()
                with suppress(OSError):
                    os.close(fd)

        def finish() -> None:
            _note_lingering(output, threads_before)
            output.close()
            pump.run_ended()

        _uninterrupted(restore, release, finish)


def _uninterrupted(*steps: Callable[[], None]) -> None:
    """Run every step to its end even if ctrl+c (KeyboardInterrupt, raised at any bytecode
    while the kernel is busy) lands meanwhile: left half done, fds 1 and 2 would point at a
    pipe nobody empties for the kernel's life. A step that was cut is run again (each is
    safe to repeat up to where it was cut); the interrupt is raised at the end."""
    interrupted: KeyboardInterrupt | None = None
    for step in steps:
        while True:
            try:
                step()
                break
            except KeyboardInterrupt as exc:
                interrupted = exc
    if interrupted is not None:
        raise interrupted


def _note_lingering(output: RunOutput, threads_before: set[threading.Thread]) -> None:
    """Threads (and processes) the run started that outlive it: say so, and keep what
    they print later out of other runs."""
    alive = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()
             and not isinstance(t, threading._DummyThread)  # a foreign (XLA) thread: not the run's
             and not t.name.startswith("jaxtui-")]  # the kernel's own
    _stale_threads.intersection_update(threading.enumerate())
    _stale_threads.update(alive)
    if alive:
        names = ", ".join(repr(t.name) for t in alive)
        output.note(f"\n… still running after the run: thread {names}; what it prints from now on "
                    "is not shown …\n")
    if output.pipe_held() and not STATE.interrupted:  # an interrupt's end kills them (kernel/__main__.py)
        output.note("\n… a process this run started still holds its output; what it prints "
                    "from now on is not shown …\n")


def _flush_quietly(stream: Any) -> None:
    with suppress(OSError, ValueError, AttributeError):
        stream.flush()
