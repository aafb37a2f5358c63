"""Options that several commands share (`jaxtui`, `run`, `tour`, `doctor`), so they parse and
read the same everywhere."""

from __future__ import annotations

import argparse

from jaxtui.core.client import MAX_HOST_DEVICES, PLATFORMS


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
                   help="where the kernel runs JAX (default: JAX's own choice)")
    p.add_argument("--host-devices", type=host_devices, default=8, metavar="N",
                   help="virtual CPU devices, set before JAX starts (default 8, so pmap has devices)")
