"""The form of a demo's editable inputs, shown above its code.

Fields come from the demo's `demo.input(...)` declarations (read with `ast`, never run).
A value is checked as it is typed; an invalid one is marked at its field and the run is
refused until it is fixed.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from jaxtui.inputs import InputError, InputSpec, format_limit, parse_value
from jaxtui.ui.widgets.deferred import later
from jaxtui.ui.widgets.in_order import Field


def allowed(spec: InputSpec) -> str:
    """What a field takes: its choices, or its kind and range (`int, 1 to 10000000`)."""
    if spec.choices is not None:
        return "one of " + " · ".join(spec.format(c) for c in spec.choices)
    limits = []
    if spec.min is not None:
        limits.append(f">= {format_limit(spec.min)}")
    if spec.max is not None:
        limits.append(f"<= {format_limit(spec.max)}")
    return spec.kind + (f", {' and '.join(limits)}" if limits else "")


class InputField(Vertical):
    """`name [value]`, and under it (while focused or invalid) what the field takes or why its
    value was refused."""

    def __init__(self, spec: InputSpec, value: Any = None, text: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.initial = text if text is not None else spec.format(spec.default if value is None else value)
        self.error = ""  # why the value was refused
        self.HELP_TITLE = f"Input {spec.name}"  # F1 on the field: this field's help

    def help_text(self) -> str:
        """F1's text for this field (help.py prefers it to a class's HELP)."""
        spec = self.spec
        return (f"{spec.help or spec.name}. Takes {allowed(spec)}; the demo's default is "
                f"{spec.format(spec.default)}. The next run uses the value (ctrl+r), without "
                "touching the code; a refused value is marked and says why, and the run waits "
                "until it is fixed. f12 resets every input and the code.")

    def compose(self) -> ComposeResult:
        spec = self.spec
        with Horizontal(classes="input-row"):
            yield Label(f"{spec.name}", classes="input-name")
            field = Field(self.initial, compact=True, id=f"input-{spec.name}", classes="input-value",
                          tooltip=spec.help or None)
            field.cursor_blink = False
            yield field
        yield Label("", classes="input-hint")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def set_text(self, text: str) -> None:
        """Put `text` in the field (in its initial text while the field is still composing)."""
        inputs = self.query(Input)
        if not inputs:
            self.initial = text
        elif inputs.first().value != text:
            inputs.first().value = text

    @property
    def text(self) -> str:
        """The value as typed; a field the form is still building holds its initial text (an
        autosave can ask while a run's new form mounts)."""
        inputs = self.query(Input)
        return inputs.first().value if inputs else self.initial

    def check(self) -> tuple[bool, Any]:
        """(ok, value); marks the field and shows the reason when not ok."""
        try:
            value = parse_value(self.spec, self.input.value)
        except InputError as exc:
            self.error = f"✗ {exc}"
        else:
            self.error = ""
        self.set_class(bool(self.error), "-invalid")
        self._hint()
        return (False, None) if self.error else (True, value)

    def _hint(self) -> None:
        """The row under the field: why its value was refused, else (while it is focused)
        what it takes."""
        hint = self.query_one(".input-hint", Label)
        text = self.error
        if not text and self.input.has_focus:
            text = f"{self.spec.help + ': ' if self.spec.help else ''}{allowed(self.spec)}"
        hint.update(text)
        hint.display = bool(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.check()

    def on_descendant_focus(self) -> None:
        self._hint()

    def on_descendant_blur(self) -> None:
        self._hint()


def _key(spec: InputSpec) -> tuple[Any, ...]:
    """What makes two declarations the same field (not their line: code above them moves)."""
    return spec.name, repr(spec.default), spec.help, spec.min, spec.max, repr(spec.choices)


class InputsForm(Widget):
    """All of a demo's inputs. Hidden when the demo declares none.

    At start-up (`sketch=True`) the first frame shows each field as one line of text, drawn
    as the field draws it: the real fields (five widgets each: about 10 M instructions per
    widget, a twelfth of the first frame) are built just after it (widgets/deferred.py).
    Until then the form keeps the texts itself, so saving, restoring and running read and
    write the same values either way."""

    HELP = ("The demo's inputs (its `demo.input(...)` declarations): change a value here and "
            "the next run uses it, without touching the code. Values are checked as you type; "
            "a refused one is marked and the run waits until it is fixed. Tab moves between "
            "fields. Values are saved with your code; f12 resets both.")

    def __init__(self, specs: list[InputSpec], values: dict[str, Any] | None = None, *,
                 sketch: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.specs = specs
        self.values = values or {}
        self.display = bool(specs)
        # The texts while the fields are sketched; None once the real fields are composed
        self._sketched: dict[str, str] | None = (
            {spec.name: spec.format(self.values.get(spec.name, spec.default)) for spec in specs}
            if sketch and specs else None)

    def compose(self) -> ComposeResult:
        if self._sketched is not None:
            for spec in self.specs:
                yield Static(self._sketch(spec), classes="input-sketch")
            return
        for spec in self.specs:
            yield InputField(spec, self.values.get(spec.name))

    def _sketch(self, spec: InputSpec) -> Content:
        text = (self._sketched or {}).get(spec.name, "")
        return Content.assemble((spec.name, "$text-muted"), " ", text)

    def on_mount(self) -> None:
        if self._sketched is not None:
            later(self.app, self._build_fields, visible=True)

    async def _build_fields(self) -> None:
        texts = self._sketched
        if texts is None or not self.is_attached:
            return  # built already (the code changed the fields first)
        # The fields take the texts as they are now; from here on they hold them (a field
        # still composing answers with its initial text), so no moment has no fields.
        removing, mounting = self._new_fields(texts)
        await mounting
        await removing

    @property
    def sketched(self) -> bool:
        """The fields are still drawn as text (the real ones come just after the first frame)."""
        return self._sketched is not None

    def texts(self) -> dict[str, str]:
        """Each input's text as typed (valid or not)."""
        if self._sketched is not None:
            return dict(self._sketched)
        return {f.spec.name: f.text for f in self.query(InputField)}

    def set_texts(self, texts: dict[str, str]) -> None:
        """Put these texts in the fields of those names (other names are ignored)."""
        if self._sketched is not None:
            self._sketched.update({k: v for k, v in texts.items() if k in self._sketched})
            for spec, sketch in zip(self.specs, self.query(".input-sketch").results(Static)):
                sketch.update(self._sketch(spec))
            return
        for f in self.query(InputField):
            if f.spec.name in texts:
                f.set_text(texts[f.spec.name])

    def follow(self, specs: list[InputSpec], texts: dict[str, str]) -> bool:
        """Show the fields `specs` declares (the code changed), with these texts where given
        and defaults elsewhere; False when the fields are the same already."""
        if [_key(s) for s in specs] == [_key(s) for s in self.specs]:
            return False
        self.specs = specs
        self.display = bool(specs)
        self._new_fields(texts)  # the real fields now, sketched or not
        return True

    def _new_fields(self, texts: dict[str, str]) -> tuple[Awaitable[None], Awaitable[None]]:
        """Replace what the form shows with real fields for `self.specs`, holding these texts
        (defaults elsewhere); returns (the removal, the mount) to await."""
        self._sketched = None
        removing = self.remove_children()
        return removing, self.mount_all([InputField(spec, text=texts.get(spec.name)) for spec in self.specs])

    def collect(self) -> dict[str, Any] | None:
        """The current values, or None if any is invalid (each invalid field is marked)."""
        values: dict[str, Any] = {}
        ok = True
        if self._sketched is not None:  # no field to mark yet: the check alone
            for spec in self.specs:
                try:
                    values[spec.name] = parse_value(spec, self._sketched[spec.name])
                except InputError:
                    ok = False
            return values if ok else None
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
