"""Shared test set-up: a hermetic environment for the app and the kernel."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# Snapshots and colours must not depend on the developer's terminal settings
# (research/textual_facts.md §4.3).
for var in ("NO_COLOR", "TEXTUAL_THEME", "TEXTUAL_ANIMATIONS", "TEXTUAL_COLOR_SYSTEM", "TEXTUAL_FPS"):
    os.environ.pop(var, None)
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Saved edits of a developer's own sessions must never leak into tests, nor tests into them.
os.environ["JAXTUI_STATE_DIR"] = tempfile.mkdtemp(prefix="jaxtui-test-state-")

REPO = Path(__file__).resolve().parent.parent
DEMOS = REPO / "demos"
PYTHON = sys.executable


async def views_built(pilot, timeout: float = 10.0) -> None:
    """Wait until the widgets built after the first frame (jaxtui/widgets/deferred.py) are."""
    import time

    from jaxtui.widgets.deferred import pending

    t0 = time.monotonic()
    while pending(pilot.app):
        assert time.monotonic() - t0 < timeout, "the deferred widgets were not built"
        await pilot.pause(0.02)
    await pilot.pause()
