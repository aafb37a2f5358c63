"""The CPU peak is a memory bandwidth, not a page-fault rate, and no timing is set against
a peak it cannot be compared with (issue 15, item 2).

No test asserts a speed. The probe's mechanics are checked (the cache size it reads, the
working set it picks, the buffer it reuses: no page faults per call), and the report's
wording is checked on records whose figures are given.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
from pathlib import Path

import pytest

from jaxtui.render import timing_report as report

MIB = 1 << 20


def _fake_cache(root: Path, cpu: int, index: int, level: int, kind: str, size: str, shared: str) -> None:
    d = root / f"cpu{cpu}" / "cache" / f"index{index}"
    d.mkdir(parents=True)
    for name, text in (("level", str(level)), ("type", kind), ("size", size), ("shared_cpu_list", shared)):
        (d / name).write_text(text + "\n")


def test_last_level_cache_is_read_from_sysfs_and_summed_over_its_instances(tmp_path):
    from jaxtui.kernel import peaks

    # two CCXs of two cores: each has its own 32 MiB L3; L1i is not a data cache
    for cpu in range(4):
        _fake_cache(tmp_path, cpu, 0, 1, "Data", "32K", str(cpu))
        _fake_cache(tmp_path, cpu, 1, 1, "Instruction", "32K", str(cpu))
        _fake_cache(tmp_path, cpu, 2, 2, "Unified", "1024K", str(cpu))
        _fake_cache(tmp_path, cpu, 3, 3, "Unified", "32768K", "0-1" if cpu < 2 else "2-3")
    llc = peaks.last_level_cache(tmp_path)
    assert llc == {"level": 3, "bytes": 64 * MIB, "instances": 2, "source": str(tmp_path)}
    assert peaks.last_level_cache(tmp_path / "nothing") is None


@pytest.mark.skipif(not Path("/sys/devices/system/cpu/cpu0/cache").exists() or not shutil.which("lscpu"),
                    reason="no sysfs cache information here")
def test_the_cache_size_read_is_the_one_lscpu_reports():
    from jaxtui.kernel import peaks

    llc = peaks.last_level_cache()
    out = subprocess.run(["lscpu", "-B", "-C=LEVEL,ALL-SIZE,TYPE"], capture_output=True, text=True, check=False).stdout
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    top = max(int(r[0]) for r in rows)
    assert llc["level"] == top
    assert llc["bytes"] == sum(int(r[1]) for r in rows if int(r[0]) == top)


def test_the_probe_working_set_exceeds_the_cache_within_the_memory_there_is():
    from jaxtui.kernel import peaks

    l3 = {"level": 3, "bytes": 480 * MIB}
    per_array = peaks.stream_array_bytes(l3, available=64 << 30)
    assert per_array == 960 * MIB and 3 * per_array > l3["bytes"]  # CACHE_MULTIPLE x the L3
    assert peaks.stream_array_bytes({"level": 3, "bytes": 8 * MIB}, 64 << 30) == peaks.MIN_ARRAY_BYTES
    assert peaks.stream_array_bytes(None, 64 << 30) == peaks.MIN_ARRAY_BYTES  # cache size unknown
    # little memory: the three arrays together stay within a quarter of what is available
    assert 3 * peaks.stream_array_bytes(l3, available=2 << 30) <= (2 << 30) // 4
    assert 3 * peaks.stream_array_bytes({"level": 3, "bytes": 4 << 30}, 1 << 40) <= peaks.MAX_PROBE_BYTES


def test_the_bandwidth_probe_writes_into_a_reused_buffer_without_page_faults():
    """A fresh 64 MiB output per call faults in 16,384 pages each time; the probe's donated
    buffer is written in place, so its timed calls fault (almost) never."""
    import jax
    import jax.numpy as jnp

    from jaxtui.kernel import peaks

    elements = 16 * MIB // 4
    pages = 16 * MIB // resource.getpagesize()
    b, c = jnp.ones(elements), jnp.full(elements, 2.0)
    rate, dst = peaks._stream_rate(peaks._peak_probe_triad, jnp.zeros(elements), b, c)
    assert rate > 0 and float(dst[0]) == 7.0  # b + 3c
    triad = jax.jit(peaks._peak_probe_triad, donate_argnums=0, keep_unused=True)
    pointer = dst.unsafe_buffer_pointer()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        dst = jax.block_until_ready(triad(dst, b, c))
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert dst.unsafe_buffer_pointer() == pointer, "the output is the donated buffer"
    assert faults < pages // 10, f"{faults} page faults in 5 calls over {pages} pages"


def test_the_cpu_peak_reports_its_method_and_the_numpy_check():
    from jaxtui.kernel import peaks

    peak = peaks.device_peak()
    stream, llc = peak["stream"], peak["cache"]
    assert peak["source"] == "measured"
    assert peak["bytes_per_s"] == max(stream["copy_bytes_per_s"], stream["triad_bytes_per_s"])
    assert stream["numpy_copy_bytes_per_s"] > 0 and stream["repeats"] == peaks.STREAM_REPEATS
    if llc is not None:
        assert stream["working_set_bytes"] > llc["bytes"]
        assert f"the L{llc['level']} cache is" in peak["note"]
    assert "STREAM copy and triad" in peak["note"] and "reused (donated) buffer" in peak["note"]
    assert "a numpy copy of the same size" in peak["note"]
    assert peak["note"] in report.peak_line(peak)


# -- achieved rates against the peak ---------------------------------------------------------------

PEAK = {"source": "measured", "name": "this CPU", "bytes_per_s": 20e9,
        "flops_per_s": {"f32": 100e9, "bf16": 100e9}, "cache": {"level": 3, "bytes": 32 * MIB},
        "note": "measured"}


def _record(label: str, median_s: float, nbytes: float, footprint: int, size: int | None = None,
            flops: float = 1e6) -> dict:
    from jaxtui.kernel import timing

    work = {"flops": flops, "bytes": nbytes, "transcendentals": None, "source": "compiled"}
    return {"label": label, "group": "g", "size": size, "median_s": median_s, "min_s": median_s,
            "max_s": median_s, "iqr_s": 0.0, "n": 5, "first_call_s": None, "error": None, "work": work,
            "peak": PEAK, "footprint_bytes": footprint,
            "achieved": timing.achieved(work, median_s, PEAK, "f32", footprint)}


def test_data_that_fits_in_the_cache_is_labelled_in_cache_not_set_against_dram():
    small = _record("x * y, 1e6", 1e-3, 12e6, 12 * 10**6)  # 12 GB/s from 12 MB: in the 32 MiB L3
    a = small["achieved"]
    assert a["in_cache"] is True and a["bytes_frac"] is None and a["roof_frac"] is None
    assert a["bytes_per_s"] == pytest.approx(12e9)
    table = report.limits_table([small])
    assert "in cache" in table and "60%" not in table  # 12 of the 20 GB/s DRAM peak: not said
    assert "fits in the 32 MiB last-level cache" in report.limits_notes([small])
    assert report.roofline_chart([small]) is None  # the roof's slope is DRAM: not drawn under it


def test_a_rate_beyond_noise_over_the_peak_says_the_peak_is_too_low_not_700_percent():
    from jaxtui.kernel import timing

    big = 256 * MIB
    within = _record("fine", big * 1.0 / 24e9, big * 1.0, big)  # 24 GB/s: 120% of 20, noise
    over = _record("x * y", big / 140e9, big, big)  # 140 GB/s: 700% of the peak
    assert within["achieved"]["over_peak"] == [] and within["achieved"]["bytes_frac"] == pytest.approx(1.2)
    assert over["achieved"]["over_peak"] == ["bytes"] and over["achieved"]["bytes_frac"] > timing.PEAK_NOISE
    table = report.limits_table([within, over])
    assert "120%" in table and "700%" not in table and "peak low" in table
    notes = report.limits_notes([within, over])
    assert "'x * y' achieved 140 GB/s, 7.0x the measured peak" in notes
    assert "the measured peak is too low" in notes


def test_the_sweep_draws_the_dram_peak_only_over_sizes_out_of_cache():
    recs = [_record("jit", 1e-4, 8e5, 8 * 10**5, size=10**5),
            _record("jit", 0.01, 8e7, 8 * 10**7, size=10**7),
            _record("jit", 0.1, 8e8, 8 * 10**8, size=10**8)]
    charts = {c["title"]: c for c in report.sweep_charts("g", recs)}
    (peak_line,) = [s for s in charts["g: memory throughput vs size (log-log)"]["series"]
                    if s["name"].startswith("DRAM peak")]
    assert peak_line["x"] == [10**7, 10**8]
    roof = report.roofline_chart(recs)
    points = [s for s in roof["series"] if s.get("style") == "points"]
    assert points[0]["x"] == [recs[1]["achieved"]["intensity"], recs[2]["achieved"]["intensity"]]


def test_the_harness_measures_the_footprint_of_one_call():
    import jax
    import jax.numpy as jnp

    from jaxtui.kernel import timing

    x = jnp.ones(1000)
    rec = timing.measure("jit x*y", jax.jit(lambda a, b: a * b), x, x, budget_s=0.01, first_call=False,
                         peak=PEAK)
    assert rec["footprint_bytes"] == 3 * 4000  # two inputs and one output, no temporaries
    assert rec["achieved"]["in_cache"] is True
    eager = timing.measure("eager", lambda a: a + 1.0, x, budget_s=0.01, first_call=False, peak=PEAK)
    assert eager["footprint_bytes"] == 2 * 4000


def test_eager_bytes_are_each_ops_operands_and_result_not_scalar_broadcasts():
    """Eager `x * 0.5` reads x and writes one array: the scalar is never a full array. The
    unoptimised program would count a broadcast of 0.5 as one more array written and read,
    which made eager rates beat the peak."""
    import jax.numpy as jnp

    from jaxtui.kernel import timing

    n = 1000
    x = jnp.ones(n)

    def chain(v):
        return v * 0.5 + v * v - 0.1  # mul (x, 0.5), mul (x, x), add, sub (., 0.1)

    work = timing._eager_work(chain, (x,), {})
    assert work["bytes"] == 4 * n * (2 + 3 + 3 + 2) + 2 * 4  # arrays in and out, plus two scalars
    assert work["flops"] == 4 * n and not work["transcendentals"]
