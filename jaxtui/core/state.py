"""Saved work: each demo's edited code and typed input values, kept across sessions.

One small JSON file per demo under the user's state directory (`platformdirs`), or under
`$JAXTUI_STATE_DIR` when set (tests, and anyone who wants their edits elsewhere). Writes
are atomic (a temporary file in the same folder, fsync, rename), so a crash or `kill -9`
leaves either the old file or the new one, never half of one. A file that is corrupt
is set aside (renamed `*.corrupt-<time>`) with a message, never a crash. Only what differs
from the demo's original is kept, plus the code and inputs the last reset (f12) replaced, so
a reset can be undone after a restart too; a demo at its original with nothing to bring back
has no file.

The format (`FORMAT` = 2; files of older formats are migrated when read, `MIGRATIONS`):
    {"format": 2, "code": str | null, "inputs": {name: text}, "original_sha": str,
     "saved_at": float, "before_reset": null | {"code": str | null, "inputs": {...}, "at": float}}

Two jaxtui processes on one state dir (two terminals, or two browser tabs of `jaxtui serve`)
never overwrite each other's edits: each store remembers the file as it last read or wrote it,
and a save first checks (under a per-demo lock) that the file is still that. If another
process changed it, or it could not be read, this process's edits go to a copy beside it
(`<demo>.json.conflict-<time>-<pid>`) from then on, and the user is told once where. Both
versions are kept; nothing is overwritten unseen.

A file that cannot be read for its permissions (or another I/O error) is reported as that and
left alone, not set aside as corrupt: once readable again, its edits come back at the next start.

`Autosave` batches edits and writes them within `SAVE_DELAY_S`, so a kill loses at most
that much typing. Imports neither textual nor jax (the app hands it a timer function).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ENV_VAR = "JAXTUI_STATE_DIR"
FORMAT = 2
SAVE_DELAY_S = 0.5  # a kill loses at most this much typing
MAX_FILE_BYTES = 8 * 1024 * 1024  # bigger than any sane demo; refuse to load a runaway file


def state_dir() -> Path:
    """Where saved work lives: $JAXTUI_STATE_DIR, else the platform's user state dir."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_state_dir

    return Path(user_state_dir("jaxtui", appauthor=False))


def demo_key(name: str, path: Path | str, builtin: bool) -> str:
    """The file name stem for a demo: its name when built in, else name + a hash of its path
    (two files called model.py in different folders keep separate edits)."""
    if builtin:
        return name
    import hashlib  # (here, not at import: the app's first frame needs it only for a user's file)

    digest = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:10]
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:40]
    return f"file-{safe}-{digest}"


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode()).hexdigest()


