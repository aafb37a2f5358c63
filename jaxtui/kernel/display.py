"""Turn values into short, honest text: arrays with shape, dtype, device and a summary.

Big arrays are never printed whole: numpy's summarisation keeps the edges and the
statistics line says what the rest looks like, so a 10^7-element result costs a few KB.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_TEXT = 4000  # characters of one displayed value
MAX_LEAVES = 64  # pytree leaves listed before "... N more"
STATS_LIMIT = 50_000_000  # elements: above this, skip min/max/mean (host copy would be large)


def _dtype_short(dtype: Any) -> str:
    name = np.dtype(dtype).name
    short = {"float32": "f32", "float64": "f64", "float16": "f16", "bfloat16": "bf16",
             "int32": "i32", "int64": "i64", "int8": "i8", "int16": "i16", "uint8": "u8",
             "uint32": "u32", "bool": "bool", "complex64": "c64", "complex128": "c128"}
    return short.get(name, name)


def is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, type)


def array_header(value: Any) -> str:
    """`f32[3,4] on cpu:0`: the shape and dtype, jaxpr-style, and where it lives."""
    shape = ",".join(str(d) for d in value.shape)
    head = f"{_dtype_short(value.dtype)}[{shape}]"
    devices = getattr(value, "devices", None)
    if callable(devices):
        try:
            devs = sorted(devices(), key=lambda d: d.id)
            where = str(devs[0]) if len(devs) == 1 else f"{len(devs)} devices"
            head += f" on {where}"
        except Exception:  # noqa: BLE001 - tracers and deleted arrays have no devices
            pass
    if type(value).__name__.endswith("Tracer"):
        head += " (tracer)"
    return head


def device_names(value: Any) -> list[str]:
    """The devices an array lives on (`cpu:0`...), by id; [] for tracers and non-arrays."""
    devices = getattr(value, "devices", None)
    try:
        return [str(d) for d in sorted(devices(), key=lambda d: d.id)] if callable(devices) else []
    except Exception:  # noqa: BLE001 - tracers and deleted arrays have no devices
        return []


def array_text(value: Any, *, edgeitems: int = 3, threshold: int = 200) -> str:
    header = array_header(value)
    try:
        host = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - tracers, deleted buffers
        return f"{header}\n{type(value).__name__}: {exc}".strip()
    with np.printoptions(threshold=threshold, edgeitems=edgeitems, linewidth=76, precision=6):
        body = np.array2string(host, separator=" ")
    lines = [header]
    if host.size > threshold and host.size <= STATS_LIMIT and host.dtype.kind in "biuf":
        with np.errstate(all="ignore"):
            lines.append(f"min {host.min():.6g}  max {host.max():.6g}  mean {host.mean():.6g}"
                         f"  std {host.std():.6g}  ({host.size:,} elements)")
    lines.append(body)
    return "\n".join(lines)


def _leaf_line(value: Any) -> str:
    if is_array(value):
        if value.size <= 6:
            try:
                with np.printoptions(precision=6, linewidth=200):
                    return f"{array_header(value)} {np.array2string(np.asarray(value), separator=' ')}"
            except Exception:  # noqa: BLE001
                pass
        return array_header(value)
    text = repr(value)
    return text if len(text) < 120 else text[:119] + "…"


def _is_container(value: Any) -> bool:
    return isinstance(value, (tuple, list, dict)) and not (
        isinstance(value, tuple) and hasattr(value, "_fields") and not value)


def pytree_text(value: Any, indent: str = "", budget: list[int] | None = None) -> list[str]:
    """A tree drawing of nested tuples/lists/dicts whose leaves are shown one line each."""
    budget = budget if budget is not None else [MAX_LEAVES]
    lines: list[str] = []
    if isinstance(value, dict):
        items = list(value.items())
        open_, close = "{", "}"
    else:
        items = list(enumerate(value))
        open_, close = ("(", ")") if isinstance(value, tuple) else ("[", "]")
    kind = type(value).__name__
    lines.append(f"{indent}{kind} {open_}{len(items)} item{'s' if len(items) != 1 else ''}{close}")
    for i, (key, item) in enumerate(items):
        if budget[0] <= 0:
            lines.append(f"{indent}  … {len(items) - i} more")
            break
        tag = f"{key!r}" if isinstance(value, dict) else f"[{key}]"
        if _is_container(item) and item:
            lines.append(f"{indent}  {tag}:")
            lines.extend(pytree_text(item, indent + "    ", budget))
        else:
            budget[0] -= 1
            lines.append(f"{indent}  {tag}: {_leaf_line(item)}")
    return lines


def summarize(value: Any, label: str | None = None) -> dict[str, Any]:
    """A displayable record: {label, type, text, shape?, dtype?}."""
    record: dict[str, Any] = {"label": label or "", "type": type(value).__name__}
    if is_array(value):
        record["shape"] = list(value.shape)
        record["dtype"] = np.dtype(value.dtype).name
        record["device_names"] = device_names(value)  # the run's footer names them
        text = array_text(value)
    elif _is_container(value) and value and any(
            is_array(v) or _is_container(v) for v in (value.values() if isinstance(value, dict) else value)):
        text = "\n".join(pytree_text(value))
    else:
        text = repr(value)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 40] + f"\n… ({len(text) - MAX_TEXT + 40:,} more characters)"
    record["text"] = f"{label}: {text}" if label and "\n" not in text else (
        f"{label}:\n{text}" if label else text)
    return record


def sharding_text(value: Any) -> str:
    """`jax.debug.visualize_array_sharding` as plain text (it only prints to sys.stdout).

    Box drawing without colour, so the text reads the same in JSON, a terminal and the app.
    1-D and 2-D arrays only (JAX's limit); anything else raises ValueError.
    """
    import contextlib
    import io

    import jax

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):  # process-global: fine, the kernel runs one demo at a time
        jax.debug.visualize_array_sharding(value, use_color=False)
    return buf.getvalue().rstrip("\n")


def sharding_record(value: Any, label: str | None = None) -> dict[str, Any]:
    """A displayable record of where an array's pieces live: {label, type, text, shape, dtype, sharding}."""
    sharding = getattr(value, "sharding", None)
    spec = getattr(sharding, "spec", None)
    head = array_header(value) if is_array(value) else type(value).__name__
    head += f"  {spec}" if spec is not None else (f"  {sharding}" if sharding is not None else "")
    try:
        table = sharding_text(value)
    except Exception as exc:  # noqa: BLE001 - 3-D arrays, tracers: say why instead of failing the run
        table = f"(no drawing: {type(exc).__name__}: {exc})"
    record: dict[str, Any] = {"label": label or "", "type": "sharding", "sharding": str(sharding)}
    if is_array(value):
        record["shape"] = list(value.shape)
        record["dtype"] = np.dtype(value.dtype).name
        record.update(placement(value))
    text = f"{head}\n{table}"
    record["text"] = f"{label}:\n{text}" if label else text
    return record


def _index_text(index: tuple[Any, ...], shape: tuple[int, ...]) -> str:
    """A shard's place in the global array, numpy-style: `[0:2, :]`."""
    parts = []
    for sl, size in zip(index, shape, strict=False):
        start, stop = sl.start or 0, size if sl.stop is None else sl.stop
        parts.append(":" if (start, stop) == (0, size) else f"{start}:{stop}")
    return "[" + ", ".join(parts) + "]"


def placement(value: Any) -> dict[str, Any]:
    """Who holds which part of a (possibly multi-process) array, as this process sees it:
    the global shape, whether this process holds all of it (`is_fully_addressable`), this
    process's shards (device, the slice of the global array it holds) and every device of the
    sharding with the process that drives it. In a cluster, each process reports its own
    shards; the client puts them side by side."""
    try:
        import jax

        sharding = value.sharding
        shards = [{"device": str(s.device), "device_id": s.device.id, "process_index": s.device.process_index,
                   "index": _index_text(s.index, value.shape)} for s in value.addressable_shards]
        devices = sorted(sharding.device_set, key=lambda d: d.id)
        return {"global_shape": list(value.shape), "fully_addressable": bool(value.is_fully_addressable),
                "process_index": jax.process_index(), "process_count": jax.process_count(),
                "shards": shards,
                "devices": [{"device": str(d), "device_id": d.id, "process_index": d.process_index} for d in devices]}
    except Exception:  # noqa: BLE001 - tracers and deleted arrays have no placement
        return {}
