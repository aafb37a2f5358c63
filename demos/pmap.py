"""# pmap: one program on every device, and its successors

`jax.pmap(f, axis_name="i")` runs `f` on each device, one slice of the leading axis per
device; inside, **collectives** such as `lax.psum(v, "i")` combine values across devices.

Since JAX 0.8, pmap is **implemented with `jit` + `shard_map`** and is in maintenance
mode. Today's two ways to write the same program:

- **`jax.shard_map(f, mesh=..., in_specs=P("i"), out_specs=P("i"))`**: you still write
  the per-device program and the collectives by hand, on a named device **mesh**. The
  same `f` sees a different shape: pmap hands each device its slice *without* the mapped
  axis (a row of shape `(4,)`), shard_map hands it a block that keeps it (`(1, 4)`).
- **`jax.jit` on arrays placed with a `NamedSharding`**: you write the global program;
  XLA partitions it and inserts the communication (an `all-reduce` in the HLO tab).

`jax.make_mesh` builds *Explicit* meshes by default (since 0.9), on which shard_map
wants its inputs already sharded; pass `axis_types=(AxisType.Auto,)` or `device_put` first.

No accelerator? The app gives its kernel 8 virtual CPU devices (`--host-devices N`);
as a script this file sets `XLA_FLAGS` itself before importing jax. The virtual devices
share the machine's real cores: they show **placement** (who holds what, where the
collectives go), not a speed-up.
"""
import os

if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    # Virtual CPU devices must be asked for before JAX starts; keep any flags already set.
    flags = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    os.environ["XLA_FLAGS"] = flags.strip()

import numpy as np  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402
from jax.sharding import AxisType, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

from jaxtui import demo  # noqa: E402

wanted = demo.input("devices", 4, "how many devices to use (at most jax.device_count())", min=1, max=512)
n = min(wanted, jax.device_count())
print(f"platform {jax.default_backend()}: {jax.device_count()} devices, using {n}:",
      ", ".join(str(d) for d in jax.devices()[:n]))
if jax.default_backend() == "cpu":  # virtual devices: one process, the machine's own cores
    print(f"{jax.device_count()} CPU devices in one process on {os.cpu_count()} CPU cores: "
          "placement, not a speed-up")

# Each device gets one row; every row is divided by the sum over ALL rows (a collective).
x = jnp.arange(n * 4, dtype=jnp.float32).reshape(n, 4)
expected = x / x.sum()


def same(a, b):  # compare on the host: arrays on different meshes do not mix in one op
    return bool(np.allclose(jax.device_get(a), jax.device_get(b)))


seen = {}  # the shape each way of mapping hands to normalize, recorded while tracing


def normalize(row):  # the per-device program: `row` is this device's slice
    seen.setdefault(seen.get("now", "?"), row.shape)
    return row / lax.psum(row.sum(), axis_name="i")


# --- 1. pmap ---------------------------------------------------------------------------
pmapped = jax.pmap(normalize, axis_name="i", devices=jax.devices()[:n])
seen["now"] = "pmap"
y_pmap = pmapped(x)
print("pmap result == x / x.sum():", same(y_pmap, expected))
print("pmap output sharding:", y_pmap.sharding)
print("per-device shard shape:", y_pmap.addressable_shards[0].data.shape, "(the leading axis is kept)")
demo.sharding(y_pmap, "pmap output: one row per device")

# ✗ notes: pmap is the way to distribute  ✓ JAX: pmap is jit + shard_map now, in maintenance mode
pmap_jaxpr = str(jax.make_jaxpr(pmapped)(x))
print("make_jaxpr(pmap(f)) contains shard_map:", "shard_map" in pmap_jaxpr)
demo.correction("pmap: the distributed-computing feature (the notes name it, without an example)",
                "pmap still works, but since JAX 0.8 it is implemented as jit + shard_map and is in "
                "maintenance mode; new code uses jax.shard_map or jit with NamedSharding",
                actual=f"'shard_map' in make_jaxpr(pmap(f)): {'shard_map' in pmap_jaxpr}")

# --- 2. shard_map: the same per-device program on a named mesh --------------------------
mesh = jax.make_mesh((n,), ("i",), axis_types=(AxisType.Auto,), devices=jax.devices()[:n])
sharded_normalize = jax.shard_map(normalize, mesh=mesh, in_specs=P("i"), out_specs=P("i"))
seen["now"] = "shard_map"
y_shmap = sharded_normalize(x)
print("shard_map result == pmap result:", same(y_shmap, y_pmap))
print(f"inside normalize, pmap's row has shape {seen['pmap']} (the mapped axis is gone); "
      f"shard_map's block has shape {seen['shard_map']} (it keeps it)")
demo.sharding(y_shmap, "shard_map output, P('i')")

explicit = jax.make_mesh((n,), ("i",), devices=jax.devices()[:n])  # the default: Explicit axes
print("jax.make_mesh default axis types:", explicit.axis_types)
try:
    jax.shard_map(normalize, mesh=explicit, in_specs=P("i"), out_specs=P("i"))(x)
    print("shard_map on an Explicit mesh accepted an unsharded input")
except ValueError as exc:
    print("shard_map on an Explicit mesh, unsharded input ->", type(exc).__name__ + ":",
          str(exc).split(". ")[0])
x_on_explicit = jax.device_put(x, NamedSharding(explicit, P("i")))
y_explicit = jax.shard_map(normalize, mesh=explicit, in_specs=P("i"), out_specs=P("i"))(x_on_explicit)
print("after device_put to NamedSharding(mesh, P('i')) it runs:", same(y_explicit, y_pmap))

# --- 3. jit + NamedSharding: write the global program, XLA partitions it -----------------
x_sharded = jax.device_put(x, NamedSharding(mesh, P("i")))
demo.sharding(x_sharded, "input placed with NamedSharding(mesh, P('i'))")


@jax.jit
def normalize_global(x):
    return x / x.sum()  # no axis names, no psum: the compiler adds the all-reduce


y_jit = normalize_global(x_sharded)
print("jit result == pmap result:", same(y_jit, y_pmap), "| output sharding:", y_jit.sharding.spec)
hlo = normalize_global.lower(x_sharded).compile().as_text()
print("compiled HLO has an all-reduce:", "all-reduce" in hlo)
demo.inspect(normalize_global, x_sharded, name="jit + NamedSharding")

# --- 4. Two mesh axes: rows and columns ---------------------------------------------------
if n >= 4 and n % 2 == 0:
    mesh2 = jax.make_mesh((2, n // 2), ("rows", "cols"), axis_types=(AxisType.Auto,) * 2,
                          devices=jax.devices()[:n])
    grid = jnp.arange(4 * n, dtype=jnp.float32).reshape(4, n)
    demo.sharding(jax.device_put(grid, NamedSharding(mesh2, P("rows", "cols"))),
                  "P('rows', 'cols'): a tile per device")
    demo.sharding(jax.device_put(grid, NamedSharding(mesh2, P("rows", None))),
                  "P('rows', None): rows split, each half copied along 'cols'")
    demo.sharding(jax.device_put(grid, NamedSharding(mesh2, P())), "P(): replicated on every device")
else:
    print(f"(a 2-D mesh needs an even device count >= 4; using {n})")

demo.inspect(pmapped, x, name="pmap(normalize)")
