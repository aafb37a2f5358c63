"""`jaxtui doctor`: a headless health report for a fresh machine, VM or SSH session.

What is installed, what hardware the machine has (read without JAX, `jaxtui.core.hardware`),
what JAX's kernel sees, a smoke test on each device (correct answer, matmul rate, copy
bandwidth, and the fraction of the published peak where one is known), and the problems
found with the steps to fix them. It uses the same kernel as the app and `jaxtui run`.

`jaxtui doctor --remote HOST` checks the way there first (ssh reachable, the Python found,
jaxtui and JAX installed, the same protocol version), then runs `jaxtui doctor` on HOST, so
the hardware, the TPU's owner and the smoke test are the remote host's own.

Exit status: 0 no problems, 1 problems found, 3 the kernel could not start (or ssh could not
connect).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from jaxtui import __version__
from jaxtui import protocol as P
from jaxtui.cli.options import add_kernel_options, kernel_config, remote_hosts, transport_for
from jaxtui.core import hardware
from jaxtui.core.client import KernelClient, KernelConfig, KernelStartError, RequestFailed
from jaxtui.core.transport import SshTransport, remote_problems, ssh_message
from jaxtui.render.units import format_bytes, format_rate

EXIT_OK, EXIT_PROBLEMS, EXIT_KERNEL = 0, 1, 3
START_TIMEOUT_S = 180.0  # TPU init can take a minute; a multi-host slice waits forever
LOW_FRACTION = 0.10  # below this share of the nominal matmul peak, something is wrong


def memory_text(row: dict[str, Any], short: bool = False) -> str:
    """in use / peak / limit where memory_stats() gives them (short: in use / limit); the
    bytes of live arrays on CPU, which has no memory stats."""
    if row.get("bytes_limit"):
        if short:
            return f"{format_bytes(row.get('bytes_in_use'))} / {format_bytes(row['bytes_limit'])}"
        return (f"{format_bytes(row.get('bytes_in_use'))} / {format_bytes(row.get('peak_bytes_in_use'))}"
                f" / {format_bytes(row['bytes_limit'])}")
    if "live_array_bytes" in row:
        return f"{format_bytes(row['live_array_bytes'])} live"
    return "–"


# -- collecting --------------------------------------------------------------------------
async def collect(config: KernelConfig, *, budget_s: float = 0.2, start_timeout: float = START_TIMEOUT_S,
                  found: hardware.Survey | None = None) -> tuple[dict[str, Any], int]:
    """The report as a dict, and the exit status."""
    found = await asyncio.to_thread(hardware.survey) if found is None else found
    env = config.env()
    report: dict[str, Any] = {
        "jaxtui": __version__,
        "packages": found.packages,
        "hardware": found.to_dict(),
        "config": {"platform": config.platform, "host_devices": config.host_devices,
                   "JAX_PLATFORMS": env.get("JAX_PLATFORMS", ""), "XLA_FLAGS": env.get("XLA_FLAGS", ""),
                   "XLA_PYTHON_CLIENT_PREALLOCATE": env.get("XLA_PYTHON_CLIENT_PREALLOCATE", "")},
        "kernel": None, "versions": {}, "devices": [], "smoke": [], "problems": [], "ok": False,
    }
    asked = hardware.requested_platform(config.platform)
    client = KernelClient(config)
    status = EXIT_OK
    problems: list[hardware.Problem] = []
    try:
        try:
            info = await asyncio.wait_for(client.start(), start_timeout)
        except KernelStartError as exc:
            report["kernel"] = {"ok": False, "error": exc.reason}
            problems = hardware.diagnose(found, platform=asked, error=exc.reason)
            if not problems:
                problems.append(hardware.Problem("kernel-start", "error", "The kernel could not start",
                                                 exc.reason, ["Run it by hand to see the whole error: "
                                                              "python -c 'import jax; print(jax.devices())'"]))
            status = EXIT_KERNEL
        except TimeoutError:
            stderr = client.stderr_text(50)
            report["kernel"] = {"ok": False, "error": f"not ready after {start_timeout:g} s", "stderr": stderr}
            problems = hardware.diagnose(found, platform=asked, stderr=stderr,
                                         error=f"the kernel was not ready after {start_timeout:g} s")
            if not any(p.code == "multi-host" for p in problems):
                problems.append(hardware.Problem(
                    "kernel-start", "error", f"JAX did not start within {start_timeout:g} s",
                    stderr or "The kernel printed nothing.",
                    ["On a TPU VM, check that no other process holds the TPU: sudo lsof -w /dev/accel0",
                     "Try it by hand: python -c 'import jax; print(jax.devices())'"]))
            status = EXIT_KERNEL
        else:
            report["kernel"] = {"ok": True, **{k: v for k, v in info.items() if k != "devices"}}
            described = await client.request(P.OP_DEVICES)
            report["versions"] = {k: described.get(k) for k in ("jax", "jaxlib", "python", "backend")}
            report["devices"] = described.get("devices", [])
            try:
                smoke = await client.request(P.OP_SMOKE, {"budget_s": budget_s})
                report["smoke"] = smoke.get("devices", [])
            except RequestFailed as exc:
                report["smoke_error"] = str(exc)
            problems = hardware.diagnose(found, platform=asked, info=info,
                                         stderr=client.stderr_text(200))
            problems += smoke_problems(report["smoke"])
    finally:
        await client.shutdown()
    report["problems"] = [p.__dict__ for p in problems]
    report["ok"] = status == EXIT_OK and not problems
    if status == EXIT_OK and problems:
        status = EXIT_PROBLEMS
    return report, status


def smoke_problems(rows: list[dict[str, Any]]) -> list[hardware.Problem]:
    problems = []
    for row in rows:
        if not row.get("ok"):
            problems.append(hardware.Problem(
                "device-failed", "error", f"{row.get('name')} failed the smoke test", row.get("error", ""),
                ["Check the device's health (nvidia-smi, or the TPU VM's serial console)",
                 "Pick another device as the target in the Devices pane"]))
        elif row.get("matmul_fraction") is not None and row["matmul_fraction"] < LOW_FRACTION:
            problems.append(hardware.Problem(
                "slow-device", "warning",
                f"{row.get('name')} reached {row['matmul_fraction']:.0%} of its nominal matmul peak",
                f"{format_rate(row.get('matmul_flops'), 'FLOP/s')} against "
                f"{format_rate(row.get('peak_matmul_flops'), 'FLOP/s')} published for {row.get('device_kind')}.",
                ["Check that no other process uses the device (nvidia-smi / sudo lsof -w /dev/accel0)",
                 "Check clocks and power limits: nvidia-smi -q -d CLOCK,POWER"]))
    return problems


# -- a remote host -----------------------------------------------------------------------
# Run by the remote Python with `-c`: what is installed there, without importing JAX (a TPU
# held by another process must not hang the check).
REMOTE_PROBE = """\
import json, sys
from importlib import metadata
found = {"python_version": sys.version.split()[0], "executable": sys.executable}
try:
    import jaxtui, jaxtui.protocol
    found["jaxtui"] = jaxtui.__version__
    found["protocol"] = getattr(jaxtui.protocol, "PROTOCOL_VERSION", None)
