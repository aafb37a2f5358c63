"""Compile the marked functions for a TPU slice this machine does not have.

With libtpu installed, `jax.experimental.topologies.get_topology_desc("v5e:2x2", "tpu")`
gives compile-only devices on any Linux x86_64 machine: arrays cannot live on them, but
`jit(f).trace(ShapeDtypeStruct(shape, dtype, sharding=...)).lower().compile()` returns what
XLA's TPU compiler makes of `f`: optimised HLO with TPU tiled layouts, cost, memory per
chip, and the collectives a sharding needs. The code itself still runs on the local
device; only the functions marked by `demo.inspect` are compiled for the target, from
their arguments' shapes and dtypes.

`cuda` and `rocm` targets lower to StableHLO only (`lowering_platforms`): XLA's GPU
compilers need the device to optimise.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import jax
import numpy as np

from jaxtui.demo import InspectTarget
from jaxtui.kernel.inspect import inspect_target
from jaxtui.render.units import format_bytes, format_seconds
from jaxtui.target_spec import INSTALL_FIX, TargetSpec, TargetSyntaxError, parse_target

# What libtpu prints when it loads on a machine that is not a TPU VM: harmless for
# compiling, alarming to read (it says ERROR and names env vars the user never set).
_LIBTPU_NOISE = ("TPU_WORKER_HOSTNAMES", "TPU_ACCELERATOR_TYPE", "Logging before InitGoogle",
                 "=== Source Location Trace", "libtpu_init_utils.cc")
MESH_AXES = ("x", "y", "z")
COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute")


class TargetUnavailable(RuntimeError):
    """libtpu is not installed: nothing can compile for a TPU (exit 3)."""


class TargetInvalid(ValueError):
    """libtpu refused the topology (a usage error: exit 2)."""


@dataclass
class Target:
    spec: TargetSpec
    devices: list[Any] = field(default_factory=list)  # compile-only devices (TPU); [] for cuda/rocm
    load_s: float = 0.0

    def describe(self) -> dict[str, Any]:
        """The JSON `target`: {platform, name, topology, devices, hosts, device_kind, ...}
        with the pod map (`chips`: id, coords, host, core per device)."""
        d = self.devices
        out: dict[str, Any] = {"platform": self.spec.platform, "name": self.spec.name,
                               "topology": self.spec.topology, "generation": self.spec.generation,
                               "devices": len(d), "hosts": len({x.process_index for x in d}),
                               "device_kind": d[0].device_kind if d else "", "load_s": self.load_s}
        if d:
            chips = {tuple(x.coords) for x in d}
            out["chip_count"] = len(chips)
            out["cores_per_chip"] = len(d) // len(chips)
            out["bounds"] = [max(x.coords[i] for x in d) + 1 for i in range(3)]
            out["chips"] = [{"id": x.id, "coords": list(x.coords), "host": x.process_index,
                             "core": getattr(x, "core_on_chip", 0)} for x in d]
        return out


_loaded: dict[str, Target] = {}


def libtpu_missing_message(spec: TargetSpec) -> str:
    return (f"--target {spec.name} needs libtpu (JAX's TPU compiler), which is not installed: "
            f"{INSTALL_FIX} (Linux x86_64)")


@contextlib.contextmanager
def _quiet_libtpu() -> Iterator[None]:
    """Drop libtpu's start-up noise from file descriptor 2 (it writes there from C++,
    so sys.stderr cannot catch it); any other line passes through."""
    with tempfile.TemporaryFile() as tmp:
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines()
                    if line.strip() and not any(n in line for n in _LIBTPU_NOISE)
                    and not line.startswith(("learning/", "Failed to find host bounds"))]
            if kept:
                os.write(2, ("\n".join(kept) + "\n").encode())


def _libtpu_importable() -> bool:
    try:
        import libtpu  # type: ignore[import-untyped]  # noqa: F401 - only asking whether it loads
    except ImportError:
        return bool(os.environ.get("TPU_LIBRARY_PATH"))
    return True


def load(spec: TargetSpec | str) -> Target:
    """The target's compile-only devices (cached: libtpu loads once per kernel)."""
    if isinstance(spec, str):
        spec = parse_target(spec)
    if spec.name in _loaded:
        return _loaded[spec.name]
    if spec.platform != "tpu":
        target = Target(spec)
    else:
        if importlib.util.find_spec("libtpu") is None or not _libtpu_importable():
            raise TargetUnavailable(libtpu_missing_message(spec))
        if jax.default_backend() != "tpu":
            # libtpu's one-process lock guards a real TPU; compile-only devices use none, and
            # two kernels (or a test run beside the app) must not lock each other out.
            os.environ.setdefault("ALLOW_MULTIPLE_LIBTPU_LOAD", "1")
        from jax.experimental import topologies

        t = time.perf_counter()
        try:
            with _quiet_libtpu():
                topo = topologies.get_topology_desc(spec.libtpu_name, "tpu")
        except RuntimeError as exc:
            if "not installed" in str(exc):
                raise TargetUnavailable(libtpu_missing_message(spec)) from None
            raise TargetInvalid(f"libtpu has no TPU slice {spec.name}: {_first_line(exc)}") from None
        target = Target(spec, list(topo.devices), time.perf_counter() - t)
    _loaded[spec.name] = target
    return target


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def describe(spec: str) -> dict[str, Any]:
    """The `target` op: load and describe a target; raises TargetUnavailable/TargetInvalid."""
    try:
        return load(spec).describe()
    except TargetSyntaxError as exc:
        raise TargetInvalid(str(exc)) from None


