"""Count compilations during a run, from `jax.monitoring` duration events, and say why
each one happened, from JAX's own cache-miss explanations.

JAX fires one trace, one lowering and one backend-compile event per cache miss, tagged
with the function's name (`chain` for the trace, `jit(chain)` for the rest); a cache hit
fires none. Eager operations show up too (`jit(broadcast_in_dim)` for `jnp.ones`): every
primitive is compiled once per shape. With `jax_explain_cache_misses` on, JAX logs why the
tracing cache missed ("never seen function", "different input pytree: ...") at the line of
the call; the recorder keeps those messages instead of letting them reach the output.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any

import jax
import jax.monitoring

_STAGES = {
    "/jax/core/compile/jaxpr_trace_duration": "trace_s",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower_s",
    "/jax/core/compile/backend_compile_duration": "compile_s",
}
_EXPLAIN_LOGGER = "jax._src.interpreters.partial_eval"  # where "TRACING CACHE MISS" is logged
_MISS_HEAD = re.compile(r"TRACING CACHE MISS at (.*?):(\d+)(?::\d+)? \((.*)\):")  # file:line[:col] (fn)
_GLUED_URL = re.compile(r"(?<=\S)(https://)")
_NEVER_SEEN = re.compile(r"never seen function:\s*\n\s*(\S+) id=\d+")
_FOR_FN = re.compile(r"^\s*for (\S+) defined at")
_ID = re.compile(r" id=\d+")
_JAXTUI_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def bare_name(fun_name: str) -> str:
    """`jit(chain)` -> `chain`: the trace event and the compile events name one function."""
    if fun_name.startswith("jit(") and fun_name.endswith(")"):
        return fun_name[4:-1]
    return fun_name


class Recorder:
    """Context manager: records compile events and cache-miss explanations while active.

    `phase` tags the events: the kernel sets it to "inspect" while it builds the views, so
    the compilations the views themselves cause are not counted as the run's.
    """

    def __init__(self, filename: str = "") -> None:
        self.filename = filename
        self.phase = "run"
        self.events: list[tuple[str, str, float, str]] = []  # (function, stage, seconds, phase)
        self.misses: list[dict[str, Any]] = []  # {name, line, where, reason, phase}
        self._lock = threading.Lock()
        self._explain: Any = None
        self._user_explains = False

    def _on_duration(self, event: str, duration_secs: float, **kwargs: Any) -> None:
        stage = _STAGES.get(event)
        if stage is None:
            return
        name = bare_name(str(kwargs.get("fun_name", "?")))
        with self._lock:
            self.events.append((name, stage, float(duration_secs), self.phase))

    def _on_log(self, record: logging.LogRecord) -> bool:
        """A logger filter: keep the explanation; let it through only if the user asked
        for explanations themselves (then they expect them in the output)."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is not ours to fix
            return True
        head = _MISS_HEAD.search(message)
        if head:
            self._keep_miss(message, head)
        return self._user_explains

    def _keep_miss(self, message: str, head: re.Match[str]) -> None:
        where, line = head.group(1), int(head.group(2))
        body = message[head.end():].strip("\n")
        never = _NEVER_SEEN.search(body)
        if never:
            name, reason = never.group(1), "first call: never seen this function before"
        else:
            first = body.splitlines()[0] if body else ""
            found = _FOR_FN.match(first)
            name = found.group(1) if found else "?"
            reason = "\n".join(line_.strip() for line_ in body.splitlines()[1:])
            reason = reason.replace("all previously seen cache keys differ. For the closest previous key:\n", "")
        reason = _GLUED_URL.sub(r"\n\1", _ID.sub("", reason))
        if self.filename:
            reason = reason.replace(self.filename, os.path.basename(self.filename))
        own = bool(self.filename) and where == self.filename
        place = f"{os.path.basename(where)}:{line}"
        if os.path.abspath(where).startswith(_JAXTUI_DIR):
            place = f"inside jaxtui ({place})"  # e.g. the timing harness's first call
        with self._lock:
            self.misses.append({"name": name, "line": line if own else None, "where": place,
                                "reason": reason, "phase": self.phase})

    def __enter__(self) -> Recorder:
        jax.monitoring.register_event_duration_secs_listener(self._on_duration)
        self._user_explains = bool(jax.config.jax_explain_cache_misses)
        self._forget_seen_callsites()
        logging.getLogger(_EXPLAIN_LOGGER).addFilter(self._on_log)
        self._explain = jax.explain_cache_misses(True)
        self._explain.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._explain is not None:
            self._explain.__exit__(None, None, None)
            self._explain = None
        logging.getLogger(_EXPLAIN_LOGGER).removeFilter(self._on_log)
        try:
            jax.monitoring.unregister_event_duration_listener(self._on_duration)
        except Exception:  # noqa: BLE001 - older JAX had no unregister; the listener is harmless
            pass

    @staticmethod
    def _forget_seen_callsites() -> None:
        # JAX remembers call sites across the whole process to say "maybe the function is
        # being re-defined repeatedly"; every run re-defines the demo's functions on purpose.
        try:
            from jax._src.interpreters import partial_eval

            partial_eval.callsites_with_tracing_cache_miss.clear()
        except (ImportError, AttributeError):
            pass

    def summary(self, phase: str = "run") -> list[dict[str, Any]]:
        """One row per function: compiles (backend compile count), traces, seconds per
        stage, and the explained tracing-cache misses (each with its line)."""
        rows: dict[str, dict[str, Any]] = {}
        with self._lock:
            events = [e for e in self.events if e[3] == phase]
            misses = [m for m in self.misses if m["phase"] == phase]

        def row(name: str) -> dict[str, Any]:
            return rows.setdefault(name, {"name": name, "compiles": 0, "traces": 0, "trace_s": 0.0,
                                          "lower_s": 0.0, "compile_s": 0.0, "misses": []})

        for name, stage, secs, _ in events:
            r = row(name)
            r[stage] += secs
            if stage == "compile_s":
                r["compiles"] += 1
            elif stage == "trace_s":
                r["traces"] += 1
        for miss in misses:
            row(miss["name"])["misses"].append({k: miss[k] for k in ("line", "where", "reason")})
        return sorted(rows.values(), key=lambda r: (-r["compiles"], -r["traces"], r["name"]))