except Exception as exc:
    found["jaxtui_error"] = f"{type(exc).__name__}: {exc}"
for name in ("jax", "jaxlib", "libtpu"):
    try:
        found[name] = metadata.version(name)
    except Exception:
        found[name] = None
print("JAXTUI-PROBE " + json.dumps(found))
"""


async def _ssh(transport: SshTransport, args: list[str], timeout: float) -> tuple[int | None, str, str]:
    """Run `PYTHON ARGS` on the host: (exit status, stdout, stderr); None on timeout."""
    proc = await asyncio.create_subprocess_exec(
        *transport.ssh_argv(), transport.remote_command(args), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        return None, out.decode(errors="replace"), err.decode(errors="replace")
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def _probe_problems(transport: SshTransport, status: int | None, out: str, err: str,
                    timeout: float) -> tuple[dict[str, Any], list[hardware.Problem]]:
    host = transport.host
    if status is None:
        return {}, [hardware.Problem("ssh-timeout", "error", f"{host} did not answer within {timeout:g} s",
                                     ssh_message(err), [f"Try it by hand: ssh -v -o BatchMode=yes {host} true"])]
    line = next((x for x in out.splitlines() if x.startswith("JAXTUI-PROBE ")), None)
    found: dict[str, Any] = json.loads(line.split(" ", 1)[1]) if line else {}
    if not found:
        problems = remote_problems(transport, err, status)
        return {}, problems or [hardware.Problem(
            "remote-python", "error", f"`{transport.python}` on {host} did not run the check",
            ssh_message(err) or f"exit status {status}", [f"Try it by hand: ssh {host} {transport.python} -V"])]
    if "jaxtui" not in found:
        return found, remote_problems(transport, found.get("jaxtui_error", ""), 1)
    problems = []
    if found.get("protocol") != P.PROTOCOL_VERSION:
        problems.append(hardware.Problem(
            "remote-version", "error",
            f"{host} has jaxtui {found['jaxtui']} (protocol {found.get('protocol')}); this is jaxtui "
            f"{__version__} (protocol {P.PROTOCOL_VERSION})", "A kernel of another protocol version is refused.",
            [f"Install the same jaxtui there: ssh {host} {transport.python} -m pip install 'jaxtui=={__version__}'",
             "Or upgrade this one to match: pip install -U jaxtui"]))
    if not found.get("jax"):
        problems.append(hardware.Problem(
            "remote-jax", "error", f"JAX is not installed for `{transport.python}` on {host}", "",
            [(f"Install it for the host's hardware: ssh {host} {transport.python} -m pip install 'jax[tpu]' "
              "(TPU VM), 'jax[cuda12]' (NVIDIA GPU) or jax (CPU)")]))
    return found, problems


async def collect_remote(config: KernelConfig, transport: SshTransport, *, budget_s: float = 0.2,
                         start_timeout: float = START_TIMEOUT_S) -> tuple[dict[str, Any], int]:
    """The remote host's report: the way there, then `jaxtui doctor --json` run on the host."""
    remote: dict[str, Any] = {"host": transport.host, "python": transport.python, "reachable": False}
    report: dict[str, Any] = {"jaxtui": __version__, "remote": remote, "problems": [], "ok": False}
    status, out, err = await _ssh(transport, ["-c", REMOTE_PROBE], start_timeout)
    remote["reachable"] = status is not None and not transport.connection_failed(status)
    found, problems = _probe_problems(transport, status, out, err, start_timeout)
    remote.update(found)
    if problems:
        report["problems"] = [p.__dict__ for p in problems]
        return report, EXIT_KERNEL
    args = ["-m", "jaxtui", "doctor", "--json", "--budget", f"{budget_s:g}", "--start-timeout", f"{start_timeout:g}"]
    if config.platform:
        args += ["--platform", config.platform]
    if config.host_devices is not None:
        args += ["--host-devices", str(config.host_devices)]
    status, out, err = await _ssh(transport, args, start_timeout + 120)
    try:
        theirs = json.loads(out)
    except ValueError:
        report["problems"] = [hardware.Problem(
            "remote-doctor", "error", f"`jaxtui doctor` on {transport.host} failed",
            ssh_message(err) or f"exit status {status}",
            [f"Run it there to see the whole error: ssh {transport.host} {transport.python} -m jaxtui doctor"],
        ).__dict__]
        return report, EXIT_KERNEL
    report.update({k: v for k, v in theirs.items() if k not in ("jaxtui", "remote")})
    return report, status if status in (EXIT_OK, EXIT_PROBLEMS, EXIT_KERNEL) else EXIT_KERNEL


