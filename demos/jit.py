"""# jit: just-in-time compilation

`jax.jit(f)` **traces** `f` once per input *signature* (shapes, dtypes, static
arguments) into a jaxpr, compiles it with XLA, caches the executable, and reuses it on
every later call with the same signature.

- **Time it right:** the first call traces and compiles (even *without* jit, each
  eager op compiles once per shape). Dispatch is asynchronous, so block on the result
  (`demo.time` warms up, blocks and takes the median).
- **Where jit wins**, as the Timing tab measures it:
  - **one op** (`x * y`): one compiled XLA op with or without jit; jit saves only a
    dispatch, so it gains little.
  - **small arrays:** the time is per-op dispatch. Eager pays one dispatch per op, jit
    one per call, so a chain of 8 ops at 1e3 elements runs several times faster under jit:
    the biggest win the size sweep shows.
  - **a memory-bound chain** (cheap arithmetic, no `sin`): eager makes one pass over
    memory per op; jit **fuses** the chain into one pass. A big win on large arrays.
  - **a compute-bound chain** (dominated by `sin`): fusion saves the same passes, but
    the time goes into computing `sin`, so jit gains less.
  When a run's figures contradict one of these (noise on a busy machine), the Output says
  so next to them.
- **Printing:** Python `print` runs while tracing (it shows a tracer, not a value),
  again on every retrace, and never on a cached call. `jax.debug.print("x={x}", x=x)`
  prints values at run time; pass the format string and the values separately (an
  f-string is formatted at trace time). Options go in a first call:
  `jax.debug.print(ordered=True)("x={x}", x=x)` keeps prints in program order.
- **Static shapes:** shapes and dtypes are fixed at trace time, values are not. A Python
  `if` on a traced value fails: use `static_argnums` or `lax.cond`/`jnp.where`. Output
  shapes cannot depend on values: `jnp.nonzero(x, size=k)`.
- **Recompiles:** a new shape, dtype or static argument value means a new trace and compile.
"""
import contextlib
import io

import jax
import jax.numpy as jnp
from jax import lax

from jaxtui import demo

n = demo.input("n", 1_000_000, "array size for the timings (the notes use 1e7)", min=1, max=100_000_000)
steps = demo.input("steps", 2, "steps of each chain (4 elementwise ops a step; the sin chain 5)",
                   min=1, max=50)
sweep_to = demo.input("sweep_to", 6, "largest size in the eager vs jit sweep, a power of ten "
                      "(sizes 1e3, 1e4, ... 1e<this>)", min=3, max=8)

x = jnp.ones(n)
y = jnp.ones(n)
for _ in range(20):  # materialise the inputs and wake the CPU's thread pool before timing
    jax.block_until_ready(x + y)


def multiply(x, y):
    return x * y


def chain(x):  # memory-bound: cheap arithmetic, each eager op one pass over memory
    for _ in range(steps):
        x = x * 0.5 + x * x - 0.1
    return x


def sin_chain(x):  # compute-bound: each sin costs many flops per element
    for _ in range(steps):
        x = jnp.sin(x) * 0.5 + x * x - 0.1
    return x


def verdict(ratio, low=None, high=None):
    """The lesson's claim about an eager/jit ratio, held against this run's figure: a claim
    is never printed over a figure that contradicts it."""
    if (low is None or ratio >= low) and (high is None or ratio <= high):
        return f"{ratio:.2f}x: as the lesson says"
    expected = (f"between {low:g}x and {high:g}x" if low is not None and high is not None
                else f"at least {low:g}x" if low is not None else f"at most {high:g}x")
    return (f"{ratio:.2f}x: this run contradicts the lesson, which expects {expected} "
            "(noise on a busy machine? run it again)")


# --- Timing: eager vs jit, first call vs cached -----------------------------------
# jit caches compiled code by the underlying Python function, and eager ops per shape, so a
# rerun would "first-call" in microseconds. demo.time clears JAX's caches before each first
# call: every first call below really includes its compile.
one_op = "x * y (one op)"
mem_group = f"memory-bound chain ({4 * steps} ops)"
sin_group = f"compute-bound chain: sin ({5 * steps} ops)"
t_eager = demo.time("no jit: x * y", multiply, x, y, group=one_op)
t_jit = demo.time("jit: x * y", jax.jit(multiply), x, y, group=one_op)
c_eager = demo.time("no jit: chain", chain, x, group=mem_group)
c_jit = demo.time("jit: chain", jax.jit(chain), x, group=mem_group)
s_eager = demo.time("no jit: sin chain", sin_chain, x, group=sin_group)
s_jit = demo.time("jit: sin chain", jax.jit(sin_chain), x, group=sin_group)


def ms(seconds):
    return f"{seconds * 1e3:.3g} ms"


def ratio(eager, jitted):
    return eager["median_s"] / jitted["median_s"]


