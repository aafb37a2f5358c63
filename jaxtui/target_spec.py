"""`--target` strings: what the marked functions are also compiled for.

Shared by both processes (the command line checks the syntax, the kernel reads the same
string from a run's params or from `demo.inspect(..., target=...)`): imports neither jax
nor textual.

- `tpu-<generation>:<topology>`, e.g. `tpu-v5e:2x2`, `tpu-v4:2x2x1`, `tpu-v5e:16x16`: a TPU
  slice, compiled for with libtpu on compile-only devices (no TPU needed).
- `cuda`, `rocm`: StableHLO lowered for that platform; its optimised HLO needs the device.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The names libtpu 0.0.42 accepts before the colon (`v5litepod` is refused: it is `v5e`).
TPU_GENERATIONS = ("v2", "v3", "v4", "v5e", "v5p", "v6e", "7x")
LOWERING_ONLY = ("cuda", "rocm")
EXAMPLES = ("tpu-v5e:2x2", "tpu-v5e:4x4", "tpu-v4:2x2x1", "tpu-v5p:2x2x1", "tpu-v6e:2x2", "tpu-v5e:16x16")
SYNTAX = "tpu-<generation>:<topology> (e.g. " + ", ".join(EXAMPLES[:3]) + "), cuda or rocm"
INSTALL_FIX = 'pip install "jaxtui[tpu]"'

_TPU = re.compile(r"tpu-(?P<gen>[a-z0-9]+):(?P<topo>\d+(?:x\d+){1,2})")


class TargetSyntaxError(ValueError):
    """Not a target string (a usage error: exit 2)."""


@dataclass(frozen=True)
class TargetSpec:
    name: str  # as written, normalised: "tpu-v5e:2x2"
    platform: str  # "tpu", "cuda" or "rocm"
    generation: str = ""  # "v5e" (TPU only)
    topology: str = ""  # "2x2" (TPU only)

    @property
    def libtpu_name(self) -> str:
        """The name `jax.experimental.topologies.get_topology_desc` takes: "v5e:2x2"."""
        return f"{'TPU7x' if self.generation == '7x' else self.generation}:{self.topology}"

    @property
    def chips(self) -> int:
        n = 1
        for d in self.topology.split("x") if self.topology else ():
            n *= int(d)
        return n


def parse_target(text: str) -> TargetSpec:
    """`tpu-v5e:2x2` -> TargetSpec; raises TargetSyntaxError with the accepted forms."""
    s = text.strip().lower()
    if s in LOWERING_ONLY:
        return TargetSpec(s, s)
    m = _TPU.fullmatch(s)
    if m is None:
        raise TargetSyntaxError(f"not a target: {text!r}; expected {SYNTAX}")
    gen = m["gen"].removeprefix("tpu")
    if gen not in TPU_GENERATIONS:
        raise TargetSyntaxError(f"unknown TPU generation {m['gen']!r} in {text!r}; "
                                f"known: {', '.join(TPU_GENERATIONS)}")
    if any(int(d) == 0 for d in m["topo"].split("x")):
        raise TargetSyntaxError(f"a topology has no zero dimension: {text!r}")
    return TargetSpec(f"tpu-{gen}:{m['topo']}", "tpu", gen, m["topo"])