def describe_or_none(spec: str) -> dict[str, Any] | None:
    """A run's JSON `target`: its description, or None when it could not load (each
    marked function's record says why)."""
    try:
        return describe(spec)
    except (TargetUnavailable, TargetInvalid):
        return None


# -- meshes and abstract arguments -------------------------------------------------------------
def physical_mesh(target: Target) -> tuple[np.ndarray, tuple[str, ...]]:
    """The devices laid out as the slice is: x, y, z (dimensions of 1 dropped), then `core`
    where a chip shows two TensorCores as two devices (v2, v3, v4, 7x compile-only)."""
    info = target.describe()
    bounds, cores = info["bounds"], info["cores_per_chip"]
    grid = np.empty((*bounds, cores), dtype=object)
    for dev in target.devices:
        x, y, z = dev.coords
        grid[x, y, z, getattr(dev, "core_on_chip", 0)] = dev
    keep = [i for i, n in enumerate((*bounds, cores)) if n > 1] or [0]
    names = (*MESH_AXES, "core")
    return grid.reshape([grid.shape[i] for i in keep]), tuple(names[i] for i in keep)


def target_mesh(target: Target, axes: dict[str, int] | None) -> jax.sharding.Mesh:
    """`axes` ({"data": 4}, sizes multiplying to the device count) or the physical layout."""
    grid, names = physical_mesh(target)
    if not axes:
        return jax.sharding.Mesh(grid, names)
    shape = tuple(int(n) for n in axes.values())
    if int(np.prod(shape)) != len(target.devices):
        raise ValueError(f"mesh {axes} has {int(np.prod(shape))} devices; {target.spec.name} has "
                         f"{len(target.devices)}")
    from jax.experimental import mesh_utils

    try:  # the layout XLA's collectives like best (rings along the torus)
        devices = mesh_utils.create_device_mesh(shape, target.devices)
    except (ValueError, AssertionError, NotImplementedError):
        devices = grid.reshape(shape)  # two cores per chip: mesh_utils wants one device per chip
    return jax.sharding.Mesh(devices, tuple(axes))


def _abstract(value: Any, sharding: Any) -> Any:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return jax.ShapeDtypeStruct(value.shape, value.dtype, sharding=sharding,
                                    weak_type=getattr(getattr(value, "aval", None), "weak_type", False))
    return value  # Python scalars and other static values stay as they are


