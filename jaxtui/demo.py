"""The demo authoring API.

A demo is a plain Python file. It imports this module and calls:

    n = demo.input("n", 1000, "array size", min=1)      # an editable knob (form field in the app)
    demo.show(value, "label")                             # display a value (shape, dtype, summary)
    demo.inspect(f, x, y)                                 # mark a function for jaxpr/HLO/cost views
    demo.time("jit cached", f, x, y)                      # the one timing harness
    demo.sweep("x * y", {"jit": jf}, [1e3, 1e6], make_args) # time vs size, log-log
    demo.correction("notes say ...", "JAX does ...", actual=value)
    demo.plot("loss", steps, losses)                      # a line drawn in the app, text as a script
    demo.sharding(arr, "x")                               # which device holds which piece of arr

Inside the jaxtui kernel these calls record into the current `Session`, which the kernel
turns into the structured run result. Run as a plain script (`python demos/jit.py`) there is
no session: inputs take their defaults and everything is printed.

This module imports neither jax nor textual at import time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jaxtui.inputs import InputError, InputSpec, parse_value
from jaxtui.protocol import EV_PLOT, EV_PROGRESS, EV_TIMING

__all__ = ["input", "show", "inspect", "tpu_available", "time", "sweep", "correction", "plot", "progress", "sharding",
           "Session", "running_in_app"]


@dataclass
class InspectTarget:
    name: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    static_argnums: tuple[int, ...]
    line: int
    # A TPU target (jaxtui/kernel/target.py): PartitionSpecs for the arguments over a mesh of
    # the target's chips (axes: {name: size}, or the slice's own x, y, z), and the target
    # this function is compiled for besides the run's `--target` ("tpu-v5e:2x2").
    shardings: Any = None
    mesh: dict[str, int] | None = None
    target: str | None = None


@dataclass
class Session:
    """What one run of a demo records. Created by the kernel; `None` when run as a script."""

    inputs: dict[str, Any] = field(default_factory=dict)  # overrides typed in the form
    mode: str = "run"  # "run", or "inspect" (live introspection: no timing, no sweeps)
    filename: str = ""
    emit: Callable[[str, dict[str, Any]], None] | None = None  # progress events to the UI
    specs: dict[str, InputSpec] = field(default_factory=dict)
    used_inputs: dict[str, Any] = field(default_factory=dict)
    values: list[dict[str, Any]] = field(default_factory=list)
    targets: list[InspectTarget] = field(default_factory=list)
    timings: list[dict[str, Any]] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)
    plots: dict[str, dict[str, Any]] = field(default_factory=dict)
    recorder: Any = None  # the run's compile recorder: the timing harness files its own compiles apart
    printed: Callable[[], int] = lambda: 0  # characters printed so far in this run (stdout + stderr)


_session: Session | None = None


def running_in_app() -> bool:
    """True inside the jaxtui kernel, False when the demo runs as a plain script."""
    return _session is not None


def _caller_line() -> int:
    # The line in the demo that called the API function (two frames up).
    frame = sys._getframe(2)
    return frame.f_lineno


# `demo.input(name, default, help, min=, max=)` reads like the form it makes: the names
# shadow builtins on purpose, inside this module only.
def input(name: str, default: Any, help: str = "", *, min: float | None = None,  # noqa: A001, A002
          max: float | None = None, choices: list[Any] | None = None) -> Any:  # noqa: A002
    """Declare an editable input and return its current value.

    The app shows it as a form field above the code; a value typed there replaces `default`
    for the next run without touching the code. Use literals for every argument: the app
    reads the declaration from the source without running it.
    """
    spec = InputSpec(name=name, default=default, help=help, min=min, max=max, choices=choices)
    value = default
    if _session is not None:
        _session.specs[name] = spec
        if name in _session.inputs:
            try:
                value = parse_value(spec, _session.inputs[name])
            except InputError as exc:
                raise InputError(f"input {name!r}: {exc}") from None
        _session.used_inputs[name] = value
    return value


def show(value: Any, label: str | None = None) -> Any:
    """Display a value: arrays with shape, dtype and a summary; pytrees as trees."""
    from jaxtui.kernel.display import summarize

    _show_record(summarize(value, label=label))
    return value


def _show_record(record: dict[str, Any]) -> None:
    """A value for the Output: kept by the kernel's session, or printed in a plain script."""
    if _session is not None:
        # Where it goes among the printed text: the Output shows values in code order.
        record["at"] = _session.printed()
        _session.values.append(record)
    else:
        print(record["text"])


def sharding(value: Any, label: str | None = None) -> Any:
    """Draw which device holds which piece of a 1-D or 2-D array.

    The text of `jax.debug.visualize_array_sharding`, recorded as a value (type "sharding").
    """
    from jaxtui.kernel.display import sharding_record

    _show_record(sharding_record(value, label=label))
    return value


def inspect(fn: Callable[..., Any], *args: Any, name: str | None = None,
            static_argnums: tuple[int, ...] | int = (), shardings: Any = None,
            mesh: dict[str, int] | None = None, target: str | None = None,
            **kwargs: Any) -> Callable[..., Any]:
    """Mark `fn` for the Jaxpr, StableHLO, HLO, Cost and Compiles views, with example args.

    With a TPU target (`jaxtui --target tpu-v5e:2x2`, or `target=` here) `fn` is also
    compiled for it from the arguments' shapes and dtypes: `shardings` gives each argument
    a PartitionSpec (or None: whole on one chip) over a mesh of the target's chips, whose
    axes are `mesh` ({"data": 4}) or the slice's own (x, y, z). The code still runs here.
    """
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    label = name or getattr(fn, "__name__", None) or repr(fn)
    marked = InspectTarget(label, fn, args, kwargs, tuple(static_argnums), _caller_line(),
                           shardings=shardings, mesh=mesh, target=target)
    if _session is not None:
        _session.targets.append(marked)
    return fn


