"""Command line: `jaxtui [FILE.py] [--pane NAME]`, `jaxtui list`, `jaxtui run NAME|FILE`.

Keeps imports light: the app (Textual) is imported only when the app is opened, jax
never in this process.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from jaxtui import __version__
from jaxtui.cli.options import (
    add_cluster_options,
    add_device_option,
    add_kernel_options,
    add_memory_option,
    add_target_option,
    cluster_for,
    kernel_config,
    transport_for,
)


def _pane_names() -> list[str]:
    from jaxtui.core.catalog import builtin_names

    return [*builtin_names(), "devices"]


class UsageError(Exception):
    """A bad flag or value: exit 2, with the reason (as JSON too, with --json)."""


class _ParseError(UsageError):
    """One argparse found: shown with the usage lines, as argparse does."""


class _RunParser(argparse.ArgumentParser):
    """argparse's errors as UsageError, so `--json` gets its JSON answer for them too."""

    def error(self, message: str) -> NoReturn:
        raise _ParseError(message)


def _app_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jaxtui", description="Explore JAX in the terminal: grad, jit, vmap, lax, pmap and sharding, stax, "
                                 "multi-process JAX, TPU targets.",
        epilog="Other commands: `jaxtui list`, `jaxtui run NAME|FILE [--json] [--timeout S]`, "
               "`jaxtui doctor [--json]`, `jaxtui tour [NAME|FILE]`, `jaxtui serve [--host H] [--port P]`.")
    p.add_argument("file", nargs="?", help="your own demo file (.py), opened in its own pane")
    p.add_argument("--pane", metavar="NAME", help=f"open on this pane: {', '.join(_pane_names())}")
    add_kernel_options(p)
    add_memory_option(p)
    add_cluster_options(p)
    add_device_option(p)
    add_target_option(p)
    p.add_argument("--version", action="version", version=f"jaxtui {__version__}")
    return p


def _run_parser() -> argparse.ArgumentParser:
    p = _RunParser(prog="jaxtui run", description="Run one demo headless on the kernel.")
    p.add_argument("target", metavar="NAME|FILE", help="a demo name (see `jaxtui list`) or a .py file")
    p.add_argument("--json", action="store_true", help="print one JSON object (see README for the keys)")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="stop the run after S seconds (exit status 124)")
    p.add_argument("--input", "-i", action="append", default=[], metavar="NAME=VALUE",
                   help="set a demo input, as in the app's form (repeatable)")
    add_kernel_options(p)
    add_memory_option(p)
    add_cluster_options(p)
    add_device_option(p)
    add_target_option(p)
    return p


def _parse_inputs(pairs: list[str], demo: Any) -> dict[str, Any]:
    from jaxtui.inputs import InputError, parse_value

    specs = {s.name: s for s in demo.inputs}
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise UsageError(f"--input needs NAME=VALUE, got {pair!r}")
        if name not in specs:
            known = ", ".join(specs) or "none"
            raise UsageError(f"demo {demo.name!r} has no input {name!r} (inputs: {known})")
        try:
            values[name] = parse_value(specs[name], text)
        except InputError as exc:
            raise UsageError(f"input {name}: {exc}") from None
    return values


def cmd_list(argv: list[str]) -> int:
    import shutil
    import textwrap

    from jaxtui.core.catalog import builtin_demos
    from jaxtui.render.report import plain_text

    demos = builtin_demos()
    width = max(len(d.name) for d in demos)
    columns = max(40, shutil.get_terminal_size((80, 24)).columns - 1)
    for d in demos:
        # Plain text, wrapped under its name to fit the terminal (the lesson is Markdown).
        print(textwrap.fill(plain_text(d.summary), width=columns, initial_indent=f"{d.name:<{width}}  ",
                            subsequent_indent=" " * (width + 2)))
    return 0


