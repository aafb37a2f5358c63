"""The form of a demo's editable inputs, shown above its code.

Fields come from the demo's `demo.input(...)` declarations (read with `ast`, never run).
A value is checked as it is typed; an invalid one is marked at its field and the run is
refused until it is fixed.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input, Label

from jaxtui.inputs import InputError, InputSpec, parse_value


class InputField(Horizontal):
    """`name [value] message`: one input."""

    def __init__(self, spec: InputSpec, value: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.initial = spec.format(spec.default if value is None else value)

    def compose(self) -> ComposeResult:
        spec = self.spec
        yield Label(f"{spec.name}", classes="input-name")
        field = Input(self.initial, compact=True, id=f"input-{spec.name}", classes="input-value",
                      tooltip=spec.help or None)
        field.cursor_blink = False
        yield field
        yield Label("", classes="input-error")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def check(self) -> tuple[bool, Any]:
        """(ok, value); marks the field and shows the message when not ok."""
        error = self.query_one(".input-error", Label)
        try:
            value = parse_value(self.spec, self.input.value)
        except InputError as exc:
            self.add_class("-invalid")
            error.update(f"✗ {exc}")
            return False, None
        self.remove_class("-invalid")
        error.update("")
        return True, value

    def on_input_changed(self, event: Input.Changed) -> None:
        self.check()


class InputsForm(Widget):
    """All of a demo's inputs. Hidden when the demo declares none."""

    HELP = ("The demo's inputs (its `demo.input(...)` declarations): change a value here and "
            "the next run uses it, without touching the code. Values are checked as you type; "
            "a refused one is marked and the run waits until it is fixed. Tab moves between "
            "fields. Values are saved with your code; f12 resets both.")

    def __init__(self, specs: list[InputSpec], values: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.specs = specs
        self.values = values or {}
        self.display = bool(specs)

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            yield InputField(spec, self.values.get(spec.name))

    def collect(self) -> dict[str, Any] | None:
        """The current values, or None if any is invalid (each invalid field is marked)."""
        values: dict[str, Any] = {}
        ok = True
        for field in self.query(InputField):
            good, value = field.check()
            ok &= good
            if good:
                values[field.spec.name] = value
        return values if ok else None

    def first_invalid(self) -> InputField | None:
        for field in self.query(InputField):
            if field.has_class("-invalid"):
                return field
        return None
