"""A real OpenSSH server on 127.0.0.1 for the remote-kernel tests (reach_facts.md §3).

A throwaway host key and user key, an `sshd_config` that listens on a free port of
127.0.0.1 only, and an ssh config with one alias, `jaxtui-test-host`, so a test runs
`ssh -F <config> jaxtui-test-host ...` exactly as a user runs `ssh my-tpu-vm ...`. The
"remote" Python is this test run's own interpreter with this checkout on its PYTHONPATH.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"
HOST = "jaxtui-test-host"
NOKEY_HOST = "jaxtui-test-nokey"  # the same server, with a key it does not accept
MARK = "JAXTUI_TEST_SSHD"  # in the environment of every process the remote command starts
START_TIMEOUT_S = 15.0


class SshdUnavailable(RuntimeError):
    """sshd cannot be started here; the message says why (the tests are skipped with it)."""


@dataclass
class Sshd:
    proc: subprocess.Popen[bytes]
    port: int
    workdir: Path
    ssh_config: Path
    log: Path
    remote_python: str  # the --remote-python value the tests pass
    host: str = HOST
    nokey_host: str = NOKEY_HOST

    @property
    def ssh_command(self) -> str:
        """The JAXTUI_SSH_COMMAND value."""
        return f"ssh -F {shlex.quote(str(self.ssh_config))}"

    def env(self, **extra: str) -> dict[str, str]:
        """An environment for a `jaxtui` subprocess that reaches this server."""
        return {**os.environ, "JAXTUI_SSH_COMMAND": self.ssh_command, **extra}

    def session_processes(self) -> list[tuple[int, str]]:
        """(pid, command line) of every process below the listening sshd: its sessions and
        whatever they started (a supervisor, a kernel). Empty when nothing runs "remotely"."""
        return [(pid, _cmdline(pid)) for pid in _descendants(self.proc.pid)]

    def kernels(self) -> list[tuple[int, str]]:
        """The jaxtui processes (supervisor or kernel) still running on the "remote" host:
        found by the mark their environment carries, as an orphan is no longer below sshd."""
        mark = f"{MARK}={self.workdir}".encode()
        return [(pid, _cmdline(pid)) for pid in _pids() if "jaxtui.kernel" in _cmdline(pid)
                and mark in _environ(pid).split(b"\0") and _running(pid)]

    def wait_no_kernels(self, timeout: float = 30.0) -> None:
        t0 = time.monotonic()
        while self.kernels():
            assert time.monotonic() - t0 < timeout, f"kernels left on the remote host: {self.kernels()}"
            time.sleep(0.1)

    def stop(self) -> None:
        """Kill the server and every session it started (a session outlives its listener),
        and any jaxtui process of its sessions that outlived them."""
        for pid in [*_descendants(self.proc.pid), self.proc.pid, *(pid for pid, _ in self.kernels())]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def _pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # field 4; the name in () may hold spaces
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jaxtui-test", "-f", str(path)],
                   check=True, capture_output=True, timeout=30)


def _write_configs(workdir: Path, port: int) -> tuple[Path, Path]:
    sshd_config = workdir / "sshd_config"
    sshd_config.write_text("\n".join([
        "ListenAddress 127.0.0.1",
        f"Port {port}",
        f"HostKey {workdir / 'host_key'}",
        f"AuthorizedKeysFile {workdir / 'authorized_keys'}",
        f"PidFile {workdir / 'sshd.pid'}",
        "UsePAM no",
        "StrictModes no",  # the keys live in a temporary directory, not ~/.ssh
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",  # CI containers run as root
        "LogLevel VERBOSE",
        "",
    ]))
    ssh_config = workdir / "ssh_config"
    ssh_config.write_text("\n".join(line for alias, key in ((HOST, "user_key"), (NOKEY_HOST, "other_key"))
                                     for line in [
        f"Host {alias}",
        "  HostName 127.0.0.1",
        f"  Port {port}",
        f"  User {getpass.getuser()}",
        f"  IdentityFile {workdir / key}",
        "  IdentitiesOnly yes",
        "  IdentityAgent none",  # only the key named here, never a developer's agent
        "  StrictHostKeyChecking no",
        "  UserKnownHostsFile /dev/null",
        "  BatchMode yes",
        "  LogLevel ERROR",  # no "Permanently added ... to the list of known hosts" on each connect
        "",
    ]))
    return sshd_config, ssh_config


def _reachable(ssh_config: Path, timeout: float) -> str:
    """"" once `ssh HOST true` works, else the last error."""
    t0, error = time.monotonic(), "not tried"
    while time.monotonic() - t0 < timeout:
        done = subprocess.run(["ssh", "-F", str(ssh_config), HOST, "true"], check=False, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode == 0:
            return ""
        error = done.stderr.strip() or f"ssh exited with status {done.returncode}"
        time.sleep(0.2)
    return error


def start(workdir: Path, python: str, pythonpath: str) -> Sshd:
    """Start sshd in `workdir`; raise SshdUnavailable with the reason when it cannot run."""
    for tool in (SSHD, "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            raise SshdUnavailable(f"{tool} is not installed (Debian: apt-get install openssh-server openssh-client)")
    try:
        # The privilege separation directory; sshd refuses to start without it.
        Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
    except OSError as exc:
        raise SshdUnavailable(f"cannot create /run/sshd: {exc}") from None
    workdir.mkdir(parents=True, exist_ok=True)
    _keygen(workdir / "host_key")
    _keygen(workdir / "user_key")
    _keygen(workdir / "other_key")
    shutil.copy(workdir / "user_key.pub", workdir / "authorized_keys")
    remote_python = (f"env PYTHONPATH={shlex.quote(pythonpath)} JAX_PLATFORMS=cpu {MARK}={shlex.quote(str(workdir))} "
                     f"{shlex.quote(python)}")
    error = ""
    for _ in range(3):  # a free port can be taken between finding it and sshd binding it
        port = _free_port()
        sshd_config, ssh_config = _write_configs(workdir, port)
        log = workdir / "sshd.log"
        proc = subprocess.Popen([SSHD, "-D", "-f", str(sshd_config), "-E", str(log)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        server = Sshd(proc, port, workdir, ssh_config, log, remote_python)
        error = _reachable(ssh_config, START_TIMEOUT_S) if proc.poll() is None else ""
        if proc.poll() is None and not error:
            return server
        server.stop()
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        logged = log.read_text(errors="replace") if log.exists() else ""
        error = (stderr + logged).strip() or error or f"sshd exited with status {proc.returncode}"
    raise SshdUnavailable(f"sshd did not start: {error}")
