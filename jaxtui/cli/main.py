"""Command line: `jaxtui [FILE.py] [--pane NAME]`, `jaxtui list`, `jaxtui run NAME|FILE`.

Keeps imports light: the app (Textual) is imported only when the app is opened, jax
never in this process.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from jaxtui import __version__
from jaxtui.core.client import MAX_HOST_DEVICES, PLATFORMS, KernelConfig, Transport
from jaxtui.core.transport import DEFAULT_REMOTE_PYTHON, SILENCE_LIMIT_S, SshTransport

SUBCOMMANDS = ("list", "run", "doctor", "tour", "serve")


def _host_devices(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 1 <= n <= MAX_HOST_DEVICES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_HOST_DEVICES}, got {n}")
    return n


def _device_id(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a device id: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"device ids start at 0, got {n}")
    return n


def _add_device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", type=_device_id, default=None, metavar="ID",
                   help="run on this device id (see the Devices pane or `jaxtui doctor`; default: JAX's)")


def _add_kernel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--platform", choices=PLATFORMS, default=None,
                   help="where the kernel runs JAX (default: JAX's own choice)")
    p.add_argument("--host-devices", type=_host_devices, default=8, metavar="N",
                   help="virtual CPU devices, set before JAX starts (default 8, so pmap has devices)")
    _add_remote_options(p)


def _positive_seconds(text: str) -> float:
    try:
        s = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not s > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return s


def _add_remote_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--remote", metavar="HOST", default=None,
                   help="run the kernel on HOST through ssh (an ~/.ssh/config alias, user@host...); "
                        "the options above apply there. $JAXTUI_SSH_COMMAND replaces `ssh`")
    p.add_argument("--remote-python", metavar="CMD", default=DEFAULT_REMOTE_PYTHON,
                   help=f"the Python on HOST that has jaxtui (default {DEFAULT_REMOTE_PYTHON}; "
                        "e.g. ~/venv/bin/python)")
    p.add_argument("--remote-silence", metavar="S", type=_positive_seconds, default=SILENCE_LIMIT_S,
                   help=f"the remote kernel stops after S seconds without a word from here "
                        f"(default {SILENCE_LIMIT_S:g}; a heartbeat goes every 2 s)")


def transport_for(args: argparse.Namespace) -> Transport | None:
    """The ssh transport `--remote` asks for (None: a local kernel)."""
    if not getattr(args, "remote", None):
        return None
    return SshTransport(args.remote, python=args.remote_python, silence_limit=args.remote_silence)


def _app_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jaxtui", description="Explore JAX in the terminal: grad, jit, vmap, lax, pmap, stax.",
        epilog="Other commands: `jaxtui list`, `jaxtui run NAME|FILE [--json] [--timeout S]`, "
               "`jaxtui doctor [--json]`, `jaxtui tour [NAME|FILE]`, `jaxtui serve [--host H] [--port P]`.")
    p.add_argument("file", nargs="?", help="your own demo file (.py), opened in its own pane")
    p.add_argument("--pane", metavar="NAME", help="open on this pane (grad, jit, vmap, lax, pmap, stax)")
    _add_kernel_options(p)
    _add_device_option(p)
    p.add_argument("--version", action="version", version=f"jaxtui {__version__}")
    return p


def _run_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jaxtui run", description="Run one demo headless on the kernel.")
    p.add_argument("target", metavar="NAME|FILE", help="a demo name (see `jaxtui list`) or a .py file")
    p.add_argument("--json", action="store_true", help="print one JSON object (see README for the keys)")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="stop the run after S seconds (exit status 124)")
    p.add_argument("--input", "-i", action="append", default=[], metavar="NAME=VALUE",
                   help="set a demo input, as in the app's form (repeatable)")
    _add_kernel_options(p)
    _add_device_option(p)
    return p


def _parse_inputs(pairs: list[str], demo: Any) -> dict[str, Any]:
    from jaxtui.inputs import InputError, parse_value

    specs = {s.name: s for s in demo.inputs}
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise SystemExit(f"jaxtui run: --input needs NAME=VALUE, got {pair!r}")
        if name not in specs:
            known = ", ".join(specs) or "none"
            raise SystemExit(f"jaxtui run: demo {demo.name!r} has no input {name!r} (inputs: {known})")
        try:
            values[name] = parse_value(specs[name], text)
        except InputError as exc:
            raise SystemExit(f"jaxtui run: input {name}: {exc}") from None
    return values


def cmd_list() -> int:
    from jaxtui.core.catalog import builtin_demos

    demos = builtin_demos()
    width = max(len(d.name) for d in demos)
    for d in demos:
        print(f"{d.name:<{width}}  {d.summary}")
    return 0


def cmd_run(argv: list[str]) -> int:
    from jaxtui.cli import run as headless
    from jaxtui.core.catalog import UnknownDemo, resolve

    args = _run_parser().parse_args(argv)
    try:
        demo = resolve(args.target)
    except UnknownDemo as exc:
        print(f"jaxtui run: {exc}", file=sys.stderr)
        return 2
    if args.timeout is not None and args.timeout <= 0:
        print("jaxtui run: --timeout must be positive", file=sys.stderr)
        return 2
    inputs = _parse_inputs(args.input, demo)
    config = KernelConfig(platform=args.platform, host_devices=args.host_devices, device=args.device)
    return headless.main(demo, config=config, as_json=args.json, timeout=args.timeout, inputs=inputs,
                         transport=transport_for(args))


def cmd_app(argv: list[str]) -> int:
    args = _app_parser().parse_args(argv)
    from jaxtui.core.catalog import UnknownDemo, builtin_names, resolve

    user_demo = None
    if args.file:
        try:
            user_demo = resolve(args.file)
        except UnknownDemo as exc:
            print(f"jaxtui: {exc}", file=sys.stderr)
            return 2
        if user_demo.builtin:  # `jaxtui jit` means the built-in pane
            args.pane, user_demo = args.pane or user_demo.name, None
    names = builtin_names() + ([user_demo.name] if user_demo else [])
    if args.pane and args.pane not in names:
        print(f"jaxtui: unknown pane {args.pane!r}. Valid panes: {', '.join(names)}", file=sys.stderr)
        return 2
    from jaxtui.ui.app import JaxTUI

    app = JaxTUI(kernel_config=KernelConfig(platform=args.platform, host_devices=args.host_devices,
                                            device=args.device), transport=transport_for(args),
                 user_demo=user_demo, initial_pane=args.pane or (user_demo.name if user_demo else None))
    app.run()
    return app.return_code or 0


def _tour_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jaxtui tour", description="Open the app and walk through a tour (f8 next, f7 back, f9 again).")
    p.add_argument("tour", nargs="?", default=None, metavar="NAME|FILE",
                   help="a built-in tour (default: notes) or a .tour file of your own")
    p.add_argument("--list", action="store_true", help="list the built-in tours and exit")
    p.add_argument("--check", action="store_true",
                   help="check the tour against the demos (panes, inputs, code changes) and exit")
    _add_kernel_options(p)
    return p


def cmd_tour(argv: list[str]) -> int:
    from jaxtui.core.catalog import builtin_demos
    from jaxtui.core.tour_format import TourError, UnknownTour, builtin_tour_names, check_tour, find_tour

    args = _tour_parser().parse_args(argv)
    if args.list:
        for name in builtin_tour_names():
            try:
                tour = find_tour(name)
                print(f"{name:<10} {len(tour.steps):>3} steps  {tour.title}")
            except TourError as exc:
                print(f"{name:<10} cannot be read: {exc}")
        return 0
    try:
        tour = find_tour(args.tour)
    except (UnknownTour, TourError) as exc:
        print(f"jaxtui tour: {exc}", file=sys.stderr)
        return 2
    problems = check_tour(tour, {d.name: (d.code, d.inputs) for d in builtin_demos()})
    for problem in problems:
        print(f"jaxtui tour: {problem}", file=sys.stderr)
    if args.check:
        if not problems:
            print(f"{tour.source}: {len(tour.steps)} steps, no problems")
        return 1 if problems else 0
    if problems:
        return 2
    from jaxtui.ui.app import JaxTUI

    app = JaxTUI(kernel_config=KernelConfig(platform=args.platform, host_devices=args.host_devices),
                 transport=transport_for(args), initial_pane=tour.steps[0].pane, tour=tour)
    app.run()
    return app.return_code or 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "tour":
        return cmd_tour(argv[1:])
    if argv and argv[0] == "serve":
        from jaxtui.cli.serve import main as serve_main

        return serve_main(argv[1:])
    if argv and argv[0] == "list":
        return cmd_list()
    if argv and argv[0] == "run":
        return cmd_run(argv[1:])
    if argv and argv[0] == "doctor":
        from jaxtui.cli.doctor import main as doctor_main

        return doctor_main(argv[1:])
    return cmd_app(argv)
