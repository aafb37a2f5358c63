"""What the kernel's JAX sees: versions, devices and their memory, and the run target.

Kernel side: imports jax, never textual.
"""

from __future__ import annotations

import platform as _platform
from typing import Any

import jax

from jaxtui.kernel import _jaxcompat as jc


def _backend_version() -> str:
    try:
        import jax.extend.backend  # `jax.extend` is not imported by `import jax`

        backend = jax.extend.backend.get_backend()
    except Exception:  # noqa: BLE001 - informational only
        return ""
    # TPU's platform_version is several lines ("PJRT C API\nTFRT TPU v4\nBuilt on ...").
    detail = " · ".join(line.strip() for line in str(backend.platform_version).splitlines() if line.strip())
    return backend.platform if detail in ("", backend.platform) else f"{backend.platform} {detail}"


def versions() -> dict[str, str]:
    try:
        import jaxlib

        jaxlib_version = getattr(jaxlib, "__version__", "?")
    except ImportError:
        jaxlib_version = "?"
    return {"jax": getattr(jax, "__version__", "?"), "jaxlib": jaxlib_version,
            "python": _platform.python_version(), "backend": _backend_version()}


def _device_row(d: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"id": d.id, "name": str(d), "platform": d.platform,
                           "device_kind": d.device_kind, "process_index": d.process_index}
    try:
        stats = d.memory_stats()
    except Exception:  # noqa: BLE001 - unsupported on some backends, non-local devices
        stats = None
    if stats:  # GPU/TPU; None on CPU
        row.update({key: stats.get(key) for key in jc.MEMORY_STATS_KEYS})
    return row


def _live_bytes() -> dict[str, int]:
    """Bytes of live jax.Arrays per device: the only memory figure CPU devices have."""
    live: dict[str, int] = {}
    for arr in jax.live_arrays():
        try:
            for shard in arr.addressable_shards:
                key = str(shard.device)
                live[key] = live.get(key, 0) + shard.data.nbytes
        except Exception:  # noqa: BLE001 - deleted arrays
            continue
    return live


def describe() -> dict[str, Any]:
    devices = jax.devices()
    live = _live_bytes()
    rows = []
    for d in devices:
        row = _device_row(d)
        if d.process_index == jax.process_index():
            row["live_array_bytes"] = live.get(str(d), 0)
        rows.append(row)
    return {"platform": jax.default_backend(), "process_count": jax.process_count(),
            "process_index": jax.process_index(), "default_device": str(devices[0]) if devices else "",
            "devices": rows, **versions()}


def default_device_name() -> str:
    """The device runs go to, as a label ("" if JAX cannot say)."""
    try:
        return str(jc.default_device())
    except Exception:  # noqa: BLE001 - a name is only a label
        return ""


class DeviceChoiceError(ValueError):
    """The requested target device does not exist here (or belongs to another host)."""


def pick_device(device_id: int | None) -> Any:
    """The local device with this id, or None for JAX's own default.

    Ids are `jax.Device.id`, as the Devices pane and `jax.devices()` show them.
    """
    if device_id is None:
        return None
    if isinstance(device_id, bool) or not isinstance(device_id, int):
        raise DeviceChoiceError(f"the target device must be a device id (an integer), got {device_id!r}")
    local = jax.local_devices()
    for d in local:
        if d.id == device_id:
            return d
    ids = sorted(d.id for d in local)
    have = f"{ids[0]}-{ids[-1]}" if ids == list(range(ids[0], ids[-1] + 1)) else ", ".join(map(str, ids))
    if any(d.id == device_id for d in jax.devices()):
        raise DeviceChoiceError(f"device {device_id} belongs to another host of this multi-host "
                                f"slice; this process can run on devices {have}")
    platform = local[0].platform if local else "?"
    raise DeviceChoiceError(f"there is no device {device_id}: this kernel has {len(local)} "
                            f"{platform} device{'s' if len(local) != 1 else ''} (ids {have})")
