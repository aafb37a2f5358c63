"""# multihost: one program in every process, one JAX cluster

Large JAX jobs run **one Python process per host** (a TPU pod slice: one per VM; a GPU
cluster: one per node), joined by `jax.distributed.initialize(coordinator, num_processes,
process_id)`. This is JAX's **multi-controller** model: there is no driver process. Every
process runs **the same program**; each sees **every** device (`jax.devices()`) but drives
only its own (`jax.local_devices()`), and the compiled collectives (all-reduce, all-gather)
move the data between processes: over gloo on CPU, ICI/DCN on TPU, NCCL on GPU.

**Start a cluster:** `jaxtui multihost --processes 4` (the app) or
`jaxtui run multihost --processes 2` starts N kernels on this machine, 2 CPU devices each,
and joins them; your code never calls `jax.distributed.initialize`. Each process's Output
is in the Processes tab. On several hosts: `jaxtui --remote h1,h2`. Alone (no --processes),
this runs as a cluster of one process.

What to look at:
- `jax.process_index()` / `jax.process_count()`; `device.process_index` says whose a device is;
- `jax.make_array_from_process_local_data`: each process gives **its own rows**, the result is
  one global array that **no process holds whole** (`is_fully_addressable` is False);
- a `jit` over it compiles to HLO with an `all-reduce` between processes;
- `multihost_utils.process_allgather` brings the whole array to every process (as numpy).

**The one rule that bites:** every process must run **the same computations in the same
order**. A process that skips a collective leaves the others waiting in it, silently, for
ever: JAX cannot tell. Set `diverge` to 1 (with 2 or more processes): the last process skips
the second sum, and jaxtui names the processes left waiting.
"""
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxtui import demo

rows = demo.input("rows", 2, "rows of data per local device", min=1, max=64)
diverge = demo.input("diverge", 0, "1: the last process skips the second sum (needs 2+ processes)", min=0, max=1)

me, count = jax.process_index(), jax.process_count()
print(f"process {me} of {count}: local devices {[d.id for d in jax.local_devices()]}, "
      f"{jax.device_count()} devices in the cluster")
if count == 1:
    print("A cluster of one process. Start more: jaxtui multihost --processes 4, "
          "or jaxtui run multihost --processes 2")

# --- 1. Every device, and the process that drives it ---------------------------------------
owners: dict[int, list[int]] = {}
for d in jax.devices():
    owners.setdefault(d.process_index, []).append(d.id)
print("devices by process:", ", ".join(f"{p}: {ids}" for p, ids in sorted(owners.items())))
print("mine (local_devices):", [d.id for d in jax.local_devices()])

# --- 2. One global array, built from each process's own rows --------------------------------
mesh = jax.make_mesh((jax.device_count(),), ("i",), axis_types=(AxisType.Auto,))
local = (np.arange(rows * jax.local_device_count() * 4, dtype=np.float32).reshape(-1, 4)
         + 100 * me)  # process p's rows start at 100 * p: easy to tell apart
x = jax.make_array_from_process_local_data(NamedSharding(mesh, P("i")), local)
print(f"local rows {local.shape} -> global array {x.shape}; is_fully_addressable: {x.is_fully_addressable}")
for shard in x.addressable_shards:
    start, stop, _ = shard.index[0].indices(x.shape[0])
    print(f"  my shard on device {shard.device.id}: rows {start}:{stop} of the global array")
demo.sharding(x, "x: each process holds its own rows")

# --- 3. A compiled collective: the sum over every process's rows ----------------------------
total_fn = jax.jit(jnp.sum)
total = total_fn(x)  # replicated on every device: each process can read it
print("sum over the whole cluster:", float(total))
hlo = total_fn.lower(x).compile().as_text()
collectives = sorted({w for w in ("all-reduce", "all-gather", "reduce-scatter", "all-to-all")
                      if w in hlo})
print("collectives in the compiled HLO:", ", ".join(collectives) or "none (one process, one device?)")
demo.inspect(total_fn, x, name="jit(sum) over a global array")

# --- 4. Bring the whole array to every process ----------------------------------------------
full = multihost_utils.process_allgather(x, tiled=True)
print(f"process_allgather: a numpy {full.shape} here, first column by row owner:",
      sorted({int(v) // 100 for v in full[:, 0]}))

# --- 5. Diverge on purpose ------------------------------------------------------------------
if diverge and count > 1 and me == count - 1:
    print(f"process {me} skips the second sum: the others will wait for it in the all-reduce")
else:
    print("second sum:", float(total_fn(x * 2)))
if diverge and count == 1:
    print("diverge needs 2 or more processes: jaxtui run multihost --processes 2 --input diverge=1")