def render_remote(report: dict[str, Any]) -> str:
    remote = report["remote"]
    where = f"{remote['host']} · {remote['python']}"
    if not remote.get("reachable"):
        head = f"Remote     {where}: not reachable over ssh"
    elif "executable" not in remote:
        head = f"Remote     {where}: reachable; the Python did not run"
    else:
        head = (f"Remote     {where}: Python {remote['python_version']} ({remote['executable']}) · "
                f"jaxtui {remote.get('jaxtui') or 'missing'} · jax {remote.get('jax') or 'missing'}")
    title = f"jaxtui doctor --remote {remote['host']} · jaxtui {report['jaxtui']} here"
    if "packages" in report:  # the host's own doctor ran: its whole report follows, from the host's side
        return "\n".join([title, head, *render_text(report).splitlines()[1:]]) + "\n"
    lines = [title, head, "", "Problems"]
    for p in report.get("problems") or []:
        lines += ["  " + line for line in hardware.Problem(**p).text().splitlines()]
    return "\n".join(lines) + "\n"


# -- rendering ---------------------------------------------------------------------------
def _fraction(x: float | None) -> str:
    return f" ({x:.0%})" if x is not None else ""


def render_text(report: dict[str, Any]) -> str:
    lines = [f"jaxtui doctor · jaxtui {report['jaxtui']}"]
    pkgs = report["packages"]
    lines.append("Software   " + " · ".join(f"{k} {v or '–'}" for k, v in pkgs.items()))
    lines.append(f"Hardware   {report['hardware']['summary']}   (PCI sysfs, read without starting JAX)")
    cfg = report["config"]
    lines.append(f"Kernel env JAX_PLATFORMS={cfg['JAX_PLATFORMS'] or '(unset: JAX chooses)'}  "
                 f"XLA_PYTHON_CLIENT_PREALLOCATE={cfg['XLA_PYTHON_CLIENT_PREALLOCATE']}  "
                 f"XLA_FLAGS={cfg['XLA_FLAGS'] or '(unset)'}")
    kernel = report.get("kernel") or {}
    if kernel.get("ok"):
        n = kernel.get("device_count", 0)
        v = report.get("versions") or {}
        lines.append(f"Kernel     {kernel.get('platform')} · {n} device{'s' if n != 1 else ''} · "
                     f"{kernel.get('process_count', 1)} process · jax {v.get('jax')} · jaxlib {v.get('jaxlib')}"
                     f" · backend {v.get('backend') or '?'} · ready in {kernel.get('ready_s', 0):.1f} s")
        lines += ["", "Devices and smoke test: a checked matmul, then the median matmul rate and copy bandwidth"]
        smoke = {row["id"]: row for row in report.get("smoke") or []}
        lines.append(f"  {'id':>3} {'device':<8} {'memory':<20} {'matmul':<25} {'copy':<21} check")
        for d in report.get("devices") or []:
            s = smoke.get(d["id"], {})
            mm = (f"{format_rate(s.get('matmul_flops'), 'FLOP/s')}{_fraction(s.get('matmul_fraction'))}"
                  if s.get("matmul_flops") else "–")
            cp = (f"{format_rate(s.get('copy_bytes_s'), 'B/s')}{_fraction(s.get('copy_fraction'))}"
                  if s.get("copy_bytes_s") else "–")
            check = "ok" if s.get("ok") else (s.get("error") or "not tested")
            lines.append(f"  {d['id']:>3} {d['platform'] + ':' + str(d['id']):<8} {memory_text(d, short=True):<20} "
                         f"{mm:<25} {cp:<21} {check}")
        sizes: dict[str, Any] = next(iter(smoke.values()), {})
        if sizes:
            lines.append(f"  matmul {sizes.get('matmul_side')}² {sizes.get('dtype')}; copy reads and writes "
                         f"{format_bytes((sizes.get('copy_bytes') or 0) / 2)}. "
                         + ("(%): of the published peak for the device kind." if any(
                             r.get("matmul_fraction") is not None for r in smoke.values())
                            else "No published peak for this device kind (CPUs have none)."))
        if report.get("smoke_error"):
            lines.append(f"  smoke test failed: {report['smoke_error']}")
    else:
        lines.append(f"Kernel     could not start: {(kernel.get('error') or '').splitlines()[0] if kernel else '?'}")
    lines += ["", "Problems"]
    problems = report.get("problems") or []
    if not problems:
        lines.append("  none found")
    for p in problems:
        lines += ["  " + line for line in hardware.Problem(**p).text().splitlines()]
    return "\n".join(lines) + "\n"


