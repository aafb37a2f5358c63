"""# grad: automatic differentiation

`jax.grad(f)` returns a new function that computes the **gradient** of `f`, and only the
gradient. `f` must return a **real scalar** (a float, not an int, not a vector).

- `argnums` picks the arguments to differentiate: an **int** (default `0`) gives one
  array back; a **tuple** of ints gives a tuple of gradients. Not a pytree of indices: a
  dict like `{"w": 0}` raises (a dict with int keys only "works" because it is iterated
  for its keys, and gives a tuple back).
- `jax.value_and_grad(f)` returns `(value, grads)`: the loss *and* its gradient in one pass.
- `has_aux=True`: `f` returns `(scalar, aux)`; aux rides along, undifferentiated. A
  plain scalar raises `TypeError` (the notes' commented-out line does).
- Arguments may be **pytrees** (dicts, lists, tuples of arrays): the gradient has the
  same structure as the argument.
- Integer inputs cannot be differentiated: use floats.
- Random numbers: split a key into independent keys (`jax.random.split`); reusing one
  key gives the **same** numbers every time. `jax.random.PRNGKey` is the legacy form (a
  `uint32[2]` array); `jax.random.key` makes a **typed key** (`key<fry>[]`), the one the
  docs recommend. `jax.random.fold_in(key, i)` derives a key per step or per device.

Lines marked `# ✗ notes … ✓ JAX …` fix a claim of the source notes; the Output tab
shows each one beside the value measured in this run.
"""
import jax
import jax.numpy as jnp

from jaxtui import demo

n = demo.input("n", 1000, "number of samples", min=1, max=10_000_000)
seed = demo.input("seed", 42, "random seed", min=0)


def loss_fn(w, b, x, y):
    y_pred = w * x + b
    return jnp.mean((y_pred - y) ** 2)


# --- Random data: one key per array -----------------------------------------------
# ✗ notes: PRNGKey(42) reused for w, b, x and noise  ✓ JAX: same key, same numbers; split it
key = jax.random.PRNGKey(seed)
w_same = jax.random.normal(key, (n,))
b_same = jax.random.normal(key, (n,))
x_same = jax.random.normal(key, (n,))
same = bool(jnp.array_equal(w_same, b_same)) and bool(jnp.array_equal(b_same, x_same))
demo.correction("reuse jax.random.PRNGKey(42) to draw w, b, x and the noise",
                "a key is a seed, not a stream: the same key gives the same numbers, so w == b == x "
                "and the noise is 0.1 * w. Split it: k1, k2, ... = jax.random.split(key, 4)",
                actual=f"w == b == x: {same}")

# jax.random.PRNGKey is the legacy API (a raw uint32[2] array); jax.random.key gives a typed
# key, the form the docs recommend. Same seed, same bits: only the type differs.
legacy, typed = jax.random.PRNGKey(seed), jax.random.key(seed)
print("legacy PRNGKey:", legacy.dtype, legacy.shape, "| typed key:", typed.dtype, typed.shape,
      "| same bits:", bool(jnp.array_equal(jax.random.key_data(typed), legacy)))
# fold_in derives a new key from a key and an integer (a step, a device index): no split needed
step_keys = [jax.random.fold_in(typed, step) for step in range(3)]
print("fold_in(key, 0..2) give different numbers:",
      len({float(jax.random.normal(k)) for k in step_keys}) == 3)

kw, kb, kx, kn = jax.random.split(jax.random.key(seed), 4)  # independent keys
w = jax.random.normal(kw, (n,))
b = jax.random.normal(kb, (n,))
x = jax.random.normal(kx, (n,))
y = w * x + b + 0.1 * jax.random.normal(kn, (n,))
print("with split keys, w == b:", bool(jnp.array_equal(w, b)))

# --- grad with argnums=(0, 1): the notes' example ------------------------------------
grad_fn = jax.grad(loss_fn, argnums=(0, 1))
grads = grad_fn(w, b, x, y)  # ✗ notes: returns (loss, grad)  ✓ JAX: returns (dL/dw, dL/db) only
demo.show(grads, "grad(loss_fn, argnums=(0, 1))(w, b, x, y)")
demo.correction("grad computes and returns the output value of fun and the gradient",
                "jax.grad returns only the gradient; the value needs jax.value_and_grad",
                actual=f"{type(grads).__name__} of {len(grads)} arrays, no loss in it")
# ✗ notes: "finally it returns a tuple of (loss, grad)"  ✓ JAX: (dL/dw, dL/db)
demo.correction("grad_fn finally returns a tuple of (loss, grad)",
                "for argnums=(0, 1) it returns (dL/dw, dL/db): one gradient per argument, "
                "each shaped like that argument",
                actual=f"shapes {[g.shape for g in grads]}")

# --- int vs tuple argnums ----------------------------------------------------------
g_int = jax.grad(loss_fn)(w, b, x, y)  # argnums=0 (int)
g_one = jax.grad(loss_fn, argnums=(0,))(w, b, x, y)  # a 1-tuple
print("argnums=0    ->", type(g_int).__name__, g_int.shape)
print("argnums=(0,) ->", type(g_one).__name__, len(g_one), "item")
# ✗ notes: "returns a tuple (grad)"  ✓ JAX: only for a tuple argnums; an int gives a bare array
demo.correction("grad returns a tuple (grad)",
                "only when argnums is a tuple; with an int argnums (the default, 0) you get the "
                "bare gradient array, not a 1-tuple",
                actual=f"argnums=0 -> {type(g_int).__name__} {g_int.shape}; "
                       f"argnums=(0,) -> {type(g_one).__name__} of {len(g_one)}")

