"""What the device can do at best: peak memory bandwidth and peak flop rate.

The timing harness divides each timed function's work (`cost_analysis()`) by its median
time and sets it next to these peaks, so a timing says how close it came to the limit.

- **CPU:** measured once per kernel, lazily, by two small probes (a copy that streams an
  array larger than the caches, and a float32 matmul). A laptop's CPU has no useful
  "nominal" figure: turbo, core count and the virtual-device split all change it.
- **GPU / TPU:** taken from a table of published peaks by `device_kind`, marked nominal.
  Measuring them well needs large, long runs; the vendors' numbers are the usual roofline.
  Figures are per JAX device: one GPU, or one TPU TensorCore (v2/v3 show two per chip).
"""

from __future__ import annotations

import time
from typing import Any

import jax
import jax.numpy as jnp

from jaxtui.kernel import _jaxcompat as jc

# (match, name, HBM bytes/s, dense 16-bit matmul flop/s, float32 flop/s).
# `match` is compared with device_kind: TPU kinds exactly, GPU kinds by substring, in order
# (so "H100 PCIe" is tried before the plain "H100"). Published datasheet values, dense
# (no 2:4 sparsity). TPUs run float32 matmuls at default precision as bfloat16 passes, so
# their float32 row repeats the bf16 peak.
NOMINAL: tuple[tuple[str, str, float, float, float], ...] = (
    ("TPU v2", "TPU v2 (one of 2 TensorCores per chip)", 300e9, 22.5e12, 22.5e12),
    ("TPU v3", "TPU v3 (one of 2 TensorCores per chip)", 450e9, 61.5e12, 61.5e12),
    ("TPU v4", "TPU v4", 1228e9, 275e12, 275e12),
    ("TPU v5 lite", "TPU v5e", 819e9, 197e12, 197e12),
    ("TPU v5e", "TPU v5e", 819e9, 197e12, 197e12),
    ("TPU v5", "TPU v5p", 2765e9, 459e12, 459e12),
    ("TPU v5p", "TPU v5p", 2765e9, 459e12, 459e12),
    ("TPU v6 lite", "TPU v6e", 1640e9, 918e12, 918e12),
    ("TPU v6e", "TPU v6e", 1640e9, 918e12, 918e12),
    ("H200", "NVIDIA H200 SXM", 4.8e12, 989e12, 67e12),
    ("H100 PCIe", "NVIDIA H100 PCIe", 2.0e12, 756e12, 51e12),
    ("H100 NVL", "NVIDIA H100 NVL", 3.9e12, 835e12, 60e12),
    ("H100", "NVIDIA H100 SXM", 3.35e12, 989e12, 67e12),
    ("A100-SXM4-80GB", "NVIDIA A100 SXM 80GB", 2.039e12, 312e12, 19.5e12),
    ("A100 80GB PCIe", "NVIDIA A100 PCIe 80GB", 1.935e12, 312e12, 19.5e12),
    ("A100", "NVIDIA A100 40GB", 1.555e12, 312e12, 19.5e12),
    ("L40S", "NVIDIA L40S", 864e9, 362e12, 91.6e12),
    ("L40", "NVIDIA L40", 864e9, 181e12, 90.5e12),
    ("L4", "NVIDIA L4", 300e9, 121e12, 30.3e12),
    ("A10G", "NVIDIA A10G", 600e9, 70e12, 31.2e12),
    ("A10", "NVIDIA A10", 600e9, 125e12, 31.2e12),
    ("V100", "NVIDIA V100 (16-bit: fp16 tensor cores)", 900e9, 125e12, 15.7e12),
    ("T4", "NVIDIA T4 (16-bit: fp16 tensor cores)", 320e9, 65e12, 8.1e12),
)

COPY_ELEMENTS = 16 << 20  # 64 MiB of float32 each way: more than the caches of laptop and VM CPUs
MATMUL_N = 1024  # 2.1 GFLOP: long enough to time, short enough for < 0.1 s on two cores
PROBE_REPEATS = 5  # the best run is the peak: more runs, more chances to miss a burst of load

_cache: dict[tuple[str, str], dict[str, Any]] = {}


