"""Joining a JAX cluster: one kernel per process, as JAX's multi-controller runtime wants.

The client (core/cluster.py) starts N kernels and tells each its place through the
environment (protocol.ENV_*). `jax.distributed.initialize` must run before anything that
starts JAX's backend, so `kernel/__main__.py` calls `join()` right after `import jax` and
before `jax.devices()`. Process 0 serves the coordinator at the given address; every process
connects to it, and on CPU the collectives then go over gloo (JAX's default since 0.5.1).
"""

from __future__ import annotations

import os
from typing import Any

from jaxtui import protocol as P

# How long a process waits for the others to join. Kernels of a local cluster start within a
# few seconds of each other; a remote host's may wait on ssh and a slow import. The client
# stops the whole cluster when any member fails to start, so this only bounds a lone waiter.
JOIN_TIMEOUT_S = 120


def requested() -> tuple[str, int, int] | None:
    """(coordinator, num_processes, process_id) when this kernel is a cluster member."""
    coordinator = os.environ.get(P.ENV_COORDINATOR)
    if not coordinator:
        return None
    return coordinator, int(os.environ[P.ENV_NUM_PROCESSES]), int(os.environ[P.ENV_PROCESS_ID])


def join() -> dict[str, Any]:
    """Join the cluster the environment names (nothing when it names none). Returns what the
    `ready` event adds: the coordinator this kernel joined through."""
    place = requested()
    if place is None:
        return {}
    import jax

    coordinator, num_processes, process_id = place
    jax.distributed.initialize(coordinator, num_processes, process_id, initialization_timeout=JOIN_TIMEOUT_S)
    return {"coordinator": coordinator}