if t_eager and t_jit and c_eager and c_jit and s_eager and s_jit:  # None in live-inspect mode
    one, mem, sin = ratio(t_eager, t_jit), ratio(c_eager, c_jit), ratio(s_eager, s_jit)
    print(f"n = {n:,} float32")
    print(f"  x * y   eager: first call {ms(t_eager['first_call_s'])} (compiles the mul op), "
          f"median {ms(t_eager['median_s'])}")
    print(f"  x * y   jit:   first call {ms(t_jit['first_call_s'])} (trace + compile + run), "
          f"cached median {ms(t_jit['median_s'])}")
    print(f"  eager/jit, one op x * y:            {verdict(one, 0.67, 1.5)} (jit gains little)")
    print(f"  eager/jit, memory-bound chain:      {verdict(mem, 2.0)} (fusion: one pass, not "
          f"{4 * steps})")
    print(f"  eager/jit, compute-bound sin chain: {verdict(sin, high=mem)} (less than the "
          "memory-bound chain: sin's arithmetic stays)")
    # What bounds each chain, measured: the fused chains read x and write one result, the
    # same bytes; the sin chain's extra time is arithmetic.
    mem_work, sin_work = c_jit["work"] or {}, s_jit["work"] or {}
    print(f"  jit: the fused chains move {mem_work.get('bytes', 0):,.0f} and "
          f"{sin_work.get('bytes', 0):,.0f} bytes (XLA's cost analysis); the sin chain also "
          f"computes {sin_work.get('transcendentals') or 0:,.0f} sines and takes "
          f"{s_jit['median_s'] / c_jit['median_s']:.2f}x as long: "
          + ("its extra time is arithmetic, not memory" if s_jit["median_s"] > 1.2 * c_jit["median_s"]
             else "this run did not show the difference (noise? run it again)"))
    # ✗ notes: No JIT 0.0226 s vs JIT 0.0025 s, ~10x  ✓ JAX: their "No JIT" skipped block_until_ready
    demo.correction("No JIT 0.0226 s, JIT 0.0025 s: jit makes x * y about 10x faster",
                    "the notes timed one eager call without warm-up or block_until_ready, so it "
                    "mixes the first-call compile of `mul` with async dispatch. Measured properly, "
                    "one x * y is one compiled XLA op with or without jit (jit saves only the "
                    "dispatch), so it gains little. jit wins by fusing a memory-bound chain into "
                    "one pass, and on small arrays by dispatching once per call, not once per op",
                    actual=f"median eager/jit: one op {verdict(one, 0.67, 1.5)}; memory-bound "
                           f"chain {verdict(mem, 2.0)}")

# --- Size sweep: eager vs jit over array sizes, log-log ----------------------------------
# Small arrays: the time is per-call overhead (eager pays one dispatch per op, jit one per
# call), so the lines are nearly flat and jit wins by about the number of ops. Large arrays:
# time grows with the bytes moved, and jit moves fewer (one fused pass instead of one pass per
# op). The Timing tab draws both on log-log axes. Its bytes/s chart counts the bytes each
# program moves: eager moves more of them, so its rate reads higher although it takes longer.
sweep_sizes = [10**k for k in range(3, sweep_to + 1)]
swept = demo.sweep(f"{mem_group}, by size", {"no jit": chain, "jit": jax.jit(chain)},
                   sweep_sizes, lambda size: jnp.ones(size), budget_s=0.1)
medians = {(r["label"], r["size"]): r["median_s"] for r in swept}
for size in sweep_sizes:
    if ("no jit", size) in medians and ("jit", size) in medians:
        eager_s, jit_s = medians["no jit", size], medians["jit", size]
        print(f"  sweep n = {size:>11,}: eager {ms(eager_s):>9}, jit {ms(jit_s):>9}, "
              f"eager/jit {eager_s / jit_s:.2f}x")
if ("no jit", 1000) in medians and ("jit", 1000) in medians:
    print(f"  at 1e3 elements the time is dispatch: {4 * steps} eager ops against one jitted call: "
          f"eager/jit {verdict(medians['no jit', 1000] / medians['jit', 1000], 2.0)}")

# --- print vs jax.debug.print --------------------------------------------------------
baked = []  # what the f-string looked like: it is formatted once, at trace time


@jax.jit
def f(x):
    print("  python print (runs while tracing):", x)
    baked.append(f"{x}")
    jax.debug.print("  jax.debug.print (runs every call): x={x}", x=x)
    jax.debug.print("  placeholders, positional: {} {}", x, x * 2)  # debug.print formats these itself
    jax.debug.print(f"  debug.print of an f-string: {x}")  # ✗ notes: no f-strings ✓ JAX: right, built once
    return x * 2


for i, arg in enumerate([1.0, 2.0, jnp.ones(2)], start=1):
    print(f"call {i}: f({arg})" + ("  (cached: no Python print)" if i == 2 else "")
          + ("  (new shape: retrace)" if i == 3 else ""))
    f(arg)
    jax.effects_barrier()  # let the debug prints land before the next line

# ✗ notes: print inside jit is never executed  ✓ JAX: it runs at trace time (first call, each retrace)
demo.correction("print/log statements inside a jit function are not executed; they are ignored "
                "at compile time",
                "Python print runs while jit traces the function: on the first call and on every "
                "retrace (new shape, dtype or static arg), showing the tracer, not the value; a "
                "cached call prints nothing. jax.debug.print prints values on every call",
                actual=f"Python print ran {len(baked)} times in 3 calls; it printed {baked[0]}")
