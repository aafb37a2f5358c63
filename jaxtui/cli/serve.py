"""`jaxtui serve`: the app in a web browser, through textual-serve.

Each browser tab that connects gets its own app process (and kernel). The demos run
arbitrary Python, so whoever can reach the server can run code as you: it listens on
localhost unless `--host` names another address, and then it says so loudly.
textual-serve is the optional extra `serve` (`pip install 'jaxtui[serve]'`).
"""

from __future__ import annotations

import argparse
import shlex
import sys

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
MISSING = ("jaxtui serve needs textual-serve, which is not installed.\n"
           "Install it with:  pip install 'jaxtui[serve]'   (or: pip install textual-serve)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jaxtui serve",
        description="Serve the app to a web browser (textual-serve). Each browser tab runs its own app.",
        epilog="Options after `--` go to the app, e.g. `jaxtui serve -- --pane jit --host-devices 4`.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only). Any other "
                        "address lets everyone who can reach it run code on this machine")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--public-url", default=None, metavar="URL",
                   help="the URL browsers use, when behind a proxy or an SSH tunnel")
    return p


def app_command(app_args: list[str]) -> str:
    """The command textual-serve runs for each browser tab: this Python, this jaxtui."""
    return shlex.join([sys.executable, "-m", "jaxtui", *app_args])


def exposure_warning(host: str, port: int) -> str | None:
    if host in LOCAL_HOSTS:
        return None
    return (f"WARNING: listening on {host}:{port}. Anyone who can reach this address can run "
            f"any Python code on this machine as you (the demos are editable code). Prefer the "
            f"default 127.0.0.1 and an SSH tunnel: ssh -L {port}:127.0.0.1:{port} THIS_HOST")


def main(argv: list[str]) -> int:
    app_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, app_args = argv[:cut], argv[cut + 1:]
    args = _parser().parse_args(argv)
    if not 0 < args.port < 65536:
        print(f"jaxtui serve: --port must be between 1 and 65535, got {args.port}", file=sys.stderr)
        return 2
    try:
        from textual_serve.server import Server
    except ImportError:
        print(MISSING, file=sys.stderr)
        return 2
    warning = exposure_warning(args.host, args.port)
    if warning:
        print(warning, file=sys.stderr)
    url = args.public_url or f"http://{'localhost' if args.host in LOCAL_HOSTS else args.host}:{args.port}"
    print(f"jaxtui serve: open {url} in a browser (ctrl+c here stops the server)", file=sys.stderr)
    Server(app_command(app_args), host=args.host, port=args.port, title="jaxtui",
           public_url=args.public_url).serve()
    return 0
