"""What the device can do at best: peak memory bandwidth and peak flop rate.

The timing harness divides each timed function's work (`cost_analysis()`) by its median
time and sets it next to these peaks, so a timing says how close it came to the limit.

- **CPU:** measured once per kernel, lazily: memory bandwidth by a STREAM-style copy and
  triad into a reused (donated) buffer, each array larger than the last-level cache read
  from sysfs, checked against a plain numpy copy of the same size; the flop rate by a
  float32 matmul. A laptop's CPU has no useful "nominal" figure: turbo, core count and the
  virtual-device split all change it. The cache size also travels with the peak: a timed
  function whose data fits in the cache is labelled "in cache", not set against DRAM.
- **GPU / TPU:** taken from a table of published peaks by `device_kind`, marked nominal.
  Measuring them well needs large, long runs; the vendors' numbers are the usual roofline.
  Figures are per JAX device: one GPU, or one TPU TensorCore (v2/v3 show two per chip).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

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

# float32 matmuls (size, runs): the best rate of all is the flop peak. On a machine shared
# with other work a 1024 matmul (2.1 GFLOP, ~20 ms) is often preempted mid-run, while a 512
# one (~3 ms) slips between time slices: the best of many short runs reaches the peak that
# short elementwise kernels can also reach, where a few long runs would read far too low.
MATMUL_PROBES = ((512, 30), (1024, 5))
STREAM_REPEATS = 10  # STREAM's own NTIMES: the bandwidth kernels are short, noise is not

# The bandwidth probe's arrays (STREAM's rule is 4x the last-level cache per array; 2x keeps
# the probe near a second on servers with hundreds of MiB of L3 and is still mostly DRAM).
CACHE_MULTIPLE = 2
MIN_ARRAY_BYTES = 64 << 20  # when the cache size cannot be read, or is small
MAX_PROBE_BYTES = 3 << 30  # the three triad arrays together, at most ...
MAX_MEMORY_SHARE = 0.25  # ... and at most this share of the memory available now
SYSFS_CPU = Path("/sys/devices/system/cpu")

_cache: dict[tuple[str, str], dict[str, Any]] = {}


def nominal_peak(device_kind: str, platform: str = "") -> dict[str, Any] | None:
    """The published peak for a GPU/TPU `device_kind`, or None when the table lacks it."""
    for match, name, bw, half, f32 in NOMINAL:
        hit = device_kind == match if match.startswith("TPU") else match.lower() in device_kind.lower()
        if hit:
            return {"device_kind": device_kind, "platform": platform, "name": name, "source": "nominal",
                    "bytes_per_s": bw, "flops_per_s": {"bf16": half, "f32": f32}, "cache": None,
                    "note": "published datasheet peak"}
    return None


def nominal_peaks(device: Any) -> dict[str, float]:
    """`jaxtui doctor`'s view of the table: {"matmul_flops", "copy_bytes_s"} for a GPU/TPU
    device (16-bit matmul peak, memory bandwidth); {} where no published figure applies."""
    found = nominal_peak(device.device_kind, device.platform) if device.platform != "cpu" else None
    if not found:
        return {}
    return {"matmul_flops": found["flops_per_s"]["bf16"], "copy_bytes_s": found["bytes_per_s"]}


# -- the CPU's last-level cache ------------------------------------------------------------

def _cache_size_bytes(text: str) -> int:
    """sysfs writes sizes as "32768K" (sometimes "1M")."""
    text = text.strip().upper()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(text.rstrip("KMG")) * scale


def last_level_cache(root: Path = SYSFS_CPU) -> dict[str, Any] | None:
    """The CPU's last-level cache as the kernel lists it (what `lscpu` reads): its level,
    and its total size over all instances (an AMD CCX or a socket has its own L3: a loop
    spread over every core can keep all of them busy). None where sysfs has no cache info."""
    instances: dict[tuple[int, str], int] = {}
    for index in root.glob("cpu[0-9]*/cache/index[0-9]*"):
        try:
            if (index / "type").read_text().strip() == "Instruction":
                continue
            level = int((index / "level").read_text())
            shared = (index / "shared_cpu_list").read_text().strip()
            instances[(level, shared)] = _cache_size_bytes((index / "size").read_text())
        except (OSError, ValueError):
            continue
    if not instances:
        return None
    top = max(level for level, _ in instances)
    sizes = [size for (level, _), size in instances.items() if level == top]
    return {"level": top, "bytes": sum(sizes), "instances": len(sizes), "source": str(root)}


def _available_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def stream_array_bytes(cache: dict[str, Any] | None, available: int | None) -> int:
    """Bytes per array of the bandwidth probe: CACHE_MULTIPLE x the last-level cache (at
    least MIN_ARRAY_BYTES), the three arrays together capped by MAX_PROBE_BYTES and by a
    share of the available memory. A multiple of 4 KiB."""
    want = max(MIN_ARRAY_BYTES, CACHE_MULTIPLE * (cache or {}).get("bytes", 0))
    cap = MAX_PROBE_BYTES if available is None else min(MAX_PROBE_BYTES, int(available * MAX_MEMORY_SHARE))
    return max(1 << 20, min(want, cap // 3)) // 4096 * 4096


# -- the probes ----------------------------------------------------------------------------

def _best_time(fn: Any, *args: Any, repeats: int) -> float:
    jax.block_until_ready(fn(*args))  # compile and warm up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t)
    return max(best, 1e-9)


def _cost(fn: Any, *args: Any) -> dict[str, float]:
    return jc.cost_dict(fn.lower(*args).compile())


# Named, so that wherever their compiles show up they say what they are. `dst` is donated:
# each call writes into the buffer the previous call returned, as STREAM writes into its
# static arrays. A fresh output per call would measure the kernel's page faults (a first
# touch of every 4 KiB page), not the memory: several times slower.
def _peak_probe_copy(dst: Any, src: Any) -> Any:
    return dst.at[:].set(src)


def _peak_probe_triad(dst: Any, b: Any, c: Any) -> Any:
    return b + 3.0 * c


def _peak_probe_matmul(p: Any, q: Any) -> Any:
    return p @ q


class _Stream:
    """One STREAM kernel, `dst = kernel(dst, *args)`, writing into the buffer the previous
    call returned (donated). Its bytes per call come from XLA's cost analysis, so they are
    counted as the timed functions' are."""

    def __init__(self, kernel: Any, dst: Any, *args: Any) -> None:
        self.fn = jax.jit(kernel, donate_argnums=0, keep_unused=True)
        self.args = args
        self.nbytes = float(_cost(self.fn, dst, *args).get("bytes accessed") or 0.0)
        self.dst = dst
        for _ in range(2):  # compile, then touch every page of the reused buffer once
            self.dst = jax.block_until_ready(self.fn(self.dst, *self.args))
        self.best = float("inf")

    def run(self) -> None:
        t = time.perf_counter()
        self.dst = jax.block_until_ready(self.fn(self.dst, *self.args))
        self.best = min(self.best, time.perf_counter() - t)

    def rate(self) -> float:
        return self.nbytes / max(self.best, 1e-9)


