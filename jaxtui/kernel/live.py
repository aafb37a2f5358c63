"""What a live inspection runs: only the code the marked functions need, within a budget.

Live mode re-inspects the code after every pause in typing, so it must answer in a few
hundred milliseconds. Running the whole demo would not: the jit lesson clears JAX's caches
and times things, the stax lesson trains a network. So a live run executes a *slice* of
the file: the `demo.inspect(...)` statements and, going backwards, every top-level
statement that binds or mutates a name they need (imports and `jax.config` updates
always). `print`s, `demo.show`s, timings and asides that no marked function depends on
are skipped.

The slice is computed from the syntax tree alone, so it is conservative in one direction
(it may keep too much) and cannot see everything (a name bound through `globals()` or a
function's `global` statement): a sliced run that fails with a NameError is run again in
full. Line numbers are those of the file, so errors and jaxpr source info still point at
the editor's lines.

A live run also has a time budget: after `budget_s` the kernel stops it (an exception at
the next statement of the user's own code, no signal; see `Budget`), so a slow slice (a
training loop the marked function's parameters come from) cannot hold the kernel while
the user keeps typing.
"""

from __future__ import annotations

import ast
import ctypes
import dis
import sys
import threading
from collections.abc import Iterator
from types import CodeType, FrameType
from typing import Any

DEMO_MODULE = "jaxtui.demo"


class LiveBudgetExceeded(KeyboardInterrupt):
    """The live run took longer than its budget. A KeyboardInterrupt so that the user's
    own `except Exception:` cannot swallow it, and the kernel treats it as an interrupt."""


# -- the slice ----------------------------------------------------------------------------

def _demo_aliases(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to the demo module (`from jaxtui import demo`) and to its `inspect`."""
    modules, inspects = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "jaxtui":
            modules |= {a.asname or a.name for a in node.names if a.name == "demo"}
        elif isinstance(node, ast.ImportFrom) and node.module == DEMO_MODULE:
            inspects |= {a.asname or a.name for a in node.names if a.name == "inspect"}
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name == DEMO_MODULE and a.asname}
    return modules, inspects


def _is_inspect_call(node: ast.AST, modules: set[str], inspects: set[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "inspect":
        return isinstance(func.value, ast.Name) and func.value.id in modules
    return isinstance(func, ast.Name) and func.id in inspects


def _top_level_inspect(stmt: ast.stmt, modules: set[str], inspects: set[str]) -> bool:
    value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign)) else None
    return value is not None and _is_inspect_call(value, modules, inspects)


def _scope_children(node: ast.AST) -> Iterator[ast.AST]:
    """Child nodes evaluated in the enclosing scope: a function's decorators, defaults
    and annotations, not its body."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield from node.decorator_list
        yield from node.args.defaults
        yield from (d for d in node.args.kw_defaults if d is not None)
        if node.returns is not None:
            yield node.returns
    elif isinstance(node, ast.Lambda):
        yield from node.args.defaults
        yield from (d for d in node.args.kw_defaults if d is not None)
    elif isinstance(node, ast.ClassDef):
        yield from node.decorator_list
        yield from node.bases
        yield from (k.value for k in node.keywords)
        yield from node.body  # a class body runs at definition time
    else:
        yield from ast.iter_child_nodes(node)


def _function_free_loads(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """Names a function body reads that it does not bind itself: globals it needs when called."""
    args = node.args
    params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    body = node.body if isinstance(node.body, list) else [node.body]
    loads: set[str] = set()
    stores: set[str] = set()
    declared_global: set[str] = set()
    for stmt in body:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Name):
                (loads if isinstance(sub.ctx, ast.Load) else stores).add(sub.id)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stores.add(sub.name)
            elif isinstance(sub, ast.Global):
                declared_global |= set(sub.names)
    return (loads - params - (stores - declared_global)) | declared_global


def loads(node: ast.AST) -> set[str]:
    """Module-level names a statement reads, now or when the functions it defines run."""
    found: set[str] = set()
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, ast.Name) and isinstance(cur.ctx, ast.Load):
            found.add(cur.id)
        if isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            found |= _function_free_loads(cur)
        stack.extend(_scope_children(cur))
    return found


