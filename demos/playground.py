"""# playground: any function, and what JAX makes of it

Edit `f` and its example arguments, then look at the **Jaxpr**, **StableHLO**, **HLO**
(after XLA's passes: see the fusions), **Cost** and **Compiles** tabs. Press **ctrl+l**
for live mode: the views follow your typing, half a second after you stop, the way
Compiler Explorer does.

Things to try (each snippet runs as written, pasted at the end of the file):

- Move the cursor over a line of `f`: the jaxpr equations (and HLO instructions) it
  produced are highlighted. In a view, move the cursor: the source line lights up.
- A Python `if` on a traced value: tracing fails, the error names the line, and in live
  mode the views keep the last good result, marked stale:

      def g(x, y):
          if x.sum() > 0:  # fails: TracerBoolConversionError
              return x * y
          return -x * y


      demo.inspect(g, x, y, name="g: a Python if")

- `jnp.where` or `lax.cond` fix it:

      from jax import lax


      def g_where(x, y):
          return jnp.where(x.sum() > 0, x * y, -x * y)


      def g_cond(x, y):
          return lax.cond(x.sum() > 0, lambda: x * y, lambda: -x * y)


      demo.inspect(g_where, x, y, name="g_where")
      demo.inspect(g_cond, x, y, name="g_cond")

- A Python `for` unrolls into the jaxpr (three `sin`); `lax.fori_loop` keeps one loop
  body (one `sin`, inside a `scan`):

      from jax import lax


      def h(x):
          for _ in range(3):
              x = jnp.sin(x)
          return x


      demo.inspect(h, x, name="h: a Python for")
      demo.inspect(lambda x: lax.fori_loop(0, 3, lambda i, v: jnp.sin(v), x), x, name="h: fori_loop")

- Grow `n` in the form (say to 100000) and read the Cost tab: the bytes grow with `n`,
  the flops per byte do not.
- Mark another function. `jax.vmap(f)` maps every argument over axis 0, so a batch of
  rows `xs` with the same `y` for every row needs `in_axes=(0, None)` (with the default
  `(0, 0)`, `y` of length `n` and `xs` of 4 rows do not match). `jax.jacfwd(f)`: the
  `(n, n)` Jacobian, since `f` returns a vector:

      xs = jnp.ones((4, n))
      demo.show(jax.vmap(f, in_axes=(0, None))(xs, y), "vmap(f) over 4 rows")
      demo.inspect(jax.vmap(f, in_axes=(0, None)), xs, y, name="vmap(f)")
      demo.show(jax.jacfwd(f)(x, y), "jacfwd(f)")
      demo.inspect(jax.jacfwd(f), x, y, name="jacfwd(f)")

In a view: `/` finds, `n` goes to the next match, `y` copies (OSC 52, works over SSH),
`s` saves it to a file.
"""
import jax
import jax.numpy as jnp

from jaxtui import demo

n = demo.input("n", 8, "length of x and y", min=1, max=10_000_000)


def f(x, y):
    z = jnp.sin(x) * y
    return z + 0.5 * jnp.cos(z)


x = jnp.linspace(0.0, 1.0, n)
y = jnp.ones(n)
demo.show(f(x, y), "f(x, y)")

demo.inspect(f, x, y, name="f(x, y)")
demo.inspect(jax.grad(lambda x, y: f(x, y).sum()), x, y, name="grad of f(x, y).sum()")
