"""`jaxtui serve`: localhost by default, a loud warning for any other address, a clear
message without textual-serve; a real server that serves its page and websocket only to the
URL it printed (the token) and to pages of its own (the Origin check), tried with a real
websocket client."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from jaxtui.cli.serve import app_command, exposure_warning, open_url

pytest.importorskip("textual_serve")
aiohttp = pytest.importorskip("aiohttp")


def test_only_other_addresses_warn():
    assert exposure_warning("127.0.0.1", 8000) is None and exposure_warning("localhost", 8000) is None
    warning = exposure_warning("0.0.0.0", 8123)
    assert "run any Python code on this machine" in warning and "ssh -L 8123:127.0.0.1:8123" in warning


def test_each_browser_tab_runs_this_jaxtui_with_the_app_options():
    command = app_command(["--pane", "jit", "--host-devices", "4"])
    assert command.startswith(sys.executable) and command.endswith("-m jaxtui --pane jit --host-devices 4")


def test_a_missing_textual_serve_gets_a_clear_message():
    code = ("import sys; sys.modules['textual_serve'] = None\n"
            "from jaxtui.cli.main import main\nraise SystemExit(main(['serve']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                          check=False)
    assert done.returncode == 2
    assert "pip install 'jaxtui[serve]'" in done.stderr




def test_the_printed_url_brackets_ipv6_and_names_a_reachable_host():
    assert open_url("::", 8123, "T", None) == "http://[::1]:8123/?token=T"
    assert open_url("::1", 8123, "T", None) == "http://[::1]:8123/?token=T"
    assert open_url("0.0.0.0", 8123, "T", None) == "http://127.0.0.1:8123/?token=T"
    assert open_url("127.0.0.1", 80, "T", "https://lab.example/jax/") == "https://lab.example/jax/?token=T"


def test_origin_must_be_the_served_host():
    from jaxtui.cli.serve_guard import origin_allowed

    assert origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000", None)
    assert origin_allowed("http://LOCALHOST:8000", "localhost:8000", None)
    assert origin_allowed("http://example.org", "example.org:80", None)
    assert not origin_allowed("http://127.0.0.1:8001", "127.0.0.1:8000", None)
    assert not origin_allowed("https://evil.example", "127.0.0.1:8000", None)
    assert not origin_allowed("null", "127.0.0.1:8000", None)
    assert not origin_allowed(None, "127.0.0.1:8000", None)
    assert origin_allowed("https://lab.example", "127.0.0.1:8000", "https://lab.example/jax")
    assert not origin_allowed("http://lab.example", "127.0.0.1:8000", "https://lab.example/jax")


def test_tokens_differ_per_start_and_compare_whole():
    from jaxtui.cli.serve_guard import new_token, token_matches

    token = new_token()
    assert token != new_token() and len(token) >= 40
    assert token_matches(token, token)
    assert not token_matches(token[:-1], token) and not token_matches(None, token)
    assert not token_matches("é" + token, token)  # non-ASCII is a wrong token, not a crash


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, process: subprocess.Popen, port: int, url: str, said: list[str]) -> None:
        self.process, self.port, self.url, self.said = process, port, url, said
        self.origin = f"http://127.0.0.1:{port}"
        self.token = url.rpartition("token=")[2]


def read_url(process: subprocess.Popen, deadline: float) -> tuple[str, list[str]]:
    """The URL the server prints, and every line it printed up to it."""
    said = []
    for line in process.stderr:
        said.append(line)
        found = re.search(r"open (http://\S+) in a browser", line)
        if found:
            return found.group(1), said
        assert time.monotonic() < deadline, "no URL printed"
    raise AssertionError(f"the server printed no URL (exit {process.wait()})")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - http, the test server
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextlib.contextmanager
def serving(*options: str) -> Iterator[Served]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "jaxtui", "serve", "--port", str(port), *options],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        url, said = read_url(process, deadline)
        while True:  # listening?
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not listen"
                time.sleep(0.1)
        yield Served(process, port, url, said)
    finally:
        process.terminate()
        process.communicate(timeout=20)


@pytest.fixture
def served() -> Iterator[Served]:
    with serving() as server:
        yield server


async def handshake(url: str, origin: str | None) -> int:
    """The HTTP status a websocket handshake gets (101 when accepted)."""
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers=headers, autoping=False):
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


def test_the_printed_url_is_local_and_the_page_needs_its_token(served):
    assert served.url.startswith(f"http://127.0.0.1:{served.port}/?token=")
    status, page = get(served.url)
    assert status == 200 and "textual" in page.lower()
    assert f"ws://127.0.0.1:{served.port}/ws/{served.token}" in page
    status, page = get(f"http://127.0.0.1:{served.port}/")
    assert status == 403 and "?token=" in page and served.token not in page
    status, page = get(f"http://127.0.0.1:{served.port}/?token=wrong")
    assert status == 403 and served.token not in page


def test_a_foreign_origin_is_refused_even_with_the_token(served):
    ws = f"ws://127.0.0.1:{served.port}/ws/{served.token}"
    for origin in ("https://evil.example", f"http://127.0.0.1:{served.port + 1}", "null", None):
        assert asyncio.run(handshake(ws, origin)) == 403, origin


def test_a_missing_or_wrong_token_is_refused(served):
    base = f"ws://127.0.0.1:{served.port}"
    for url in (f"{base}/ws", f"{base}/ws/", f"{base}/ws/{served.token[:-1]}", f"{base}/ws/x{served.token}",
                f"{base}/ws?token={served.token}"):
        assert asyncio.run(handshake(url, served.origin)) in (403, 404), url


async def first_screen(ws_url: str, origin: str) -> bytes:
    """Connect as the page does and collect what the app draws until its screen has text."""
    screen = b""
    async with (aiohttp.ClientSession() as session,
                session.ws_connect(f"{ws_url}?width=100&height=30", headers={"Origin": origin}) as ws):
        await ws.send_json(["resize", {"width": 100, "height": 30}])
        deadline = time.monotonic() + 90
        while b"grad" not in screen:  # the first pane's tab: the app's own screen, drawn
            assert time.monotonic() < deadline, f"no screen: {screen[-500:]!r}"
            message = await ws.receive(timeout=max(1.0, deadline - time.monotonic()))
            if message.type == aiohttp.WSMsgType.BINARY:
                screen += message.data
            elif message.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"websocket ended: {message}")
    return screen


@pytest.mark.slow
def test_the_printed_url_works_end_to_end(served):
    """The page's own websocket URL, with the page's Origin, gets the app's screen."""
    status, page = get(served.url)
    assert status == 200
    ws_url = re.search(r'data-session-websocket-url="([^"]+)"', page).group(1)
    screen = asyncio.run(first_screen(ws_url, served.origin))
    assert b"\x1b[" in screen  # terminal drawing, from the real app


def test_every_address_keeps_the_warning_and_the_same_protection():
    with serving("--host", "0.0.0.0") as server:
        assert any(line.startswith("WARNING: listening on 0.0.0.0:") for line in server.said)
        assert server.url.startswith(f"http://127.0.0.1:{server.port}/?token=")
        assert get(f"http://127.0.0.1:{server.port}/")[0] == 403
        assert get(server.url)[0] == 200
        ws = f"ws://127.0.0.1:{server.port}/ws"
        assert asyncio.run(handshake(f"{ws}/{server.token}", "https://evil.example")) == 403
        assert asyncio.run(handshake(f"{ws}/wrong", server.origin)) == 403


def test_a_busy_port_is_one_line_naming_it():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "jaxtui", "serve", "--port", str(port)],
                              capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == f"jaxtui serve: port {port} is already in use; choose another with --port"
