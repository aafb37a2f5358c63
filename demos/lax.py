"""# lax: control flow that jit, grad and vmap understand

Under `jit`, a Python `if` on a traced value fails: it needs a concrete bool. A Python
`for` works when its trip count is static: over `range(n)` with a Python int `n`, or over
a traced array's leading axis (a shape is static). It runs while tracing and is
**unrolled**: every step lands in the program. Only a trip count that depends on a traced
value fails (`range(x)`, or `while x > 0`, with `x` traced).

So why `jax.lax` loops? Their body is traced **once** and compiled as one loop: the
program stays the same size whatever the step count, where an unrolled loop adds every
step to the program, and its compile time grows with it (measured below).
`lax` has structured control flow for branches too:

| op | what it does |
|---|---|
| `lax.cond(pred, t, f, x)` | two-way branch on a boolean scalar (an int is accepted too) |
| `lax.switch(i, [f0, f1, ...], x)` | N-way branch; `i` is **clamped** to `[0, n-1]` |
| `lax.select(p, a, b)` | elementwise pick, both sides computed; `p` scalar or same shape (no broadcasting: use `jnp.where`) |
| `lax.scan(f, init, xs)` | loop with a carry, stacks the per-step outputs `ys` |
| `lax.fori_loop(lo, hi, f, init)` | counted loop (a `scan` when the bounds are static) |
| `lax.while_loop(cond, body, init)` | loop until `cond` is false |

Under `vmap` with a batched predicate or index, `cond` and `switch` become a `select_n`:
**every branch runs** on every example. `scan` and static-bound `fori_loop` are
reverse-differentiable; `while_loop` is not (forward mode works).

A jitted `scan` is one compiled loop; a Python loop of the same steps dispatches eager ops
on every step (the Timing tab compares them, and `jnp.cumsum`, which is one op). In the
**Cost** tab, XLA's figures count a loop body **once**, whatever the trip count; the tab
says so and adds the total over every step where the count is static.
"""
import contextlib
import functools
import io
import time

import jax
import jax.numpy as jnp
from jax import lax

from jaxtui import demo

index = demo.input("index", 1, "branch index for lax.switch (out-of-range values are clamped)",
                   min=-100, max=100)
steps = demo.input("steps", 5, "loop length for scan / fori_loop / while_loop", min=1, max=10_000)
timed_steps = demo.input("timed_steps", 300, "steps in the scan vs Python loop timing", min=1, max=100_000)


