"""`--memory-limit`: watch the kernel's resident memory and stop it at the limit.

RLIMIT_AS cannot do this: it counts virtual memory, and XLA reserves a lot of it that it
never touches (1.6 GB virtual against 226 MB resident after one tiny op, measured). So the UI
side reads the resident set (RSS) of the kernel's whole process tree from /proc, ten times a
second, and kills the tree once it passes the limit. A program that fills memory very fast can
pass the limit by what it touches in one interval before it is stopped.

The kernel leads a process group of its own (ladder.py starts it in a new session), so its
tree is every process of that group, the children its code starts included: the group the
ladder kills. The members are looked up once a second (a scan of /proc, in a thread); the
RSS of the known members every interval (one small read each).

On a GPU, device memory is not in the RSS: there XLA's own allocator enforces the limit, via
its memory fraction (`device_env`), and a run past it fails with XLA's RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jaxtui.ladder import group_members
from jaxtui.render.units import format_bytes

INTERVAL_S = 0.1
RESCAN_EVERY = 10  # intervals between two lookups of the session's members
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
FRACTION_VARS = ("XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_CLIENT_MEM_FRACTION")


class BadSize(ValueError):
    pass


def parse_size(text: str) -> int:
    """'4G', '512M', '1.5GiB', '800MB', '1073741824' -> bytes (K, M, G, T are powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise BadSize(f"not a size: {text!r} (e.g. 4G, 512M, 1.5GiB)")
    size = int(float(match.group(1)) * UNITS[match.group(2).lower()])
    if size <= 0:
        raise BadSize(f"the size must be positive, got {text!r}")
    return size


@dataclass(frozen=True)
class OverLimit:
    """The kernel's tree used `rss` bytes, past `limit`."""

    limit: int
    rss: int

    @property
    def message(self) -> str:
        return (f"out of memory: the kernel used {format_bytes(self.rss)} of memory (resident), past "
                f"--memory-limit {format_bytes(self.limit)}, and was stopped")


# -- reading /proc --------------------------------------------------------------------------
def rss_bytes(pid: int, proc: str = "/proc") -> int | None:
    """A process's resident memory; None once it is gone."""
    try:
        fields = Path(f"{proc}/{pid}/statm").read_text().split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return int(fields[1]) * PAGE_BYTES


def tree_rss(leader: int, members: list[int], proc: str = "/proc") -> int | None:
    """The summed RSS of `members`; None once the group's leader (the kernel) is gone."""
    own = rss_bytes(leader, proc)
    if own is None:
        return None
    return own + sum(rss_bytes(pid, proc) or 0 for pid in members if pid != leader)


async def watch(pid: int, limit: int, on_over: Callable[[OverLimit], None], *,
                interval: float = INTERVAL_S) -> None:
    """Poll until the kernel `pid` (a process group's leader) exits or passes `limit`; then call
    `on_over` once (the caller stops the kernel: it owns its lifecycle)."""
    members = [pid]
    polls = 0
    while True:
        if polls % RESCAN_EVERY == 0:
            members = await asyncio.to_thread(group_members, pid) or [pid]
        polls += 1
        rss = tree_rss(pid, members)
        if rss is None:
            return
        if rss > limit:
            on_over(OverLimit(limit, rss))
            return
        await asyncio.sleep(interval)


# -- the GPU: XLA's memory fraction ----------------------------------------------------------
def gpu_memory_totals() -> list[int]:
    """Each visible NVIDIA GPU's memory in bytes, from nvidia-smi ([] without one)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        done = subprocess.run([smi, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    totals = [int(line) << 20 for line in done.stdout.split() if line.strip().isdigit()]  # MiB
    return totals if done.returncode == 0 else []


def device_env(limit: int, env: dict[str, str], totals: list[int] | None = None) -> dict[str, str]:
    """The environment that makes XLA's GPU allocator keep each GPU's use under `limit`:
    XLA_PYTHON_CLIENT_MEM_FRACTION = limit / the largest GPU's memory. Empty without a GPU,
    and when the user already set a fraction (theirs wins; setting both names is an error
    in jaxlib)."""
    if any(env.get(name) for name in FRACTION_VARS):
        return {}
    totals = gpu_memory_totals() if totals is None else totals
    if not totals:
        return {}
    fraction = min(1.0, limit / max(totals))
    return {"XLA_PYTHON_CLIENT_MEM_FRACTION": f"{max(fraction, 0.001):.3f}"}
