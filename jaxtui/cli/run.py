"""`jaxtui run`: run one demo on the kernel without the UI, for SSH, scripts, CI and tests.

Same kernel, same protocol, same result as the app (here or, with --remote, on another host).
Exit status: 0 ok, 1 the demo failed (or the kernel died, or a remote kernel's connection
dropped), 2 a usage error (a bad --target), 3 the kernel could not start (or ssh could not
connect, or the kernel is another jaxtui version), 124 timeout (as coreutils' `timeout`), 130
ctrl+c, 128+N on signal N (SIGTERM 143, SIGHUP 129). On a signal the kernel's whole process
group is killed at once, busy in XLA or not. A run cut short keeps what it printed and the
line it reached.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import signal
import sys
from dataclasses import asdict
from typing import Any, TextIO

from jaxtui import protocol as P
from jaxtui.core.catalog import Demo
from jaxtui.core.client import (
    ConnectionLost,
    KernelConfig,
    KernelDied,
    KernelError,
    KernelStartError,
    RequestFailed,
    Transport,
)
from jaxtui.core.cluster import ClusterRunEnded, ClusterSpec, Kernel, KernelCluster, make_kernel

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_KERNEL, EXIT_TIMEOUT = 0, 1, 2, 3, 124
# The `target` op's refusals: no libtpu (the kernel cannot do what was asked: exit 3), or
# a slice libtpu does not know (a bad --target: exit 2).
TARGET_REFUSALS = {"TargetUnavailable": (P.KIND_TARGET_UNAVAILABLE, EXIT_KERNEL),
                   "TargetInvalid": (P.KIND_USAGE, EXIT_USAGE)}
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # exit 128 + N, kernel killed


class Progress:
    """What a run has shown so far: kept when it is cut short (timeout, death, signal)."""

    def __init__(self, on_event: Any = None):
        self.on_event = on_event
        self.timings: list[dict[str, Any]] = []
        self.printed = P.StreamLines()  # the lines as the finished run's `stdout` has them

    def __call__(self, event: P.Event) -> None:
        if event.kind == P.EV_TIMING:
            self.timings.append(event.data)
        elif event.kind == P.EV_STREAM:
            self.printed.feed(str(event.data.get("name", "stdout")), str(event.data.get("text", "")))
        if self.on_event is not None:
            self.on_event(event)

    @property
    def stdout(self) -> str:
        return self.printed.text()


async def run_demo(demo: Demo, *, config: KernelConfig, inputs: dict[str, Any] | None = None,
                   timeout: float | None = None, on_event: Any = None,
                   transport: Transport | None = None,
                   cluster: ClusterSpec | None = None) -> tuple[dict[str, Any], int]:
    """Run a demo in a fresh kernel (on `transport`'s host), or in every process of a fresh
    cluster; returns (result dict, exit status). SIGINT, SIGTERM and SIGHUP kill the kernel
    (every process of a cluster) and end the run with status 128 + the signal number."""
    client = make_kernel(config, transport=transport, cluster=cluster)
    result, status = await _guarded(demo, client, inputs, timeout, Progress(on_event))
    if isinstance(client, KernelCluster) and "processes" not in result:
        # Cut short by this side (a timeout, a signal, a start failure): each process's part
        # says what it printed and why it stopped.
        result["processes"] = client.cut_short(result.get("error") or {})
        result["process_count"] = client.size
    return result, status


async def _guarded(demo: Demo, client: Kernel, inputs: dict[str, Any] | None, timeout: float | None,
                   progress: Progress) -> tuple[dict[str, Any], int]:
    loop = asyncio.get_running_loop()
    work = asyncio.current_task()
    caught: list[int] = []

    def on_signal(signum: int) -> None:
        if caught:
            return
        caught.append(signum)
        client.kill_now()  # at once: a kernel inside XLA stops for nothing else
        if work is not None:
            work.cancel()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return await _run(demo, client, progress, demo.run_params(inputs=inputs), timeout)
    except asyncio.CancelledError:
        if not caught:
            raise
        name = signal.Signals(caught[0]).name
        what = "ctrl+c" if caught[0] == signal.SIGINT else name
        return _failure(demo, "Interrupted", f"{what}: the run was stopped and the kernel killed",
                        P.KIND_INTERRUPTED, client.info, progress), 128 + caught[0]
    finally:
        try:
            await client.shutdown()
        finally:
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)


async def _run(demo: Demo, client: Kernel, progress: Progress, params: dict[str, Any],
               timeout: float | None) -> tuple[dict[str, Any], int]:
    try:
        await client.start()
    except KernelStartError as exc:
        kind = getattr(exc, "kind", P.KIND_START_FAILED)
        return _failure(demo, type(exc).__name__, str(exc) or client.stderr_text(), kind), EXIT_KERNEL
    if client.config.target:
        try:  # before the run: a target that cannot load fails at once, not per function
            await client.request(P.OP_TARGET, {"target": client.config.target}, timeout=timeout)
        except RequestFailed as exc:
            kind, status = TARGET_REFUSALS.get(exc.data.get("type", ""), (P.KIND_EXCEPTION, EXIT_FAILED))
            return _failure(demo, exc.data.get("type", "Error"), exc.data.get("message", ""), kind,
                            client.info), status
    try:
        result = await client.request(P.OP_EXEC, params, timeout=timeout, on_event=progress)
    except ClusterRunEnded as exc:  # stuck, or a process died: every process's part, and why
        return with_top_level_views(exc.result), EXIT_FAILED
    except TimeoutError:
        line = await _line_reached(client)
        # Interrupted or killed: either way the kernel is shut down next, so never restarted.
        outcome = await client.interrupt(restart=False)
        how = "killed" if outcome == "killed" else "interrupted"
        return _failure(demo, "Timeout", f"no result after {timeout:g} s; the run was {how}",
                        P.KIND_TIMEOUT, client.info, progress, line), EXIT_TIMEOUT
    except ConnectionLost as exc:
        return _failure(demo, "ConnectionLost", str(exc), P.KIND_CONNECTION_LOST, client.info, progress), EXIT_FAILED
    except KernelDied as exc:
        detail = f"{exc} (the demo's code ended the kernel process)"
        if exc.stderr:
            detail += "\n" + exc.stderr
        return _failure(demo, "KernelDied", detail, P.KIND_KERNEL_DIED, client.info, progress,
                        _line_in_traceback(exc.stderr, params.get("filename"))), EXIT_FAILED
    except RequestFailed as exc:
        return _failure(demo, exc.data.get("type", "Error"), exc.data.get("message", ""),
                        P.KIND_EXCEPTION, client.info, progress), EXIT_FAILED
    for part in result.get("processes", []):
        with_top_level_views(part)
    return with_top_level_views(result), EXIT_OK if result.get("ok") else EXIT_FAILED


async def _line_reached(client: Kernel) -> int | None:
    """The line of the user's code the kernel is on, asked in-band (answered even mid-XLA)."""
    try:
        beat = await client.request(P.OP_HEARTBEAT, background=True, timeout=1.0)
    except (TimeoutError, KernelError):
        return None
    line = beat.get("line")
    return line if isinstance(line, int) else None


def _line_in_traceback(stderr: str, filename: Any) -> int | None:
    """A crashed kernel's last line in the user's file, from faulthandler's dump on stderr."""
    if not stderr or not filename:
        return None
    lines = re.findall(r'File "' + re.escape(str(filename)) + r'", line (\d+)', stderr)
    return int(lines[0]) if lines else None  # faulthandler lists the innermost frame first


def _failure(demo: Demo, type_: str, message: str, kind: str, info: dict[str, Any] | None = None,
             progress: Progress | None = None, line: int | None = None) -> dict[str, Any]:
    info = info or {}
    result = P.RunResult(demo=demo.name, ok=False, device=(info.get("devices") or [""])[0],
                         platform=info.get("platform", ""),
                         stdout=progress.stdout if progress is not None else "",
                         error=asdict(P.ErrorInfo(type_, message, line=line, kind=kind)),
                         timings=list(progress.timings if progress is not None else []))
    return with_top_level_views(asdict(result))


def with_top_level_views(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON contract: the first marked function's views also appear at top level."""
    first = (result.get("inspections") or [{}])[0]
    for key in ("jaxpr", "stablehlo", "hlo"):
        result[key] = first.get(key) or None
    result["cost"] = first.get("cost") or None
    result["memory"] = first.get("memory") or None
    return result


def print_report(result: dict[str, Any], out: TextIO) -> None:
    """The human-readable form of a result."""
    from jaxtui.render.processes import cluster_text
    from jaxtui.render.report import render_text

    out.write(cluster_text(result) if "processes" in result else render_text(result))


def main(demo: Demo, *, config: KernelConfig, as_json: bool, timeout: float | None,
         inputs: dict[str, Any], transport: Transport | None = None, cluster: ClusterSpec | None = None) -> int:
    stream_live = not as_json and sys.stdout.isatty() and cluster is None  # a cluster: per process, at the end
    show_progress = sys.stderr.isatty()  # a sweep's "3/12", rewritten in place

    def on_event(event: P.Event) -> None:
        if stream_live and event.kind == P.EV_STREAM:
            sys.stdout.write(event.data.get("text", ""))
            sys.stdout.flush()
        elif show_progress and event.kind == P.EV_PROGRESS:
            d = event.data
            end = "\n" if d.get("done") == d.get("total") else ""
            sys.stderr.write(f"\r{d.get('label', '')} {d.get('done')}/{d.get('total')}{end}")
            sys.stderr.flush()

    try:
        result, status = asyncio.run(run_demo(demo, config=config, inputs=inputs, timeout=timeout,
                                              on_event=on_event, transport=transport, cluster=cluster))
    except KeyboardInterrupt:  # ctrl+c before the handlers were in place: no kernel yet
        return 128 + signal.SIGINT
    try:
        if as_json:
            json.dump(strict_json(result), sys.stdout, indent=1, default=str, allow_nan=False)
            sys.stdout.write("\n")
        else:
            if stream_live:
                result = {**result, "stdout": ""}  # already shown as it came
            print_report(result, sys.stdout)
        sys.stdout.flush()
    except OSError:  # SIGHUP: the terminal is gone; the status still says what happened
        pass
    return status


def strict_json(value: Any) -> Any:
    """`value` with NaN and ±Infinity as null: JSON has no such numbers (RFC 8259), and
    strict parsers (jq, JavaScript, Go) refuse Python's `NaN`."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value
