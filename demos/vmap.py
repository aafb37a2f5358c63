"""# vmap: automatic vectorization

`jax.vmap(f)` turns a function written for **one example** into one that runs on a
**batch**, without a Python loop: it adds a batch dimension to every operation inside.

- `in_axes` says, per argument, which axis to map over: `0` (the leading axis, the
  default for every argument), **any other axis** (`1`, or `-1` for the last), or `None`
  (not mapped: the same value for every example). For a pytree argument, a pytree of
  axes (`{"w": None, "x": 0}`). A scalar cannot be mapped over axis 0: pass
  `in_axes=(0, None)` for it.
- Every output gets the batch axis, even a constant one: in front by default
  (`out_axes=0`), or where `out_axes` says.
- `vmap(value_and_grad(loss), in_axes=(None, 0, 0))(w, xs, ys)`: one loss and one
  gradient **per example**, with shared weights `w`.
- Nest `vmap` to map over several dimensions.
- vmap is not a loop: the batched program runs as a few big operations, so it is much
  faster than a Python loop over the examples. It writes the batched program for you:
  under `jit` it runs like the same math batched by hand (`(xs @ w - ys) ** 2`); without
  `jit`, vmap pays Python overhead for every op on every call (see the Timing tab).
"""
import jax
import jax.numpy as jnp

from jaxtui import demo

batch = demo.input("batch", 256, "examples in the vmap vs loop timing", min=1, max=100_000)
in_axes = demo.input("in_axes", (0, None), "in_axes for f(xs, 1): which arguments are mapped",
                     choices=[(0, None), (0, 0), (None, 0), (None, None)])


# --- One argument -------------------------------------------------------------------
def f(x):
    return x + 1


xs = jnp.array([1.0, 2.0, 3.0])
ys_loop = jnp.array([f(x) for x in xs])  # no vmap: a Python loop, one tiny op per element
ys_vmap = jax.vmap(f)(xs)
print("loop:", ys_loop, " vmap:", ys_vmap)


# --- Two mapped arguments -----------------------------------------------------------
def f(x, y):  # noqa: F811 - the notes redefine f, and so do we
    return x + y


vmap_f = jax.vmap(f)
two = vmap_f(xs, jnp.array([1.0, 2.0, 3.0]))
print("vmap_f(xs, ys) =", two)
grid = jax.vmap(jax.vmap(f, in_axes=(None, 0)), in_axes=(0, None))(xs, jnp.array([10.0, 20.0]))
demo.show(grid, "nested vmap: f over every (x, y) pair, a 3 x 2 table")
# ✗ notes: "multi-dimensional vmap"  ✓ JAX: this maps over two arguments, along one axis
demo.correction("\"multi-dimensional vmap\": vmap_f(xs, ys)",
                "that maps over two *arguments*, both along axis 0, giving a 1-D result; "
                "mapping over several dimensions means nesting vmap (the 3 x 2 table above)",
                actual=f"vmap_f(xs, ys) -> shape {two.shape}; nested vmap -> shape {grid.shape}")

# --- A scalar argument needs in_axes=None ---------------------------------------------
try:
    vmap_f(xs, 1)  # ✗ notes: output [2.0, 3.0, 4.0]  ✓ JAX: ValueError, 1 has no axis 0
    scalar_error = None
except ValueError as exc:
    scalar_error = exc
    print("vmap_f(xs, 1) ->", type(exc).__name__ + ":", exc)
demo.correction("ys = vmap_f(xs, 1)  # output: [2.0, 3.0, 4.0]",
                "that call raises ValueError: in_axes defaults to 0 for every argument and the "
                "scalar 1 has no axis 0. Say it is not mapped: jax.vmap(f, in_axes=(0, None))(xs, 1)",
                actual=scalar_error)
fixed = jax.vmap(f, in_axes=(0, None))(xs, 1)
print("jax.vmap(f, in_axes=(0, None))(xs, 1) =", fixed)

try:
    print(f"jax.vmap(f, in_axes={in_axes})(xs, 1) =", jax.vmap(f, in_axes=in_axes)(xs, 1))
except ValueError as exc:
    print(f"jax.vmap(f, in_axes={in_axes})(xs, 1) ->", type(exc).__name__ + ":", str(exc).splitlines()[0])


