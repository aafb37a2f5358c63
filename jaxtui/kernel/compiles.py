"""Count compilations during a run, from `jax.monitoring` duration events.

JAX fires one trace, one lowering and one backend-compile event per cache miss, tagged
with the function's name (`jit(f)`); a cache hit fires none. Eager operations show up too
(`jit(broadcast_in_dim)` for `jnp.ones`): every primitive is compiled once per shape.
"""

from __future__ import annotations

import threading
from typing import Any

import jax.monitoring

_STAGES = {
    "/jax/core/compile/jaxpr_trace_duration": "trace_s",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower_s",
    "/jax/core/compile/backend_compile_duration": "compile_s",
}


class Recorder:
    """Context manager: records compile events while active."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, float]] = []  # (fun_name, stage, seconds)
        self._lock = threading.Lock()

    def _on_duration(self, event: str, duration_secs: float, **kwargs: Any) -> None:
        stage = _STAGES.get(event)
        if stage is None:
            return
        name = str(kwargs.get("fun_name", "?"))
        with self._lock:
            self.events.append((name, stage, float(duration_secs)))

    def __enter__(self) -> Recorder:
        jax.monitoring.register_event_duration_secs_listener(self._on_duration)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            jax.monitoring.unregister_event_duration_listener(self._on_duration)
        except Exception:  # noqa: BLE001 - older JAX had no unregister; the listener is harmless
            pass

    def summary(self) -> list[dict[str, Any]]:
        """One row per function: compiles (backend compile count) and seconds per stage."""
        rows: dict[str, dict[str, Any]] = {}
        with self._lock:
            events = list(self.events)
        for name, stage, secs in events:
            row = rows.setdefault(name, {"name": name, "compiles": 0, "traces": 0,
                                         "trace_s": 0.0, "lower_s": 0.0, "compile_s": 0.0})
            row[stage] += secs
            if stage == "compile_s":
                row["compiles"] += 1
            elif stage == "trace_s":
                row["traces"] += 1
        return sorted(rows.values(), key=lambda r: (-r["compiles"], r["name"]))
