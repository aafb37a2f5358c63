"""The one-widget tab bar and the panes built on demand (jaxtui/ui/widgets/tabs.py)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from conftest import views_built
from jaxtui.ui.app import JaxTUI
from jaxtui.ui.widgets.tabs import TabbedPanes, TabStrip

TABS = [("one", "One"), ("two", "Two"), ("three", "Three"), ("four", "Four")]


class Tabbed(App[None]):
    def __init__(self, tabs: list[tuple[str, str]] = TABS, tight: bool = False) -> None:
        super().__init__()
        self.tabs = tabs
        self.tight = tight
        self.built: list[str] = []
        self.ready: list[str] = []
        self.activated: list[str] = []

    def compose(self) -> ComposeResult:
        app = self

        class Panes(TabbedPanes):
            def pane_ready(self, pane):  # type: ignore[no-untyped-def]
                app.ready.append(str(pane.id))

        yield Panes(self.tabs, initial=self.tabs[0][0], build=self._build, tight=self.tight, id="tabbed")

    def _build(self, tab_id: str) -> Static:
        self.built.append(tab_id)
        return Static(f"the {tab_id} pane", id=tab_id)

    def on_tabbed_panes_tab_activated(self, event: TabbedPanes.TabActivated) -> None:
        self.activated.append(event.tab_id)


def strip_text(app: App[None]) -> list[str]:
    strip = app.query_one(TabStrip)
    return [strip.render_line(y).text for y in range(2)]


async def test_only_the_shown_pane_is_built_and_others_when_first_shown():
    app = Tabbed()
    async with app.run_test(size=(60, 10)) as pilot:
        tabbed = app.query_one(TabbedPanes)
        assert app.built == ["one"] and app.ready == ["one"]
        assert strip_text(app)[0].startswith(" One  Two  Three  Four ")
        tabbed.active = "three"
        await tabbed.mounted("three")
        await pilot.pause()
        assert app.built == ["one", "three"] and app.ready == ["one", "three"]
        assert app.activated == ["three"]
        assert [p.id for p in tabbed.panes() if p.display] == ["three"]
        tabbed.active = "one"  # built already: shown, not built again
        await pilot.pause()
        assert app.built == ["one", "three"] and app.ready == ["one", "three"]
        assert [p.id for p in tabbed.panes()] == ["one", "three"]  # in tab order
        assert [p.id for p in tabbed.panes() if p.display] == ["one"]


async def test_keys_and_clicks_change_tab_and_the_underline_follows():
    app = Tabbed()
    async with app.run_test(size=(60, 10)) as pilot:
        strip = app.query_one(TabStrip)
        strip.focus()
        await pilot.press("right")
        assert strip.active == "two"
        await pilot.press("left", "left")  # wraps around
        assert strip.active == "four"
        start = strip.spans()[1][1]  # the "Two" label
        await pilot.click(TabStrip, offset=(start + 2, 0))
        await pilot.pause()
        assert strip.active == "two" and app.activated[-1] == "two"
        top, bar = strip_text(app)
        assert top[start:start + 5] == " Two " and set(bar) == {"━"}
        assert len(bar) == 60


async def test_a_row_too_wide_scrolls_to_keep_the_active_label_in_view():
    tabs = [(f"t{i}", f"tab number {i}") for i in range(10)]
    app = Tabbed(tabs)
    async with app.run_test(size=(40, 10)) as pilot:
        strip = app.query_one(TabStrip)
        strip.active = "t9"
        await pilot.pause()
        assert strip_text(app)[0].rstrip().endswith("tab number 9")
        assert list(strip.label_offsets()) == ["t8", "t9"]  # only whole labels get jump labels
        strip.active = "t0"
        await pilot.pause()
        assert strip_text(app)[0].startswith(" tab number 0")


async def test_tight_labels_take_one_space_each_and_labels_can_change():
    app = Tabbed(tight=True)
    async with app.run_test(size=(60, 10)) as pilot:
        strip = app.query_one(TabStrip)
        assert strip_text(app)[0].startswith(" One Two Three Four ")
        strip.set_label("two", "Two*")
        await pilot.pause()
        assert strip_text(app)[0].startswith(" One Two* Three Four ")
        assert [s for _, s, _ in strip.spans()] == [0, 4, 9, 15]


async def test_the_first_frame_builds_the_shown_pane_and_its_lesson_only():
    """Start-up (item 20): one pane, one results view; the form's fields as text. The rest
    comes just after the first frame, and a run's result sent before then reaches it."""
    from jaxtui.ui.results.base import ResultsView
    from jaxtui.ui.results.lesson import LessonView

    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        assert [type(p).__name__ for p in app.panes.panes()] == ["DemoPane"]
        pane = app.current_pane
        assert [type(v) for v in pane.results.views(ResultsView)] == [LessonView]
        assert pane.form.sketched and pane.input_texts() == {"n": "1000", "seed": "42"}
        assert "seed 42" in str(pane.form.query(".input-sketch").last().render())
        await views_built(pilot)
        assert not pane.form.sketched and pane.input_texts() == {"n": "1000", "seed": "42"}
        assert [type(p).__name__ for p in app.panes.panes()] == ["DemoPane", "DevicesView"]


async def test_inputs_set_or_read_while_the_form_is_sketched_are_the_fields_values():
    """A restored or tour-set value given before the real fields exist is theirs; a run asked
    for in that moment reads the same values, and an invalid one refuses it."""
    app = JaxTUI(start_kernel=False, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.current_pane
        assert pane.form.sketched
        pane.set_inputs({"n": "64", "nope": "1"})
        assert pane.input_texts() == {"n": "64", "seed": "42"} and pane.modified
        assert pane.run_params()["inputs"] == {"n": 64, "seed": 42}
        pane.set_inputs({"n": "0"})  # below its minimum
        assert pane.run_params() is None
        pane.set_inputs({"n": "64"})
        await views_built(pilot)
        assert not pane.form.sketched
        assert pane.form.query_one("#input-n").value == "64"
        assert pane.run_params()["inputs"] == {"n": 64, "seed": 42}
