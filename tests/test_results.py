"""The results views: the registry, the base class's contract, and each view's behaviour
through the app (Pilot)."""

from __future__ import annotations

from conftest import views_built
from jaxtui.ui.app import JaxTUI
from jaxtui.ui.results.base import ResultsView
from jaxtui.ui.results.registry import TABS


def test_every_registry_line_names_a_results_view():
    ids = [tab.id for tab in TABS]
    assert len(set(ids)) == len(ids)
    for tab in TABS:
        assert issubclass(tab.view_class(), ResultsView), tab


async def test_each_tab_gets_its_view_and_a_view_built_late_gets_the_last_run():
    """Views are built after the first frame; one built after a run's events and result were
    sent gets them replayed: the run's start, then its result."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.current_pane
        pane.begin_run()
        pane.on_kernel_event("stream", {"name": "stdout", "text": "printed early\n"})
        pane.show_result({"ok": True, "demo": "grad", "device": "cpu:0", "elapsed_s": 0.1,
                          "stdout": "printed early\n", "values": []})
        await views_built(pilot)
        views = pane.results.views(ResultsView)
        shown = pane.results.shown_tabs()  # the Processes tab is a cluster's only
        assert [type(v) for v in views] == [tab.view_class() for tab in shown]
        for tab, view in zip(shown, views):
            assert view.parent is not None and view.parent.id == tab.id
        from conftest import output_text

        assert output_text(app).count("printed early") == 1