def _sha_bytes(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _file_sha(path: Path) -> str | None:
    """The sha of a saved file's bytes; None when there is no file, UNREADABLE when the OS
    refuses to read it."""
    try:
        return _sha_bytes(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError:
        return UNREADABLE


@dataclass
class BeforeReset:
    """The edits a reset replaced: what "undo the reset" brings back, even after a restart."""

    code: str | None = None  # None: the code was the original (only inputs were changed)
    inputs: dict[str, str] = field(default_factory=dict)
    at: float = 0.0


@dataclass
class SavedDemo:
    """What was saved for one demo. `code` is None when only inputs were changed."""

    code: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)  # name -> text as typed
    original_sha: str = ""  # the original code these edits were made against
    saved_at: float = 0.0
    before_reset: BeforeReset | None = None

    @property
    def empty(self) -> bool:
        """Nothing differs from the original and no reset can be undone: no file needed."""
        return self.code is None and not self.inputs and self.before_reset is None

    def original_changed(self, original: str) -> bool:
        """The demo file changed since (a new jaxtui version): the edits may not fit it."""
        return bool(self.original_sha) and self.original_sha != _sha(original)


class StateProblem(Exception):
    """A saved file that could not be read (set aside when corrupt, left alone when its
    permissions forbid it) or written."""


@dataclass(frozen=True)
class Diverted:
    """A save that went to a copy beside the demo's file, not over it (see the module doc)."""

    path: Path  # where this process's edits are saved now
    message: str


NOT_READ = "not read"  # _seen: this store never looked at the file
UNREADABLE = "unreadable"  # _seen: the file was there but could not be read


class DemoStore:
    """Load, save and delete the saved state of demos, one file each."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else state_dir()
        # key -> the file as this store last read or wrote it: the sha of its bytes, None
        # when there was no file, UNREADABLE. A save checks the file is still that.
        self._seen: dict[str, str | None] = {}
        self.diverted: dict[str, Path] = {}  # key -> the copy this store's edits go to instead

    @property
    def demos_dir(self) -> Path:
        return self.root / "demos"

    def path_for(self, key: str) -> Path:
        return self.demos_dir / f"{key}.json"

    def load(self, key: str) -> SavedDemo | None:
        """The saved state, or None if there is none. Raises StateProblem when the file cannot
        be read: a corrupt one is moved aside first; one the OS will not let us read (its
        permissions) is left as it is, and this store will not write over it."""
        path = self.path_for(key)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ValueError(f"{path.stat().st_size} bytes is too big for saved edits")
            data = path.read_bytes()
        except FileNotFoundError:
            self._seen[key] = None
            return None
        except PermissionError:
            self._seen[key] = UNREADABLE
            raise StateProblem(f"the saved edits in {path} cannot be read: permission denied. They "
                               f"are left as they are; once readable (chmod u+rw {path}), they come "
                               f"back at the next start") from None
        except OSError as exc:
            self._seen[key] = UNREADABLE
            raise StateProblem(f"the saved edits in {path} cannot be read ({exc.strerror or exc}). "
                               f"They are left as they are") from exc
        except ValueError as exc:  # too big
            return self._corrupt(key, path, exc)
        self._seen[key] = _sha_bytes(data)
        try:
            return _from_json(json.loads(data))
        except (ValueError, TypeError, KeyError) as exc:  # not JSON, not UTF-8, not our format
            return self._corrupt(key, path, exc)

    def _corrupt(self, key: str, path: Path, exc: Exception) -> SavedDemo | None:
        aside = self._set_aside(path)
        self._seen[key] = None if aside else UNREADABLE
        where = f"; it was moved to {aside}" if aside else ""
        raise StateProblem(f"the saved edits in {path} could not be read "
                           f"({type(exc).__name__}: {exc}){where}") from exc

    def save(self, key: str, saved: SavedDemo) -> Diverted | None:
        """Write atomically; an empty state (nothing differs from the original) deletes.

        If the file changed since this store read or wrote it (another jaxtui saved it), or
        it could not be read, the edits go to a copy beside it instead, now and on every
        later save; the first time, the Diverted says where (the caller tells the user)."""
        saved.saved_at = time.time()
        text = json.dumps(_to_json(saved), ensure_ascii=False, indent=1)
        path = self.path_for(key)
        try:
            with self._locked(key):
                if key in self.diverted:
                    atomic_write(self.diverted[key], text)
                    return None
                current = _file_sha(path)
                if not self._still_as_seen(key, current):
                    return self._divert(key, text, current)
                if saved.empty:
                    self.delete(key)
                    self._seen[key] = None
                else:
                    atomic_write(path, text)
                    self._seen[key] = _sha_bytes(text.encode("utf-8"))
        except OSError as exc:
            raise StateProblem(f"could not save edits to {path}: {exc}") from exc
        return None

    def _still_as_seen(self, key: str, current: str | None) -> bool:
        """Whether the file is as this store last read or wrote it (so writing loses nothing).
        A file never read counts as seen only when there is none; an unreadable one never."""
        seen = self._seen.get(key, NOT_READ)
        if UNREADABLE in (seen, current):
            return False
        return current is None if seen == NOT_READ else current == seen

    def _divert(self, key: str, text: str, current: str | None) -> Diverted:
        path = self.path_for(key)
        copy = path.with_name(f"{path.name}.conflict-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        atomic_write(copy, text)
        self.diverted[key] = copy
        if self._seen.get(key) == UNREADABLE or current == UNREADABLE:
            why = f"the saved edits in {path} cannot be read, so they are not written over"
        elif current is None:
            why = f"another jaxtui (a second window or browser tab) removed {path} since this one read it"
        else:
            why = (f"another jaxtui (a second window or browser tab) saved edits of {key} in {path} "
                   f"since this one read them; both are kept")
        return Diverted(copy, f"{why}. This window's edits of {key} are saved to {copy}")

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        """Hold a per-demo lock while checking and writing, so two processes' saves cannot
        interleave between the check and the rename. (flock: released if the process dies.)"""
        locks = self.root / "locks"  # beside demos/, which holds only the saved edits
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{key}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def delete(self, key: str) -> None:
        try:
            self.path_for(key).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StateProblem(f"could not remove {self.path_for(key)}: {exc}") from exc

    @staticmethod
    def _set_aside(path: Path) -> Path | None:
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(path, aside)
            return aside
        except OSError:
            return None


def _to_json(saved: SavedDemo) -> dict[str, Any]:
    before = saved.before_reset
    return {"format": FORMAT, "code": saved.code, "inputs": saved.inputs,
            "original_sha": saved.original_sha, "saved_at": saved.saved_at,
            "before_reset": None if before is None else
            {"code": before.code, "inputs": before.inputs, "at": before.at}}


def _from_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """Format 1 (jaxtui <= 0.2): the same fields, no `before_reset` (a reset deleted the file)."""
    return {**raw, "format": 2, "before_reset": None}


# format -> the function that turns a file of that format into the next one
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _from_v1}


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    version = raw.get("format")
    while version != FORMAT:
        if not isinstance(version, int) or version not in MIGRATIONS:
            raise ValueError(f"unknown format {version!r} (this jaxtui reads 1 to {FORMAT})")
        raw = MIGRATIONS[version](raw)
        version = raw.get("format")
    return raw


def _code(value: Any, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{what} is not text")
    return value


def _inputs(value: Any, what: str) -> dict[str, str]:
    value = value or {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise ValueError(f"{what} is not a mapping of names to text")
    return dict(value)


def _from_json(raw: Any) -> SavedDemo:
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    raw = _migrate(raw)
    before = raw.get("before_reset")
    if before is not None and not isinstance(before, dict):
        raise ValueError("'before_reset' is not an object")
    return SavedDemo(code=_code(raw.get("code"), "'code'"), inputs=_inputs(raw.get("inputs"), "'inputs'"),
                     original_sha=str(raw.get("original_sha", "")),
                     saved_at=float(raw.get("saved_at") or 0.0),
                     before_reset=None if before is None else BeforeReset(
                         code=_code(before.get("code"), "'before_reset.code'"),
                         inputs=_inputs(before.get("inputs"), "'before_reset.inputs'"),
                         at=float(before.get("at") or 0.0)))


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that a crash leaves the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass
class Settings:
    """What the app remembers between sessions besides edits: the theme, the last pane."""

    theme: str = ""
    pane: str = ""


def load_settings(root: Path | None = None) -> Settings:
    """The remembered settings; defaults when there are none or the file is unreadable (they
    are a convenience: never a reason to refuse to start)."""
    path = (root if root is not None else state_dir()) / "settings.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Settings(theme=str(raw.get("theme", "")), pane=str(raw.get("pane", "")))
    except (OSError, ValueError, AttributeError):
        return Settings()


def save_settings(settings: Settings, root: Path | None = None) -> None:
    path = (root if root is not None else state_dir()) / "settings.json"
    with contextlib.suppress(OSError):  # a read-only state dir: the app works the same, it forgets
        atomic_write(path, json.dumps({"theme": settings.theme, "pane": settings.pane}))


def snapshot(original: str, code: str, defaults: dict[str, str], inputs: dict[str, str],
             before_reset: BeforeReset | None = None) -> SavedDemo:
    """What to save for a demo: only the parts that differ from its original (and what the
    last reset replaced)."""
    changed_inputs = {k: v for k, v in inputs.items() if defaults.get(k) != v}
    return SavedDemo(code=None if code == original else code, inputs=changed_inputs,
                     original_sha=_sha(original), before_reset=before_reset)


def before_reset(original: str, code: str, defaults: dict[str, str], inputs: dict[str, str]) -> BeforeReset:
    """What a reset of these edits replaces (only what differs from the original)."""
    edits = snapshot(original, code, defaults, inputs)
    return BeforeReset(code=edits.code, inputs=edits.inputs, at=time.time())


class EditedDemo(Protocol):
    """What Autosave needs from a pane."""

    @property
    def state_key(self) -> str: ...

    def saved_state(self) -> SavedDemo | None: ...  # None: gone, nothing to save


class Autosave:
    """Batch edits and save them within SAVE_DELAY_S of the first unsaved one.

    `schedule(delay, callback)` is the UI's timer (Textual's `set_timer`); `on_problem`
    tells the user when a save fails (a full disk must not crash the app). Panes in
    `paused` (borrowed by a tour) are not saved: the tour's code is not the user's work.

    The snapshot is taken on the caller's thread (it reads the widgets); the write, with its
    fsync, runs on one writer thread, in order, so a slow disk never stalls the UI's loop.
    """

    def __init__(self, store: DemoStore, schedule: Callable[[float, Callable[[], None]], object],
                 on_problem: Callable[[str], None]) -> None:
        self.store = store
        self.schedule = schedule
        self.on_problem = on_problem
        self.dirty: dict[str, EditedDemo] = {}
        self.paused: set[str] = set()
        self._scheduled = False
        self._reported: set[str] = set()
        self._writer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="jaxtui-save")

    def touch(self, demo: EditedDemo) -> None:
        if demo.state_key in self.paused:
            return
        self.dirty[demo.state_key] = demo
        if not self._scheduled:
            self._scheduled = True
            self.schedule(SAVE_DELAY_S, self.flush_soon)

    def _snapshot(self) -> list[tuple[str, SavedDemo]]:
        self._scheduled = False
        dirty, self.dirty = self.dirty, {}
        taken = []
        for key, demo in dirty.items():
            if key in self.paused:
                continue
            saved = demo.saved_state()
            if saved is not None:
                taken.append((key, saved))
        return taken

    def _write(self, taken: list[tuple[str, SavedDemo]]) -> list[tuple[str, str | None]]:
        """On the writer thread: each save's problem, or None."""
        outcomes: list[tuple[str, str | None]] = []
        for key, saved in taken:
            try:
                diverted = self.store.save(key, saved)  # once diverted, later saves say nothing
                outcomes.append((key, diverted.message if diverted else None))
            except StateProblem as exc:
                outcomes.append((key, str(exc)))
        return outcomes

    def _report(self, outcomes: list[tuple[str, str | None]]) -> None:
        for key, problem in outcomes:
            if problem is None:
                self._reported.discard(key)
            elif key not in self._reported:  # say it once, not on every keystroke
                self._reported.add(key)
                self.on_problem(problem)

    def flush_soon(self) -> None:
        """The timer's callback: snapshot now, write on the writer thread, report on this loop."""
        taken = self._snapshot()
        if not taken:
            return
        written = self._writer.submit(self._write, taken)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a script): wait here
            self._report(written.result())
            return
        asyncio.wrap_future(written, loop=loop).add_done_callback(
            lambda done: None if done.cancelled() or done.exception() else self._report(done.result()))

    async def flush_now(self) -> None:
        """Save what is unsaved and wait for it (and every earlier write) off the loop: quit."""
        self._report(await asyncio.wrap_future(self._writer.submit(self._write, self._snapshot())))

    def flush(self) -> None:
        """Save what is unsaved now, waiting for it (a tour taking a pane; a fatal signal)."""
        self._report(self._writer.submit(self._write, self._snapshot()).result())

    def drain(self) -> None:
        """Wait for the writes in flight."""
        self._writer.submit(lambda: None).result()
