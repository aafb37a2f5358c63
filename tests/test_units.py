"""One units module (jaxtui.render.units): how durations, sizes, rates and counts print, and
that a size prints the same in every place that shows one."""

from __future__ import annotations

import math

import pytest

from jaxtui.render import units

MIB_64 = 64 * 2**20


@pytest.mark.parametrize(("seconds", "text"), [
    (0.00123, "1.23 ms"), (1.0, "1 s"), (0.9997, "1 s"), (2.5e-8, "25 ns"), (4.2e-6, "4.2 µs"),
    (1234.0, "1234 s"), (0.0, "0 s"), (None, "-"), (math.nan, "-"),
])
def test_seconds(seconds, text):
    assert units.format_seconds(seconds) == text


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 B"), (512, "512 B"), (1023, "1023 B"), (1024, "1 KiB"), (1536, "1.5 KiB"),
    (4_000_000, "3.81 MiB"), (MIB_64, "64 MiB"), (61 * 2**20 + 2**19, "61.5 MiB"), (3 * 2**30, "3 GiB"),
    (8e13, "72.8 TiB"), (None, "-"),
])
def test_bytes_are_binary(n, text):
    assert units.format_bytes(n) == text


def test_rates_and_counts_are_decimal():
    assert units.format_rate(6.5e9, "B/s") == "6.5 GB/s"
    assert units.format_rate(1.2e14, "FLOP/s") == "120 TFLOP/s"
    assert units.format_rate(12.0, "FLOP/s") == "12 FLOP/s"
    assert units.format_rate(None, "B/s") == "-"
    assert units.format_count(1000) == "1k" and units.format_count(1_000_000) == "1M"
    assert units.format_count(999_999) == "1M"  # rounds up into the next prefix, never "1e+03k"


def test_chart_units_dispatch():
    assert units.format_value(0.00123, "s") == "1.23 ms"
    assert units.format_value(6.5e9, "B/s") == "6.5 GB/s"
    assert units.format_value(1.98e11, "flop/s") == "198 GFLOP/s"
    assert units.format_value(MIB_64, "B") == "64 MiB"
    assert units.format_value(1_000_000, "count") == "1M"
    assert units.format_value(0.25, "") == "0.25" and units.format_value(2e4, "") == "20k"
    assert units.format_value(None, "s") == "-"


def test_a_size_prints_the_same_in_doctor_and_the_cost_view():
    from jaxtui.cli import doctor
    from jaxtui.ui.results.cost import cost_lines

    assert doctor.memory_text({"bytes_in_use": MIB_64, "bytes_limit": MIB_64}, short=True) == "64 MiB / 64 MiB"
    assert doctor.memory_text({"live_array_bytes": MIB_64}) == "64 MiB live"
    cost = cost_lines({"compiled": True, "cost": {"bytes accessed": MIB_64},
                       "memory": {"argument_size_in_bytes": MIB_64}})
    assert cost.count("(64 MiB)") == 2


def test_a_size_prints_the_same_in_the_kernels_sweep():
    import jax.numpy as jnp

    from jaxtui.kernel import timing

    recs = timing.sweep("big", {"eager": lambda v: v * 2}, [10**9], jnp.ones, free_bytes=MIB_64, analyse=False)
    assert "but 64 MiB is free" in recs[0]["error"]["message"]