def binds(stmt: ast.stmt) -> set[str]:
    """Module-level names a statement binds (or deletes)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    found: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        cur = stack.pop()
        if isinstance(cur, ast.Name) and not isinstance(cur.ctx, ast.Load):
            found.add(cur.id)
        elif isinstance(cur, (ast.Import, ast.ImportFrom)):
            found |= {(a.asname or a.name).split(".")[0] for a in cur.names}
        elif isinstance(cur, ast.ExceptHandler) and cur.name:
            found.add(cur.name)
        elif isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(cur.name)
            continue  # its body binds its own locals
        elif isinstance(cur, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(cur))
    return found


def _base_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def mutates(stmt: ast.stmt, demo_modules: set[str], imported: set[str]) -> set[str]:
    """Names a statement may change in place: `x.append(...)`, `x[i] = ...`, `x.a = ...`,
    `x += ...`. A method call on an imported module (`jax.block_until_ready(...)`) or the
    demo API (`demo.show(...)`) changes nothing a marked function needs (config updates
    are kept anyway: `_configures`)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return set()
    found: set[str] = set()
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
            base = _base_name(node)
        elif isinstance(node, ast.AugAssign):
            base = _base_name(node.target)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base = _base_name(node.func.value)
            if base in demo_modules:
                continue
            if base in imported:
                continue
        else:
            continue
        if base is not None:
            found.add(base)
    return found


def _configures(stmt: ast.stmt) -> bool:
    """`jax.config.update(...)` and the like: changes what every trace produces (x64...)."""
    return any(isinstance(node, ast.Call) and ".config." in f".{ast.unparse(node.func)}."
               for node in ast.walk(stmt))


def inspection_slice(tree: ast.Module) -> ast.Module | None:
    """The statements the `demo.inspect` calls need, in file order; None when the calls
    are not all top-level statements (then the whole file must run)."""
    modules, inspects = _demo_aliases(tree)
    calls = sum(1 for n in ast.walk(tree) if _is_inspect_call(n, modules, inspects))
    marks = [i for i, s in enumerate(tree.body) if _top_level_inspect(s, modules, inspects)]
    if calls != len(marks):
        return None
    imported: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            imported |= binds(stmt)
    keep = set(marks)
    needed: set[str] = set()
    for i in marks:
        needed |= loads(tree.body[i])
    for i in reversed(range(max(marks, default=-1))):
        stmt = tree.body[i]
        if i in keep:
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)) or _configures(stmt):
            keep.add(i)
            continue
        if (binds(stmt) | mutates(stmt, modules, imported)) & needed:
            keep.add(i)
            needed |= loads(stmt)
    return ast.Module(body=[tree.body[i] for i in sorted(keep)], type_ignores=[])


def compile_slice(code: str, filename: str) -> object | None:
    """The sliced code, compiled with the file's name and line numbers; None: run it all."""
    try:
        tree = ast.parse(code, filename, "exec")
    except SyntaxError:
        return None  # the full compile reports it
    sliced = inspection_slice(tree)
    if sliced is None:
        return None
    return compile(sliced, filename, "exec")


# -- the budget ---------------------------------------------------------------------------
# The kernel that runs live inspections also serves real runs (on a TPU VM one process owns
# the chips), so stopping a live run must not leave JAX in a bad state. An asynchronous
# exception lands at whatever bytecode runs next: inside `jax.numpy_rank_promotion(...)
# .__enter__` after the config was set it leaks that setting into every later run, inside
# JAX's tracing or caches it leaves them half-updated. So the budget never raises inside JAX
# (nor anything but the user's file): when it runs out, a pending call (run by the main
# thread at its next bytecode) turns on a trace function, which raises at the start of the
# next statement of the user's own file: where an exception of the user's own could come
# from, which JAX (tracing included) is built to unwind.

