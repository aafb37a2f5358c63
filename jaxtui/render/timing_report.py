"""Timing records (from `jaxtui/kernel/timing.py`) as charts, tables and files.

One place decides what a pane's timings look like, for the app's Timing tab and for
`jaxtui run` alike: per group of variants, bars (first call vs cached, and the cached
calls side by side); per sweep, time and throughput against size on log-log axes; for every
timed function, the achieved rate next to the device's peak, and a roofline. Exports are
CSV (one row per record) and JSON (everything, every sample).

Imports neither jax nor textual.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from jaxtui.render.textplot import Chart, render_text
from jaxtui.render.units import format_value

Record = dict[str, Any]
MAX_ROOFLINE_SERIES = 7  # more markers than this are unreadable in a terminal
NO_GROUP = "timings"


def has_time(rec: Record) -> bool:
    return not rec.get("error") and rec.get("median_s") is not None


def grouped(timings: Iterable[Record]) -> dict[str, list[Record]]:
    """Records by group, groups in the order the demo first timed them."""
    out: dict[str, list[Record]] = {}
    for rec in timings:
        out.setdefault(rec.get("group") or NO_GROUP, []).append(rec)
    return out


def _by_label(recs: list[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for rec in recs:
        out.setdefault(rec["label"], []).append(rec)
    return out


def _peak_of(timings: Iterable[Record]) -> Record | None:
    return next((r["peak"] for r in timings if r.get("peak")), None)


def in_cache(rec: Record) -> bool:
    """The timed function's data fit in the last-level cache (`kernel/timing.achieved`)."""
    return bool((rec.get("achieved") or {}).get("in_cache"))


def over_peak(rec: Record) -> list[str]:
    """"bytes" and/or "flops" where the achieved rate beat the peak by more than noise."""
    return list((rec.get("achieved") or {}).get("over_peak") or [])


# -- charts ----------------------------------------------------------------------------------

def bar_charts(group: str, recs: list[Record]) -> list[Chart]:
    ok = [r for r in recs if has_time(r) and r.get("size") is None]
    if not ok:
        return []
    charts: list[Chart] = []
    firsts = any(r.get("first_call_s") for r in ok)
    if firsts:
        charts.append({"kind": "bars", "title": f"{group}: first call vs cached", "unit": "s",
                       "labels": [r["label"] for r in ok], "legend": ["first call", "cached (median)"],
                       "values": [[r.get("first_call_s") or 0.0, r["median_s"]] for r in ok]})
    if len(ok) > 1 or not firsts:
        charts.append({"kind": "bars", "title": f"{group}: cached calls, median", "unit": "s",
                       "labels": [r["label"] for r in ok], "values": [[r["median_s"]] for r in ok]})
    return charts


def sweep_charts(group: str, recs: list[Record]) -> list[Chart]:
    sized = [r for r in recs if has_time(r) and r.get("size") is not None]
    if not sized:
        return []
    series = [{"name": label, "x": [r["size"] for r in rs], "y": [r["median_s"] for r in rs]}
              for label, rs in _by_label(sized).items()]
    charts: list[Chart] = [{"kind": "lines", "title": f"{group}: time per call vs size (log-log)",
                            "xlabel": "size", "ylabel": "", "logx": True, "logy": True,
                            "xunit": "count", "yunit": "s", "series": series}]
    with_bytes = all((r.get("achieved") or {}).get("bytes_per_s") for r in sized)
    if with_bytes:
        through = [{"name": label, "x": [r["size"] for r in rs],
                    "y": [r["achieved"]["bytes_per_s"] for r in rs]} for label, rs in _by_label(sized).items()]
        peak = _peak_of(sized)
        # The DRAM peak is drawn only across the sizes whose data left the cache: below
        # them the rates are cache figures, which the DRAM peak does not bound.
        xs = [r["size"] for r in sized if not in_cache(r)]
        if peak and peak.get("bytes_per_s") and xs:
            name = "DRAM peak" if peak.get("cache") else "peak"
            through.append({"name": f"{name} ({peak.get('source')})", "x": [min(xs), max(xs)],
                            "y": [peak["bytes_per_s"]] * 2})
        charts.append({"kind": "lines", "title": f"{group}: memory throughput vs size (log-log)",
                       "xlabel": "size", "ylabel": "", "logx": True, "logy": True, "xunit": "count",
                       "yunit": "B/s", "series": through})
    else:
        through = [{"name": label, "x": [r["size"] for r in rs], "y": [r["size"] / r["median_s"] for r in rs]}
                   for label, rs in _by_label(sized).items()]
        charts.append({"kind": "lines", "title": f"{group}: elements per second vs size (log-log)",
                       "xlabel": "size", "ylabel": "", "logx": True, "logy": True, "xunit": "count",
                       "yunit": "count", "series": through})
    return charts