def tpu_available() -> bool:
    """Whether libtpu is installed, so marked functions can be compiled for a TPU target
    (`pip install "jaxtui[tpu]"`, Linux x86_64)."""
    try:
        import libtpu  # type: ignore[import-untyped]  # noqa: F401 - a small module: the .so loads later
    except ImportError:
        return False
    return True


def time(label: str, fn: Callable[..., Any], *args: Any, group: str = "", first_call: bool = True,
         budget_s: float = 0.5, **kwargs: Any) -> dict[str, Any] | None:
    """Time `fn(*args, **kwargs)` with the one harness (jaxtui/kernel/timing.py): a clean
    first call, warm-up, block_until_ready on the whole output, repeats filling `budget_s`,
    median/min/spread, and the achieved flop/s and bytes/s against the device's peak.

    Returns the timing record (seconds). Returns None in live-inspect mode, where timing is
    skipped, and when `fn` raised: the error is recorded (the Timing tab shows it) instead
    of a time.
    """
    if _session is not None and _session.mode == "inspect":
        return None
    from jaxtui.kernel.timing import measure

    record = measure(label, fn, *args, fn_kwargs=kwargs, group=group, first_call=first_call,
                     budget_s=budget_s, recorder=_session.recorder if _session is not None else None)
    _record_timing(record)
    return None if record["error"] else record


def sweep(label: str, fns: Callable[..., Any] | dict[str, Callable[..., Any]], sizes: Any,
          make_args: Callable[[int], Any], *, budget_s: float = 0.2,
          first_call: bool = False) -> list[dict[str, Any]]:
    """Time `fns` (one function, or {variant name: function}) at each size in `sizes`.

    `make_args(size)` returns the argument (or a tuple of arguments) for one size; build
    them with jnp so the memory check can read their shapes without allocating. A size
    whose estimate does not fit in free memory is refused, with the estimate, before it
    runs. Progress shows while it runs; an interrupt keeps the points already timed. The
    Timing tab plots time and throughput against size on log-log axes (group = `label`).
    Returns the records that have a time.
    """
    if _session is not None and _session.mode == "inspect":
        return []
    from jaxtui.kernel.timing import sweep as run_sweep

    sizes = [int(s) for s in sizes]
    variants = fns if isinstance(fns, dict) else {getattr(fns, "__name__", None) or label: fns}
    total = len(sizes) * len(variants)

    def on_record(record: dict[str, Any]) -> None:
        _record_timing(record)
        progress(f"sweep {label}", record["sweep"]["index"] + 1, total)

    records = run_sweep(label, variants, sizes, make_args, budget_s=budget_s,
                        first_call=first_call, on_record=on_record,
                        recorder=_session.recorder if _session is not None else None)
    return [r for r in records if not r["error"]]


def _record_timing(record: dict[str, Any]) -> None:
    """Keep a timing record in the session and send it to the UI now (a sweep's points
    reach the Timing tab as they come, and survive an interrupt); print it as a script."""
    from jaxtui.kernel.timing import format_record

    if _session is not None:
        _session.timings.append(record)
        if _session.emit is not None:
            _session.emit(EV_TIMING, record)
        if record["error"]:  # also said in the Output tab, where the reader is looking
            print(f"timing failed: {format_record(record)}", file=sys.stderr)
    else:
        print(format_record(record), file=sys.stderr if record["error"] else sys.stdout)


def correction(notes: str, jax: str, actual: Any = None) -> None:
    """Pin one place where the source notes are wrong: what they say, what JAX really does.

    `actual` is the value or error the demo just measured, shown beside the claim.
    """
    entry = {"notes": notes, "jax": jax, "line": _caller_line(),
             "actual": None if actual is None else _short_repr(actual)}
    if _session is not None:
        _session.corrections.append(entry)
    tail = f"  (measured: {entry['actual']})" if entry["actual"] is not None else ""
    print(f"  ✗ the notes say: {notes}\n  ✓ JAX does:      {jax}{tail}")


def plot(name: str, xs: Any, ys: Any, *, title: str = "", xlabel: str = "", ylabel: str = "",
         logx: bool = False, logy: bool = False) -> None:
    """Record a line series (replacing any earlier one of that name) for the app to draw."""
    xs = [float(x) for x in xs]
    ys = [float(y) for y in ys]
    series = {"name": name, "x": xs, "y": ys, "title": title or name, "xlabel": xlabel,
              "ylabel": ylabel, "logx": logx, "logy": logy}
    if _session is not None:
        _session.plots[name] = series
        if _session.emit is not None:
            _session.emit(EV_PLOT, series)
    elif ys:
        print(f"[{series['title']}] {len(ys)} points, last {ys[-1]:.6g}")


def progress(label: str, done: int, total: int) -> None:
    """Report progress of a long step (a sweep, a training loop)."""
    if _session is not None and _session.emit is not None:
        _session.emit(EV_PROGRESS, {"label": label, "done": done, "total": total})


def _short_repr(value: Any, limit: int = 200) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, BaseException):
        text = f"{type(value).__name__}: {value}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