try:
    jax.grad(loss_fn, argnums={"w": 0, "b": 1})(w, b, x, y)  # ✗ notes: argnums may be a pytree ✓ JAX: ints only
    argnums_error = None
except TypeError as exc:
    argnums_error = exc
    print("argnums as a dict ->", type(exc).__name__ + ":", exc)
# A dict with int keys gets through: grad iterates argnums, and a dict iterates its keys. The
# result is a tuple in key order, not a dict: nothing of the pytree survives.
by_keys = jax.grad(loss_fn, argnums={1: "b", 0: "w"})(w, b, x, y)
print("argnums={1: 'b', 0: 'w'} ->", type(by_keys).__name__, "of", len(by_keys),
      "| [0] is dL/db:", bool(jnp.allclose(by_keys[0], grads[1])))
# ✗ notes: argnums may be a pytree of indices  ✓ JAX: an int or a sequence of ints
demo.correction("argnums can be a pytree structure containing the indices",
                "argnums is an int or a sequence of ints; the notes' kind of dict, {'w': 0, "
                "'b': 1}, raises TypeError. A dict with int keys only passes because it is "
                "iterated for its keys: you get a tuple in key order. The *arguments* may be "
                "pytrees (see params below)",
                actual=argnums_error)

# --- value_and_grad: the value and the gradient --------------------------------------
# ✗ notes: grad's fun "is the function whose value and gradient are computed"  ✓ JAX: value_and_grad
loss, (gw, gb) = jax.value_and_grad(loss_fn, argnums=(0, 1))(w, b, x, y)
print("value_and_grad -> loss", loss, "and grads of shape", gw.shape, gb.shape)
demo.correction("fun: the function whose value and gradient are computed (said of grad)",
                "that describes jax.value_and_grad, which returns (value, grads); "
                "`loss, grad = ...` unpacks only with value_and_grad",
                actual=f"(loss={float(loss):.6g}, (f32{list(gw.shape)}, f32{list(gb.shape)}))")

# --- has_aux: return (scalar, aux), aux is not differentiated ------------------------
def loss_with_aux(w, b, x, y):
    err = w * x + b - y
    loss = jnp.mean(err ** 2)
    return loss, {"mse": loss, "max_abs_err": jnp.max(jnp.abs(err))}


(loss, aux), (gw, gb) = jax.value_and_grad(loss_with_aux, argnums=(0, 1), has_aux=True)(w, b, x, y)
demo.show(aux, "has_aux=True: aux (returned, not differentiated)")

# The notes' commented-out line: has_aux=True on loss_fn, which returns a plain scalar.
try:
    jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)(w, b, x, y)  # ✗ notes: has_aux=True ✓ JAX: TypeError
    aux_error = None
except TypeError as exc:
    aux_error = exc
    print("has_aux=True on a scalar loss ->", type(exc).__name__ + ":", str(exc).split(", but")[0])
fixed_loss, _ = jax.value_and_grad(loss_fn, argnums=(0, 1))(w, b, x, y)  # corrected: no has_aux
demo.correction("grad_fn = jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)  "
                "(commented out in the notes)",
                "has_aux=True says loss_fn returns (loss, aux); it returns only the loss, so the "
                "call raises TypeError. Drop has_aux, or return (loss, aux) as loss_with_aux does",
                actual=f"{type(aux_error).__name__}: {str(aux_error).split(', but')[0]}; without "
                       f"has_aux: loss {float(fixed_loss):.6g}")

# --- the output must be a real scalar ------------------------------------------------
def per_example_loss(w, b, x, y):
    return (w * x + b - y) ** 2  # a vector: one loss per sample


try:
    jax.grad(per_example_loss)(w, b, x, y)
    vector_error = None
except TypeError as exc:
    vector_error = exc
    print("grad of a vector output ->", type(exc).__name__ + ":", exc)
# ✗ notes: output may be a structure you pick a scalar from  ✓ JAX: must be a scalar (or (scalar, aux))
demo.correction("the output must be a scalar, or a structure where you can choose which scalar "
                "element to differentiate",
                "the output must be a real scalar; with has_aux=True, (scalar, aux). You cannot "
                "pick an element: index or reduce inside f, or use jax.jacobian / jax.vjp",
                actual=vector_error)
jac = jax.jacobian(lambda w: per_example_loss(w, b[:3], x[:3], y[:3]))(w[:3])
demo.show(jac, "jax.jacobian of the 3-sample vector loss (diagonal: each loss depends on its w)")

# --- integer inputs ------------------------------------------------------------------
def square(v):
    return v * v


try:
    jax.grad(square)(3)
    int_error = None
except TypeError as exc:
    int_error = exc
    print("grad at an int ->", type(exc).__name__ + ":", str(exc).split(". ")[0])
print("grad at a float -> ", jax.grad(square)(3.0))
# ✗ notes: (silent on dtypes)  ✓ JAX: only float/complex inputs can be differentiated
demo.correction("(never mentioned) grad(f)(3): differentiate at an integer input",
                "grad needs float or complex inputs: an int raises TypeError; pass 3.0, not 3",
                actual=int_error)

# --- pytree arguments: a dict of parameters -------------------------------------------
params = {"w": w, "b": b}


def loss_params(params, x, y):
    return loss_fn(params["w"], params["b"], x, y)


g_params = jax.grad(loss_params)(params, x, y)
demo.show(g_params, "grad w.r.t. a dict of params: same structure back")
print("same keys as params:", sorted(g_params) == sorted(params),
      "| equal to argnums=(0, 1):", bool(jnp.allclose(g_params["w"], grads[0])))

demo.inspect(jax.grad(loss_fn, argnums=(0, 1)), w, b, x, y, name="grad(loss_fn, argnums=(0, 1))")
