"""# playground: any function, and what JAX makes of it

Edit `f` and its example arguments, then look at the **Jaxpr**, **StableHLO**, **HLO**
(after XLA's passes: see the fusions), **Cost** and **Compiles** tabs. Press **ctrl+l**
for live mode: the views follow your typing, half a second after you stop, the way
Compiler Explorer does.

Things to try:

- Move the cursor over a line of `f`: the jaxpr equations (and HLO instructions) it
  produced are highlighted. In a view, move the cursor: the source line lights up.
- Put a Python `if x.sum() > 0:` in `f`: tracing fails, the error names the line, and
  the views keep the last good result, marked stale. `jnp.where` or `lax.cond` fix it.
- Add a `for` loop: it unrolls into the jaxpr. `lax.fori_loop` keeps one loop body.
- Grow `n` and read the Cost tab: the bytes grow with `n`, the flops per byte do not.
- Mark another function: `demo.inspect(jax.vmap(f), xs, y)` with `xs` of shape
  `(4, n)`, or `jax.jacfwd(f)`.

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
