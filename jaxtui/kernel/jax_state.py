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

from jaxtui.kernel import _jaxcompat as jc


@contextmanager
def restored() -> Iterator[None]:
    """Undo the thread-local JAX settings and trace state the block leaves changed, and
    say so on the kernel's stderr."""
    states = jc.thread_local_settings()
    before = {name: h.get_local() for name, h in states.items()}
    try:
        yield
    finally:
        fixed = [name for name, h in states.items() if _changed(h.get_local(), before[name])]
        for name in fixed:
            jc.set_thread_local(states[name], before[name])
        if not jc.reset_trace_state():
            fixed.append("trace state")
        if fixed:
            os.write(2, f"jaxtui: reset {', '.join(fixed)}, left changed by an interrupted run\n".encode())


def _changed(now: Any, before: Any) -> bool:
    return now is not before and not (type(now) is type(before) and now == before)
