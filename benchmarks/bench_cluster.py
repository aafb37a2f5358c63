"""A cluster's start-up cost: 4 kernels joined by jax.distributed against the same 4 kernels
started the same way (concurrently, 2 CPU devices each) but not joined, and against one kernel.

What joining adds: process 0 serves the coordinator, every process connects and waits for the
others, then JAX starts its CPU backend with gloo collectives. Measured from spawn to the
merged `ready` (KernelCluster.start) and to each kernel's `ready` (KernelClient.start), in the
same order in every repeat so drift hits all alike; then one global sum on the cluster (its
first collective: gloo connects its pairs). Target: the cluster within 1.5 s of the 4 kernels
started unjoined; against one kernel the difference is mostly 4 imports of JAX sharing the
cores (on a 2-core machine they cannot all run at once).

Run: python benchmarks/bench_cluster.py [--processes N] [--repeats N].
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jaxtui import protocol as P  # noqa: E402
from jaxtui.core.client import KernelClient, KernelConfig  # noqa: E402
from jaxtui.core.cluster import ClusterSpec, KernelCluster  # noqa: E402

GLOBAL_SUM = """\
import numpy as np
import jax, jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec as P
mesh = jax.make_mesh((jax.device_count(),), ("i",))
x = jax.make_array_from_process_local_data(NamedSharding(mesh, P("i")), np.ones((jax.local_device_count(),)))
total = float(jax.jit(jnp.sum)(x))
"""


async def one_kernel() -> float:
    client = KernelClient(KernelConfig(host_devices=2))
    t0 = time.perf_counter()
    await client.start()
    took = time.perf_counter() - t0
    await client.stop()
    return took


async def unjoined(n: int) -> float:
    clients = [KernelClient(KernelConfig(host_devices=2)) for _ in range(n)]
    t0 = time.perf_counter()
    await asyncio.gather(*(c.start() for c in clients))
    took = time.perf_counter() - t0
    await asyncio.gather(*(c.stop() for c in clients))
    return took


async def cluster(n: int) -> tuple[float, float]:
    c = KernelCluster(KernelConfig(host_devices=2), ClusterSpec(processes=n))
    t0 = time.perf_counter()
    await c.start()
    took = time.perf_counter() - t0
    t = time.perf_counter()
    result = await c.request(P.OP_EXEC, {"code": GLOBAL_SUM, "demo": "bench", "inputs": {}})
    first_sum = time.perf_counter() - t
    assert result["ok"], result["error"]
    await c.stop()
    return took, first_sum


async def bench(n: int, repeats: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"one": [], "unjoined": [], "cluster": [], "first_sum": []}
    for _ in range(repeats):
        figures["one"].append(await one_kernel())
        figures["unjoined"].append(await unjoined(n))
        took, first_sum = await cluster(n)
        figures["cluster"].append(took)
        figures["first_sum"].append(first_sum)
    return figures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    figures = asyncio.run(bench(args.processes, args.repeats))
    med = {k: statistics.median(v) for k, v in figures.items()}
    n = args.processes
    print(f"median of {args.repeats} repeats, {n} processes x 2 CPU devices")
    print(f"  one kernel ready:                      {med['one']:6.2f} s")
    print(f"  {n} kernels ready, started together:      {med['unjoined']:6.2f} s")
    print(f"  {n}-process cluster ready (joined):       {med['cluster']:6.2f} s "
          f"({med['cluster'] - med['unjoined']:+.2f} s for joining)")
    print(f"  first global sum on the cluster:       {med['first_sum']:6.2f} s")
    ok = med["cluster"] - med["unjoined"] <= 1.5
    print(f"target (joining adds at most 1.5 s to {n} kernels started together): {'met' if ok else 'NOT met'}")
    print(f"against one kernel: {med['cluster'] - med['one']:+.2f} s (with fewer cores than processes, "
          f"the {n} imports of JAX compete for them: compare with the unjoined line)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
