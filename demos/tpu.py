"""# tpu: compile for a TPU slice you do not have

XLA's TPU compiler runs on any Linux x86_64 machine. With JAX's TPU runtime installed
(`pip install "jaxtui[tpu]"`, which brings `libtpu`),
`jax.experimental.topologies.get_topology_desc("v5e:2x2", "tpu")` gives **compile-only
devices**: no array can live on them, but
`jax.jit(f).lower(jax.ShapeDtypeStruct(shape, dtype, sharding=...)).compile()` returns
the real TPU program: optimised HLO, cost, and memory per chip. jaxtui does this for every
function marked with `demo.inspect(..., target="tpu-v5e:2x2")` (or all of them with
`jaxtui --target tpu-v5e:2x2`, or the Devices tab's "compile also for"). The code itself
still runs here, on the CPU.

This lesson compiles one bf16 matmul four times: on a **v5e 2x2** slice (4 chips, one
host) and a **v5e 4x4** slice (16 chips, four hosts), each **whole on one chip** and
**sharded** with the PartitionSpecs in the form, over a mesh of the slice's chips (axes
`x` and `y`, as the chips sit in the torus). Then read:

- **HLO**: each `@ tpu-v5e:...` block starts with what the compiler did: memory per chip
  (and the change from one chip), the **collectives it inserted** (`all-gather`,
  `all-reduce`, `reduce-scatter`, `all-to-all`, `collective-permute`) with their sizes.
  Below, TPU layouts such as `bf16[512,512]{1,0:T(8,128)(2,1)}`: tiles of 8x128, which
  only a TPU compile writes.
- **Cost**: flops and bytes *per chip*; sharded, each chip does a fraction of the work.
- **Devices**: with a target chosen, its pod map: which chips share a host.

Things to try: `a_spec` `("x", None)` with `b_spec` `(None, None)` splits only the rows
(each chip computes its own rows: no collective at all); `(None, "x")` with `("x", None)`
splits the contracted dimension (partial sums, added up by an all-reduce). A spec that
does not divide the shape is an error for that function only.

No libtpu (macOS, arm64, or not installed)? The lesson says so and compiles for the CPU
alone; everything else runs the same.
"""
import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec as P

from jaxtui import demo

n = demo.input("n", 4096, "the matrices are n x n, bfloat16 (only their shape is used)", min=128,
               max=65536)
a_spec = demo.input("a_spec", ("x", "y"), "PartitionSpec of a over the chips' axes x, y (None: not split)")
b_spec = demo.input("b_spec", ("y", None), "PartitionSpec of b (None: not split)")


@jax.jit
def matmul(a, b):
    return a @ b


# It runs here, on a small size: the TPU compiles below need only shapes and dtypes.
small = jnp.ones((256, 256), jnp.bfloat16)
demo.show(matmul(small, small)[0, :4], "matmul runs here, on the CPU: (256 x 256) @ (256 x 256), first row")

# A ShapeDtypeStruct is an array's shape and dtype without the array: no memory is
# allocated, which is how a 65536 x 65536 matrix (8 GiB) can be compiled for.
a = jax.ShapeDtypeStruct((n, n), jnp.bfloat16)
b = jax.ShapeDtypeStruct((n, n), jnp.bfloat16)
shardings = (P(*a_spec), P(*b_spec))
print(f"one operand: {n} x {n} bf16 = {n * n * 2 / 2**20:,.0f} MiB; "
      f"sharded as {shardings[0]} and {shardings[1]}")

if not demo.tpu_available():
    print("libtpu is not installed, so nothing is compiled for a TPU here: "
          'pip install "jaxtui[tpu]" (Linux x86_64), then run again.\n'
          "The views show the CPU's compile of the same matmul.")
    demo.inspect(matmul, a, b, name="matmul on this machine")
else:
    for slice_ in ("tpu-v5e:2x2", "tpu-v5e:4x4"):
        demo.inspect(matmul, a, b, name="whole on one chip", target=slice_)
        demo.inspect(matmul, a, b, name="sharded", target=slice_, shardings=shardings)
    if not demo.running_in_app():
        print("Run it in jaxtui (`jaxtui --pane tpu`, or `jaxtui run tpu`) to see the TPU compiles.")
