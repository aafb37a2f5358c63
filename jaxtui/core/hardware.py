"""What accelerators this machine has and who holds them, found without starting JAX.

The UI process must never initialise a JAX backend: on a TPU VM only one process may own
the TPU, and that must be the kernel. So the UI reads what JAX's own start-up reads (PCI
sysfs, as `jax._src.hardware_utils` does), plus /proc for the processes holding the TPU,
and turns it, with the kernel's ready info or start error, into `Problem`s that say what
to do. jaxtui never deletes another process's lock: it shows the steps. The one file it
removes itself is a TPU lock file that its own kernel created and left behind when jaxtui
killed it (`release_after_kill`), so a killed kernel never locks out the next one.

Standard library only: imports neither jax nor textual. Every path is a parameter, so the
tests run the TPU and GPU situations on a fake sysfs and /proc.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jaxtui.ladder import group_members

GOOGLE_PCI_VENDOR = "0x1ae0"
NVIDIA_PCI_VENDOR = "0x10de"
# PCI device ids of Cloud TPU chips (jax._src.hardware_utils, jax 0.10.2).
TPU_PCI_DEVICE_IDS = {"0x0027": "v2/v3", "0x0056": "plc", "0x005e": "v4", "0x0062": "v5p",
                      "0x0063": "v5e", "0x006f": "v6e", "0x0076": "TPU7x"}
NVIDIA_DEVICE_FILES = ("nvidia0", "nvidiactl", "dxg")  # under /dev; dxg: WSL2
PACKAGES = ("jax", "jaxlib", "libtpu", "jax-cuda13-plugin", "jax-cuda12-plugin")

INSTALL = {
    "cpu": 'pip install -U jax',
    "gpu": 'pip install -U "jax[cuda13]"   (a CUDA 12 driver: pip install -U "jax[cuda12]")',
    "tpu": 'pip install -U "jax[tpu]"',
}

Metadata = Callable[[str], "str | None"]


def default_lockfiles(uid: int | None = None) -> list[str]:
    """Where libtpu keeps its one-process lock (openxla tpu_initialize_util.cc)."""
    uid = os.getuid() if uid is None else uid
    return ["/tmp/libtpu_lockfile", f"/tmp/libtpu_lock_{uid}/libtpu_lockfile"]


# -- hardware ------------------------------------------------------------------------
@dataclass(frozen=True)
class PciDevice:
    address: str
    vendor: str
    device: str
    pci_class: str = ""


def _read(path: Path) -> str:
    try:
        return path.read_text().strip().lower()
    except OSError:
        return ""


def scan_pci(sysfs: str | os.PathLike[str] = "/sys") -> list[PciDevice]:
    root = Path(sysfs) / "bus" / "pci" / "devices"
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    return [PciDevice(e.name, _read(e / "vendor"), _read(e / "device"), _read(e / "class")) for e in entries]


def tpu_chips(pci: list[PciDevice]) -> list[PciDevice]:
    return [d for d in pci if d.vendor == GOOGLE_PCI_VENDOR and d.device in TPU_PCI_DEVICE_IDS]


def has_tpu_chips(sysfs: str | os.PathLike[str] = "/sys") -> bool:
    return bool(tpu_chips(scan_pci(sysfs)))


def nvidia_gpus(pci: list[PciDevice]) -> list[PciDevice]:
    # Class 0x03xxxx is a display/3D controller; the same card's audio and USB functions are not.
    return [d for d in pci if d.vendor == NVIDIA_PCI_VENDOR and d.pci_class.startswith("0x03")]


# -- who holds the TPU ---------------------------------------------------------------
@dataclass
class TpuHolder:
    pid: int
    device: str
    cmdline: str


def is_tpu_device_file(target: str) -> bool:
    # /dev/accel0.. on TPU v2-v4; VFIO groups /dev/vfio/0.. on v5e and newer (not /dev/vfio/vfio).
    return target.startswith("/dev/accel") or re.fullmatch(r"/dev/vfio/\d+", target) is not None


def process_cmdline(pid: int, proc: str | os.PathLike[str] = "/proc") -> str:
    try:
        raw = (Path(proc) / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)


def pid_alive(pid: int, proc: str | os.PathLike[str] = "/proc") -> bool:
    stat = Path(proc) / str(pid) / "stat"
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] != "Z"  # a zombie holds no files any more


def tpu_holders(proc: str | os.PathLike[str] = "/proc") -> list[TpuHolder]:
    """Processes with a TPU device file open. Like libtpu's own check, this only sees
    processes we may inspect (our own user's, or all as root)."""
    holders: list[TpuHolder] = []
    try:
        pids = [int(p.name) for p in Path(proc).iterdir() if p.name.isdigit()]
    except OSError:
        return holders
    for pid in sorted(pids):
        fd_dir = Path(proc) / str(pid) / "fd"
        try:
            fds = list(fd_dir.iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if is_tpu_device_file(target):
                holders.append(TpuHolder(pid, target, process_cmdline(pid, proc)))
                break
    return holders


@dataclass
class LockFile:
    path: str
    uid: int
    mtime: float


def existing_lockfiles(paths: list[str] | None = None) -> list[LockFile]:
    found = []
    for path in paths if paths is not None else default_lockfiles():
        try:
            st = os.stat(path)
        except OSError:
            continue
        found.append(LockFile(path, st.st_uid, st.st_mtime))
    return found


# -- multi-host slices ---------------------------------------------------------------
def gce_metadata(key: str, timeout: float = 1.0) -> str | None:
    """A TPU VM's instance attribute from the GCE metadata server, or None."""
    import urllib.request  # only on a TPU VM: urllib costs the UI's start-up ~20 ms

    host = os.environ.get("GCE_METADATA_IP", "metadata.google.internal")
    req = urllib.request.Request(f"http://{host}/computeMetadata/v1/instance/attributes/{key}",
                                 headers={"Metadata-Flavor": "Google"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - fixed http URL
            return resp.read().decode("utf-8", "replace").strip() or None
    except Exception:  # noqa: BLE001 - not on GCE, or no such attribute
        return None


def slice_hosts(env: Mapping[str, str], metadata: Metadata | None) -> tuple[int | None, str]:
    """(hosts in this TPU slice, accelerator type), from the env (GKE) or GCE metadata."""
    accel = env.get("TPU_ACCELERATOR_TYPE", "")
    workers = env.get("TPU_PROCESS_ADDRESSES") or env.get("TPU_WORKER_HOSTNAMES")
    if workers is None and metadata is not None:
        workers = metadata("worker-network-endpoints")
        accel = accel or (metadata("accelerator-type") or "")
    hosts = len([w for w in workers.split(",") if w.strip()]) if workers else None
    return hosts, accel


# -- the survey ----------------------------------------------------------------------
@dataclass
class Survey:
    """Everything found without JAX. Cheap: /proc and the metadata server are only read
    when there are TPU chips."""

    tpu_chips: list[PciDevice] = field(default_factory=list)
    gpus: list[PciDevice] = field(default_factory=list)
    nvidia_device_files: list[str] = field(default_factory=list)
    packages: dict[str, str | None] = field(default_factory=dict)
    holders: list[TpuHolder] = field(default_factory=list)
    lockfiles: list[LockFile] = field(default_factory=list)
    slice_hosts: int | None = None
    accelerator_type: str = ""
    tpu_device_files: list[str] = field(default_factory=list)

    @property
    def tpu_generation(self) -> str:
        kinds = sorted({TPU_PCI_DEVICE_IDS[c.device] for c in self.tpu_chips})
        return "/".join(kinds)

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpus or self.nvidia_device_files)

    @property
    def tpu_device_file(self) -> str:
        """The file `lsof` should look at (libtpu's own choice: accel0, else vfio/0)."""
        for f in self.tpu_device_files:
            if f.startswith("/dev/accel"):
                return "/dev/accel0"
        return "/dev/vfio/0" if self.tpu_device_files else "/dev/accel0"

    def summary(self) -> str:
        parts = []
        if self.tpu_chips:
            hosts = f", one host of {self.slice_hosts}" if (self.slice_hosts or 1) > 1 else ""
            accel = f" ({self.accelerator_type})" if self.accelerator_type else ""
            parts.append(f"{len(self.tpu_chips)} TPU {self.tpu_generation} chip"
                         f"{'s' if len(self.tpu_chips) != 1 else ''}{accel}{hosts}")
        if self.gpus:
            parts.append(f"{len(self.gpus)} NVIDIA GPU{'s' if len(self.gpus) != 1 else ''}")
        elif self.nvidia_device_files:
            parts.append("an NVIDIA GPU (/dev/" + self.nvidia_device_files[0] + ")")
        return ", ".join(parts) or "no TPU or NVIDIA GPU found"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tpu_generation"] = self.tpu_generation
        d["summary"] = self.summary()
        return d


def installed_packages(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    from importlib import metadata as _metadata

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = _metadata.version(name)
        except _metadata.PackageNotFoundError:
            found[name] = None
    return found


def survey(*, sysfs: str | os.PathLike[str] = "/sys", proc: str | os.PathLike[str] = "/proc",
           dev: str | os.PathLike[str] = "/dev", env: Mapping[str, str] | None = None,
           lockfiles: list[str] | None = None, metadata: Metadata | None = gce_metadata,
           packages: dict[str, str | None] | None = None) -> Survey:
    env = os.environ if env is None else env
    pci = scan_pci(sysfs)
    found = Survey(tpu_chips=tpu_chips(pci), gpus=nvidia_gpus(pci),
                   nvidia_device_files=[n for n in NVIDIA_DEVICE_FILES if (Path(dev) / n).exists()],
                   packages=installed_packages() if packages is None else packages)
    if found.tpu_chips:
        found.holders = tpu_holders(proc)
        found.lockfiles = existing_lockfiles(lockfiles)
        found.slice_hosts, found.accelerator_type = slice_hosts(env, metadata)
        devdir = Path(dev)
        files = sorted(devdir.glob("accel*")) + sorted((devdir / "vfio").glob("[0-9]*"))
        found.tpu_device_files = ["/dev/" + str(p.relative_to(devdir)) for p in files]
    return found


# -- the platform of a kernel whose user chose none -------------------------------------
CUDA_PLUGIN_MODULES = ("jax_cuda13_plugin", "jax_cuda12_plugin")


def _has_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def default_platforms(*, sysfs: str | os.PathLike[str] = "/sys", dev: str | os.PathLike[str] = "/dev",
                      has_module: Callable[[str], bool] = _has_module) -> str | None:
    """JAX_PLATFORMS for a kernel when the user chose no platform; None leaves it to JAX.

    With libtpu installed (`jaxtui[tpu]`, to compile for a TPU target) on a machine with no
    TPU, JAX's own choice tries the TPU first, and libtpu prints errors about
    TPU_WORKER_HOSTNAMES and the accelerator type before JAX falls back. So there the
    kernel asks for what this survey found: "cuda,cpu" with an NVIDIA GPU and JAX's CUDA
    plugin, else "cpu". Without libtpu JAX's choice is quiet and stays (this survey cannot
    see every accelerator a JAX plugin may drive: ROCm, Metal).
    """
    if not has_module("libtpu"):
        return None
    pci = scan_pci(sysfs)
    if tpu_chips(pci):
        return None
    gpu = bool(nvidia_gpus(pci)) or any((Path(dev) / n).exists() for n in NVIDIA_DEVICE_FILES)
    if gpu and any(has_module(m) for m in CUDA_PLUGIN_MODULES):
        return "cuda,cpu"
    return "cpu"


# -- problems and their fixes --------------------------------------------------------
def requested_platform(platform: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """What the user asked for: --platform, else the first of a JAX_PLATFORMS they set
    themselves (cuda and rocm are "gpu"); None when JAX chooses."""
    if platform:
        return platform
    first = (os.environ if env is None else env).get("JAX_PLATFORMS", "").split(",")[0].strip().lower()
    return {"cuda": "gpu", "rocm": "gpu"}.get(first, first) or None



@dataclass
class Problem:
    code: str  # tpu-in-use, tpu-lock, tpu-busy, tpu-fallback, multi-host, libtpu-missing, ...
    severity: str  # "error": JAX cannot use the hardware; "warning": it works, but not as expected
    title: str
    detail: str = ""
    fix: list[str] = field(default_factory=list)

    def text(self) -> str:
        mark = "✗" if self.severity == "error" else "!"
        lines = [f"{mark} {self.title}"]
        lines += [f"  {line}" for line in self.detail.splitlines() if line.strip()]
        if self.fix:
            lines.append("  To fix it:")
            lines += [f"    {i}. {step}" for i, step in enumerate(self.fix, 1)]
        return "\n".join(lines)


_IN_USE_PID = re.compile(r"TPU is already in use by process with pid (\d+)")
_LOCK_TROUBLE = ("already in use or the lock file is stale",
                 "accessing libtpu multi-process lockfile", "libtpu.so already in use")
_VFIO_BUSY = re.compile(r"(/dev/vfio/\d+\)?: Device or resource busy|Couldn't open iommu group|"
                        r"TPU initialization failed)", re.I)
_MULTI_HOST = "Did you run your code on all TPU hosts"
_FELL_BACK = re.compile(r"(TPU may be present on this machine.*Falling back to cpu)", re.I | re.S)


def _holder_lines(holders: list[TpuHolder]) -> list[str]:
    return [f"pid {h.pid} holds {h.device}: {h.cmdline or '(command line not readable)'}" for h in holders]


def _free_tpu_steps(survey: Survey, pid: int | None = None, proc: str | os.PathLike[str] = "/proc") -> list[str]:
    steps = []
    holders = [h for h in survey.holders if pid is None or h.pid == pid]
    if pid is not None and pid_alive(pid, proc) and not holders:
        cmd = process_cmdline(pid, proc)
        holders = [TpuHolder(pid, survey.tpu_device_file, cmd)]
    for h in holders:
        steps.append(f"If pid {h.pid} ({h.cmdline or 'command line not readable'}) is yours and may "
                     f"stop: kill {h.pid}   (or wait until it exits)")
    if not holders:
        steps.append(f"Find the owner: sudo lsof -w {survey.tpu_device_file}   (jaxtui can only see "
                     "your own processes)")
    uid = os.getuid()
    steps.append("If no process holds the TPU, a stale lock file is left from a killed program: "
                 f"rm /tmp/libtpu_lockfile; rm -rf /tmp/libtpu_lock_{uid}   (jaxtui never deletes "
                 "another program's lock itself)")
    steps.append("Then restart the kernel: ctrl+t in the app, or run `jaxtui doctor` again")
    steps.append("Meanwhile you can explore on CPU: jaxtui --platform cpu")
    return steps


def _lock_detail(survey: Survey) -> str:
    lines = _holder_lines(survey.holders)
    for lock in survey.lockfiles:
        age = max(0.0, time.time() - lock.mtime)
        mine = "yours" if lock.uid == os.getuid() else f"uid {lock.uid}'s"
        lines.append(f"lock file {lock.path} exists ({mine}, {age / 60:.0f} min old)")
    return "\n".join(lines)


def diagnose(found: Survey, *, platform: str | None = None, info: Mapping[str, Any] | None = None,
             error: str = "", stderr: str = "", proc: str | os.PathLike[str] = "/proc") -> list[Problem]:
    """What is wrong, and how to fix it.

    platform: what the user asked for (None: JAX's choice). info: the kernel's ready info,
    if it started. error: why it could not start. stderr: the kernel's stderr so far.
    """
    problems: list[Problem] = []
    text = f"{error}\n{stderr}"
    pkgs = found.packages
    cuda_plugin = next((k for k in ("jax-cuda13-plugin", "jax-cuda12-plugin") if pkgs.get(k)), None)

    # The TPU is owned by another process.
    no_tpu_here = platform == "tpu" and bool(error) and not found.tpu_chips
    if m := _IN_USE_PID.search(text):
        pid = int(m.group(1))
        alive = pid_alive(pid, proc)
        cmd = process_cmdline(pid, proc) if alive else ""
        detail = (f"Only one process may own a TPU. pid {pid} has it: {cmd or '(command line not readable)'}"
                  if alive else f"pid {pid} has it, but is no longer running here (another host or "
                                f"container, or the lock is stale)")
        locks = _lock_detail(found)
        problems.append(Problem("tpu-in-use", "error", f"The TPU is in use by another process (pid {pid})",
                                detail + (f"\n{locks}" if locks else ""), _free_tpu_steps(found, pid, proc)))
    # --platform tpu where there is none (and no owner named). With libtpu installed
    # (jaxtui[tpu]) JAX gets as far as libtpu, whose lock or start-up errors would send the
    # reader after the wrong cause.
    elif no_tpu_here:
        problems.append(Problem(
            "no-tpu", "error", "--platform tpu needs a TPU, and this machine has none",
            "No TPU chips on its PCI bus: --platform tpu needs a Cloud TPU VM."
            + ("" if pkgs.get("libtpu") else " (libtpu is not installed either.)"),
            ["Run on a Cloud TPU VM, or leave --platform out to use this machine's devices",
             "To see what XLA's TPU compiler makes of your code without a TPU: "
             "jaxtui --target tpu-v5e:2x2   (needs libtpu: pip install \"jaxtui[tpu]\")"]))
    elif any(s in text for s in _LOCK_TROUBLE):
        problems.append(Problem("tpu-lock", "error", "libtpu's lock says another process owns the TPU",
                                _lock_detail(found) or "No process of yours holds the TPU.",
                                _free_tpu_steps(found, None, proc)))
    elif _VFIO_BUSY.search(text):
        problems.append(Problem("tpu-busy", "error", "The TPU device is busy (held by another process)",
                                _lock_detail(found) or "The TPU's VFIO device could not be opened.",
                                _free_tpu_steps(found, None, proc)))

    # libtpu or the CUDA plugin is not installed.
    if ("Failed to open libtpu.so" in text or (platform == "tpu" and error and not pkgs.get("libtpu"))) \
            and not no_tpu_here and not any(p.code.startswith("tpu-") for p in problems):
        problems.append(Problem("libtpu-missing", "error", "JAX on TPU needs libtpu, which is not installed",
                                "JAX_PLATFORMS=tpu could not load libtpu.so.", [f"Install it: {INSTALL['tpu']}"]))
    if platform == "gpu" and error:
        if not cuda_plugin:
            problems.append(Problem("cuda-missing", "error", "--platform gpu needs a CUDA-enabled jaxlib",
                                    "The installed jax has no CUDA plugin (jax-cuda13-plugin or "
                                    "jax-cuda12-plugin), so JAX cannot see any GPU.",
                                    [f"Install it: {INSTALL['gpu']}",
                                     "Check the driver afterwards: nvidia-smi",
                                     "Or run on CPU: jaxtui --platform cpu"]))
        elif not found.has_gpu:
            problems.append(Problem("gpu-missing", "error", "No NVIDIA GPU is visible to this machine",
                                    f"{cuda_plugin} is installed, but there is no NVIDIA GPU on the PCI "
                                    "bus and no /dev/nvidia0.",
                                    ["Check the GPU and its driver: nvidia-smi",
                                     "In a container, pass the GPU through (docker run --gpus all ...)",
                                     "Or run on CPU: jaxtui --platform cpu"]))
        else:
            problems.append(Problem("gpu-init", "error", "JAX could not start on the GPU",
                                    f"{cuda_plugin} {pkgs.get(cuda_plugin)} is installed and a GPU is present; "
                                    "the driver may be too old for this CUDA version.",
                                    ["Check the driver and its CUDA version: nvidia-smi",
                                     "Match the plugin to the driver: \"jax[cuda13]\" needs a CUDA 13 driver, "
                                     "\"jax[cuda12]\" a CUDA 12 one",
                                     "Check CUDA_VISIBLE_DEVICES is not empty"]))

    # JAX started, but not on the hardware this machine has.
    got = (info or {}).get("platform")
    if got and got != "tpu" and found.tpu_chips and platform in (None, "tpu"):
        causes = []
        if found.holders:
            causes.append("another process holds the TPU:\n" + "\n".join(_holder_lines(found.holders)))
        if not pkgs.get("libtpu"):
            causes.append("libtpu is not installed")
        if fell_back := _FELL_BACK.search(stderr):
            causes.append("the kernel's log says: " + fell_back.group(1).split("\n")[0])
        fix = ([f"Install libtpu: {INSTALL['tpu']}"] if not pkgs.get("libtpu") else []) + \
            (_free_tpu_steps(found, None, proc) if pkgs.get("libtpu") else [])
        fix.append("To get an error instead of a silent fallback: jaxtui --platform tpu")
        problems.append(Problem("tpu-fallback", "error",
                                f"JAX is running on {got.upper()}, but this machine has "
                                f"{len(found.tpu_chips)} TPU {found.tpu_generation} chip"
                                f"{'s' if len(found.tpu_chips) != 1 else ''}",
                                "Every run goes to the CPU: " + ("; ".join(causes) or "see the kernel's stderr")
                                + ".", fix))
    if got == "cpu" and found.has_gpu and platform in (None, "gpu") and not found.tpu_chips:
        problems.append(Problem("gpu-fallback", "error" if platform == "gpu" else "warning",
                                "JAX is running on CPU, but this machine has an NVIDIA GPU",
                                "No CUDA plugin is installed." if not cuda_plugin else
                                f"{cuda_plugin} is installed but found no usable GPU (driver?).",
                                [f"Install it: {INSTALL['gpu']}"] if not cuda_plugin else
                                ["Check the driver and its CUDA version: nvidia-smi",
                                 "Then restart the kernel (ctrl+t)"]))

    # A multi-host slice: nothing starts unless every host runs the program (CPU is unaffected).
    processes = int((info or {}).get("process_count") or 1)
    hosts = found.slice_hosts or 1
    if platform != "cpu" and (hosts > 1 or processes > 1 or _MULTI_HOST in text):
        n = max(hosts, processes)
        accel = f" ({found.accelerator_type})" if found.accelerator_type else ""
        count = f"one of {n} hosts" if n > 1 else "one host of a multi-host slice"
        problems.append(Problem(
            "multi-host", "error" if _MULTI_HOST in text or not info else "warning",
            f"This TPU VM is {count}{accel}",
            "On a multi-host slice JAX starts the TPU only when every host runs the same program; "
            "run on one host alone, the kernel waits for the others and hangs "
            "('TPU backend initialization is taking more than 60.0 seconds').",
            ["Run headless on every host at once: gcloud compute tpus tpu-vm ssh NAME --zone ZONE "
             "--worker=all --command='jaxtui run jit --json'",
             "For the interactive app, use a single-host TPU VM (v4-8, v5litepod-8, v6e-8)",
             "Or explore on CPU here: jaxtui --platform cpu"]))
    return problems


def start_failure_advice(error: str, platform: str | None, found: Survey | None = None) -> str:
    """Steps to fix a kernel that could not start ("" when we know nothing useful)."""
    found = survey() if found is None else found
    return "\n\n".join(p.text() for p in diagnose(found, platform=requested_platform(platform), error=error))


# -- after jaxtui killed its own kernel ------------------------------------------------
def release_after_kill(pgid: int, started_at: float, *, timeout: float = 5.0,
                       proc: str | os.PathLike[str] = "/proc", lockfiles: list[str] | None = None) -> list[str]:
    """After jaxtui SIGKILLed a kernel that used the TPU: wait until its processes are gone
    (the driver frees the chips only then), and remove the lock file that kernel created,
    if no process holds the TPU. Returns the files removed.

    Only a file created after `started_at` (wall clock) by our own user is touched: a lock
    from anyone else is left for the user to judge (`diagnose` shows the steps).
    """
    deadline = time.monotonic() + timeout
    while group_members(pgid, proc) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_members(pgid, proc) or tpu_holders(proc):
        return []
    removed = []
    for lock in existing_lockfiles(lockfiles):
        if lock.uid == os.getuid() and lock.mtime >= started_at - 1.0:
            try:
                os.unlink(lock.path)
            except OSError:
                continue
            removed.append(lock.path)
    return removed
