"""`jaxtui serve`: localhost by default, a loud warning for any other address, a clear
message without textual-serve, and a real server that answers a browser's first request."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from jaxtui.cli.serve import app_command, exposure_warning


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
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "pip install 'jaxtui[serve]'" in done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_server_answers_on_localhost():
    pytest.importorskip("textual_serve")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "jaxtui", "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    page = reply.read().decode()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.2)
        assert reply.status == 200 and "textual" in page.lower()
    finally:
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert f"open http://localhost:{port}" in err and "WARNING" not in err