def captured(fn, *args):
    """Run fn and return (result, the text its jax.debug.prints wrote)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        out = fn(*args)
        jax.effects_barrier()
    return out, buf.getvalue()


# --- cond --------------------------------------------------------------------------------
def f(x):
    return lax.cond(x > 0,
                    lambda x: x**2,  # True branch
                    lambda x: -x,  # False branch
                    x)


print("f(3.0) =", f(3.0))
print("f(-2.0) =", f(-2.0))  # ✗ notes: -2.0  ✓ JAX: 2.0, since -(-2.0) = 2.0
demo.correction("print(f(-2.0))  # -2.0", "the False branch returns -x, and -(-2.0) = 2.0",
                actual=str(f(-2.0)))
# The docs promise pred as a "Boolean scalar type"; an int is accepted (nonzero is True), but
# that is not a documented promise: write x > 0, or .astype(bool)
print("an int pred runs, though the docs ask for a boolean scalar: lax.cond(2, t, f, 3.0) =",
      lax.cond(2, lambda x: x**2, lambda x: -x, 3.0))
try:
    lax.cond(jnp.array([True, False]), lambda x: x, lambda x: -x, 1.0)
except TypeError as exc:
    print("an array pred ->", type(exc).__name__ + ":", exc)


# vmap over a batched predicate: cond becomes select_n, BOTH branches run for every example
def f_traced(x):
    def true_fn(x):
        jax.debug.print("  true branch ran on x={}", x)
        return x**2

    def false_fn(x):
        jax.debug.print("  false branch ran on x={}", x)
        return -x

    return lax.cond(x > 0, true_fn, false_fn, x)


_, one = captured(f_traced, 3.0)
print("f_traced(3.0) runs one branch:\n" + one, end="")
ys, both = captured(jax.vmap(f_traced), jnp.array([3.0, -2.0]))
print("vmap(f_traced)([3., -2.]) runs both:\n" + both + f"  result {ys}")
vf_jaxpr = str(jax.make_jaxpr(jax.vmap(f))(jnp.array([3.0, -2.0])))
print("primitives in the jaxpr of vmap(f): select_n", "select_n" in vf_jaxpr, "| cond", "cond[" in vf_jaxpr)
demo.inspect(jax.vmap(f), jnp.array([3.0, -2.0]), name="vmap(f): cond -> select_n")

# --- scan --------------------------------------------------------------------------------
def step(carry, x):
    return carry + x, carry + x


xs = jnp.arange(5)
carry, ys = lax.scan(step, 0.0, xs)
print("scan: carry =", carry, " ys =", ys)  # the notes' comments are right: 10.0, [0. 1. 3. 6. 10.]
carry_r, ys_r = lax.scan(step, 0.0, xs, reverse=True)
print("scan(reverse=True): carry =", carry_r, " ys =", ys_r)

# The notes' lax.scan(step, carry, None, length=10) is right. A caveat, not an error: with no
# xs the body receives x=None on every step, so a body that uses x (the notes' own step) fails.
try:
    lax.scan(step, 0.0, None, length=steps)
except TypeError as exc:
    length_error = exc
    print("caveat: with xs=None the body gets x=None; the notes' step (carry + x) ->",
          type(exc).__name__ + ":", exc)


def count(carry, x):  # x is None: only the carry moves
    return carry + 1.0, carry


carry_n, ys_n = lax.scan(count, 0.0, None, length=steps)
print(f"scan(count, 0.0, None, length={steps}): carry =", carry_n, " ys =", ys_n)
try:
    lax.scan(lambda c, x: (c + 0.5, c), jnp.int32(0), None, length=3)
except TypeError as exc:
    print("carry type must not change (int32 -> float32) ->", type(exc).__name__ + ":",
          str(exc).splitlines()[0])


# scan vs a Python loop of the same steps: the loop dispatches a few eager ops per step; the
# jitted scan is one compiled loop, one call. jnp.cumsum does this recurrence in one op.
def loop_scan(xs):  # index, don't iterate: `for x in xs` first compiles an unstack
    carry, ys = 0.0, []
    for i in range(xs.shape[0]):
        carry, y = step(carry, xs[i])
        ys.append(y)
    return carry, jnp.stack(ys)


scan_jit = jax.jit(lambda xs: lax.scan(step, 0.0, xs))
xs_timed = jnp.linspace(0.0, 1.0, timed_steps)
same = bool(jnp.allclose(loop_scan(xs_timed)[1], scan_jit(xs_timed)[1], rtol=1e-5)
            and jnp.allclose(jnp.cumsum(xs_timed), scan_jit(xs_timed)[1], rtol=1e-5))
print(f"python loop == jit(scan) == jnp.cumsum over {timed_steps} steps:", same)
scan_group = f"scan vs Python loop ({timed_steps} steps)"
t_loop = demo.time("python loop", loop_scan, xs_timed, group=scan_group, budget_s=0.3)
t_scan = demo.time("jit(scan)", scan_jit, xs_timed, group=scan_group, budget_s=0.3)
t_cumsum = demo.time("jnp.cumsum", jnp.cumsum, xs_timed, group=scan_group, budget_s=0.3)
if t_loop and t_scan and t_cumsum:  # demo.time returns None in live-inspect mode
    print(f"median: python loop {t_loop['median_s'] * 1e3:.3g} ms, jit(scan) "
          f"{t_scan['median_s'] * 1e3:.3g} ms, jnp.cumsum {t_cumsum['median_s'] * 1e3:.3g} ms")

# --- select ------------------------------------------------------------------------------
x = jnp.array([1.0, 2.0, 3.0])
y = jnp.array([4.0, 5.0, 6.0])
cond = jnp.array([True, False, True])
print("lax.select(cond, x, y) =", lax.select(cond, x, y))  # [1. 5. 3.], as the notes say
print("a scalar pred is allowed: lax.select(True, x, y) =", lax.select(True, x, y))
rows = jnp.array([[True], [False]])  # shape (2, 1)
grid = jnp.ones((2, 3))
# The notes' rule (cond shaped like x and y) is the official docs' wording: right. A precision:
# a scalar pred also works, and nothing broadcasts (jnp.where does).
try:
    lax.select(rows, grid, -grid)
except TypeError as exc:
    select_error = exc
    print("lax.select(pred (2,1), (2,3), (2,3)) ->", type(exc).__name__ + ":", exc)
print("jnp.where broadcasts:", jnp.where(rows, grid, -grid).tolist())
select_prims = {e.primitive.name for e in jax.make_jaxpr(lax.select)(cond, x, y).jaxpr.eqns}
switch_prims = {e.primitive.name for e in jax.make_jaxpr(
    lambda i, v: lax.switch(i, [jnp.sin, jnp.cos], v))(0, x).jaxpr.eqns}
# ✗ notes: select and switch both "select a branch"  ✓ JAX: select picks data, switch is control flow
demo.correction("lax.select / lax.switch: branch selection",
                "select is elementwise data selection (both inputs already computed); switch is "
                "control flow that runs one function",
                actual=f"select -> {sorted(select_prims)}, switch -> {sorted(switch_prims)}")

# --- switch ------------------------------------------------------------------------------
x = jnp.array([1, 2, 3])


def case_fn_0(x): return x * 2  # noqa: E704
def case_fn_1(x): return x + 5  # noqa: E704
def case_fn_2(x): return x - 1  # noqa: E704


branches = [case_fn_0, case_fn_1, case_fn_2]
try:
    lax.switch(x[0], branches)  # ✗ notes: no operand  ✓ JAX: TypeError, the branch needs x
except TypeError as exc:
    switch_error = exc
    print("lax.switch(x[0], branches) ->", type(exc).__name__ + ":", exc)
demo.correction("result = lax.switch(x[0], [case_fn_0, case_fn_1, case_fn_2])",
                "the operands follow the branches: lax.switch(x[0], branches, x). Without them "
                "each branch is called with no argument",
                actual=switch_error)
result = lax.switch(x[0], branches, x)
print("lax.switch(x[0], branches, x) =", result)  # ✗ notes: 3 (case_fn_0)  ✓ JAX: [6 7 8] (case_fn_1)
demo.correction("print(result)  # 3 (because 1 maps to case_fn_0, 1 * 2 = 3)",
                "indices are 0-based, so x[0] = 1 picks case_fn_1 (x + 5), applied to all of x; "
                "and 1 * 2 would be 2 anyway",
                actual=str(result))
clamped_hi = lax.switch(7, branches, x)
clamped_lo = lax.switch(-3, branches, x)
print("index 7 ->", clamped_hi, "(last branch);  index -3 ->", clamped_lo, "(first branch)")
# ✗ notes: the index must be in [0, n)  ✓ JAX: any int; out-of-range indices are clamped
demo.correction("the index must be an integer in [0, n)",
                "an integer, yes (a float raises TypeError), but out-of-range indices are clamped "
                "to [0, n-1], never an error",
                actual=f"index 7 -> {clamped_hi}, index -3 -> {clamped_lo}")
try:
    lax.switch(1.0, branches, x)
except TypeError as exc:
    print("a float index ->", type(exc).__name__ + ":", exc)
print(f"your index {index} -> branch {min(max(index, 0), len(branches) - 1)}:",
      lax.switch(index, branches, x))

def loud(k, fn):  # a branch that says when it runs
    def branch(v):
        jax.debug.print("  case_fn_{k} ran", k=k)
        return fn(v)
    return branch


loud_branches = [loud(k, fn) for k, fn in enumerate(branches)]
_, ran = captured(lambda v: lax.switch(0, loud_branches, v), x)
print("lax.switch(0, ...) runs one branch:\n" + ran, end="")
batched_switch = jax.vmap(lambda i, v: lax.switch(i, loud_branches, v))
_, ran = captured(batched_switch, jnp.array([0, 0]), jnp.stack([x, x]))
print("vmap over a batched index [0, 0] runs every branch, though both indices are 0:\n" + ran, end="")

# --- Python loops under jit: unrolled when the trip count is static -------------------------
def unrolled(x, n):  # a Python for over range(n), n a Python int: unrolled while tracing
    for _ in range(n):
        x = jnp.sin(x) * 0.5 + x
    return x


def rolled(x, n):  # the same steps as one lax loop: the body is traced once
    return lax.fori_loop(0, n, lambda i, v: jnp.sin(v) * 0.5 + v, x)


def row_sums(xs):  # a Python for over a traced array's leading axis: its length is static
    total = 0.0
    for row in xs:
        total = total + row.sum()
    return total


v8 = jnp.ones(8)
print("jit of a Python for over range(3):", jax.jit(lambda v: unrolled(v, 3))(v8)[0],
      "| over the rows of a (4, 3) array:", jax.jit(row_sums)(jnp.ones((4, 3))))
try:
    jax.jit(unrolled)(v8, 3)  # n traced: range(n) needs a concrete int
except jax.errors.TracerIntegerConversionError as exc:
    print("a traced trip count, range(n) ->", type(exc).__name__ + ":", str(exc).splitlines()[0])


def countdown(x):
    while x.sum() > 0:  # the condition depends on traced values
        x = x - 1.0
    return x


try:
    jax.jit(countdown)(v8)
except jax.errors.TracerBoolConversionError as exc:
    print("a Python while on a traced value ->", type(exc).__name__ + ":", str(exc).splitlines()[0])

# Why lax loops, then: program size and compile time. The unrolled program grows with every
# step; the fori_loop's stays the same. (Counts kept small so this lesson stays quick; the
# benchmarks go further.)
print("steps | equations: unrolled, fori_loop | compile: unrolled, fori_loop")
for count in (10, 30, 100):
    sizes, seconds = [], []
    for loop in (unrolled, rolled):
        t0 = time.perf_counter()
        traced = jax.jit(functools.partial(loop, n=count)).trace(v8)
        traced.lower().compile()
        seconds.append(time.perf_counter() - t0)
        sizes.append(len(traced.jaxpr.eqns))
    print(f"{count:>5} | {sizes[0]:>9} {sizes[1]:>10} | {seconds[0] * 1e3:>7.0f} ms {seconds[1] * 1e3:>7.0f} ms"
          + ("" if seconds[0] > seconds[1] or count < 100 else
             "   (this run contradicts the lesson: noise on a busy machine? run it again)"))

# --- while_loop and fori_loop ------------------------------------------------------------
total = lax.fori_loop(0, steps, lambda i, acc: acc + i, 0)
print(f"fori_loop(0, {steps}, acc + i, 0) =", total)
i_end, x_end = lax.while_loop(lambda c: c[1] < 100.0, lambda c: (c[0] + 1, c[1] * 2.0), (0, 1.0))
print("while_loop doubling 1.0 until >= 100:", x_end, "after", i_end, "steps")


def doubled_fori(x):
    return lax.fori_loop(0, steps, lambda i, v: v * 2.0, x)


def doubled_while(x):
    return lax.while_loop(lambda c: c[0] < steps, lambda c: (c[0] + 1, c[1] * 2.0), (0, x))[1]


fori_prims = {e.primitive.name for e in jax.make_jaxpr(doubled_fori)(1.0).jaxpr.eqns}
print("fori_loop with static bounds lowers to:", sorted(fori_prims))
print(f"grad(fori_loop version)(1.0) = {jax.grad(doubled_fori)(1.0)}  (= 2**{steps})")
try:
    jax.grad(doubled_while)(1.0)
except ValueError as exc:
    print("grad(while_loop version) ->", type(exc).__name__ + ":", exc)
print("forward mode works: jax.jvp(while_loop version) =", jax.jvp(doubled_while, (1.0,), (1.0,)))

# --- What lax is (and is not) ------------------------------------------------------------
# ✗ notes: lax has normalization ops  ✓ JAX: it has dot_general and conv, no normalization
has_norm = any(hasattr(lax, name) for name in ("batch_norm", "layer_norm", "normalize"))
print("lax has dot_general:", hasattr(lax, "dot_general"),
      "| conv_general_dilated:", hasattr(lax, "conv_general_dilated"),
      "| a normalization op:", has_norm)
demo.correction("lax provides common math operations such as matrix multiplication, convolution "
                "and normalization",
                "lax has dot_general and conv_general_dilated but no normalization op; use "
                "jax.nn.standardize, stax.BatchNorm or a library such as Flax",
                actual=f"hasattr(lax, 'batch_norm') = {hasattr(lax, 'batch_norm')}")

demo.inspect(doubled_fori, 1.0, name="fori_loop -> scan")