# --- in_axes is any axis, or a pytree of axes; out_axes places the batch axis ---------------
m = jnp.arange(6.0).reshape(2, 3)  # 2 rows, 3 columns
print("in_axes=1, sum over each column:", jax.vmap(jnp.sum, in_axes=1)(m), "shape (3,)")
print("in_axes=-1, the last axis (the same here):", jax.vmap(jnp.sum, in_axes=-1)(m))
params = {"w": jnp.array([1.0, 2.0, 3.0]), "x": m}  # w shared, x mapped over its rows
per_row = jax.vmap(lambda p: p["x"] @ p["w"], in_axes=({"w": None, "x": 0},))(params)
print("in_axes=({'w': None, 'x': 0},), a pytree of axes:", per_row)
cols = jax.vmap(lambda row: row * 10.0, out_axes=1)(m)
print("out_axes=1: the batch of 2 rows comes out as axis 1:", cols.shape)


# --- Per-example value_and_grad --------------------------------------------------------
@jax.jit
def loss_fn(w, x, y):
    pred = jnp.dot(w, x)
    return (pred - y) ** 2, 1  # (loss, aux)


x_batch = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])  # floats (the notes: ints)
y_batch = jnp.array([1.0, 2.0, 3.0])
w = jnp.array([0.1, 0.2, 0.3])
grad_fn = jax.value_and_grad(loss_fn, argnums=(0,), has_aux=True)

(loss, aux), grads = jax.vmap(grad_fn, in_axes=(None, 0, 0))(w, x_batch, y_batch)
print("per-example loss:", loss)
print("aux, the constant 1, batched too:", aux)
print("grads:", type(grads).__name__, "of", len(grads), "(argnums=(0,) is a tuple), grads[0].shape =",
      grads[0].shape)
demo.show(grads[0], "per-example grads[0]: row i = d loss_i / d w")
by_hand = 2 * (x_batch @ w - y_batch)[:, None] * x_batch
print("row i == 2 * (w.x_i - y_i) * x_i:", bool(jnp.allclose(grads[0], by_hand)))

# The notes' x_batch holds ints. It works there only because x is not differentiated:
x_int = x_batch.astype(jnp.int32)
(loss_int, _), _ = jax.vmap(grad_fn, in_axes=(None, 0, 0))(w, x_int, y_batch)
print("int x_batch, grad w.r.t. w: same losses:", bool(jnp.allclose(loss_int, loss)))
try:
    jax.vmap(jax.value_and_grad(loss_fn, argnums=(1,), has_aux=True), in_axes=(None, 0, 0))(w, x_int, y_batch)
except TypeError as exc:
    print("int x_batch, grad w.r.t. x ->", type(exc).__name__ + ":", str(exc).split(". ")[0])

# --- vmap vs a Python loop ----------------------------------------------------------------
W = jax.random.normal(jax.random.key(0), (3,))
X = jax.random.normal(jax.random.key(1), (batch, 3))
Y = jax.random.normal(jax.random.key(2), (batch,))


def example_loss(w, x, y):
    return (jnp.dot(w, x) - y) ** 2


def loop_losses(w, xs, ys):  # index, don't iterate: `for x in xs` first compiles an unstack
    return jnp.stack([example_loss(w, xs[i], ys[i]) for i in range(xs.shape[0])])


def manual_losses(w, xs, ys):  # batched by hand: rewrite the math for a leading batch axis
    return (xs @ w - ys) ** 2


vmapped = jax.vmap(example_loss, in_axes=(None, 0, 0))
print("loop == vmap:", bool(jnp.allclose(loop_losses(W, X, Y), vmapped(W, X, Y), rtol=1e-5)))
print("manual batching == vmap:", bool(jnp.allclose(manual_losses(W, X, Y), vmapped(W, X, Y), rtol=1e-5)))
group = f"vmap vs loop ({batch} examples)"
t_loop = demo.time("python loop", loop_losses, W, X, Y, group=group, budget_s=0.3)
t_vmap = demo.time("vmap", vmapped, W, X, Y, group=group, budget_s=0.3)
t_jit = demo.time("jit(vmap)", jax.jit(vmapped), W, X, Y, group=group, budget_s=0.3)
t_manual = demo.time("manual batching", manual_losses, W, X, Y, group=group, budget_s=0.3)
t_jit_manual = demo.time("jit(manual batching)", jax.jit(manual_losses), W, X, Y, group=group, budget_s=0.3)
if t_loop and t_vmap and t_jit and t_manual and t_jit_manual:
    print(f"median: loop {t_loop['median_s'] * 1e3:.3g} ms, vmap {t_vmap['median_s'] * 1e3:.3g} ms, "
          f"jit(vmap) {t_jit['median_s'] * 1e3:.3g} ms, manual batching {t_manual['median_s'] * 1e3:.3g} ms, "
          f"jit(manual batching) {t_jit_manual['median_s'] * 1e3:.3g} ms")

demo.inspect(jax.vmap(grad_fn, in_axes=(None, 0, 0)), w, x_batch, y_batch,
             name="vmap(value_and_grad(loss_fn))")