# -- command line ------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jaxtui doctor",
                                description="Check this machine for JAX: versions, devices, a smoke test "
                                            "on each device, and the problems found with their fixes.")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--budget", type=float, default=0.2, metavar="S",
                   help="seconds of timed repeats per measurement (default 0.2)")
    p.add_argument("--start-timeout", type=float, default=START_TIMEOUT_S, metavar="S",
                   help=f"give up on the kernel's start after S seconds (default {START_TIMEOUT_S:g})")
    add_kernel_options(p)
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.budget <= 0 or args.start_timeout <= 0:
        print("jaxtui doctor: --budget and --start-timeout must be positive", file=sys.stderr)
        return 2
    if len(remote_hosts(args)) > 1:
        print("jaxtui doctor: one host at a time (--remote HOST)", file=sys.stderr)
        return 2
    config = kernel_config(args)
    transport = transport_for(args)
    if isinstance(transport, SshTransport):
        report, status = asyncio.run(collect_remote(config, transport, budget_s=args.budget,
                                                    start_timeout=args.start_timeout))
    else:
        report, status = asyncio.run(collect(config, budget_s=args.budget, start_timeout=args.start_timeout))
    if args.json:
        json.dump(report, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_remote(report) if isinstance(transport, SshTransport) else render_text(report))
    return status
