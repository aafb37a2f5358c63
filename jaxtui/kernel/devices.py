"""What the kernel's JAX sees: versions, devices and their memory."""

from __future__ import annotations

import platform as _platform
from typing import Any

import jax


def versions() -> dict[str, str]:
    import jaxlib

    backend_version = ""
    try:
        backend = jax.extend.backend.get_backend()
        backend_version = f"{backend.platform} {backend.platform_version}".strip()
    except Exception:  # noqa: BLE001 - informational only
        pass
    return {"jax": jax.__version__, "jaxlib": getattr(jaxlib, "__version__", "?"),
            "python": _platform.python_version(), "backend": backend_version}


def _device_row(d: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"id": d.id, "name": str(d), "platform": d.platform,
                           "device_kind": d.device_kind, "process_index": d.process_index}
    try:
        stats = d.memory_stats()
    except Exception:  # noqa: BLE001 - unsupported on some backends
        stats = None
    if stats:
        row["bytes_in_use"] = stats.get("bytes_in_use")
        row["peak_bytes_in_use"] = stats.get("peak_bytes_in_use")
        row["bytes_limit"] = stats.get("bytes_limit")
    return row


def describe() -> dict[str, Any]:
    devices = jax.devices()
    live: dict[str, int] = {}
    for arr in jax.live_arrays():
        try:
            for shard in arr.addressable_shards:
                key = str(shard.device)
                live[key] = live.get(key, 0) + shard.data.nbytes
        except Exception:  # noqa: BLE001 - deleted arrays
            continue
    rows = []
    for d in devices:
        row = _device_row(d)
        row["live_array_bytes"] = live.get(str(d), 0)
        rows.append(row)
    return {"platform": jax.default_backend(), "process_count": jax.process_count(),
            "process_index": jax.process_index(), "devices": rows, **versions()}