def roofline_chart(timings: Iterable[Record]) -> Chart | None:
    """Achieved flop/s against arithmetic intensity, under the device's roof
    (min(peak flop/s, intensity x peak bandwidth)). Functions whose data stayed in the
    cache are left out: the roof's slope is the DRAM bandwidth, which does not bound them."""
    placed = [r for r in timings if has_time(r) and (r.get("achieved") or {}).get("intensity")
              and (r.get("achieved") or {}).get("flops_per_s") and not in_cache(r)]
    if not placed:
        return None
    by_label = _by_label(placed)
    series: list[dict[str, Any]] = []
    xs = [r["achieved"]["intensity"] for r in placed]
    peak = _peak_of(placed)
    pf = placed[0]["achieved"].get("peak_flops_per_s")
    pb = placed[0]["achieved"].get("peak_bytes_per_s")
    if pf and pb:
        ridge = pf / pb
        lo, hi = min(min(xs), ridge) / 4, max(max(xs), ridge) * 4
        series.append({"name": f"roof ({(peak or {}).get('source', '?')})", "x": [lo, ridge, hi],
                       "y": [lo * pb, pf, pf]})
    for label, rs in list(by_label.items())[:MAX_ROOFLINE_SERIES]:
        series.append({"name": label, "style": "points", "x": [r["achieved"]["intensity"] for r in rs],
                       "y": [r["achieved"]["flops_per_s"] for r in rs]})
    return {"kind": "lines", "title": "roofline: achieved flop/s vs arithmetic intensity (log-log)",
            "xlabel": "flop per byte", "ylabel": "", "logx": True, "logy": True, "xunit": "",
            "yunit": "flop/s", "series": series}


def timing_charts(timings: list[Record]) -> list[Chart]:
    """Every chart for a pane's timings, in reading order."""
    charts: list[Chart] = []
    for group, recs in grouped(timings).items():
        charts += bar_charts(group, recs) + sweep_charts(group, recs)
    roof = roofline_chart(timings)
    if roof is not None:
        charts.append(roof)
    return charts


# -- tables ----------------------------------------------------------------------------------

def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _label_columns(timings: list[Record]) -> tuple[int, bool, str]:
    """A table's label width, whether it has a size column, and that column's heading."""
    sized = any(t.get("size") is not None for t in timings)
    return min(26, max(len(t["label"]) for t in timings)), sized, f"  {'size':>7}" if sized else ""


def timings_table(timings: list[Record]) -> str:
    """Median, minimum, spread (interquartile range), sample count, first call; by group."""
    if not timings:
        return ""
    width, sized, size_head = _label_columns(timings)
    rows = [f"{'':<{width}}{size_head}  {'median':>9}  {'min':>9}  {'spread':>9}  {'n':>5}  {'first call':>10}"]
    groups = grouped(timings)
    for group, recs in groups.items():
        if len(groups) > 1 or group != NO_GROUP:
            rows.append(f"── {group}")
        for t in recs:
            size = f"  {format_value(t['size'], 'count'):>7}" if sized and t.get("size") is not None else (
                f"  {'':>7}" if sized else "")
            label = _cut(t["label"], width)
            if t.get("error"):
                rows.append(f"{label:<{width}}{size}  ✗ {t['error']['type']}: {t['error']['message']}")
                continue
            rows.append(f"{label:<{width}}{size}  {format_value(t['median_s'], 's'):>9}  "
                        f"{format_value(t['min_s'], 's'):>9}  {format_value(t.get('iqr_s'), 's'):>9}  "
                        f"{t['n']:>5}  {format_value(t.get('first_call_s'), 's'):>10}")
    return "\n".join(rows)


STAGES_HEADING = ("First call, stage by stage: JAX's own trace, lower and compile times during the "
                  "clean first call (an eager function compiles each of its ops); run = the rest.")


