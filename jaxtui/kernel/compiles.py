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
import threading
from typing import Any

from jaxtui.kernel import _jaxcompat as jc

_JAXTUI_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


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
        self._durations: Any = None
        self._user_explains = False

    def _on_stage(self, stage: str, seconds: float, name: str) -> None:
        with self._lock:
            self.events.append((name, stage, seconds, self.phase))

    def _on_log(self, record: logging.LogRecord) -> bool:
        """A logger filter: keep the explanation; let it through only if the user asked
        for explanations themselves (then they expect them in the output)."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is not ours to fix
            return True
        miss = jc.parse_cache_miss(message)
        if miss is not None:
            self._keep_miss(miss)
        return self._user_explains

    def _keep_miss(self, miss: jc.CacheMiss) -> None:
        reason = miss.reason
        if self.filename:
            reason = reason.replace(self.filename, os.path.basename(self.filename))
        own = bool(self.filename) and miss.where == self.filename
        place = f"{os.path.basename(miss.where)}:{miss.line}"
        if os.path.abspath(miss.where).startswith(_JAXTUI_DIR):
            place = f"inside jaxtui ({place})"  # e.g. the timing harness's first call
        with self._lock:
            self.misses.append({"name": miss.name, "line": miss.line if own else None, "where": place,
                                "reason": reason, "phase": self.phase})

    def __enter__(self) -> Recorder:
        self._durations = jc.stage_durations(self._on_stage)
        self._durations.__enter__()
        self._user_explains = jc.explains_cache_misses()
        jc.forget_seen_callsites()
        logging.getLogger(jc.EXPLAIN_LOGGER).addFilter(self._on_log)
        self._explain = jc.explain_cache_misses()
        self._explain.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._explain is not None:
            self._explain.__exit__(None, None, None)
            self._explain = None
        logging.getLogger(jc.EXPLAIN_LOGGER).removeFilter(self._on_log)
        if self._durations is not None:
            self._durations.__exit__(None, None, None)
            self._durations = None

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