def _stream_rate(kernel: Any, dst: Any, *args: Any) -> tuple[float, Any]:
    """Best bytes/s of one STREAM kernel over STREAM_REPEATS calls, and its buffer."""
    stream = _Stream(kernel, dst, *args)
    for _ in range(STREAM_REPEATS):
        stream.run()
    return stream.rate(), stream.dst


class _NumpyCopy:
    """`np.copyto(dst, src)` between preallocated float32 arrays: the check on the probe,
    one plain copy without JAX, counted as read + write."""

    def __init__(self, src: Any) -> None:
        self.src = np.asarray(src)  # a view of the JAX array's host buffer: no extra copy
        self.dst = np.zeros_like(self.src)
        np.copyto(self.dst, self.src)  # touch every page first
        self.best = float("inf")

    def run(self) -> None:
        t = time.perf_counter()
        np.copyto(self.dst, self.src)
        self.best = min(self.best, time.perf_counter() - t)

    def rate(self) -> float:
        return 2.0 * self.src.nbytes / max(self.best, 1e-9)


def _mib(n: float) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def _rate(n: float) -> str:
    return f"{n / 1e9:.3g} GB/s"


def stream_probe(device: Any = None, cache: dict[str, Any] | bool | None = True) -> dict[str, Any]:
    """STREAM-style copy (`a = b`) and triad (`a = b + 3c`) into a reused (donated) buffer,
    each array larger than the last-level cache, best of STREAM_REPEATS, interleaved with a
    numpy copy of the same size as a check. The bandwidth peak is the better of copy and triad."""
    device = device or jax.devices()[0]
    llc = last_level_cache() if cache is True else (cache or None)
    array_bytes = stream_array_bytes(llc, _available_bytes())
    elements = array_bytes // 4
    with jax.default_device(device):
        b = jnp.ones(elements, jnp.float32)
        c = jnp.full(elements, 2.0, jnp.float32)
        copy = _Stream(_peak_probe_copy, jnp.zeros(elements, jnp.float32), b)
        triad = _Stream(_peak_probe_triad, jnp.zeros(elements, jnp.float32), b, c)
        numpy_copy = _NumpyCopy(b)
        # Interleaved, as STREAM runs its kernels: a burst of load from elsewhere hits all
        # three alike, so the numpy check compares like with like.
        for _ in range(STREAM_REPEATS):
            copy.run()
            triad.run()
            numpy_copy.run()
        copy_rate, triad_rate, numpy_rate = copy.rate(), triad.rate(), numpy_copy.rate()
        del b, c, copy, triad, numpy_copy
    working_set = 3 * array_bytes  # the triad's three arrays
    where = (f"the L{llc['level']} cache is {_mib(llc['bytes'])} (sysfs)" if llc
             else "the cache size could not be read")
    small = llc is not None and working_set <= llc["bytes"]
    return {
        "bytes_per_s": max(copy_rate, triad_rate),
        "stream": {"copy_bytes_per_s": copy_rate, "triad_bytes_per_s": triad_rate,
                   "array_bytes": array_bytes, "working_set_bytes": working_set,
                   "repeats": STREAM_REPEATS, "numpy_copy_bytes_per_s": numpy_rate},
        "cache": llc,
        "method": (f"STREAM copy and triad (a = b + 3c) into a reused (donated) buffer, "
                   f"{_mib(array_bytes)} per array ({_mib(working_set)} working set; {where}"
                   f"{', so this may be a cache figure: memory was short' if small else ''}), "
                   f"best of {STREAM_REPEATS}: copy {_rate(copy_rate)}, triad {_rate(triad_rate)}; "
                   f"a numpy copy of the same size: {_rate(numpy_rate)}"),
    }