def stages_table(timings: list[Record]) -> str:
    """Each first call split into trace, lower, compile (with the number of compiles) and run."""
    staged = [t for t in timings if t.get("first_call_stages") and has_time(t)]
    if not staged:
        return ""
    width = min(26, max(len(t["label"]) for t in staged))
    rows = [f"{'':<{width}}  {'trace':>9}  {'lower':>9}  {'compile':>9}  {'run':>9}  {'first call':>10}"
            f"  {'compiles':>8}"]
    for t in staged:
        st = t["first_call_stages"]
        rows.append(f"{_cut(t['label'], width):<{width}}  {format_value(st.get('trace_s'), 's'):>9}  "
                    f"{format_value(st.get('lower_s'), 's'):>9}  {format_value(st.get('compile_s'), 's'):>9}  "
                    f"{format_value(st.get('run_s'), 's'):>9}  {format_value(t.get('first_call_s'), 's'):>10}"
                    f"  {st.get('compiles', 0):>8}")
    return "\n".join(rows)


def peak_line(peak: Record | None) -> str:
    if not peak:
        return "No peak known for this device."
    flops = peak.get("flops_per_s") or {}
    parts = []
    if peak.get("bytes_per_s"):
        parts.append(f"memory {format_value(peak['bytes_per_s'], 'B/s')}")
    if flops.get("f32"):
        parts.append(f"float32 {format_value(flops['f32'], 'flop/s')}")
    if flops.get("bf16") and flops.get("bf16") != flops.get("f32"):
        parts.append(f"16-bit {format_value(flops['bf16'], 'flop/s')}")
    source = {"measured": "measured", "nominal": "nominal"}.get(peak.get("source", ""), "unknown")
    rates = ", ".join(parts) if parts else "no figures"
    return f"Peak of {peak.get('name') or peak.get('device_kind')} ({source}): {rates}. {peak.get('note', '')}".rstrip()


def _pct(frac: float | None) -> str:
    if frac is None:
        return "-"
    if frac < 1e-4:
        return "<0.01%"
    return f"{frac * 100:.2g}%" if frac < 0.1 else f"{frac * 100:.0f}%"


def _of_peak(rec: Record, kind: str) -> str:
    """The "of peak" cell: a percentage, "in cache" (bytes/s of data that never left the
    cache: no DRAM figure applies) or "peak low" (beyond noise: the peak is wrong)."""
    a = rec.get("achieved") or {}
    if kind in over_peak(rec):
        return "peak low"
    if kind == "bytes" and in_cache(rec):
        return "in cache"
    return _pct(a.get(f"{kind}_frac"))


def _bound(rec: Record) -> str:
    a = rec.get("achieved") or {}
    if (rec.get("work") or {}).get("transcendentals"):
        return "unclear"  # flop/B leaves out sin, exp...: see the note
    if a.get("intensity") is not None and a.get("peak_flops_per_s") and a.get("peak_bytes_per_s"):
        return "memory" if a["intensity"] < a["peak_flops_per_s"] / a["peak_bytes_per_s"] else "compute"
    return "-"


def limits_table(timings: list[Record]) -> str:
    """Achieved flop/s and bytes/s (work from cost_analysis / median) against the peak."""
    rated = [t for t in timings if has_time(t)]
    if not rated:
        return ""
    width, sized, size_head = _label_columns(rated)
    rows = [f"{'':<{width}}{size_head}  {'flop/B':>6}  {'bytes/s':>11}  {'of peak':>8}  "
            f"{'flop/s':>13}  {'of peak':>8}  {'bound by':>8}  work from"]
    for t in rated:
        a = t.get("achieved") or {}
        size = f"  {format_value(t.get('size'), 'count') if t.get('size') is not None else '':>7}" if sized else ""
        work = t.get("work") or {}
        source = "compiled" if work.get("source") == "compiled" else ("unfused" if work else "n/a")
        if not a:
            why = t.get("work_error") or "no cost analysis"
            rows.append(f"{_cut(t['label'], width):<{width}}{size}  n/a: {why}")
            continue
        rows.append(f"{_cut(t['label'], width):<{width}}{size}  {format_value(a.get('intensity'), ''):>6}  "
                    f"{format_value(a.get('bytes_per_s'), 'B/s'):>11}  {_of_peak(t, 'bytes'):>8}  "
                    f"{format_value(a.get('flops_per_s'), 'flop/s'):>13}  {_of_peak(t, 'flops'):>8}  "
                    f"{_bound(t):>8}  {source}")
    return "\n".join(rows)


