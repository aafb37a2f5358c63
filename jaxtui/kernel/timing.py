"""The one timing harness every demo uses (through `demo.time` and `demo.sweep`).

Rules it follows (JAX's own benchmarking guidance, `jax_facts.md` §5):
- the first call (trace + lower + compile + run for a jitted function) is measured
  separately and never mixed into the steady-state samples. It is measured clean: JAX
  caches compiled code by the underlying Python function (and eager ops per shape), so a
  function compiled earlier would "first-call" in microseconds; `jax.clear_caches()` runs
  first. Its parts come from JAX's own events for the trace -> lower -> compile stages
  (`jax.monitoring`, the stages the ahead-of-time API exposes), taken during that very
  call: no second compile, and an eager first call shows the compiles of its ops too;
- every call is followed by `jax.block_until_ready` on the whole output pytree, because
  dispatch is asynchronous;
- after warm-up, calls repeat until a time budget is filled (with the garbage collector
  off, as `timeit` does), and the median, minimum and spread are reported (a 2-core VM is
  noisy; the median is the figure to quote);
- the work done comes from XLA's `cost_analysis()`, divided by the median to give the
  achieved flop/s and bytes/s, next to the device's peak (`peaks.py`). For a jitted
  function that is the compiled (fused) program. For an eager one it is the same
  function op by op, which is how eager mode runs it: each op reads its operands and
  writes its result (the bytes), the unoptimised program's flops. So an eager chain of ops
  shows more bytes than its jitted twin: the difference is what fusion saves.

A function that raises inside the harness gives a record with `error` set and no times.
"""

from __future__ import annotations

import gc
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import jax

from jaxtui.kernel import _jaxcompat as jc
from jaxtui.kernel.devices import default_device_name
from jaxtui.render.units import format_bytes, format_seconds

MIN_SAMPLES = 5
MIN_SAMPLES_SLOW = 3  # when one call alone takes longer than the budget
MAX_SAMPLES = 2000
WARMUP_CALLS = 2  # after the first call: caches, allocator, page faults, thread pools
MEMORY_HEADROOM = 0.9  # refuse a sweep point whose estimate exceeds this share of free memory
# An achieved rate may beat the measured peak by this much and still be noise (a 2-core VM
# shared with other work); beyond it the peak is what is wrong, and the report says so.
PEAK_NOISE = 1.3

Clock = Callable[[], float]
Record = dict[str, Any]


def is_jitted(fn: Any) -> bool:
    """A `jax.jit`-wrapped function (it has the ahead-of-time API)."""
    return callable(getattr(fn, "trace", None)) and callable(getattr(fn, "lower", None))


