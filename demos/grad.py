"""# grad: automatic differentiation

`jax.grad(f)` returns a new function that computes the **gradient** of `f`, and only the
gradient. `f` must return a real scalar. `argnums` picks which arguments to
differentiate: an int gives one array back, a tuple gives a tuple.

To get the loss *and* the gradient in one pass, use `jax.value_and_grad`.
"""
import jax
import jax.numpy as jnp

from jaxtui import demo

n = demo.input("n", 1000, "number of samples", min=1, max=10_000_000)


def loss_fn(w, b, x, y):
    y_pred = w * x + b
    return jnp.mean((y_pred - y) ** 2)


# Independent keys: the notes reuse PRNGKey(42) for everything, so w, b and x come out equal.
kw, kb, kx, kn = jax.random.split(jax.random.key(42), 4)
w = jax.random.normal(kw, (n,))
b = jax.random.normal(kb, (n,))
x = jax.random.normal(kx, (n,))
y = w * x + b + 0.1 * jax.random.normal(kn, (n,))

grads = jax.grad(loss_fn, argnums=(0, 1))(w, b, x, y)
demo.show(grads, "grad(loss_fn, argnums=(0, 1))")
demo.correction("grad returns the loss and the gradient",
                "grad returns only the gradients: a tuple (dL/dw, dL/db) for argnums=(0, 1)",
                actual=f"{type(grads).__name__} of {len(grads)} arrays")

loss, (gw, gb) = jax.value_and_grad(loss_fn, argnums=(0, 1))(w, b, x, y)
print("value_and_grad loss:", loss)
demo.inspect(jax.grad(loss_fn, argnums=(0, 1)), w, b, x, y, name="grad(loss_fn)")
