"""Contract tests: the installed JAX still behaves as jaxtui/kernel/_jaxcompat.py assumes.

Each test names one assumption. When a JAX upgrade fails one, fix _jaxcompat.py (and only
it) until the test passes again.
"""

from __future__ import annotations

import logging
import textwrap

import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from jaxtui.kernel import _jaxcompat as jc  # noqa: E402
from jaxtui.kernel.inspect import hlo_links, jaxpr_with_links  # noqa: E402


def from_file(tmp_path, source: str, name: str):
    """A function whose code lives in a real file, as a demo's does."""
    path = tmp_path / "lesson.py"
    path.write_text(textwrap.dedent(source))
    scope: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), scope)  # noqa: S102 - our own test file
    return scope[name], str(path)


def test_default_device_follows_the_context_manager_and_the_option():
    first = jax.devices()[0]
    assert jc.default_device() == first
    last = jax.devices()[-1]
    with jax.default_device(last):
        assert jc.default_device() == last
    assert jc.default_device() == first


def test_a_thread_local_setting_can_be_read_and_put_back():
    settings = jc.thread_local_settings()
    state = settings["jax_numpy_rank_promotion"]
    unset = state.get_local()
    state.swap_local("raise")  # what an interrupted __enter__ leaves
    assert jax.config.values["jax_numpy_rank_promotion"] == "raise"
    jc.set_thread_local(state, unset)
    assert jax.config.values["jax_numpy_rank_promotion"] == "allow"
    device = settings["jax_default_device"]
    device.swap_local(jax.devices()[-1])
    jc.set_thread_local(device, unset)
    assert jc.default_device() == jax.devices()[0]


def test_a_trace_left_open_is_ended():
    from jax._src import core

    assert jc.reset_trace_state() is True
    core.trace_ctx.set_trace(core.EvalTrace())  # what an exception in JAX's bookkeeping can leave
    assert not core.trace_state_clean()
    assert jc.reset_trace_state() is False and core.trace_state_clean()


def test_the_users_own_cache_miss_explanations_are_seen():
    assert jc.explains_cache_misses() is False
    with jc.explain_cache_misses():
        assert jc.explains_cache_misses() is True


def test_stage_events_name_the_function_and_stop_after_the_block():
    seen: list[tuple[str, str]] = []

    def contract_probe(x):
        return x * 3

    with jc.stage_durations(lambda stage, seconds, name: seen.append((stage, name))):
        jax.jit(contract_probe)(jnp.ones(7))
    assert {("trace_s", "contract_probe"), ("lower_s", "contract_probe"), ("compile_s", "contract_probe")} <= set(seen)
    count = len(seen)
    jax.jit(contract_probe)(jnp.ones(9))
    assert len(seen) == count


def test_cache_miss_messages_parse(tmp_path):
    fn, path = from_file(tmp_path, """\
        import jax
        import jax.numpy as jnp

        def twice(x):
            return x * 2

        def call(n):
            return jax.jit(twice)(jnp.ones(n))
        """, "call")
    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger(jc.EXPLAIN_LOGGER)
    logger.addHandler(handler)
    try:
        with jc.explain_cache_misses():
            fn(3)
            fn(4)
    finally:
        logger.removeHandler(handler)
    misses = [m for m in map(jc.parse_cache_miss, messages) if m is not None]
    assert [(m.where, m.line, m.name) for m in misses] == [(path, 8, "twice"), (path, 8, "twice")]
    assert misses[0].reason == "first call: never seen this function before"
    assert "f32[4]" in misses[1].reason and "f32[3]" in misses[1].reason and " id=" not in misses[1].reason
    assert jc.parse_cache_miss("some other message") is None


def test_the_callsite_memory_is_where_it_is_cleared():
    from jax._src.interpreters import partial_eval

    partial_eval.callsites_with_tracing_cache_miss.add(("x", 1))
    jc.forget_seen_callsites()
    assert not partial_eval.callsites_with_tracing_cache_miss


def test_cost_and_memory_analysis_shapes():
    compiled = jax.jit(lambda x, y: x * y + 1.0).trace(jnp.ones(1024), jnp.ones(1024)).lower().compile()
    cost = jc.cost_dict(compiled)
    assert cost["flops"] > 0 and cost["bytes accessed"] >= 3 * 4 * 1024
    assert jc.cost_dict(jax.jit(lambda x: x + 1).trace(jnp.ones(8)).lower())["flops"] > 0
    memory = jc.memory_dict(compiled)
    assert set(memory) == set(jc.MEMORY_ANALYSIS_KEYS)
    assert memory["argument_size_in_bytes"] == 2 * 4 * 1024 and memory["output_size_in_bytes"] == 4 * 1024


def test_jaxpr_and_hlo_carry_the_source_lines(tmp_path):
    fn, path = from_file(tmp_path, """\
        import jax.numpy as jnp

        def f(x):
            y = jnp.sin(x)
            return y * 2
        """, "f")
    traced = jax.jit(fn).trace(jnp.ones(3))
    jaxpr, links = jaxpr_with_links(traced.jaxpr.pretty_print(**jc.JAXPR_SOURCE_INFO), path)
    assert {line for _, line in links} == {4, 5} and "# lesson.py:4" in jaxpr
    hlo = traced.lower().compile().as_text()
    assert all(table in hlo.split("\n") for table in jc.HLO_TABLES)
    assert {line for _, line in hlo_links(hlo, path)} <= {4, 5} and hlo_links(hlo, path)


def test_memory_stats_keys_on_an_accelerator():
    stats = jax.devices()[0].memory_stats()
    if not stats:
        pytest.skip("no memory_stats() on this backend (CPU)")
    assert set(jc.MEMORY_STATS_KEYS) <= set(stats)


def test_loops_in_a_jaxpr_carry_their_body_and_trip_count(tmp_path):
    from jax import lax

    fn, path = from_file(tmp_path, """\
        from jax import lax

        def f(x):
            y = lax.fori_loop(0, 7, lambda i, v: v * 2.0, x)
            return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] + 1.0), (0, y))[1]
        """, "f")
    traced = jax.jit(fn).trace(jnp.ones(4))
    loops = [jc.loop_of(e) for e in jc.eqns_of(traced.jaxpr)]
    (scan_kind, scan_body, trip), (while_kind, _, unknown) = [lp for lp in loops if lp]
    assert (scan_kind, trip, while_kind, unknown) == ("scan", 7, "while", None)
    body_fn, args = jc.closed_jaxpr_fn(scan_body)
    assert [a.shape for a in args] == [(), (4,)]  # the counter and the carry
    assert jc.cost_dict(jax.jit(body_fn).lower(*args).compile())["flops"] >= 4
    lines = [jc.eqn_line(e, path) for e in jc.eqns_of(traced.jaxpr) if jc.loop_of(e)]
    assert lines == [4, 5]
    nested = jax.jit(lambda v: jax.jit(lambda w: lax.scan(lambda c, _: (c, None), w, None, length=2)[0])(v))
    (call,) = jc.eqns_of(nested.trace(jnp.ones(2)).jaxpr)
    assert any(jc.loop_of(e) for sub in jc.subjaxprs(call) for e in jc.eqns_of(sub))
