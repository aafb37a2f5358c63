"""`jaxtui doctor`: a headless health report for a fresh machine, VM or SSH session.

What is installed, what hardware the machine has (read without JAX, `jaxtui.core.hardware`),
what JAX's kernel sees, a smoke test on each device (correct answer, matmul rate, copy
bandwidth, and the fraction of the published peak where one is known), and the problems
found with the steps to fix them. It uses the same kernel as the app and `jaxtui run`.

Exit status: 0 no problems, 1 problems found, 3 the kernel could not start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from jaxtui import __version__
from jaxtui import protocol as P
from jaxtui.cli.options import add_kernel_options
from jaxtui.core import hardware
from jaxtui.core.client import KernelClient, KernelConfig, KernelStartError, RequestFailed
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
    config = KernelConfig(platform=args.platform, host_devices=args.host_devices)
    report, status = asyncio.run(collect(config, budget_s=args.budget, start_timeout=args.start_timeout))
    if args.json:
        json.dump(report, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(report))
    return status