def abstract_args(args: tuple[Any, ...], shardings: Any, mesh: jax.sharding.Mesh,
                  chip0: Any, static: tuple[int, ...] = ()) -> tuple[Any, ...]:
    """Each array argument as a ShapeDtypeStruct on the target. Without `shardings`, whole
    on the first chip; with them, the PartitionSpec given for it over `mesh` (None:
    replicated on every chip)."""
    from jax.sharding import NamedSharding, PartitionSpec, SingleDeviceSharding

    sharded = shardings is not None
    if isinstance(shardings, PartitionSpec) or shardings is None:
        shardings = (shardings,) * len(args) if shardings is not None else (None,) * len(args)
    shardings = tuple(shardings) + (None,) * (len(args) - len(shardings))
    out = []
    for i, (arg, spec) in enumerate(zip(args, shardings)):
        if i in static:
            out.append(arg)
            continue
        if spec is None and not sharded:
            sharding: Any = SingleDeviceSharding(chip0)
        elif spec is None:
            sharding = NamedSharding(mesh, PartitionSpec())  # replicated on every chip
        elif isinstance(spec, PartitionSpec):
            sharding = NamedSharding(mesh, spec)
        else:
            raise TypeError(f"shardings[{i}] must be a PartitionSpec or None, got {type(spec).__name__}")
        out.append(jax.tree.map(lambda v, s=sharding: _abstract(v, s), arg))
    return tuple(out)