def _call_blocking(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    return jax.block_until_ready(fn(*args, **kwargs))


def _is_static(value: Any) -> bool:
    # Python scalars and strings are concrete in eager mode (a shape, a count, a flag):
    # tracing them as arrays would break code that eager mode runs fine.
    return isinstance(value, (bool, int, float, complex, str, bytes, type(None)))


def _work(cost: dict[str, float], source: str) -> dict[str, Any]:
    return {"flops": cost.get("flops"), "bytes": cost.get("bytes accessed"),
            "transcendentals": cost.get("transcendentals"), "source": source}


class StageTimes:
    """Context manager: sums JAX's trace, lower and compile durations while active."""

    def __init__(self) -> None:
        self.seconds = {"trace_s": 0.0, "lower_s": 0.0, "compile_s": 0.0}
        self.compiles = 0
        self._lock = threading.Lock()
        self._durations: Any = None

    def _on_stage(self, stage: str, seconds: float, _name: str) -> None:
        with self._lock:
            self.seconds[stage] += seconds
            self.compiles += stage == "compile_s"

    def __enter__(self) -> StageTimes:
        self._durations = jc.stage_durations(self._on_stage)
        self._durations.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._durations.__exit__(None, None, None)

    def stages(self, first_call_s: float) -> dict[str, Any] | None:
        """The first call split into its stages; "run_s" is the rest (dispatch, execution,
        Python). None when nothing was traced or compiled (plain Python, NumPy)."""
        if not any(self.seconds.values()):
            return None
        return {**self.seconds, "run_s": max(0.0, first_call_s - sum(self.seconds.values())),
                "compiles": self.compiles}


@contextmanager
def aside(recorder: Any) -> Iterator[None]:
    """The harness's own tracing and compiling (cost analysis, peak probes) is filed under
    the compile recorder's "timing" phase, so the Compiles tab shows only the run's own."""
    if recorder is None or not hasattr(recorder, "phase"):
        yield
        return
    before = recorder.phase
    recorder.phase = "timing"
    try:
        yield
    finally:
        recorder.phase = before


def _eager_work(fn: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The work eager mode does. It dispatches each op of the function on its own, and each
    op reads its operands from memory and writes its result there: the bytes are the sum,
    over the traced program's ops, of their operands' and results' sizes. (The unoptimised
    program's own byte count would also charge each Python scalar's broadcast to a full
    array, which no eager op materialises: a third more bytes for `x * 0.5 + x * x - 0.1`.)
    The flops and transcendentals are the unoptimised program's: a broadcast has none."""
    static_nums = tuple(i for i, a in enumerate(args) if _is_static(a))
    static_names = tuple(k for k, v in kwargs.items() if _is_static(v))
    traced = jax.jit(fn, static_argnums=static_nums, static_argnames=static_names).trace(*args, **kwargs)
    work = _work(jc.cost_dict(traced.lower()), "lowered (unfused, as eager mode runs it)")
    work["bytes"] = float(sum(_aval_bytes(v.aval) for eqn in traced.jaxpr.eqns
                              for v in (*eqn.invars, *eqn.outvars)))
    return work


def _aval_bytes(aval: Any) -> int:
    count = 1
    for d in getattr(aval, "shape", ()):
        count *= int(d)
    return count * int(getattr(getattr(aval, "dtype", None), "itemsize", 0) or 0)


def _flops_dtype(args: tuple, kwargs: dict) -> str:
    """Which peak applies: the 16-bit (tensor core / MXU) one if any input is 16-bit float."""
    for leaf in jax.tree_util.tree_leaves((args, kwargs)):
        name = str(getattr(leaf, "dtype", ""))
        if name in ("bfloat16", "float16"):
            return "bf16"
    return "f32"


def achieved(work: dict[str, Any] | None, median_s: float | None, peak: dict[str, Any] | None,
             flops_dtype: str = "f32", footprint_bytes: int | None = None) -> dict[str, Any] | None:
    """Work / median time, against the peak, and the roofline's attainable rate.

    `footprint_bytes` (the inputs, outputs and temporaries of one call): when it fits in
    the last-level cache the peak carries, the data never left the cache, so the bytes/s
    is a cache figure: `in_cache` is set and it is not divided by the DRAM peak. A fraction
    above PEAK_NOISE is listed in `over_peak` ("bytes", "flops"): the measured peak, not the
    function, is wrong there, and the report says so instead of printing the percentage.
    """
    if not work or not median_s:
        return None
    flops, nbytes = work.get("flops"), work.get("bytes")
    cache_bytes = ((peak or {}).get("cache") or {}).get("bytes")
    in_cache = None if not cache_bytes or footprint_bytes is None else footprint_bytes <= cache_bytes
    out: dict[str, Any] = {
        "flops_per_s": flops / median_s if flops is not None else None,
        "bytes_per_s": nbytes / median_s if nbytes is not None else None,
        "intensity": flops / nbytes if flops is not None and nbytes else None,
        "flops_dtype": flops_dtype, "footprint_bytes": footprint_bytes, "cache_bytes": cache_bytes,
        "in_cache": in_cache,
        "peak_flops_per_s": None, "peak_bytes_per_s": None,
        "flops_frac": None, "bytes_frac": None, "attainable_flops_per_s": None, "roof_frac": None,
        "over_peak": [], "peak_noise": PEAK_NOISE,
    }
    if peak:
        pf = (peak.get("flops_per_s") or {}).get(flops_dtype)
        pb = peak.get("bytes_per_s")
        out["peak_flops_per_s"], out["peak_bytes_per_s"] = pf, pb
        if pf and out["flops_per_s"] is not None:
            out["flops_frac"] = out["flops_per_s"] / pf
        if pb and out["bytes_per_s"] is not None and not in_cache:
            out["bytes_frac"] = out["bytes_per_s"] / pb
        if pf and pb and out["intensity"] is not None and not in_cache:
            # Roofline: a program of this intensity can go no faster than this.
            out["attainable_flops_per_s"] = min(pf, out["intensity"] * pb)
            if out["flops_per_s"]:
                out["roof_frac"] = out["flops_per_s"] / out["attainable_flops_per_s"]
        out["over_peak"] = [k for k in ("bytes", "flops") if (out[f"{k}_frac"] or 0.0) > PEAK_NOISE]
    return out


def _stats(samples: list[float]) -> dict[str, Any]:
    med = statistics.median(samples)
    if len(samples) >= 4:
        q1, _, q3 = statistics.quantiles(samples, n=4)
    else:
        q1, q3 = min(samples), max(samples)
    return {"median_s": med, "min_s": min(samples), "max_s": max(samples),
            "mean_s": statistics.fmean(samples),
            "stdev_s": statistics.stdev(samples) if len(samples) > 1 else 0.0,
            "q1_s": q1, "q3_s": q3, "iqr_s": q3 - q1, "n": len(samples), "samples_s": samples}


def _empty_record(label: str, group: str, jitted: bool, budget_s: float) -> Record:
    return {"label": label, "group": group, "size": None, "median_s": None, "min_s": None,
            "max_s": None, "mean_s": None, "stdev_s": None, "q1_s": None, "q3_s": None,
            "iqr_s": None, "n": 0, "samples_s": [], "first_call_s": None, "first_call_stages": None,
            "warmup_n": 0, "budget_s": budget_s, "jitted": jitted, "work": None, "work_error": None,
            "footprint_bytes": None, "achieved": None, "peak": None, "device": default_device_name(),
            "error": None}


def _error(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc).strip().splitlines()[0] if str(exc).strip() else ""}


