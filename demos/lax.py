"""# lax: control flow that jit, grad and vmap understand

Python `if`/`for` on traced values do not survive `jit`. `jax.lax` has structured
control flow whose body is traced **once** and compiled, not unrolled:

| op | what it does |
|---|---|
| `lax.cond(pred, t, f, x)` | two-way branch on a scalar predicate |
| `lax.switch(i, [f0, f1, ...], x)` | N-way branch; `i` is **clamped** to `[0, n-1]` |
| `lax.select(p, a, b)` | elementwise pick, both sides computed; `p` scalar or same shape (no broadcasting: use `jnp.where`) |
| `lax.scan(f, init, xs)` | loop with a carry, stacks the per-step outputs `ys` |
| `lax.fori_loop(lo, hi, f, init)` | counted loop (a `scan` when the bounds are static) |
| `lax.while_loop(cond, body, init)` | loop until `cond` is false |

Under `vmap` with a batched predicate or index, `cond` and `switch` become a `select_n`:
**every branch runs** on every example. `scan` and static-bound `fori_loop` are
reverse-differentiable; `while_loop` is not (forward mode works).

A jitted `scan` is one compiled loop; a Python loop of the same steps dispatches eager ops
on every step (the Timing tab compares them, and `jnp.cumsum`, which is one op).
"""
import contextlib
import io

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
print("an int pred is fine: lax.cond(2, t, f, 3.0) =", lax.cond(2, lambda x: x**2, lambda x: -x, 3.0))
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

try:
    lax.scan(step, 0.0, None, length=steps)  # ✗ notes: length= with the same step  ✓ JAX: x is None then
except TypeError as exc:
    length_error = exc
    print("scan(step, 0.0, None, length=...) ->", type(exc).__name__ + ":", exc)
demo.correction("if xs is absent, give the length by hand: lax.scan(step, carry, None, length=10)",
                "valid, but the body then receives x=None on every step, so the notes' own step "
                "(carry + x) fails; the body must not use x",
                actual=length_error)


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
try:
    lax.select(rows, grid, -grid)  # ✗ notes: shapes must match ✓ JAX: or scalar; no broadcasting
except TypeError as exc:
    select_error = exc
    print("lax.select(pred (2,1), (2,3), (2,3)) ->", type(exc).__name__ + ":", exc)
print("jnp.where broadcasts:", jnp.where(rows, grid, -grid).tolist())
demo.correction("the shape of cond must equal the shape of x and y",
                "cond may also be a scalar; otherwise exactly the same shape: lax.select never "
                "broadcasts (jnp.where does)",
                actual=select_error)
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