def cmd_run(argv: list[str]) -> int:
    from jaxtui.cli import run as headless
    from jaxtui.core.catalog import UnknownDemo, resolve

    parser = _run_parser()
    # --json is known only once parsed: look for it in argv itself, as argparse would
    as_json = "--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv
    try:
        args = parser.parse_args(argv)
        try:
            demo = resolve(args.target)
        except UnknownDemo as exc:
            raise UsageError(str(exc)) from None
        if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout > 0):
            raise UsageError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
        inputs = _parse_inputs(args.input, demo)
        cluster = cluster_for(args)
    except (UsageError, ValueError) as exc:
        if not as_json and isinstance(exc, _ParseError):
            parser.print_usage(sys.stderr)
        return _usage_error("jaxtui run", str(exc), as_json)
    return headless.main(demo, config=kernel_config(args, cluster), as_json=args.json, timeout=args.timeout,
                         inputs=inputs, transport=transport_for(args), cluster=cluster)


def _usage_error(prog: str, message: str, as_json: bool = False) -> int:
    if as_json:
        print(json.dumps({"ok": False, "error": {"kind": "usage", "message": message}}))
    print(f"{prog}: {message}", file=sys.stderr)
    return 2


def cmd_app(argv: list[str]) -> int:
    args = _app_parser().parse_args(argv)
    from jaxtui.core.catalog import UnknownDemo, resolve

    user_demo = None
    if args.file:
        try:
            user_demo = resolve(args.file)
        except UnknownDemo as exc:
            print(f"jaxtui: {exc}", file=sys.stderr)
            return 2
        if user_demo.builtin:  # `jaxtui jit` means the built-in pane
            args.pane, user_demo = args.pane or user_demo.name, None
    names = _pane_names() + ([user_demo.name] if user_demo else [])
    if args.pane and args.pane not in names:
        print(f"jaxtui: unknown pane {args.pane!r}. Valid panes: {', '.join(names)}", file=sys.stderr)
        return 2
    return _open_app("jaxtui", args, user_demo=user_demo,
                     initial_pane=args.pane or (user_demo.name if user_demo else None), remember=True)


def _open_app(prog: str, args: argparse.Namespace, **options: Any) -> int:
    """The app on the kernel, cluster and transport the command line asks for."""
    try:
        cluster = cluster_for(args)
    except ValueError as exc:
        return _usage_error(prog, str(exc))
    # Start-up creates tens of thousands of objects that all stay (39,000 from the imports
    # alone): the cyclic collector would walk them again and again for nothing (~4% of the
    # first frame's instructions). The app turns it back on once the first frame is painted,
    # with those objects frozen out of later collections.
    gc.disable()
    try:
        from jaxtui.ui.app import JaxTUI

        app = JaxTUI(kernel_config=kernel_config(args, cluster), transport=transport_for(args),
                     cluster=cluster, resume_gc=True, **options)
        app.run()
    finally:
        gc.enable()  # an app that ended before its first frame
    return app.return_code or 0


def _tour_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jaxtui tour", description="Open the app and walk through a tour (f8 next, f7 back, f9 again).")
    p.add_argument("tour", nargs="?", default=None, metavar="NAME|FILE",
                   help="a built-in tour (default: notes) or a .tour file of your own")
    p.add_argument("--list", action="store_true", help="list the built-in tours and exit")
    p.add_argument("--check", action="store_true",
                   help="check the tour against the demos (panes, inputs, code changes) and exit")
    add_kernel_options(p)
    add_memory_option(p)
    add_cluster_options(p)
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
    return _open_app("jaxtui tour", args, initial_pane=tour.steps[0].pane, tour=tour)


def cmd_doctor(argv: list[str]) -> int:
    from jaxtui.cli.doctor import main as doctor_main

    return doctor_main(argv)


def cmd_serve(argv: list[str]) -> int:
    from jaxtui.cli.serve import main as serve_main

    return serve_main(argv)


# `jaxtui NAME ...` runs the command NAME with the rest of the line; anything else opens the app.
COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "list": cmd_list, "run": cmd_run, "doctor": cmd_doctor, "tour": cmd_tour, "serve": cmd_serve,
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        try:
            return COMMANDS[argv[0]](argv[1:])
        except BrokenPipeError:
            # The reader left (`jaxtui list | head`): stop quietly, as Unix tools do, with
            # 128 + SIGPIPE. Python's own flush at exit would fail again: stdout goes nowhere.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + signal.SIGPIPE
    return cmd_app(argv)
