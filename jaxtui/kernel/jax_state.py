"""What a run must not carry into the next: JAX's thread-local settings and trace state.

An exception can land between a JAX context manager's change and the point from which its
`__exit__` is guaranteed: ctrl+c (SIGINT raises KeyboardInterrupt at whatever bytecode runs
next) right after `jax.numpy_rank_promotion("raise").__enter__` set the value leaves it set
for the kernel's life, and every later run in any pane would see it. A run starts and ends
with no JAX context manager of its own open, so whatever thread-local setting it leaves
behind is such a leak: `restored()` puts each back as it found it, and clears a trace
state left behind (a trace that never ended).

The settings the code changes on purpose for the whole process (`jax.config.update`) are
left alone: that is the script's own doing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _states() -> dict[str, Any]:
    """JAX's settings that have a thread-local (context manager) value."""
    from jax._src import config

    holders = getattr(config.config, "_value_holders", {})
    return {name: h for name, h in holders.items() if hasattr(h, "get_local") and hasattr(h, "set_local")}


def _restore(holder: Any, value: Any) -> None:
    """What StateContextManager.__exit__ does (jax/_src/config.py)."""
    from jax._src import config

    holder.set_local(value)
    hook = getattr(holder, "_update_thread_local_hook", None)
    if hook:
        hook(None if value is config.config_ext.unset else value)


@contextmanager
def restored(report: Any = None) -> Iterator[None]:
    """Undo the thread-local JAX settings and trace state the block leaves changed.
    `report(text)` is told what was put back (the kernel's stderr by default)."""
    states = _states()
    before = {name: h.get_local() for name, h in states.items()}
    try:
        yield
    finally:
        fixed = [name for name, h in states.items() if h.get_local() is not before[name]]
        for name in fixed:
            _restore(states[name], before[name])
        from jax._src import core

        if not core.reset_trace_state():
            fixed.append("trace state")
        if fixed:
            text = f"jaxtui: reset {', '.join(fixed)}, left changed by an interrupted run\n"
            if report is not None:
                report(text)
            else:
                os.write(2, text.encode())