_PendingCall = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
_add_pending_call = ctypes.pythonapi.Py_AddPendingCall
_add_pending_call.argtypes = [_PendingCall, ctypes.c_void_p]
_add_pending_call.restype = ctypes.c_int


def _statement_starts(code: CodeType) -> set[int]:
    """Offsets where a line's code begins, in bytecode order. A later instruction of a
    line (the `__exit__` call a `with` line makes at the end of its block, a loop
    header's next iteration) is no place to raise: the block's cleanup would be skipped."""
    starts: dict[int | None, int] = {}
    for ins in dis.get_instructions(code):
        if ins.opname != "RESUME":
            starts.setdefault(ins.positions.lineno if ins.positions else None, ins.offset)
    return set(starts.values())


class Budget:
    """Context manager: raise LiveBudgetExceeded after `seconds`, at the start of a
    statement of `filename` (the user's code), never inside JAX or jaxtui."""

    def __init__(self, seconds: float | None, filename: str = "") -> None:
        self.seconds = seconds
        self.filename = filename
        self.fired = False
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._tid = threading.get_ident()
        self._starts: dict[CodeType, set[int]] = {}
        self._previous_trace: Any = None
        self._arm_call = _PendingCall(self._arm)  # kept alive while a call may be pending

    def _watch(self) -> None:
        assert self.seconds is not None
        if self._done.wait(self.seconds):
            return
        with self._lock:
            if self._done.is_set():
                return
            self.fired = True
            if self._tid == threading.main_thread().ident:
                _add_pending_call(self._arm_call, None)
            else:  # pending calls run on the main thread only: the blunt way
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._tid),
                                                           ctypes.py_object(LiveBudgetExceeded))

    def _arm(self, _arg: Any) -> int:
        """On the main thread, at a bytecode boundary: trace the user's frames."""
        try:
            with self._lock:
                if self._done.is_set():
                    return 0
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_code.co_filename == self.filename:
                    frame.f_trace = self._trace_lines
                    frame.f_trace_lines = True
                frame = frame.f_back  # type: ignore[assignment]
            sys.settrace(self._trace_calls)
        except BaseException:  # noqa: BLE001 - an exception cannot leave a pending call
            pass
        return 0

    def _trace_calls(self, frame: FrameType, event: str, arg: Any) -> Any:
        return self._trace_lines if frame.f_code.co_filename == self.filename else None

    def _trace_lines(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event != "line" or self._done.is_set():
            return self._trace_lines
        if isinstance(sys.exc_info()[1], LiveBudgetExceeded):
            return self._trace_lines  # the user's except/finally handling it: let it run
        code = frame.f_code
        starts = self._starts.get(code)
        if starts is None:
            starts = self._starts[code] = _statement_starts(code)
        if frame.f_lasti not in starts:
            return self._trace_lines
        # A trace function that raises is switched off: arm again, in case the user's code
        # swallows the exception (`except BaseException: pass`) and carries on.
        _add_pending_call(self._arm_call, None)
        raise LiveBudgetExceeded

    def __enter__(self) -> Budget:
        self._tid = threading.get_ident()
        self._previous_trace = sys.gettrace()
        if self.seconds:
            self._thread = threading.Thread(target=self._watch, name="jaxtui-live-budget", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done.set()
            if self.fired and self._tid != threading.main_thread().ident:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._tid), None)
        if self.fired and self._tid == threading.get_ident():
            sys.settrace(self._previous_trace)  # a debugger's or coverage's, if any
        if self._thread is not None:
            self._thread.join()


_NAME_ERRORS = ("NameError", "UnboundLocalError")


def slice_missed_a_name(result: dict[str, Any]) -> bool:
    """Did a sliced run fail on a name (in the code or while tracing a marked function)?
    Then the slice missed a binding the syntax tree does not show: run the whole file."""
    errors = [result.get("error")] + [ins.get("error") for ins in result.get("inspections") or []]
    return any(e and e.get("type") in _NAME_ERRORS for e in errors)