# ✗ notes: debug.print has no f-string/format support  ✓ JAX: half right: "{}" placeholders work
demo.correction("jax.debug.print does not support f-strings or \"{} {}\".format(x, y)",
                "half right. No f-strings: jax.debug.print's own docstring says so, because the "
                "f-string is formatted once, at trace time, and holds the tracer's repr forever "
                "(as would \"{} {}\".format(x, y) before the call). But debug.print formats "
                "str.format placeholders itself, later: jax.debug.print(\"{} {}\", x, y) and "
                "(\"x={x}\", x=x) print the values",
                actual=f"the f-string was baked as {baked[0]!r} and printed that on the cached call")


def order_demo(ordered):
    # The two-call form: options in the first call, the format and values in the second. The
    # one-call form, jax.debug.print("B sin={}", v, ordered=True), still runs but is soft
    # deprecated in jax 0.10 (debug.print's docstring: mixing options with format arguments).
    say = jax.debug.print(ordered=ordered)

    @jax.jit
    def g(x):
        say("A")
        say("B sin={}", jnp.sin(x))
        say("C cos={}", jnp.cos(x))
        say("D")
        return x

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        g(1.0)
        jax.effects_barrier()
    return " ".join(line.split()[0] for line in buf.getvalue().splitlines())


unordered, ordered = order_demo(False), order_demo(True)
print("debug.print order, default:      ", unordered)
print("debug.print order, ordered=True: ", ordered)
# ✗ notes: cannot keep order  ✓ JAX: unordered by default, ordered=True orders them
demo.correction("jax.debug.print cannot keep the execution order",
                "by default debug prints are unordered; jax.debug.print(ordered=True)(\"x={x}\", "
                "x=x) keeps them in program order (relative to other ordered effects)",
                actual=f"default: {unordered}; ordered=True: {ordered}")

# --- Static shapes, traced values ----------------------------------------------------
def relu_if(x):
    if x > 0:  # a Python if needs a concrete bool
        return x
    return 0.0 * x


try:
    jax.jit(relu_if)(3.0)
except jax.errors.TracerBoolConversionError as exc:
    tracer_bool_error = exc
    print("jit(relu_if)(3.0) ->", type(exc).__name__ + ":", str(exc).splitlines()[0])
print("fix 1, static_argnums=0 (one compile per value):", jax.jit(relu_if, static_argnums=0)(3.0))
print("fix 2, lax.cond on the traced value:             ",
      jax.jit(lambda x: lax.cond(x > 0, lambda v: v, lambda v: 0.0 * v, x))(3.0))
print("fix 3, jnp.where (elementwise, both sides run):  ", jax.jit(lambda x: jnp.where(x > 0, x, 0.0))(-3.0))

values = jnp.array([0, 3, 0, 5, 7])
try:
    jax.jit(jnp.nonzero)(values)
except jax.errors.ConcretizationTypeError as exc:
    concretization_error = exc
    print("jit(jnp.nonzero)(values) ->", type(exc).__name__ + ":", str(exc).splitlines()[1])
nonzero_sized = jax.jit(lambda v: jnp.nonzero(v, size=4, fill_value=-1))
print("fix, a static size=4 and fill_value=-1:", nonzero_sized(values))
# ✗ notes: "inputs and control flow need static shapes"  ✓ JAX: shapes static, values traced
demo.correction("function inputs and internal control flow must have static shapes (known at "
                "compile time)",
                "shapes and dtypes are static, values are traced: a Python `if` on a traced value "
                "raises TracerBoolConversionError (fix: static_argnums or lax.cond), and an output "
                "shape that depends on values raises ConcretizationTypeError (fix: size=)",
                actual=f"{type(tracer_bool_error).__name__}; {type(concretization_error).__name__}")

# --- Recompilation: one cache entry per signature ----------------------------------------
def scale(x, k):
    return x * k


scale_jit = jax.jit(scale, static_argnums=1)
x3, x4 = jnp.ones(3), jnp.ones(4)
calls = [("first call: f32[3], k=2", x3, 2), ("same shape, same k", x3, 2),
         ("new static value k=3", x3, 3), ("new shape f32[4]", x4, 3),
         ("new dtype i32[4]", x4.astype(jnp.int32), 3), ("f32[3], k=2 again", x3, 2)]
print("jitted._cache_size() (a private API: fine for learning, may change):")
for label, a, k in calls:
    scale_jit(a, k)
    print(f"  {label:<26} -> cache entries: {scale_jit._cache_size()}")

weak = jax.jit(lambda v: v + 1)
weak(1.0)
weak(jnp.float32(1.0))
weak(2.0)
print("weak types count: g(1.0), g(jnp.float32(1.0)), g(2.0) -> entries:", weak._cache_size())

demo.inspect(jax.jit(chain), x, name="jit(chain): one fusion")
demo.inspect(jax.jit(sin_chain), x, name="jit(sin_chain): sines in the cost")
demo.inspect(scale, x3, 2, static_argnums=1, name="scale, k static")
