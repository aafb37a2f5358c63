"""Run user code in the kernel: capture output, record the demo session, shape errors.

Each run gets a fresh namespace, as if the file were run as a script (`__name__ ==
"__main__"`), so panes never leak state into each other.
"""

from __future__ import annotations

import ast
import linecache
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jax

import jaxtui.demo as demo_api
from jaxtui.kernel import compiles, jax_state
from jaxtui.kernel import live as live_code
from jaxtui.kernel.capture import captured
from jaxtui.kernel.devices import DeviceChoiceError, default_device_name, pick_device
from jaxtui.kernel.display import summarize
from jaxtui.kernel.inspect import inspect_targets
from jaxtui.protocol import ErrorInfo, RunResult

Emit = Callable[[str, dict[str, Any]], None]

_OWN_DIRS: tuple[str, ...] = (str(Path(__file__).resolve().parent), str(Path(demo_api.__file__).resolve()),
                              str(Path(__file__).resolve().parent.parent / "inputs.py"))


def error_from_exception(exc: BaseException, filename: str) -> ErrorInfo:
    """The user's frames only: the kernel's and the authoring API's frames are dropped."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_OWN_DIRS)]
    user_lines = [f.lineno for f in frames if f.filename == filename]
    message = str(exc)
    if isinstance(exc, KeyboardInterrupt):  # ctrl+c says "interrupted"; the code's own keeps its words
        return ErrorInfo("KeyboardInterrupt", message or "interrupted", user_lines[-1] if user_lines else None,
                         kind="interrupted")
    text = "".join(traceback.format_list(frames)) if frames else ""
    text = "Traceback (your code first, most recent call last):\n" + text if text else ""
    text += "".join(traceback.format_exception_only(type(exc), exc))
    return ErrorInfo(type(exc).__name__, message, user_lines[-1] if user_lines else None,
                     traceback=text)


def _is_demo_api_call(node: ast.expr) -> bool:
    # `demo.inspect(f, x)` as the last line records; echoing its return value would be noise.
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "demo")


def _compile_user_code(code: str, filename: str) -> tuple[Any, Any]:
    """Compile the code; a trailing expression is compiled separately so its value shows."""
    tree = ast.parse(code, filename, "exec")
    last = None
    tail = tree.body[-1] if tree.body else None
    if isinstance(tail, ast.Expr) and not _is_demo_api_call(tail.value):
        tree.body.pop()
        last = compile(ast.Expression(tail.value), filename, "eval")
    return compile(tree, filename, "exec"), last


def run_code(code: str, *, filename: str, demo: str, inputs: dict[str, Any] | None = None,
             mode: str = "run", emit: Emit | None = None, inspect: bool = True,
             device: int | None = None, live: bool = False, budget_s: float | None = None,
             compile_for: str | None = None) -> RunResult:
    """Execute `code` as a script and return what it produced (on device id `device`, if given).
    `compile_for`: a target (--target) the marked functions are also compiled for (kernel/target.py).

    `live`: run only the statements the marked functions need (kernel/live.py), stopped
    after `budget_s` seconds.
    """
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    result = RunResult(demo=demo, ok=True, device=default_device_name(), platform=jax.default_backend())
    try:
        target = pick_device(device)
    except DeviceChoiceError as exc:
        result.ok, result.device = False, f"device {device}"
        result.error = asdict(ErrorInfo("DeviceError", str(exc)))
        return result
    if target is not None:
        result.device = str(target)
    try:
        body, last = _compile_user_code(code, filename)
    except SyntaxError as exc:
        result.ok = False
        result.error = asdict(ErrorInfo("SyntaxError", exc.msg or str(exc), exc.lineno, exc.offset,
                                        traceback="".join(traceback.format_exception_only(type(exc), exc)),
                                        kind="syntax"))
        return result
    sliced = live_code.compile_slice(code, filename) if live else None
    if sliced is not None:
        body, last = sliced, None

    session = demo_api.Session(inputs=dict(inputs or {}), mode=mode, filename=filename, emit=emit)
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": filename, "__builtins__": __builtins__}
    demo_api._session = session
    recorder = compiles.Recorder(filename)
    session.recorder = recorder  # demo.time files the harness's own compiles apart from the run's
    budget = live_code.Budget(budget_s, filename)
    t0 = time.perf_counter()
    # default_device(None) changes nothing: JAX's own default (device 0) applies.
    with jax_state.restored(), captured(emit) as output, recorder, jax.default_device(target):
        session.printed = output.printed  # where each demo.show lands in the Output
        try:
            with budget:
                exec(body, namespace)  # noqa: S102 - running the user's code is the point
            if last is not None:
                value = eval(last, namespace)  # noqa: S307
                if value is not None:
                    session.values.append({**summarize(value, label="Out"), "at": session.printed()})
            jax.effects_barrier()  # debug.print callbacks land before the capture ends
        except BaseException as exc:  # KeyboardInterrupt included
            if isinstance(exc, SystemExit) and exc.code in (None, 0):
                pass
            else:
                result.ok = False
                result.error = asdict(error_from_exception(exc, filename))
                if budget.fired:
                    result.error.update(type="LiveBudgetExceeded", message=(
                        f"live mode stops code that runs longer than {budget_s:g} s; "
                        "run it (ctrl+r) to see everything"))
                if not isinstance(exc, Exception | KeyboardInterrupt | SystemExit):
                    raise
        finally:
            result.elapsed_s = time.perf_counter() - t0
            demo_api._session = None
        if inspect and result.ok:
            recorder.phase = "inspect"  # the views' own compilations are not the run's
            result.inspections = inspect_targets(session.targets, filename=filename, emit=emit,
                                                 target=compile_for, with_targets=not live)
    result.stdout = output.text()
    result.values = session.values
    result.timings = session.timings
    result.corrections = session.corrections
    result.plots = list(session.plots.values())
    result.inputs = session.used_inputs
    result.compiles = recorder.summary()
    if compile_for:
        from jaxtui.kernel.target import describe_or_none

        result.target = describe_or_none(compile_for)
    if sliced is not None and live_code.slice_missed_a_name(asdict(result)):
        return run_code(code, filename=filename, demo=demo, inputs=inputs, mode=mode, emit=emit,
                        inspect=inspect, device=device, budget_s=budget_s, compile_for=compile_for)
    return result