# -- compiling for the target ---------------------------------------------------------------
_SHAPE = re.compile(r"\b(pred|[suf]\d+|bf16|f8\w*|c64|c128)\[([\d,]*)\]")
_COLLECTIVE = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = (.*?) (" + "|".join(COLLECTIVES) + r")(-start)?\(")
_GROUPS = re.compile(r"replica_groups=(.*?)(?:, (?:dimensions|use_global_device_ids|to_apply|channel_id|"
                     r"constrain_layout|metadata|frontend_attributes|backend_config|source_target_pairs)=|$)")
_PAIRS = re.compile(r"source_target_pairs=(\{[^}]*\}(?:,\{[^}]*\})*\}?)")
_DTYPE_BITS = {"pred": 8, "bf16": 16, "c64": 64, "c128": 128}


def _shape_bytes(text: str) -> int:
    """The largest array in an HLO result type (a `-start` op returns a tuple)."""
    best = 0
    for dtype, dims in _SHAPE.findall(text):
        bits = _DTYPE_BITS.get(dtype) or (8 if dtype.startswith("f8") else int(re.sub(r"\D", "", dtype) or 8))
        n = 1
        for d in dims.split(","):
            n *= int(d) if d else 1
        best = max(best, n * bits // 8)
    return best


def collectives(hlo: str) -> list[dict[str, Any]]:
    """The collectives in optimised HLO: {op, name, shape, bytes, groups} each (an async
    pair, `-start` and `-done`, counts once)."""
    found = []
    for line in hlo.split("\n"):
        m = _COLLECTIVE.match(line)
        if m is None:
            continue
        groups = _GROUPS.search(line) or _PAIRS.search(line)
        shape = m[2].split("{")[0] if not m[2].startswith("(") else m[2]
        found.append({"op": m[3], "name": m[1], "shape": _strip_layouts(shape),
                      "bytes": _shape_bytes(m[2]), "groups": groups[1].strip() if groups else ""})
    return found


def _strip_layouts(shape: str) -> str:
    return re.sub(r"\{[^{}]*\}", "", shape).strip()


def _memory_total(mem: dict[str, int]) -> int:
    return (mem.get("argument_size_in_bytes", 0) + mem.get("output_size_in_bytes", 0)
            + mem.get("temp_size_in_bytes", 0) - mem.get("alias_size_in_bytes", 0))


def _explain(record: dict[str, Any]) -> None:
    """Say why a function could not be compiled for the target, where we know."""
    err = record.get("error")
    if not err:
        return
    msg = err["message"]
    if "incompatible devices" in msg:
        err["message"] = ("it uses this machine's devices (a Mesh or sharding built from jax.devices(), "
                          "or jit(in_shardings=...) on them), which the target does not have: take the "
                          "mesh from the target instead (bare PartitionSpecs, jax.sharding."
                          "get_abstract_mesh(), or demo.inspect(..., shardings=...)).\n" + msg)
    elif "non-empty mesh" in msg or "abstract mesh" in msg:
        err["message"] = ("it needs a mesh: give its arguments shardings (demo.inspect(..., shardings=...)) "
                          "so it is compiled under the target's mesh.\n" + msg)


def _header(record: dict[str, Any], target: Target, mesh: jax.sharding.Mesh | None,
            baseline: dict[str, int] | None) -> str:
    info = target.describe()
    lines = [f"// compiled for {target.spec.name}: {info['devices']} {info['device_kind']} devices, "
             f"{info['hosts']} host{'s' if info['hosts'] != 1 else ''}, in "
             f"{format_seconds(record['stage_s'].get('compile', 0))} (no TPU here: compile-only devices)"]
    if mesh is not None:
        axes = ", ".join(f"{n}={s}" for n, s in mesh.shape.items())
        lines.append(f"// mesh {axes}; arguments: {', '.join(record['shardings'])}")
    else:
        lines.append("// arguments whole on one chip (demo.inspect(..., shardings=...) spreads them)")
    per_chip = _memory_total(record["memory"])
    if record["memory"]:
        change = ""
        if baseline:
            before = _memory_total(baseline)
            pct = f", {100 * (per_chip - before) / before:+.0f}%" if before else ""
            change = f" (unsharded, on one chip: {format_bytes(before)}{pct})"
        lines.append(f"// memory per device: {format_bytes(per_chip)}{change}")
    ops = record["collectives"]
    if ops:
        lines.append("// collectives XLA inserted:")
        for c in ops:
            lines.append(f"//   {c['op']:<18} {c['shape']:<24} {format_bytes(c['bytes']):>10}  {c['groups'][:60]}")
    else:
        lines.append("// collectives XLA inserted: none")
    return "\n".join(lines) + "\n"


def _lowering_only(ins: InspectTarget, target: Target, filename: str) -> dict[str, Any]:
    """StableHLO for cuda/rocm without the device: trace, lower for that platform."""
    record = inspect_target(ins, filename=filename, compile_=False)
    record.update(name=f"{ins.name} @ {target.spec.name}", platform=target.spec.platform,
                  target=target.spec.name, collectives=[], compiled=False)
    if record["error"] is None:
        try:
            jitted = ins.fn if hasattr(ins.fn, "trace") else jax.jit(ins.fn, static_argnums=ins.static_argnums)
            t = time.perf_counter()
            lowered = jitted.trace(*ins.args, **ins.kwargs).lower(lowering_platforms=(target.spec.platform,))
            record["stage_s"]["lower"] = time.perf_counter() - t
            record["stablehlo"] = lowered.as_text()
            record["hlo"] = (f"// {target.spec.name}: optimised HLO needs a {target.spec.platform.upper()} "
                             f"device (XLA's GPU compiler runs where the GPU is).\n// The StableHLO tab "
                             f"shows what JAX lowered for {target.spec.platform} on this machine.\n")
            record["compiled"] = True  # nothing more will come: the views must not wait
        except Exception as exc:  # noqa: BLE001 - shown in the view
            record["error"] = {"stage": "lower", "type": type(exc).__name__, "message": str(exc),
                               "line": None, "source": ""}
    return record


def compile_for(ins: InspectTarget, target: Target, filename: str = "") -> dict[str, Any]:
    """One marked function compiled for the target: the inspection record (jaxpr,
    stablehlo, hlo, cost, memory per device, stage_s, error) plus platform, target,
    shardings, mesh, collectives and, with shardings, the unsharded memory."""
    if target.spec.platform != "tpu":
        return _lowering_only(ins, target, filename)
    name = f"{ins.name} @ {target.spec.name}"
    record: dict[str, Any] = {}
    mesh: jax.sharding.Mesh | None = None
    baseline: dict[str, int] | None = None
    try:
        mesh = target_mesh(target, ins.mesh)
        args = abstract_args(ins.args, ins.shardings, mesh, target.devices[0], ins.static_argnums)
        kwargs = {k: jax.tree.map(lambda v: _abstract(v, jax.sharding.SingleDeviceSharding(target.devices[0])), v)
                  for k, v in ins.kwargs.items()}
    except Exception as exc:  # noqa: BLE001 - a bad sharding or mesh: said per function
        record = inspect_target(replace(ins, name=name), filename=filename, compile_=False)
        record["error"] = {"stage": "trace", "type": type(exc).__name__, "message": str(exc),
                           "line": ins.line, "source": ""}
        args, kwargs = (), {}
    if not record and mesh is not None:
        # With shardings, bare PartitionSpecs inside f name the target's mesh; without, the
        # arguments sit on one chip, and a context mesh of every chip would contradict them.
        context = jax.set_mesh(mesh) if ins.shardings is not None else contextlib.nullcontext()
        with context:
            record = inspect_target(replace(ins, name=name, args=args, kwargs=kwargs), filename=filename)
        if ins.shardings is not None and record["compiled"]:  # per-chip memory before and after
            single = abstract_args(ins.args, None, mesh, target.devices[0], ins.static_argnums)
            base = inspect_target(replace(ins, name=name, args=single, kwargs=kwargs))
            baseline = base["memory"] if base["compiled"] else None
            record["stage_s"]["compile one chip"] = base["stage_s"].get("compile", 0.0)
    _explain(record)
    record.update(platform="tpu", target=target.spec.name,
                  mesh={"axes": list(mesh.axis_names), "shape": list(mesh.devices.shape)} if mesh is not None else None,
                  shardings=[_spec_text(a) for a in args if hasattr(a, "sharding")],
                  collectives=collectives(record["hlo"]) if record["hlo"] else [],
                  memory_unsharded=baseline or {})
    if record["compiled"]:
        header = _header(record, target, mesh if ins.shardings is not None else None, baseline)
        record["hlo"] = header + record["hlo"]
        record["hlo_links"] = [[a + header.count("\n"), b] for a, b in record["hlo_links"]]
    return record


def _spec_text(struct: Any) -> str:
    sharding = struct.sharding
    spec = getattr(sharding, "spec", None)
    return f"P{tuple(spec)}" if spec is not None else "one chip"


def with_target_records(targets: list[InspectTarget], records: list[dict[str, Any]], default: str | None,
                        filename: str = "") -> list[dict[str, Any]]:
    """The records in the order the functions were marked: a function with its own target
    (`demo.inspect(..., target=...)`) has only its record for it; any other has its local
    record (from `records`, in order), followed by one for the run's target. A target
    that cannot load gives the function an error record saying why; a function that failed
    to trace here is not tried again."""
    out = []
    local_records = iter(records)
    for ins in targets:
        if not ins.target:
            local = next(local_records)
            out.append(local)
            if not default or (local.get("error") or {}).get("stage") == "trace":
                continue
        name = ins.target or default
        assert name is not None
        try:
            target = load(name)
        except (TargetUnavailable, TargetInvalid, TargetSyntaxError) as exc:
            out.append(_error_record(ins, name, exc))
            continue
        out.append(compile_for(ins, target, filename))
    return out


def _error_record(ins: InspectTarget, name: str, exc: BaseException) -> dict[str, Any]:
    return {"name": f"{ins.name} @ {name}", "fn_name": getattr(ins.fn, "__name__", ""), "line": ins.line,
            "platform": name.split("-")[0], "target": name, "jaxpr": "", "stablehlo": "", "hlo": "",
            "jaxpr_links": [], "hlo_links": [], "cost": {}, "memory": {}, "stage_s": {}, "collectives": [],
            "compiled": False, "error": {"stage": "compile", "type": type(exc).__name__, "message": str(exc),
                                         "line": ins.line, "source": ""}}
