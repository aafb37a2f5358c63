"""The two-process split, enforced: the UI never imports jax, the kernel never textual."""

from __future__ import annotations

import subprocess

from conftest import PYTHON

UI_MODULES = ["jaxtui.ui.app", "jaxtui.cli.main", "jaxtui.core.client", "jaxtui.cli.run", "jaxtui.core.catalog",
              "jaxtui.ui.widgets.pane", "jaxtui.ui.results.tabs", "jaxtui.ui.commands", "jaxtui.ui.actions"]


def _loaded_after(imports: list[str], check: list[str]) -> dict[str, bool]:
    code = ("import sys\n" + "".join(f"import {m}\n" for m in imports)
            + f"print({{m: m in sys.modules for m in {check!r}}})")
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True).stdout
    return eval(out)  # noqa: S307 - our own dict literal


def test_ui_modules_never_import_jax():
    loaded = _loaded_after(UI_MODULES, ["jax", "jaxlib", "numpy"])
    assert loaded == {"jax": False, "jaxlib": False, "numpy": False}


def test_kernel_never_imports_textual():
    kernel = ["jaxtui.kernel.__main__", "jaxtui.kernel.execute", "jaxtui.kernel.inspect",
              "jaxtui.kernel.timing", "jaxtui.kernel.devices", "jaxtui.demo"]
    loaded = _loaded_after(kernel, ["textual", "rich", "jax"])
    assert loaded["textual"] is False and loaded["jax"] is True


def test_protocol_imports_neither():
    loaded = _loaded_after(["jaxtui.protocol"], ["jax", "textual"])
    assert loaded == {"jax": False, "textual": False}