def nominal_peak(device_kind: str, platform: str = "") -> dict[str, Any] | None:
    """The published peak for a GPU/TPU `device_kind`, or None when the table lacks it."""
    for match, name, bw, half, f32 in NOMINAL:
        hit = device_kind == match if match.startswith("TPU") else match.lower() in device_kind.lower()
        if hit:
            return {"device_kind": device_kind, "platform": platform, "name": name, "source": "nominal",
                    "bytes_per_s": bw, "flops_per_s": {"bf16": half, "f32": f32}, "note": "published datasheet peak"}
    return None


def nominal_peaks(device: Any) -> dict[str, float]:
    """`jaxtui doctor`'s view of the table: {"matmul_flops", "copy_bytes_s"} for a GPU/TPU
    device (16-bit matmul peak, memory bandwidth); {} where no published figure applies."""
    found = nominal_peak(device.device_kind, device.platform) if device.platform != "cpu" else None
    if not found:
        return {}
    return {"matmul_flops": found["flops_per_s"]["bf16"], "copy_bytes_s": found["bytes_per_s"]}


def _best_time(fn: Any, *args: Any) -> float:
    jax.block_until_ready(fn(*args))  # compile and warm up
    best = float("inf")
    for _ in range(PROBE_REPEATS):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t)
    return max(best, 1e-9)


def _cost(fn: Any, *args: Any) -> dict[str, float]:
    return jc.cost_dict(fn.lower(*args).compile())


# Named, so that wherever their compiles show up they say what they are.
def _peak_probe_copy(v: Any) -> Any:
    return v + 1.0


def _peak_probe_matmul(p: Any, q: Any) -> Any:
    return p @ q


def cpu_probe(device: Any = None) -> dict[str, Any]:
    """Measure copy bandwidth and float32 matmul rate on this CPU (about 0.3 s).

    Work counts come from XLA's own cost analysis, so "achieved" and "peak" count bytes
    and flops the same way. The best of a few runs is the peak: noise only slows a run.
    """
    device = device or jax.devices()[0]
    t0 = time.perf_counter()
    with jax.default_device(device):
        x = jnp.zeros(COPY_ELEMENTS, jnp.float32)
        copy = jax.jit(_peak_probe_copy)
        copy_bytes = float(_cost(copy, x).get("bytes accessed") or 8.0 * COPY_ELEMENTS)
        bandwidth = copy_bytes / _best_time(copy, x)
        a = jnp.ones((MATMUL_N, MATMUL_N), jnp.float32)
        matmul = jax.jit(_peak_probe_matmul)
        flops = float(_cost(matmul, a, a).get("flops") or 2.0 * MATMUL_N ** 3)
        rate = flops / _best_time(matmul, a, a)
        del x, a
    return {"device_kind": device.device_kind, "platform": device.platform, "name": "this CPU",
            "source": "measured", "bytes_per_s": bandwidth,
            "flops_per_s": {"f32": rate, "bf16": rate},
            "note": (f"measured by this kernel: best of {PROBE_REPEATS} runs of a "
                     f"{COPY_ELEMENTS * 4 >> 20} MiB copy and a {MATMUL_N}x{MATMUL_N} float32 matmul"),
            "probe_s": time.perf_counter() - t0}


def device_peak(device: Any = None) -> dict[str, Any]:
    """The peak for `device` (default: the default device), cached for the kernel's life.

    `source` is "measured" (CPU probe), "nominal" (published table) or "unknown" (a GPU/TPU
    missing from the table: no peak, the achieved rates are still shown).
    """
    if device is None:
        device = jc.default_device()
    key = (device.platform, device.device_kind)
    if key not in _cache:
        if device.platform == "cpu":
            _cache[key] = cpu_probe(device)
        else:
            _cache[key] = nominal_peak(device.device_kind, device.platform) or {
                "device_kind": device.device_kind, "platform": device.platform, "name": device.device_kind,
                "source": "unknown", "bytes_per_s": None, "flops_per_s": {},
                "note": f"no published peak known for {device.device_kind!r}"}
    return _cache[key]
