"""`jaxtui doctor`'s smoke test: does each device compute correctly, and how fast?

Per device: a matmul checked against NumPy (a wrong answer means a broken device or
driver), then the matmul rate and the on-device copy bandwidth, timed with the one
timing harness (`timing.measure`: warm-up, block_until_ready, median). Where a nominal
peak for the device kind is known, the achieved fraction of it is reported too: a fresh VM
reaching a few percent of its matmul peak is misconfigured (wrong device, CPU fallback,
throttled clocks). Kernel side: imports jax, never textual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxtui.kernel import timing

# (matmul side, dtype, elements copied). CPU sizes keep 8 virtual devices on 2 cores
# quick; accelerator sizes are big enough to get near the peak rather than measure launch
# overhead (8192² bf16 is 1.1 TFLOP; 64 Mi float32 is 256 MiB each way).
SIZES = {"cpu": (512, "float32", 4 * 1024 * 1024)}
ACCEL_SIZE = (8192, "bfloat16", 64 * 1024 * 1024)
CHECK_SIDE = 128  # the correctness check runs at float32 on a small matrix


def _nominal_peaks(device: Any) -> dict[str, float]:
    """{"matmul_flops", "copy_bytes_s"} for a GPU/TPU kind in the published table; {} for CPUs
    (no nominal figure) and kinds the table lacks: then only the absolute rates are shown."""
    try:
        from jaxtui.kernel.peaks import nominal_peaks

        return {k: float(v) for k, v in nominal_peaks(device).items() if v}
    except Exception:  # noqa: BLE001 - a peak table must never break the smoke test
        return {}


def _timed(label: str, fn: Callable[..., Any], *args: Any, budget_s: float) -> float:
    # No clean first call (it would clear every compiled cache) and no cost analysis:
    # the work of a matmul and a copy is known exactly.
    rec = timing.measure(label, fn, *args, first_call=False, analyse=False, peak=False,
                         budget_s=budget_s, min_samples=3)
    if rec.get("error"):
        raise RuntimeError(f"{label}: {rec['error'].get('type')}: {rec['error'].get('message')}")
    return float(rec["median_s"])


def _check(device: Any) -> str:
    """"" if a small float32 matmul on `device` agrees with NumPy, else what went wrong."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((CHECK_SIDE, CHECK_SIDE), dtype=np.float32)
    b = rng.standard_normal((CHECK_SIDE, CHECK_SIDE), dtype=np.float32)
    got = np.asarray(jax.device_get(jnp.matmul(jax.device_put(a, device), jax.device_put(b, device))))
    want = a.astype(np.float64) @ b.astype(np.float64)
    # TPUs multiply float32 through bf16 passes by default: allow that much error.
    err = float(np.max(np.abs(got - want)) / (np.max(np.abs(want)) or 1.0))
    return "" if err < 2e-2 else f"matmul disagrees with NumPy (relative error {err:.2g})"


def smoke_device(device: Any, *, budget_s: float = 0.2) -> dict[str, Any]:
    side, dtype, copy_n = SIZES.get(device.platform, ACCEL_SIZE)
    row: dict[str, Any] = {"id": device.id, "name": str(device), "platform": device.platform,
                           "device_kind": device.device_kind, "ok": True, "error": "",
                           "matmul_side": side, "dtype": dtype}
    try:
        row["error"] = _check(device)
        row["ok"] = not row["error"]
        key = jax.random.key(0)
        a = jax.device_put(jax.random.normal(key, (side, side), dtype=dtype), device)
        b = jax.device_put(jax.random.normal(jax.random.fold_in(key, 1), (side, side), dtype=dtype), device)
        row["matmul_s"] = _timed("matmul", jax.jit(jnp.matmul), a, b, budget_s=budget_s)
        row["matmul_flops"] = 2.0 * side**3 / row["matmul_s"]
        del a, b
        x = jax.device_put(jnp.ones((copy_n,), dtype="float32"), device)
        row["copy_s"] = _timed("copy", jax.jit(lambda v: v * 2.0), x, budget_s=budget_s)
        row["copy_bytes"] = 2 * x.nbytes  # read once, write once
        row["copy_bytes_s"] = row["copy_bytes"] / row["copy_s"]
        del x
    except Exception as exc:  # noqa: BLE001 - report the device as failed, test the others
        row["ok"] = False
        row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return row
    peaks = _nominal_peaks(device)
    row["peak_matmul_flops"] = peaks.get("matmul_flops")
    row["peak_copy_bytes_s"] = peaks.get("copy_bytes_s")
    row["matmul_fraction"] = row["matmul_flops"] / peaks["matmul_flops"] if "matmul_flops" in peaks else None
    row["copy_fraction"] = row["copy_bytes_s"] / peaks["copy_bytes_s"] if "copy_bytes_s" in peaks else None
    return row


def smoke(device_ids: list[int] | None = None, *, budget_s: float = 0.2,
          progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Smoke-test the local devices (all of them, or those ids)."""
    devices = [d for d in jax.local_devices() if device_ids is None or d.id in device_ids]
    rows = []
    for i, d in enumerate(devices):
        if progress is not None:
            progress(i, len(devices), str(d))
        rows.append(smoke_device(d, budget_s=budget_s))
    return {"platform": jax.default_backend(), "devices": rows}
