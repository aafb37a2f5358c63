"""The two-process split, enforced at run time: every module of the UI side loads no jax, every
module of the kernel side no Textual (the static counterpart is `lint-imports`, configured in
pyproject.toml). And every package folder ships in the wheel."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import tomllib

import pytest

import jaxtui
from conftest import PYTHON, REPO

# Run as a program, not imported: `python -m jaxtui` starts the command line.
ENTRY_POINTS = {"jaxtui.__main__"}
SIDES = {
    # side: (module prefixes, modules that must stay unloaded). numpy too on the UI side: it
    # costs the app's first frame, and nothing there needs it until a chart is drawn.
    "ui": (("jaxtui.ui", "jaxtui.core", "jaxtui.render", "jaxtui.cli"),
           ("jax", "jaxlib", "numpy", "jaxtui.kernel")),
    "kernel": (("jaxtui.kernel", "jaxtui.demo"), ("textual", "rich", "jaxtui.ui", "jaxtui.core", "jaxtui.cli")),
    "shared": (("jaxtui.protocol", "jaxtui.inputs", "jaxtui.ladder", "jaxtui.target_spec"),
               ("jax", "jaxlib", "textual", "rich", "jaxtui.kernel", "jaxtui.ui", "jaxtui.core", "jaxtui.cli")),
}


def all_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(jaxtui.__path__, "jaxtui.")
                  if m.name not in ENTRY_POINTS)


def side_modules(side: str) -> list[str]:
    prefixes = SIDES[side][0]
    return [m for m in all_modules() if m in prefixes or m.startswith(tuple(p + "." for p in prefixes))]


def first_forbidden_loads(modules: list[str], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    """Import `modules` one by one in a fresh interpreter; for each module that loads a
    forbidden one, the forbidden modules it brought in."""
    code = f"""
import importlib, json, sys
forbidden, found = {forbidden!r}, {{}}
for name in {modules!r}:
    importlib.import_module(name)
    loaded = [f for f in forbidden if f in sys.modules]
    if loaded:
        found[name] = loaded
        break
print(json.dumps(found))
"""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True, cwd=REPO, env=env)
    return json.loads(out.stdout)


def test_every_module_belongs_to_one_side():
    sides = [m for side in SIDES for m in side_modules(side)]
    assert sorted(sides) == [m for m in all_modules() if m != "jaxtui"]


@pytest.mark.parametrize("side", SIDES)
def test_no_module_loads_the_other_side(side):
    modules = side_modules(side)
    assert len(modules) >= 2
    assert first_forbidden_loads(modules, SIDES[side][1]) == {}


def test_the_check_sees_a_forbidden_import():
    # jaxtui.kernel.devices imports jax at module level: the subprocess check must notice
    assert first_forbidden_loads(["jaxtui.protocol", "jaxtui.kernel.devices"], ("jax",)) == {
        "jaxtui.kernel.devices": ["jax"]}


def package_folders() -> set[str]:
    """Every folder under jaxtui/ with Python in it (with an __init__.py or without)."""
    return {".".join(py.parent.relative_to(REPO).parts) for py in (REPO / "jaxtui").rglob("*.py")}


def test_every_package_folder_ships_in_the_wheel():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    assert listed - {"jaxtui.demos"} == package_folders()
    assert config["package-dir"] == {"jaxtui.demos": "demos"}
    # Files other than Python in a package folder need a package-data pattern to ship.
    data = config["package-data"]
    for package in package_folders():
        folder = REPO.joinpath(*package.split("."))
        for path in folder.iterdir():
            if path.is_file() and path.suffix not in (".py", ".pyc"):
                patterns = data.get(package, [])
                assert any(path.match(p) for p in patterns), f"{path} is not in package-data[{package!r}]"
