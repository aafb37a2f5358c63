"""How the client reaches its kernel: a child process here, or one on another host over ssh.

A transport says which command starts the kernel, with which environment, and what its
failures mean; `KernelClient` (core/client.py) does the rest the same way for both. The
kernel speaks JSON lines on stdin/stdout, so `ssh HOST PYTHON -m jaxtui.kernel --supervise`
is a whole transport: no ports, no files, no server. ssh is never given a terminal (-T: a
pty would echo and rewrite the protocol's bytes) and never prompts (BatchMode: the UI owns the
terminal). No signal crosses ssh, so a remote kernel is interrupted in-band: the supervisor on
the remote host (kernel/supervisor.py) turns the `interrupt` op into SIGINT, kill and restart.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jaxtui import protocol as P

# jaxtui.core.hardware is imported where it is used: the app imports this module before its
# first frame, which needs none of it.

if TYPE_CHECKING:
    from jaxtui.core.client import KernelConfig
    from jaxtui.core.hardware import Problem

SSH_COMMAND_ENV = "JAXTUI_SSH_COMMAND"  # like git's GIT_SSH_COMMAND: the ssh command and its options
DEFAULT_REMOTE_PYTHON = "python3"
HEARTBEAT_S = 2.0  # how often the client tells a remote supervisor it is still there
SILENCE_LIMIT_S = 30.0  # the supervisor stops the kernel after this long without a word
SSH_OPTIONS = (
    "-T",  # never a pty, even if ~/.ssh/config asks for one (RequestTTY)
    "-o", "BatchMode=yes",  # never a password or passphrase prompt inside the UI
    # The client notices a dead link too (15 s); options given earlier (JAXTUI_SSH_COMMAND)
    # win over these, and these over ~/.ssh/config.
    "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
    "-o", "ConnectTimeout=15",
)
SSH_FAILED = 255  # ssh's own exit status for "could not connect" and "connection lost"


class LocalTransport:
    """The kernel as a child process of this one, with this Python."""

    host: str | None = None  # shown in the status bar: None means this machine
    in_band_interrupt = False  # SIGINT reaches it directly
    heartbeat_s: float | None = None  # a local child sees our death without one

    def command(self, config: KernelConfig) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, "-m", "jaxtui.kernel"], config.env()

    def connection_failed(self, returncode: int | None) -> bool:
        return False

    def connection_lost(self, returncode: int | None) -> bool:
        return False

    def start_failure_advice(self, reason: str, platform: str | None, returncode: int | None) -> str:
        # sysfs and /proc reads (and, on a TPU VM, the metadata server): the caller runs it in a thread.
        from jaxtui.core import hardware  # (not at import: the app's first frame does not need it)

        return hardware.start_failure_advice(reason, platform)

    def may_hold_local_tpu(self) -> bool:
        return True


@dataclass
class SshTransport:
    """The kernel on `host` (anything `ssh` accepts: a ~/.ssh/config alias, user@host, a jump
    host), under the remote supervisor, with `python` (a command line on the remote host)."""

    host: str
    python: str = DEFAULT_REMOTE_PYTHON
    silence_limit: float = SILENCE_LIMIT_S
    in_band_interrupt = True
    heartbeat_s: float | None = HEARTBEAT_S

    def ssh_argv(self) -> list[str]:
        """The ssh command with jaxtui's options, up to and including the host."""
        ssh = shlex.split(os.environ.get(SSH_COMMAND_ENV, "") or "ssh")
        return [*ssh, *SSH_OPTIONS, "--", self.host]

    def remote_command(self, args: list[str]) -> str:
        """A command line for the remote shell: the user's Python command as written (it may
        be `env X=1 /venv/bin/python` or `conda run -n jax python`), the arguments quoted."""
        return " ".join([self.python, *(shlex.quote(a) for a in args)])

    def command(self, config: KernelConfig) -> tuple[list[str], dict[str, str]]:
        # The platform and device count travel as arguments: environment variables do not
        # cross ssh. The target device travels in each request, as for a local kernel.
        args = ["-m", "jaxtui.kernel", "--supervise", "--silence-limit", f"{self.silence_limit:g}"]
        if config.platform is not None:
            args += ["--platform", config.platform]
        if config.host_devices is not None:
            args += ["--host-devices", str(config.host_devices)]
        if config.cluster is not None:
            args += config.cluster.args()
        # ssh itself runs with this environment (SSH_AUTH_SOCK: the user's agent).
        return [*self.ssh_argv(), self.remote_command(args)], dict(os.environ)

    def connection_failed(self, returncode: int | None) -> bool:
        """ssh exits 255 when it cannot connect (and the remote command never ran)."""
        return returncode == SSH_FAILED

    def connection_lost(self, returncode: int | None) -> bool:
        """255: ssh lost the connection; a signal: the ssh process itself was killed;
        EXIT_CLIENT_SILENT: the supervisor heard nothing from us for too long (a laptop
        asleep). A remote kernel that died exits through its supervisor with its own status."""
        return returncode is not None and (returncode in (SSH_FAILED, P.EXIT_CLIENT_SILENT) or returncode < 0)

    def start_failure_advice(self, reason: str, platform: str | None, returncode: int | None) -> str:
        return "\n\n".join(p.text() for p in remote_problems(self, reason, returncode))

    def may_hold_local_tpu(self) -> bool:
        return False  # the remote supervisor frees its host's TPU itself