def cpu_probe(device: Any = None) -> dict[str, Any]:
    """Measure memory bandwidth (STREAM copy and triad) and float32 matmul rate on this CPU.

    Work counts come from XLA's own cost analysis, so "achieved" and "peak" count bytes
    and flops the same way. The best of a few runs is the peak: noise only slows a run.
    """
    device = device or jax.devices()[0]
    t0 = time.perf_counter()
    stream = stream_probe(device)
    with jax.default_device(device):
        matmul = jax.jit(_peak_probe_matmul)
        rate = 0.0
        for size, repeats in MATMUL_PROBES:
            a = jnp.ones((size, size), jnp.float32)
            flops = float(_cost(matmul, a, a).get("flops") or 2.0 * size ** 3)
            rate = max(rate, flops / _best_time(matmul, a, a, repeats=repeats))
            del a
    runs = " and ".join(f"{repeats} runs of a {size}x{size} matmul" for size, repeats in MATMUL_PROBES)
    return {"device_kind": device.device_kind, "platform": device.platform, "name": "this CPU",
            "source": "measured", "bytes_per_s": stream["bytes_per_s"],
            "flops_per_s": {"f32": rate, "bf16": rate}, "stream": stream["stream"],
            "cache": stream["cache"],
            "note": f"measured by this kernel. Memory: {stream['method']}. float32: the best of {runs}.",
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
                "source": "unknown", "bytes_per_s": None, "flops_per_s": {}, "cache": None,
                "note": f"no published peak known for {device.device_kind!r}"}
    return _cache[key]
