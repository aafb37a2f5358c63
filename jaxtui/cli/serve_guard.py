"""The guard jaxtui puts in front of textual-serve: a per-start token and an Origin check.

textual-serve alone accepts any websocket: a page on any site, open in the same browser,
could connect to ws://127.0.0.1:PORT/ws and type code into the app (the app runs code as
the user). Like Jupyter, the server makes a random token at start; the page needs it
(`/?token=...`, the URL `jaxtui serve` prints) and carries it to its websocket in the path
(`/ws/TOKEN`: textual.js appends `?width=...` to the URL it is given, so the token cannot
ride in the query). A websocket handshake also needs an `Origin` that is this server as the
browser reached it (or `--public-url`): browsers always send it and a page cannot forge it.
The token alone stops a foreign page (it cannot read the token, not even through DNS
rebinding, since the page that holds it needs it to load); the Origin check is the second
lock, and what Jupyter also does.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

log = logging.getLogger("jaxtui.serve")

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
NEEDS_TOKEN = ("<!DOCTYPE html><title>jaxtui serve</title><p>This jaxtui server needs the link "
               "with its token: open the URL that <code>jaxtui serve</code> printed in its terminal "
               "(it ends in <code>?token=...</code>).</p>")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison, so the time a wrong guess takes says nothing about the token."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _endpoint(scheme: str, netloc: str) -> tuple[str, int] | None:
    """(host, port) of scheme://netloc, the default port filled in; None if unparsable."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname.lower(), port


def origin_allowed(origin: str | None, host_header: str, public_url: str | None) -> bool:
    """Whether a websocket's Origin is this server: the host the browser asked for (its Host
    header) or the --public-url a proxy or tunnel serves it under. A missing Origin is refused:
    every browser sends one on a websocket handshake."""
    if not origin:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https"):
        return False
    mine = _endpoint(parts.scheme, parts.netloc)
    if mine is None:
        return False
    if mine == _endpoint(parts.scheme, host_header):
        return True
    if public_url:
        public = urlsplit(public_url)
        return public.scheme == parts.scheme and mine == _endpoint(public.scheme, public.netloc)
    return False


class GuardedServer(Server):
    """textual-serve's Server with the token and the Origin check; everything else is its own."""

    def __init__(self, command: str, *, host: str, port: int, token: str,
                 public_url: str | None = None) -> None:
        super().__init__(command, host=host, port=port, title="jaxtui", public_url=public_url)
        self.token = token
        # Without --public-url the page's own links follow the address the browser used, so
        # a wildcard host (0.0.0.0, ::) or an ssh -L port works without knowing it here.
        self.given_public_url = public_url

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        # The page's websocket, with the token in its path; textual-serve's bare /ws stays
        # routed to handle_websocket, which refuses it for want of a token.
        app.router.add_get("/ws/{token}", self.handle_websocket, name="guarded_websocket")
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Print nothing: textual-serve's banner shows a URL without the token; `jaxtui serve`
        prints the one to open."""

    def _base_url(self, request: web.Request) -> str:
        return (self.given_public_url or f"{request.scheme}://{request.host}").rstrip("/")

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if not token_matches(request.query.get("token"), self.token):
            log.warning("refused the page to a request without the right token (from %s)", request.remote)
            return web.Response(status=403, text=NEEDS_TOKEN, content_type="text/html")
        base = self._base_url(request)
        ws_path = request.app.router["guarded_websocket"].url_for(token=self.token)
        scheme, rest = base.split(":", 1)
        context: dict[str, Any] = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{'wss' if scheme == 'https' else 'ws'}:{rest}{ws_path}",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        # The URL holds the token: never send it on as a Referer (the page loads a web font),
        # and no other site may frame the page.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        return response

    def refusal(self, request: web.Request) -> str | None:
        """Why this websocket handshake is refused, or None to accept it."""
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, request.host, self.given_public_url):
            return f"Origin {origin!r} is not this server"
        if not token_matches(request.match_info.get("token"), self.token):
            return "missing or wrong token"
        return None

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        problem = self.refusal(request)
        if problem:
            log.warning("refused a websocket (%s) from %s", problem, request.remote)
            raise web.HTTPForbidden(text=f"jaxtui serve: {problem}")
        return await super().handle_websocket(request)
