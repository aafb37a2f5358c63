"""Numbers with units, for humans: the one place that decides how a duration, a size, a rate
and a count print, so the same value reads the same in the app, `jaxtui run`, `jaxtui doctor`
and a demo run as a plain script.

- Three significant digits, never an exponent: 1.23 ms, 61 MiB, 198 GFLOP/s, 1M.
- Sizes in bytes use binary units (KiB = 1024 B), as JAX's `memory_stats()`, XLA's
  `memory_analysis()` and the OS count memory: a 64 MiB buffer prints "64 MiB", not "67.1 MB".
- Rates (bytes/s, FLOP/s) and counts use decimal prefixes (k, M, G, T, P): bandwidth and
  compute peaks are published in decimal units (an H100's 3.35 TB/s), and a measured rate is
  read against them.
- A missing value (None, NaN) prints "-".

Standard library only: the kernel (a plain-script run's timing lines), the UI and the CLI all
import it.
"""

from __future__ import annotations

import math

MISSING = "-"
TIME_UNITS = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
BINARY_UNITS = (("PiB", 2.0**50), ("TiB", 2.0**40), ("GiB", 2.0**30), ("MiB", 2.0**20), ("KiB", 2.0**10),
                ("B", 1.0))
SI_PREFIXES = (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0))
# A value that rounds up to the next unit is shown in it: 999.7 ms is "1 s", not "1e+03 ms".
_ROUNDS_UP = 0.9995


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _digits(x: float) -> str:
    """Three significant digits without an exponent (the largest unit can exceed 999)."""
    return f"{x:.3g}" if abs(x) < 999.5 else f"{x:.0f}"


def scale_for(value: float, units: tuple[tuple[str, float], ...]) -> tuple[str, float]:
    """The largest (name, scale) of `units` (largest first) that `value` reaches; the smallest
    unit for values below it, and for zero the one whose scale is 1."""
    if value == 0:
        return next((u for u in units if u[1] == 1.0), units[-1])
    for name, scale in units:
        if abs(value) >= scale * _ROUNDS_UP:
            return name, scale
    return units[-1]


def _scaled(value: float, units: tuple[tuple[str, float], ...], suffix: str = "", sep: str = " ") -> str:
    name, scale = scale_for(value, units)
    return f"{_digits(value / scale)}{sep}{name}{suffix}"


def format_seconds(s: float | None) -> str:
    """0.00123 -> "1.23 ms"."""
    return MISSING if s is None or _missing(s) else _scaled(s, TIME_UNITS)


def format_bytes(n: float | None) -> str:
    """A size in binary units: 4_000_000 -> "3.81 MiB"; whole bytes below 1 KiB ("512 B")."""
    if n is None or _missing(n):
        return MISSING
    if abs(n) < 1024 * _ROUNDS_UP:
        return f"{n:.0f} B"
    return _scaled(n, BINARY_UNITS)


def format_rate(x: float | None, unit: str) -> str:
    """A rate (or any amount) with a decimal prefix: (6.5e9, "B/s") -> "6.5 GB/s",
    (1.98e11, "FLOP/s") -> "198 GFLOP/s"."""
    return MISSING if x is None or _missing(x) else _scaled(x, SI_PREFIXES, unit)


def format_count(x: float | None) -> str:
    """A count, prefix glued on as for sizes of a sweep: 1000 -> "1k", 1_000_000 -> "1M"."""
    return MISSING if x is None or _missing(x) else _scaled(x, SI_PREFIXES, sep="")


def format_value(value: float | None, unit: str = "") -> str:
    """A chart's value in its unit ("s", "B", "B/s", "flop/s", "count", or none): the axis
    ticks and tables of `jaxtui.render` call this with the unit a chart declares."""
    if value is None or _missing(value):
        return MISSING
    if unit == "s":
        return format_seconds(value)
    if unit == "B":
        return format_bytes(value)
    if unit == "count" or (unit == "" and abs(value) >= 1e3):
        return format_count(value)
    if unit == "":
        return _digits(value)
    return format_rate(value, {"flop/s": "FLOP/s"}.get(unit, unit))
