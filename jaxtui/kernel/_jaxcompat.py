"""What jaxtui assumes about JAX and XLA beyond their typed public API, in one place.

Log formats, event names, private modules, the shape of analysis results and of the text
views: a JAX upgrade can change any of them without notice. Each assumption here has a
contract test in tests/test_jaxcompat.py that runs against the installed JAX, so an upgrade
that breaks one fails that test by name, instead of a view going quietly empty.

Kernel side: imports jax, never textual.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jax
import jax.monitoring

# -- configuration -----------------------------------------------------------------------------
# jax.config exposes its options as attributes added at run time (untyped); `values` is the
# typed read, and it sees context-manager overrides such as `with jax.default_device(d)`.


def default_device() -> Any:
    """The device runs go to: the one `jax.default_device` / `jax_default_device` names,
    else JAX's first."""
    return jax.config.values["jax_default_device"] or jax.devices()[0]


def explains_cache_misses() -> bool:
    """Whether the user turned on `jax_explain_cache_misses` themselves."""
    return bool(jax.config.values["jax_explain_cache_misses"])


# -- thread-local settings and the trace state ------------------------------------------------
# A context manager such as `jax.numpy_rank_promotion("raise")` sets a thread-local value on
# its option's State (jax/_src/config.py: get_local/set_local, `config_ext.unset` when none),
# and its __exit__ puts the previous one back and calls the option's thread-local hook.


def thread_local_settings() -> dict[str, Any]:
    """Every option that has a thread-local value, by name: {name: its State}."""
    from jax._src import config

    holders = getattr(config.config, "_value_holders", {})
    return {name: h for name, h in holders.items() if hasattr(h, "get_local") and hasattr(h, "set_local")}


def set_thread_local(state: Any, value: Any) -> None:
    """Put a thread-local value back as the context manager's __exit__ does."""
    from jax._src import config

    state.set_local(value)
    hook = getattr(state, "_update_thread_local_hook", None)
    if hook:
        hook(None if value is config.config_ext.unset else value)


def reset_trace_state() -> bool:
    """End a trace left open (an exception inside JAX's own bookkeeping); True if none was."""
    from jax._src import core

    return bool(core.reset_trace_state())


# -- compile-pipeline timing (jax.monitoring) --------------------------------------------------
# The duration events JAX records per cache miss, by stage. Each carries `fun_name`: the
# function's name for the trace, `jit(name)` for lowering and compiling.
STAGE_EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "trace_s",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower_s",
    "/jax/core/compile/backend_compile_duration": "compile_s",
}


def bare_name(fun_name: str) -> str:
    """`jit(chain)` -> `chain`: the trace event and the compile events name one function."""
    if fun_name.startswith("jit(") and fun_name.endswith(")"):
        return fun_name[4:-1]
    return fun_name


@contextmanager
def stage_durations(on_stage: Callable[[str, float, str], None]) -> Iterator[None]:
    """While active, `on_stage(stage, seconds, function name)` for each trace, lowering and
    backend compile (stage: "trace_s", "lower_s", "compile_s"), from any thread."""

    def listener(event: str, duration_secs: float, **kwargs: Any) -> None:
        stage = STAGE_EVENTS.get(event)
        if stage is not None:
            on_stage(stage, float(duration_secs), bare_name(str(kwargs.get("fun_name", "?"))))

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


# -- cache-miss explanations (jax_explain_cache_misses) ----------------------------------------
# Where JAX logs "TRACING CACHE MISS" (a private module's logger) and how the message reads.
EXPLAIN_LOGGER = "jax._src.interpreters.partial_eval"
_MISS_HEAD = re.compile(r"TRACING CACHE MISS at (.*?):(\d+)(?::\d+)? \((.*)\):")  # file:line[:col] (fn)
_NEVER_SEEN = re.compile(r"never seen function:\s*\n\s*(\S+) id=\d+")
_FOR_FN = re.compile(r"^\s*for (\S+) defined at")
_CLOSEST_KEY = "all previously seen cache keys differ. For the closest previous key:\n"
_ID = re.compile(r" id=\d+")
_GLUED_URL = re.compile(r"(?<=\S)(https://)")


@dataclass
class CacheMiss:
    where: str  # the file of the call that missed
    line: int
    name: str  # the function traced again ("?" when the message does not say)
    reason: str


def parse_cache_miss(message: str) -> CacheMiss | None:
    """One logged explanation, or None for any other message of that logger."""
    head = _MISS_HEAD.search(message)
    if head is None:
        return None
    body = message[head.end():].strip("\n")
    never = _NEVER_SEEN.search(body)
    if never:
        name, reason = never.group(1), "first call: never seen this function before"
    else:
        first = body.splitlines()[0] if body else ""
        found = _FOR_FN.match(first)
        name = found.group(1) if found else "?"
        reason = "\n".join(line.strip() for line in body.splitlines()[1:]).replace(_CLOSEST_KEY, "")
    reason = _GLUED_URL.sub(r"\n\1", _ID.sub("", reason))
    return CacheMiss(head.group(1), int(head.group(2)), name, reason)


