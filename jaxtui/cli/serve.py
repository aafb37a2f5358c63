"""`jaxtui serve`: the app in a web browser, through textual-serve.

Each browser tab that connects gets its own app process (and kernel). The demos run
arbitrary Python, so whoever can reach the server can run code as you: it listens on
localhost unless `--host` names another address, and then it says so loudly; and only a
browser holding the URL with this start's token, on a page of this server, gets an app
(serve_guard.py). textual-serve is the optional extra `serve` (`pip install 'jaxtui[serve]'`).
"""

from __future__ import annotations

import argparse
import errno
import shlex
import socket
import sys

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
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
    address = f"[{host}]" if ":" in host else host
    return (f"WARNING: listening on {address}:{port}. Anyone who can reach this address can run "
            f"any Python code on this machine as you (the demos are editable code). Prefer the "
            f"default 127.0.0.1 and an SSH tunnel: ssh -L {port}:127.0.0.1:{port} THIS_HOST")


def _url_host(host: str) -> str:
    """The host part of a URL that reaches `host` from this machine: a wildcard address is
    reached on the loopback address of its family, an IPv6 address goes in brackets."""
    if host in WILDCARD_HOSTS:
        host = "::1" if host == "::" else "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def open_url(host: str, port: int, token: str, public_url: str | None) -> str:
    base = public_url.rstrip("/") if public_url else f"http://{_url_host(host)}:{port}"
    return f"{base}/?token={token}"


def port_in_use(host: str, port: int) -> bool:
    """Whether binding host:port fails because something listens there. Checked before the
    server starts so the message comes alone, not after textual-serve's start-up output."""
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return False  # the server's own bind reports an unknown host
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
    return False


def busy_port_message(port: int) -> str:
    return f"jaxtui serve: port {port} is already in use; choose another with --port"


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
        from jaxtui.cli.serve_guard import GuardedServer, new_token
    except ImportError:
        print(MISSING, file=sys.stderr)
        return 2
    if port_in_use(args.host, args.port):
        print(busy_port_message(args.port), file=sys.stderr)
        return 1
    warning = exposure_warning(args.host, args.port)
    if warning:
        print(warning, file=sys.stderr)
    token = new_token()
    url = open_url(args.host, args.port, token, args.public_url)
    print(f"jaxtui serve: open {url} in a browser (the token is new at each start and only this "
          f"URL gets in; ctrl+c here stops the server)", file=sys.stderr, flush=True)
    if args.host in WILDCARD_HOSTS and not args.public_url:
        print(f"jaxtui serve: from another machine, put this machine's address in place of "
              f"{_url_host(args.host)}", file=sys.stderr, flush=True)
    server = GuardedServer(app_command(app_args), host=args.host, port=args.port, token=token,
                           public_url=args.public_url)
    try:
        server.serve()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(busy_port_message(args.port), file=sys.stderr)  # taken since the check above
        return 1
    return 0
