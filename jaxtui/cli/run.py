"""`jaxtui run`: run one demo on the kernel without the UI, for SSH, scripts, CI and tests.

Same kernel, same protocol, same result as the app. Exit status: 0 ok, 1 the demo failed,
3 the kernel could not start, 124 timeout (as coreutils' `timeout`).
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from typing import Any, TextIO

from jaxtui import protocol as P
from jaxtui.core.catalog import Demo
from jaxtui.core.client import KernelClient, KernelConfig, KernelDied, KernelStartError, RequestFailed

EXIT_OK, EXIT_FAILED, EXIT_KERNEL, EXIT_TIMEOUT = 0, 1, 3, 124


async def run_demo(demo: Demo, *, config: KernelConfig, inputs: dict[str, Any] | None = None,
                   timeout: float | None = None, on_event: Any = None) -> tuple[dict[str, Any], int]:
    """Run a demo in a fresh kernel; returns (result dict, exit status)."""
    client = KernelClient(config)
    params = demo.run_params(inputs=inputs)
    taken: list[dict[str, Any]] = []  # timing records as they come: a run cut short keeps them

    def collect(event: P.Event) -> None:
        if event.kind == P.EV_TIMING:
            taken.append(event.data)
        if on_event is not None:
            on_event(event)
    try:
        try:
            await client.start()
        except KernelStartError as exc:
            kind = getattr(exc, "kind", P.KIND_START_FAILED)
            return _failure(demo, type(exc).__name__, str(exc) or client.stderr_text(), kind), EXIT_KERNEL
        try:
            result = await client.request(P.OP_EXEC, params, timeout=timeout, on_event=collect)
        except TimeoutError:
            outcome = await client.interrupt()
            how = "killed" if outcome == "restarted" else "interrupted"
            return _failure(demo, "Timeout", f"no result after {timeout:g} s; the run was {how}",
                            P.KIND_TIMEOUT, client.info, taken), EXIT_TIMEOUT
        except KernelDied as exc:
            detail = f"{exc} (the demo's code ended the kernel process)"
            if exc.stderr:
                detail += "\n" + exc.stderr
            return _failure(demo, "KernelDied", detail, P.KIND_KERNEL_DIED, client.info, taken), EXIT_FAILED
        except RequestFailed as exc:
            return _failure(demo, exc.data.get("type", "Error"), exc.data.get("message", ""),
                            P.KIND_EXCEPTION, client.info), EXIT_FAILED
    finally:
        await client.shutdown()
    return with_top_level_views(result), EXIT_OK if result.get("ok") else EXIT_FAILED


def _failure(demo: Demo, type_: str, message: str, kind: str, info: dict[str, Any] | None = None,
             timings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    info = info or {}
    result = P.RunResult(demo=demo.name, ok=False, device=(info.get("devices") or [""])[0],
                         platform=info.get("platform", ""),
                         error=asdict(P.ErrorInfo(type_, message, kind=kind)), timings=list(timings or []))
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
    from jaxtui.render.report import render_text

    out.write(render_text(result))


def main(demo: Demo, *, config: KernelConfig, as_json: bool, timeout: float | None,
         inputs: dict[str, Any]) -> int:
    stream_live = not as_json and sys.stdout.isatty()
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

    result, status = asyncio.run(run_demo(demo, config=config, inputs=inputs, timeout=timeout,
                                          on_event=on_event))
    if as_json:
        json.dump(result, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        if stream_live:
            result = {**result, "stdout": ""}  # already shown as it came
        print_report(result, sys.stdout)
    return status
