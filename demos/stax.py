"""# stax: a small neural net from JAX's example library

`jax.example_libraries.stax` builds a network from layers; each layer is a pair
`(init_fun, apply_fun)`:

- `init_fun(key, input_shape)` returns `(output_shape, params)`: params are a
  **pytree** (a list of per-layer tuples of arrays).
- `apply_fun(params, inputs)` runs the network: a pure function, so `grad`, `jit` and
  `vmap` apply to it directly.

`jax.example_libraries.optimizers` has the matching optimizers (`sgd`, `momentum`,
`adam`...), each a triple `(init, update, get_params)`. Here an MLP learns
`y = sin(x)`; the update step is `jit`-compiled, and the loss curve is drawn as it trains.

Both modules are **example libraries**, kept small for learning (stax's own docstring says
so); real projects use Flax (networks) and Optax (optimizers).
"""
import jax
import jax.numpy as jnp
from jax.example_libraries import optimizers, stax

from jaxtui import demo

lr = demo.input("lr", 0.003, "Adam learning rate", min=1e-6, max=1.0)
steps = demo.input("steps", 600, "training steps", min=1, max=100_000)
hidden = demo.input("hidden", 32, "width of each hidden layer", min=1, max=4096)
batch = demo.input("batch", 256, "training examples", min=8, max=1_000_000)

# --- The network --------------------------------------------------------------------
init_fun, apply_fun = stax.serial(
    stax.Dense(hidden), stax.Relu,
    stax.Dense(hidden), stax.Relu,
    stax.Dense(1),
)
k_init, k_x = jax.random.split(jax.random.key(0))
# -1 means any batch size. The first init is slow: each random initializer compiles once.
out_shape, params = init_fun(k_init, (-1, 1))
print("output shape:", out_shape)
print("param shapes per layer:", jax.tree.map(lambda a: a.shape, params))
# ✗ notes: stax is a JAX feature for networks  ✓ JAX: an example library; Flax + Optax for real work
doc = " ".join(stax.__doc__.split())
warning = doc.split(". ")[1] + "."  # "You likely do not mean to import this module! ..."
demo.correction("stax: the JAX feature to build and optimize neural networks",
                "jax.example_libraries.stax and .optimizers are example libraries, small and "
                "frozen; they still ship in jax 0.10, but networks are built with Flax and "
                "trained with Optax",
                actual=f"stax docstring: {warning!r}")

# --- Data: y = sin(x) on [-pi, pi] ------------------------------------------------------
x = jax.random.uniform(k_x, (batch, 1), minval=-jnp.pi, maxval=jnp.pi)
y = jnp.sin(x)


def loss(params, x, y):
    return jnp.mean((apply_fun(params, x) - y) ** 2)


# Marked before training (with the initial params: same shapes), so live mode's views
# need only the lines above, not the training loop.
demo.inspect(loss, params, x, y, name="loss(params, x, y)")


# --- Training with Adam ---------------------------------------------------------------------
opt_init, opt_update, get_params = optimizers.adam(lr)
opt_state = opt_init(params)


@jax.jit
def update(i, opt_state, x, y):
    value, grads = jax.value_and_grad(loss)(get_params(opt_state), x, y)
    return value, opt_update(i, grads, opt_state)


every = max(1, steps // 20)  # redraw the curve about 20 times
pending, losses, at = [], [], []
for i in range(steps):
    value, opt_state = update(i, opt_state, x, y)
    pending.append(value)  # stays on the device: no sync on every step
    if (i + 1) % every == 0 or i + 1 == steps:
        for j, v in enumerate(jax.device_get(pending)):  # one transfer per redraw
            at.append(i + 1 - len(pending) + j)
            losses.append(float(v))
        pending = []
        demo.plot("loss", at, losses, title="training loss (MSE)", xlabel="step", ylabel="loss",
                  logy=True)
        demo.progress("training", i + 1, steps)

params = get_params(opt_state)
print(f"loss: step 0 {losses[0]:.4g} -> step {steps - 1} {losses[-1]:.4g}  (min {min(losses):.4g})")
print("decreased:", losses[-1] < losses[0])
x_test = jnp.linspace(-3.0, 3.0, 7)[:, None]
demo.show(jnp.hstack([x_test, jnp.sin(x_test), apply_fun(params, x_test)]),
          "x | sin(x) | prediction")

# --- Per-example gradients: vmap over value_and_grad -----------------------------------------
per_example = jax.jit(jax.vmap(jax.value_and_grad(loss), in_axes=(None, 0, 0)))
xb, yb = x[:8, None], y[:8, None]  # 8 examples, each a batch of one: (8, 1, 1)
ex_losses, ex_grads = per_example(params, xb, yb)
print("per-example losses:", ex_losses.shape)
print("per-example grad leaf shapes (8 in front of each param's shape):",
      [leaf.shape for leaf in jax.tree.leaves(ex_grads)])
mean_grad = jax.tree.map(lambda g: g.mean(0), ex_grads)
batch_grad = jax.jit(jax.grad(loss))(params, x[:8], y[:8])
print("mean of per-example grads == grad of the mean loss:",
      all(bool(jnp.allclose(a, b, atol=1e-6)) for a, b in
          zip(jax.tree.leaves(mean_grad), jax.tree.leaves(batch_grad))))
