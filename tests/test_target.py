"""TPU targets without a TPU (issue 18): the kernel's platform where libtpu is installed on a
machine without a TPU, `--target tpu-<gen>:<topology>`, what the target compile shows, and
the error without libtpu.

Tests that need libtpu (the `tpu` extra, part of `test`) are skipped where it cannot be
installed (macOS, arm64).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from jaxtui import protocol as P
from jaxtui.core import hardware
from jaxtui.core.client import KernelConfig

from conftest import PYTHON, REPO

HAS_LIBTPU = importlib.util.find_spec("libtpu") is not None
needs_libtpu = pytest.mark.skipif(not HAS_LIBTPU, reason="libtpu is not installed (pip install '.[tpu]')")
LIBTPU_NOISE = ("TPU_WORKER_HOSTNAMES", "TPU_ACCELERATOR_TYPE", "libtpu", "InitGoogle")


def make_sysfs(root: Path, devices: list[tuple[str, str, str]]) -> Path:
    """A fake PCI bus; devices: (vendor, device, class) per PCI function."""
    base = root / "sys" / "bus" / "pci" / "devices"
    base.mkdir(parents=True)
    for i, (vendor, device, cls) in enumerate(devices):
        d = base / f"0000:00:{i + 4:02x}.0"
        d.mkdir()
        for name, value in (("vendor", vendor), ("device", device), ("class", cls)):
            (d / name).write_text(value + "\n")
    return root / "sys"


# -- 1. the platform of a kernel whose user chose none -----------------------------------
@pytest.mark.parametrize("pci, modules, expected", [
    ([], {"libtpu"}, "cpu"),  # libtpu on a laptop: CPU, quietly
    ([("0x10de", "0x2330", "0x030200")], {"libtpu", "jax_cuda13_plugin"}, "cuda,cpu"),
    ([("0x10de", "0x2330", "0x030200")], {"libtpu"}, "cpu"),  # a GPU, but no CUDA plugin
    ([("0x1ae0", "0x0063", "0x120000")], {"libtpu"}, None),  # a TPU VM: JAX's choice (the TPU)
    ([], set(), None),  # no libtpu: JAX's choice is quiet already
])
def test_the_survey_picks_the_platforms_where_libtpu_has_no_tpu(tmp_path, pci, modules, expected):
    sysfs = make_sysfs(tmp_path, pci)
    assert hardware.default_platforms(sysfs=sysfs, dev=tmp_path / "dev",
                                      has_module=modules.__contains__) == expected


def test_a_platform_the_user_chose_is_kept(monkeypatch):
    monkeypatch.setattr(hardware, "default_platforms", lambda **kw: "cpu")
    assert KernelConfig(platform="gpu").env({})["JAX_PLATFORMS"] == "cuda"
    assert KernelConfig().env({"JAX_PLATFORMS": "rocm"})["JAX_PLATFORMS"] == "rocm"
    assert KernelConfig().env({})["JAX_PLATFORMS"] == "cpu"


def _kernel_start(env: dict[str, str]) -> tuple[dict, str]:
    """Start a real kernel, shut it down; its ready event and its whole stderr."""
    request = P.encode(P.Request(id=1, op=P.OP_SHUTDOWN))
    proc = subprocess.run([PYTHON, "-m", "jaxtui.kernel"], input=request, env=env, cwd=REPO,
                          capture_output=True, timeout=120)
    ready = P.decode_event(proc.stdout.splitlines()[0])
    return ready.data, proc.stderr.decode("utf-8", "replace")


@needs_libtpu
def test_a_default_kernel_with_libtpu_and_no_tpu_runs_quietly_on_cpu(monkeypatch):
    if hardware.has_tpu_chips():
        pytest.skip("this machine has a TPU: JAX's choice is the TPU")
    monkeypatch.delenv("JAX_PLATFORMS", raising=False)  # the user chose no platform
    ready, stderr = _kernel_start(KernelConfig().env())
    assert ready["ok"] and ready["platform"] == "cpu"
    assert not [line for line in stderr.splitlines() if any(n in line for n in LIBTPU_NOISE)], stderr