def limits_notes(timings: list[Record]) -> str:
    """How to read the limits table: where the work comes from, what "in cache" and "peak
    low" mean, and why a function with transcendentals is not placed."""
    rated = [t for t in timings if has_time(t) and t.get("achieved")]
    if not rated:
        return ""
    notes = ["work from: 'compiled' = XLA's cost analysis of the jitted (fused) program; "
             "'unfused' = the same function lowered op by op, as eager mode runs it (more bytes "
             "moved: nothing is fused). bound by: below the ridge (peak flop/s / peak bytes/s) "
             "memory bandwidth limits a program, above it arithmetic does."]
    if any((t.get("work") or {}).get("transcendentals") for t in rated):
        notes.append("flop/s leaves out transcendentals (sin, exp, log...), which cost many "
                     "flops each: flop/B understates such a function's intensity, so its bound "
                     "is 'unclear' here. Time it against a twin without them (the jit lesson does).")
    cached = [t for t in rated if in_cache(t)]
    if cached:
        a = cached[0]["achieved"]
        notes.append(f"in cache: the data of one call (inputs, outputs, temporaries: "
                     f"{_mib(a.get('footprint_bytes'))} for {cached[0]['label']!r}) fits in "
                     f"the {_mib(a.get('cache_bytes'))} last-level cache, so it never "
                     "went to memory: its bytes/s is a cache figure and is not set against the "
                     "DRAM peak (nor drawn under the roofline). Arrays larger than the cache "
                     "measure memory.")
    for t in rated:
        for kind in over_peak(t):
            a = t["achieved"]
            unit = "B/s" if kind == "bytes" else "flop/s"
            notes.append(f"peak low: {t['label']!r}{_at_size(t)} achieved "
                         f"{format_value(a[f'{kind}_per_s'], unit)}, {a[f'{kind}_frac']:.1f}x the "
                         f"measured peak, more than noise ({a.get('peak_noise', 1.3):g}x): the "
                         "measured peak is too low (it is measured once per kernel; a busy "
                         "machine during the probe lowers it: restart the kernel to measure again).")
    return "\n".join(notes)


def _mib(n: float | None) -> str:
    return "-" if n is None else f"{n / (1 << 20):.3g} MiB"  # as lscpu and sysfs give cache sizes


def _at_size(t: Record) -> str:
    return f" at size {t['size']:,}" if t.get("size") is not None else ""


# -- the whole section, as text ----------------------------------------------------------------

def timing_text(timings: list[Record], width: int = 80, charts: bool = True) -> str:
    """What `jaxtui run` prints for a demo's timings: tables, then the charts."""
    if not timings:
        return ""
    parts = ["Timings (median of repeated runs after warm-up, each ended by block_until_ready;"
             " spread = interquartile range):\n" + timings_table(timings)]
    stages = stages_table(timings)
    if stages:
        parts.append(STAGES_HEADING + "\n" + stages)
    limits = limits_table(timings)
    if limits:
        parts.append("Against the device's limit. " + peak_line(_peak_of(timings)) + "\n" + limits)
        parts.append(limits_notes(timings))
    if charts:
        for chart in timing_charts(timings):
            parts.append(render_text(chart, width=width, height=16))
    return "\n\n".join(parts)


# -- files -------------------------------------------------------------------------------------

CSV_COLUMNS = ("group", "label", "size", "median_s", "min_s", "max_s", "mean_s", "iqr_s", "n",
               "first_call_s", "trace_s", "lower_s", "compile_s", "run_s", "flops", "bytes",
               "work_source", "flops_per_s", "bytes_per_s", "intensity", "peak_flops_per_s",
               "peak_bytes_per_s", "peak_source", "device", "error", "footprint_bytes", "in_cache")


def to_csv(timings: list[Record]) -> str:
    """One row per record; the samples themselves are in the JSON."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for t in timings:
        st, work, a, peak = (t.get("first_call_stages") or {}, t.get("work") or {}, t.get("achieved") or {},
                             t.get("peak") or {})
        err = t.get("error")
        writer.writerow({
            "group": t.get("group", ""), "label": t["label"], "size": t.get("size"),
            **{k: t.get(k) for k in ("median_s", "min_s", "max_s", "mean_s", "iqr_s", "n", "first_call_s")},
            **{k: st.get(k) for k in ("trace_s", "lower_s", "compile_s", "run_s")},
            "flops": work.get("flops"), "bytes": work.get("bytes"), "work_source": work.get("source"),
            **{k: a.get(k) for k in ("flops_per_s", "bytes_per_s", "intensity", "peak_flops_per_s",
                                     "peak_bytes_per_s")},
            "peak_source": peak.get("source"), "device": t.get("device", ""),
            "error": f"{err['type']}: {err['message']}" if err else "",
            "footprint_bytes": t.get("footprint_bytes"), "in_cache": a.get("in_cache"),
        })
    return buf.getvalue()


def to_json(timings: list[Record], **meta: Any) -> str:
    return json.dumps({**meta, "timings": timings}, indent=1, default=str) + "\n"
