"""Options that several commands share (`jaxtui`, `run`, `tour`, `doctor`), so they parse and
read the same everywhere."""

from __future__ import annotations

import argparse
import os
import re

from jaxtui.core.client import MAX_HOST_DEVICES, PLATFORMS, KernelConfig, Transport
from jaxtui.core.cluster import CLUSTER_HOST_DEVICES, STUCK_AFTER_S, ClusterSpec
from jaxtui.core.transport import DEFAULT_REMOTE_PYTHON, SILENCE_LIMIT_S, SshTransport

SINGLE_HOST_DEVICES = 8


def _whole_number(text: str, noun: str = "an integer") -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {noun}: {text!r}") from None


def host_devices(text: str) -> int:
    n = _whole_number(text)
    if not 1 <= n <= MAX_HOST_DEVICES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_HOST_DEVICES}, got {n}")
    return n


def device_id(text: str) -> int:
    n = _whole_number(text, "a device id")
    if n < 0:
        raise argparse.ArgumentTypeError(f"device ids start at 0, got {n}")
    return n


def add_device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", type=device_id, default=None, metavar="ID",
                   help="run on this device id (see the Devices pane or `jaxtui doctor`; default: JAX's)")


def add_kernel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--platform", choices=PLATFORMS, default=None,
                   help="where the kernel runs JAX (default: JAX's own choice; CPU/GPU where libtpu is "
                        "installed without a TPU)")
    p.add_argument("--host-devices", type=host_devices, default=None, metavar="N",
                   help=f"virtual CPU devices, set before JAX starts (default {SINGLE_HOST_DEVICES}, so pmap "
                        f"has devices; {CLUSTER_HOST_DEVICES} per process with --processes)")
    add_remote_options(p)


def target(text: str) -> str:
    from jaxtui.target_spec import TargetSyntaxError, parse_target

    try:
        return parse_target(text).name
    except TargetSyntaxError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_target_option(p: argparse.ArgumentParser) -> None:
    # dest: `jaxtui run`'s positional is already called `target` (the demo)
    p.add_argument("--target", type=target, default=None, metavar="tpu-GEN:TOPOLOGY", dest="compile_target",
                   help="also compile the marked functions for a TPU slice, without a TPU "
                        "(e.g. tpu-v5e:2x2, tpu-v4:2x2x1; needs `pip install \"jaxtui[tpu]\"`); "
                        "cuda or rocm: their StableHLO")


def positive_seconds(text: str) -> float:
    try:
        s = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not s > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return s


def add_remote_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--remote", metavar="HOST[,HOST...]", default=None,
                   help="run the kernel on HOST through ssh (an ~/.ssh/config alias, user@host...); "
                        "the options above apply there. Several hosts: one kernel on each, joined into "
                        "one JAX cluster (a multi-host slice). $JAXTUI_SSH_COMMAND replaces `ssh`")
    p.add_argument("--remote-python", metavar="CMD", default=DEFAULT_REMOTE_PYTHON,
                   help=f"the Python on HOST that has jaxtui (default {DEFAULT_REMOTE_PYTHON}; "
                        "e.g. ~/venv/bin/python)")
    p.add_argument("--remote-silence", metavar="S", type=positive_seconds, default=SILENCE_LIMIT_S,
                   help=f"the remote kernel stops after S seconds without a word from here "
                        f"(default {SILENCE_LIMIT_S:g}; a heartbeat goes every 2 s)")


def positive_int(text: str) -> int:
    n = _whole_number(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--processes", type=positive_int, default=None, metavar="N",
                   help=f"N kernels on this machine joined into one JAX cluster (jax.distributed), each "
                        f"with --host-devices devices (default {CLUSTER_HOST_DEVICES}); every one runs the same code")
    p.add_argument("--coordinator", metavar="HOST:PORT", default=None,
                   help="the address every process of the cluster reaches process 0 on (default: a free "
                        "port on 127.0.0.1, or on the first --remote host at its own address)")
    p.add_argument("--stuck-after", type=positive_seconds, default=STUCK_AFTER_S, metavar="S",
                   help=f"end a cluster's run when some processes still run S seconds after another "
                        f"finished or died (default {STUCK_AFTER_S:g}; at the latest --timeout)")


def remote_hosts(args: argparse.Namespace) -> list[str]:
    return [h.strip() for h in (getattr(args, "remote", None) or "").split(",") if h.strip()]


def cluster_for(args: argparse.Namespace) -> ClusterSpec | None:
    """The cluster `--processes N` or `--remote h1,h2,...` asks for (None: one kernel).
    Raises ValueError (a usage error) for options that do not go together."""
    processes = getattr(args, "processes", None)
    hosts = remote_hosts(args)
    coordinator = getattr(args, "coordinator", None)
    if processes is not None and hosts:
        raise ValueError("--processes starts kernels on this machine; with --remote, list one host per process")
    if processes is None and len(hosts) < 2:
        if coordinator:
            raise ValueError("--coordinator is for a cluster: give --processes N or --remote h1,h2,...")
        return None
    if getattr(args, "device", None) is not None:
        raise ValueError("--device picks a device of one kernel; a cluster runs on every device of every process")
    if coordinator and not re.fullmatch(r"\S+:\d+", coordinator):
        raise ValueError(f"--coordinator must be HOST:PORT, got {coordinator!r}")
    extra = {"remote_python": args.remote_python, "remote_silence": args.remote_silence} if hosts else {}
    return ClusterSpec(processes=processes or len(hosts), hosts=tuple(hosts), coordinator=coordinator,
                       stuck_after=getattr(args, "stuck_after", STUCK_AFTER_S), **extra)


def memory_limit(text: str) -> int:
    from jaxtui.core.memory_watch import BadSize, parse_size

    try:
        return parse_size(text)
    except BadSize as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_memory_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--memory-limit", type=memory_limit, default=None, metavar="SIZE",
                   help="stop the kernel when its resident memory passes SIZE (e.g. 4G, 512M); "
                        "on a GPU also XLA's limit per device (default: no limit)")


def kernel_config(args: argparse.Namespace, cluster: ClusterSpec | None = None) -> KernelConfig:
    """The kernel configuration the options ask for (per process, for a cluster). With
    --memory-limit on a GPU machine, XLA's allocator gets the matching memory fraction."""
    from jaxtui.core.memory_watch import device_env

    default = CLUSTER_HOST_DEVICES if cluster is not None else SINGLE_HOST_DEVICES
    limit = getattr(args, "memory_limit", None)
    return KernelConfig(platform=args.platform,
                        host_devices=args.host_devices if args.host_devices is not None else default,
                        device=getattr(args, "device", None), target=getattr(args, "compile_target", None),
                        memory_limit=limit,
                        extra_env=device_env(limit, dict(os.environ)) if limit is not None else {})


def transport_for(args: argparse.Namespace) -> Transport | None:
    """The ssh transport `--remote HOST` asks for (None: a local kernel; several hosts make
    a cluster: cluster_for)."""
    hosts = remote_hosts(args)
    if len(hosts) != 1:
        return None
    return SshTransport(hosts[0], python=args.remote_python, silence_limit=args.remote_silence)