def measure(label: str, fn: Callable[..., Any], *args: Any, fn_kwargs: dict[str, Any] | None = None,
            group: str = "", first_call: bool = True, budget_s: float = 0.5,
            min_samples: int = MIN_SAMPLES, max_samples: int = MAX_SAMPLES, analyse: bool = True,
            peak: dict[str, Any] | bool | None = True, clock: Clock = time.perf_counter,
            recorder: Any = None) -> Record:
    """Time `fn(*args, **fn_kwargs)`; returns a record whose times are in seconds.

    `first_call`: measure a clean first call (clears JAX's caches first). `analyse`: get
    the work from `cost_analysis()` and the achieved rates. `peak`: True for this device's
    peak (`peaks.device_peak`), a peak dict, or None/False for none. `clock` exists for
    tests: every duration goes through it. `recorder`: the run's compile recorder
    (`kernel/compiles.py`); the harness's own compiles are filed apart from the run's.
    """
    kwargs = dict(fn_kwargs or {})
    jitted = is_jitted(fn)
    rec = _empty_record(label, group, jitted, budget_s)
    samples: list[float] = []
    try:
        if first_call:
            jax.clear_caches()
            with StageTimes() as stage_times:
                t = clock()
                _call_blocking(fn, args, kwargs)
                rec["first_call_s"] = clock() - t
            rec["first_call_stages"] = stage_times.stages(rec["first_call_s"])
        probe, output_bytes = 0.0, 0
        for _ in range(WARMUP_CALLS):
            t = clock()
            output_bytes = _nbytes(_call_blocking(fn, args, kwargs))  # part of the footprint
            probe = clock() - t
        rec["warmup_n"] = WARMUP_CALLS
        floor = min_samples if probe * min_samples <= 4 * budget_s else min(min_samples, MIN_SAMPLES_SLOW)
        gc_was_on = gc.isenabled()
        gc.disable()  # a collection in the middle of a sample is noise, not the function's cost
        try:
            start = clock()
            while len(samples) < max_samples and (len(samples) < floor or clock() - start < budget_s):
                t = clock()
                _call_blocking(fn, args, kwargs)
                samples.append(clock() - t)
        finally:
            if gc_was_on:
                gc.enable()
    except Exception as exc:  # noqa: BLE001 - reported in the record, not raised
        rec["error"] = _error(exc)
        return rec
    rec.update(_stats(samples))
    if analyse:
        with aside(recorder):
            temp_bytes = 0
            try:
                if jitted:
                    rec["work"], temp_bytes = _aot_work(fn, args, kwargs)
                else:
                    rec["work"] = _eager_work(fn, args, kwargs)
            except Exception as exc:  # noqa: BLE001 - e.g. a function jit cannot trace: no cost, still a time
                rec["work_error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            if peak is True:
                from jaxtui.kernel.peaks import device_peak

                peak = device_peak()
        rec["peak"] = peak or None
        rec["footprint_bytes"] = _nbytes((args, kwargs)) + output_bytes + temp_bytes
        rec["achieved"] = achieved(rec["work"], rec["median_s"], rec["peak"], _flops_dtype(args, kwargs),
                                   rec["footprint_bytes"])
    return rec


def _aot_work(fn: Any, args: tuple, kwargs: dict) -> tuple[dict[str, Any], int]:
    """The compiled program's work, and its temporaries' bytes (part of its footprint)."""
    # After the samples the executable is normally in the cache: this compiles nothing.
    compiled = fn.trace(*args, **kwargs).lower().compile()
    return _work(jc.cost_dict(compiled), "compiled"), jc.memory_dict(compiled).get("temp_size_in_bytes", 0)


# -- sweeps --------------------------------------------------------------------------------

def _nbytes(tree: Any) -> int:
    total = 0
    for leaf in jax.tree_util.tree_leaves(tree):
        shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
        if shape is not None and dtype is not None:
            count = 1
            for d in shape:
                count *= int(d)
            total += count * dtype.itemsize
    return total


def free_memory_bytes(device: Any = None) -> int | None:
    """Memory free for new arrays on `device`: the allocator's limit on GPU/TPU, the
    system's available memory on CPU. None when it cannot be told."""
    device = device or jc.default_device()
    stats = None
    try:
        stats = device.memory_stats()
    except Exception:  # noqa: BLE001 - not every backend has memory stats
        stats = None
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def as_args(value: Any) -> tuple:
    """`make_args(size)` may return one argument or a tuple of them."""
    return value if isinstance(value, tuple) else (value,)


def estimate_memory(fn: Any, make_args: Callable[[int], Any], size: int) -> dict[str, Any]:
    """Bytes one call at `size` needs, from shapes alone (nothing is allocated):
    inputs and outputs by `jax.eval_shape`, plus XLA's temporaries for a jitted function.
    An eager function's intermediates are not counted, so for it this is a lower bound."""
    shapes = jax.eval_shape(lambda: as_args(make_args(size)))
    args_b = _nbytes(shapes)
    out_b = _nbytes(jax.eval_shape(fn, *shapes))
    temp_b = 0
    if is_jitted(fn):
        mem = fn.trace(*shapes).lower().compile().memory_analysis()
        temp_b = int(getattr(mem, "temp_size_in_bytes", 0) or 0)
    return {"args_bytes": args_b, "out_bytes": out_b, "temp_bytes": temp_b,
            "total_bytes": args_b + out_b + temp_b, "lower_bound": not is_jitted(fn)}


def sweep(group: str, fns: dict[str, Callable[..., Any]], sizes: Iterable[int],
          make_args: Callable[[int], Any], *, budget_s: float = 0.2, first_call: bool = False,
          on_record: Callable[[Record], None] | None = None, free_bytes: int | bool | None = True,
          analyse: bool = True, recorder: Any = None) -> list[Record]:
    """Time each of `fns` at each size; `make_args(size)` builds the arguments.

    Before a point runs, its memory is estimated from shapes; a point that would not fit
    gets a record with `error` (type "TooLarge") and the estimate, and is not run.
    `on_record` sees each record as soon as it exists (progress, live plots), so the points
    done so far survive an interrupt.
    """
    sizes = [int(s) for s in sizes]
    if free_bytes is True:
        free_bytes = free_memory_bytes()
    free = free_bytes if isinstance(free_bytes, int) and not isinstance(free_bytes, bool) else None
    total, done = len(sizes) * len(fns), 0
    records: list[Record] = []

    def emit(rec: Record, size: int) -> None:
        nonlocal done
        rec["size"] = size
        rec["sweep"] = {"index": done, "total": total}
        done += 1
        records.append(rec)
        if on_record is not None:
            on_record(rec)

    for size in sizes:
        args: tuple | None = None
        for name, fn in fns.items():
            try:
                # A jitted function's compile here is the one its calls then reuse: the run's own.
                with aside(None if is_jitted(fn) else recorder):
                    est = estimate_memory(fn, make_args, size)
            except Exception as exc:  # noqa: BLE001 - no estimate: run it and let it fail honestly
                est = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
            need = est.get("total_bytes")
            if free is not None and need is not None and need > MEMORY_HEADROOM * free:
                rec = _empty_record(name, group, is_jitted(fn), budget_s)
                at_least = "at least " if est.get("lower_bound") else "about "
                rec["error"] = {"type": "TooLarge", "message": (
                    f"size {size:,} needs {at_least}{format_bytes(need)} (inputs "
                    f"{format_bytes(est['args_bytes'])}, outputs {format_bytes(est['out_bytes'])}, "
                    f"temporaries {format_bytes(est['temp_bytes'])}) but {format_bytes(free)} is free: not run")}
                rec["memory_estimate"] = est
                emit(rec, size)
                continue
            try:
                if args is None:
                    args = as_args(make_args(size))
                    jax.block_until_ready(args)  # build the inputs before the clock starts
            except Exception as exc:  # noqa: BLE001
                rec = _empty_record(name, group, is_jitted(fn), budget_s)
                rec["error"] = _error(exc)
                emit(rec, size)
                continue
            rec = measure(name, fn, *args, group=group, first_call=first_call, budget_s=budget_s,
                          analyse=analyse, recorder=recorder)
            rec["memory_estimate"] = est
            emit(rec, size)
        del args
    return records


# -- text, for plain-script runs -------------------------------------------------------------

def format_record(rec: Record) -> str:
    size = f" @ {rec['size']:,}" if rec.get("size") is not None else ""
    if rec.get("error"):
        return f"{rec['label']}{size}: {rec['error']['type']}: {rec['error']['message']}"
    first = f"  first call {format_seconds(rec['first_call_s'])}" if rec.get("first_call_s") else ""
    return (f"{rec['label'] + size:<28} median {format_seconds(rec['median_s']):>9}  "
            f"min {format_seconds(rec['min_s']):>9}  n={rec['n']}{first}")