def explain_cache_misses() -> Any:
    """A context manager that turns the explanations on while active."""
    return jax.explain_cache_misses(True)


def forget_seen_callsites() -> None:
    """JAX remembers call sites across the whole process to say "maybe the function is being
    re-defined repeatedly"; every run re-defines the demo's functions on purpose."""
    try:
        from jax._src.interpreters import partial_eval

        partial_eval.callsites_with_tracing_cache_miss.clear()
    except (ImportError, AttributeError):
        pass  # the hint then shows for a re-run demo; nothing else changes


# -- analyses of a compiled (or lowered) computation -------------------------------------------
MEMORY_ANALYSIS_KEYS = ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes",
                        "alias_size_in_bytes", "generated_code_size_in_bytes")


def cost_dict(stage: Any) -> dict[str, float]:
    """`cost_analysis()` of a Lowered or Compiled as {name: number} ("flops", "bytes
    accessed", "transcendentals", ...); {} when the backend gives none."""
    cost = stage.cost_analysis()
    if isinstance(cost, list):  # before jax 0.4.38 it was a one-element list
        cost = cost[0] if cost else {}
    return {k: float(v) for k, v in (cost or {}).items() if isinstance(v, (int, float))}


def memory_dict(compiled: Any) -> dict[str, int]:
    """`memory_analysis()` of a Compiled as {key: bytes}; {} when the backend gives none."""
    mem = compiled.memory_analysis()
    if mem is None:
        return {}
    return {k: int(getattr(mem, k)) for k in MEMORY_ANALYSIS_KEYS if hasattr(mem, k)}


# -- source locations in the text views --------------------------------------------------------
# A jaxpr printed with `source_info=True` ends equations with `# /path/file.py:LINE:COL (fn)`.
def jaxpr_source_marker(filename: str) -> re.Pattern[str]:
    return re.compile(r"# " + re.escape(filename) + r":(\d+):\d+")


JAXPR_SOURCE_INFO = {"source_info": True, "name_stack": False}  # pretty_print's arguments

# Optimised HLO text starts with tables that map `stack_frame_id=` in an instruction's
# metadata to a file and line: FileNames, FunctionNames, FileLocations, StackFrames.
HLO_TABLES = ("FileNames", "FunctionNames", "FileLocations", "StackFrames")
HLO_FILE = re.compile(r'^(\d+) "(.*)"$')
HLO_LOCATION = re.compile(r"^(\d+) \{file_name_id=(\d+) .*?\bline=(\d+)")
HLO_FRAME = re.compile(r"^(\d+) \{file_location_id=(\d+) parent_frame_id=(\d+)")
HLO_FRAME_REF = re.compile(r"stack_frame_id=(\d+)")


# -- loops in a jaxpr (kernel/loop_cost.py) ---------------------------------------------------
# `lax.scan` (and `fori_loop` with static bounds) is a `scan` equation with its body in
# params["jaxpr"] and its static trip count in params["length"]; `while_loop` (and a
# `fori_loop` with traced bounds) is a `while` equation, body in params["body_jaxpr"].
LOOP_BODY = {"scan": "jaxpr", "while": "body_jaxpr"}


def loop_of(eqn: Any) -> tuple[str, Any, int | None] | None:
    """(kind, body ClosedJaxpr, static trip count or None) for a loop equation, else None."""
    name = eqn.primitive.name
    if name not in LOOP_BODY:
        return None
    length = eqn.params.get("length") if name == "scan" else None
    return name, eqn.params[LOOP_BODY[name]], None if length is None else int(length)


def eqns_of(jaxpr: Any) -> list[Any]:
    """The equations of a Jaxpr or ClosedJaxpr."""
    return list((jaxpr.jaxpr if hasattr(jaxpr, "consts") else jaxpr).eqns)


def subjaxprs(eqn: Any) -> list[Any]:
    """The jaxprs inside an equation's params (jit calls, cond branches, custom rules...)."""
    import jax.extend.core as jex

    return list(jex.jaxprs_in_params(eqn.params))


def closed_jaxpr_fn(closed: Any) -> tuple[Callable[..., Any], list[Any]]:
    """A ClosedJaxpr as a function, and ShapeDtypeStructs of its inputs (to lower it alone)."""
    import jax.extend.core as jex

    args = [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in closed.jaxpr.invars]
    return jex.jaxpr_as_fun(closed), args


def eqn_line(eqn: Any, filename: str) -> int | None:
    """The line of `filename` that wrote an equation (its innermost frame in that file)."""
    try:
        frames = eqn.source_info.traceback.frames
    except AttributeError:
        return None
    lines = [f.line_num for f in frames if f.file_name == filename]
    return lines[0] if lines else None


# -- device memory -----------------------------------------------------------------------------
# `Device.memory_stats()` keys on GPU and TPU (None on CPU).
MEMORY_STATS_KEYS = ("bytes_in_use", "peak_bytes_in_use", "bytes_limit")
