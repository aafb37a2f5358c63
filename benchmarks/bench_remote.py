"""A remote kernel's cost: the same trivial run through ssh to 127.0.0.1 and on a local kernel.

Starts a real OpenSSH server on 127.0.0.1 (tests/sshd.py: throwaway keys, an ssh config
alias), then, on the same machine and interleaved so drift hits both alike:

1. kernel ready: spawn to `ready` (remote: ssh connect, login, the supervisor, the worker);
2. a trivial run's wall time on a warm kernel (`exec` of `2 * 3`), and the part of it beyond
   the kernel's own compute time (`elapsed_s`);
3. a `ping` round trip (the protocol alone, no code run).

The remote side adds one relay hop each way (ssh's encryption, sshd, the supervisor's
relay); a run is still one request line out and its events back (target: a trivial run
within 10 ms of the local one on localhost; over a real link add the network's round trip).

Run: python benchmarks/bench_remote.py [--repeats N]. Needs openssh-server (/usr/sbin/sshd).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from jaxtui import protocol as P  # noqa: E402
from jaxtui.core.client import KernelClient, KernelConfig  # noqa: E402
from jaxtui.core.transport import SSH_COMMAND_ENV, SshTransport  # noqa: E402

TRIVIAL = "2 * 3"


async def measure(client: KernelClient, runs: int) -> dict[str, list[float]]:
    t0 = time.perf_counter()
    await client.start()
    figures: dict[str, list[float]] = {"ready": [time.perf_counter() - t0], "run": [], "beyond": [], "ping": []}
    for _ in range(5):  # warm-up: the first runs compile and fill caches
        await client.request(P.OP_EXEC, {"code": TRIVIAL, "demo": "bench"})
    for _ in range(runs):
        t = time.perf_counter()
        result = await client.request(P.OP_EXEC, {"code": TRIVIAL, "demo": "bench"})
        wall = time.perf_counter() - t
        figures["run"].append(wall)
        figures["beyond"].append(wall - result["elapsed_s"])
        t = time.perf_counter()
        await client.request(P.OP_PING)
        figures["ping"].append(time.perf_counter() - t)
    await client.stop()
    return figures


async def bench(server, repeats: int, runs: int) -> dict[str, dict[str, list[float]]]:
    os.environ[SSH_COMMAND_ENV] = server.ssh_command
    out: dict[str, dict[str, list[float]]] = {"local": {}, "remote": {}}
    config = KernelConfig(host_devices=1)
    for _ in range(repeats):  # interleaved
        for where, transport in (("local", None), ("remote", SshTransport(server.host, server.remote_python))):
            figures = await measure(KernelClient(config, transport=transport), runs)
            for key, values in figures.items():
                out[where].setdefault(key, []).extend(values)
    return out


def main() -> int:
    import sshd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="kernel starts per side (default 3)")
    parser.add_argument("--runs", type=int, default=30, help="trivial runs per kernel (default 30)")
    args = parser.parse_args()
    try:
        server = sshd.start(Path(tempfile.mkdtemp(prefix="jaxtui-bench-sshd-")), sys.executable, str(REPO))
    except sshd.SshdUnavailable as exc:
        print(f"bench_remote: {exc}", file=sys.stderr)
        return 1
    try:
        figures = asyncio.run(bench(server, args.repeats, args.runs))
    finally:
        server.stop()
    local, remote = figures["local"], figures["remote"]
    med = {side: {k: statistics.median(v) for k, v in figs.items()} for side, figs in figures.items()}
    print(f"medians of {args.repeats} kernel starts and {args.repeats * args.runs} trivial runs per side "
          f"(ssh to 127.0.0.1 vs a local kernel, same machine)")
    print(f"{'figure':<40} {'local':>10} {'ssh':>10} {'extra':>10}")
    for key, name in (("ready", "kernel ready (spawn to ready)"), ("run", "trivial run, wall"),
                      ("beyond", "trivial run beyond compute"), ("ping", "ping round trip")):
        extra = med["remote"][key] - med["local"][key]
        print(f"{name:<40} {med['local'][key] * 1000:>8.1f}ms {med['remote'][key] * 1000:>8.1f}ms "
              f"{extra * 1000:>+8.1f}ms")
    extra_run = med["remote"]["run"] - med["local"]["run"]
    verdict = "PASS" if extra_run <= 0.010 else "FAIL"
    print(f"{verdict}: a trivial run over ssh costs {extra_run * 1000:+.1f} ms (target <= +10 ms on localhost); "
          f"p90 local {_p90(local['run']) * 1000:.1f} ms, ssh {_p90(remote['run']) * 1000:.1f} ms")
    return 0


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


if __name__ == "__main__":
    raise SystemExit(main())
