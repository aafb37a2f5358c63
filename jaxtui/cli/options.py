"""Options that several commands share (`jaxtui`, `run`, `tour`, `doctor`), so they parse and
read the same everywhere."""

from __future__ import annotations

import argparse

from jaxtui.core.client import MAX_HOST_DEVICES, PLATFORMS, Transport
from jaxtui.core.transport import DEFAULT_REMOTE_PYTHON, SILENCE_LIMIT_S, SshTransport


def host_devices(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 1 <= n <= MAX_HOST_DEVICES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_HOST_DEVICES}, got {n}")
    return n


def device_id(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a device id: {text!r}") from None
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
    p.add_argument("--host-devices", type=host_devices, default=8, metavar="N",
                   help="virtual CPU devices, set before JAX starts (default 8, so pmap has devices)")
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
    p.add_argument("--remote", metavar="HOST", default=None,
                   help="run the kernel on HOST through ssh (an ~/.ssh/config alias, user@host...); "
                        "the options above apply there. $JAXTUI_SSH_COMMAND replaces `ssh`")
    p.add_argument("--remote-python", metavar="CMD", default=DEFAULT_REMOTE_PYTHON,
                   help=f"the Python on HOST that has jaxtui (default {DEFAULT_REMOTE_PYTHON}; "
                        "e.g. ~/venv/bin/python)")
    p.add_argument("--remote-silence", metavar="S", type=positive_seconds, default=SILENCE_LIMIT_S,
                   help=f"the remote kernel stops after S seconds without a word from here "
                        f"(default {SILENCE_LIMIT_S:g}; a heartbeat goes every 2 s)")


def transport_for(args: argparse.Namespace) -> Transport | None:
    """The ssh transport `--remote` asks for (None: a local kernel)."""
    if not getattr(args, "remote", None):
        return None
    return SshTransport(args.remote, python=args.remote_python, silence_limit=args.remote_silence)