# -- what went wrong, and how to fix it ------------------------------------------------
_SSH_TROUBLE: list[tuple[re.Pattern[str], str, str, list[str]]] = [
    (re.compile(r"Could not resolve hostname|Name or service not known|nodename nor servname"),
     "unknown-host", "ssh does not know the host {host}",
     ["Check the spelling; `ssh -G {host} | grep ^hostname` shows what ssh makes of it",
      "Give it an alias in ~/.ssh/config (Host {host} / HostName 10.0.0.5 / User you), or use user@address",
      "For a Cloud TPU VM: gcloud compute config-ssh, then use the alias it writes"]),
    (re.compile(r"Permission denied|Too many authentication failures|no mutual signature"),
     "ssh-auth", "{host} refused the login (no key or agent it accepts)",
     ["Make a key if you have none: ssh-keygen -t ed25519",
      ("Install it on the host: ssh-copy-id {host}   (Cloud TPU VM: gcloud compute tpus tpu-vm ssh NAME "
      "once, which installs your key)"),
      "If the key has a passphrase, load it into an agent: eval $(ssh-agent); ssh-add",
      "Check that it works without a prompt: ssh -o BatchMode=yes {host} true"]),
    (re.compile(r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|"
                r"No (?:ED25519|RSA|ECDSA)? ?host key is known"),
     "ssh-host-key", "ssh could not verify {host}'s host key",
     ["Connect once by hand to check and accept the key: ssh {host}",
      "If the host was rebuilt (a new VM at the same address), remove the old key first: ssh-keygen -R {host}"]),
    (re.compile(r"Connection refused"),
     "ssh-refused", "{host} refused the connection (no ssh server on that port)",
     ["Check that the machine is up and runs sshd, and the port (ssh -p PORT, or Port in ~/.ssh/config)"]),
    (re.compile(r"timed out|No route to host|Network is unreachable|Connection reset|"
                r"Connection closed by|kex_exchange_identification"),
     "ssh-network", "{host} cannot be reached over the network",
     ["Check that the VM is running (gcloud compute tpus tpu-vm list / your cloud console)",
      "Check your network, VPN or firewall: ssh -v {host} true shows where it stops"]),
]
_NO_PYTHON = re.compile(r"command not found")
_NO_JAXTUI = re.compile(r"No module named '?jaxtui")


def ssh_problem(host: str, stderr: str) -> Problem:
    """An ssh connection failure, from ssh's own message, with numbered fixes."""
    from jaxtui.core.hardware import Problem  # (imported when needed: see the module's imports)

    message = ssh_message(stderr) or "ssh could not connect (it printed nothing)"
    for pattern, code, title, fixes in _SSH_TROUBLE:
        if pattern.search(stderr):
            if code == "ssh-auth":
                message += "\njaxtui runs ssh with BatchMode=yes: it never asks for a password or a passphrase."
            return Problem(code, "error", title.format(host=host), message, [f.format(host=host) for f in fixes])
    return Problem("ssh-failed", "error", f"ssh could not connect to {host}", message,
                   [f"Try it by hand to see the whole error: ssh -v -o BatchMode=yes {host} true"])


def ssh_message(stderr: str) -> str:
    """ssh's own lines, without the kernel's (the last few are the reason)."""
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("jaxtui:")]
    return "\n".join(lines[-4:])


def remote_problems(transport: SshTransport, reason: str, returncode: int | None) -> list[Problem]:
    """Why a remote kernel did not start: the connection, the Python, jaxtui, or JAX."""
    from jaxtui.core.hardware import Problem

    host, python = transport.host, transport.python
    if transport.connection_failed(returncode):
        return [ssh_problem(host, reason)]
    if returncode == 127 or _NO_PYTHON.search(reason):  # the shell's or env's "not found"
        return [Problem("remote-python", "error", f"`{python}` was not found on {host}", ssh_message(reason),
                        [f"Find the Python that has jaxtui: ssh {host} 'command -v python3; ls ~/*/bin/python'",
                         ("Name it: --remote-python /path/to/venv/bin/python (a command line: "
                         "'conda run -n jax python' works too)"),
                         f"Or install Python 3.11+ on {host}"])]
    if _NO_JAXTUI.search(reason):
        from jaxtui import __version__

        return [Problem("remote-jaxtui", "error", f"jaxtui is not installed for `{python}` on {host}",
                        ssh_message(reason),
                        [(f"Install it there: ssh {host} {python} -m pip install 'jaxtui=={__version__}' "
                         f"(from a checkout: pip install /path/to/jaxtui)"),
                         ("Add JAX for the host's hardware: pip install 'jax[tpu]' (TPU VM) or "
                         "'jax[cuda12]' (NVIDIA GPU)"),
                         "Or point --remote-python at the Python that has it"])]
    return []


def version_fix(host: str | None, python: str) -> str:
    """How to give the kernel's host the same jaxtui as this one."""
    from jaxtui import __version__

    if host is None:
        return f"pip install 'jaxtui=={__version__}'"
    return f"ssh {host} {python} -m pip install 'jaxtui=={__version__}'"

