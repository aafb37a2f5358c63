"""The JSON-lines protocol: round trips, and clear errors for bad messages."""

from __future__ import annotations

import json

import pytest

from jaxtui import protocol as P


def test_request_and_event_round_trip():
    req = P.Request(id=3, op=P.OP_EXEC, params={"code": "print(1)", "inputs": {"n": (1, 2)}})
    back = P.decode_request(P.encode(req))
    assert back.id == 3 and back.op == "exec" and back.params["code"] == "print(1)"
    ev = P.Event(id=3, kind=P.EV_RESULT, data={"ok": True})
    back_ev = P.decode_event(P.encode(ev))
    assert back_ev.final and back_ev.data == {"ok": True}
    assert P.encode(ev).endswith(b"\n") and b"\n" not in P.encode(ev)[:-1]


def test_large_payload_survives():
    text = "x" * (5 * 1024 * 1024)  # HLO can be megabytes
    ev = P.decode_event(P.encode(P.Event(id=1, kind=P.EV_RESULT, data={"hlo": text})))
    assert len(ev.data["hlo"]) == len(text)


@pytest.mark.parametrize("line, fragment", [
    (b"not json", "malformed"),
    (b"[1, 2]", "not an object"),
    (json.dumps({"v": 99, "id": 1, "op": "exec"}).encode(), "protocol version 99"),
    (json.dumps({"v": 1, "id": "a", "op": "exec"}).encode(), "integer 'id'"),
    (json.dumps({"v": 1, "id": 1, "op": "format_disk"}).encode(), "unknown op 'format_disk'"),
])
def test_bad_requests_are_rejected_clearly(line, fragment):
    with pytest.raises(P.ProtocolError, match=fragment):
        P.decode_request(line)


def test_oversized_message_is_rejected():
    with pytest.raises(P.ProtocolError, match="exceeds"):
        P.encode(P.Event(id=1, kind=P.EV_RESULT, data={"x": "y" * (P.MAX_MESSAGE_BYTES + 1)}))


@pytest.mark.parametrize("line", [
    b'{"v": 1, "id": 1, "op": "ping", "params": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b"[" * 100_000,
])
def test_deeply_nested_messages_are_refused_clearly(line):
    with pytest.raises(P.ProtocolError, match="nested too deeply"):
        P.decode_request(line)
    with pytest.raises(P.ProtocolError, match="nested too deeply"):
        P.decode_event(line)


def test_an_oversized_event_is_cut_to_fit_keeping_head_and_tail():
    hlo = "HEAD" + "h" * 5000 + "TAIL"
    event = P.Event(id=4, kind=P.EV_INSPECTION, data={"inspections": [
        {"name": "f", "hlo": hlo, "jaxpr": "j" * 300}], "partial": True})
    line = P.encode_fitted(event, limit=2000)
    assert len(line) <= 2000
    back = P.decode_event(line)
    cut = back.data["inspections"][0]["hlo"]
    assert cut.startswith("HEADhhh") and cut.endswith("hhhTAIL") and "characters cut here" in cut
    assert back.data["inspections"][0]["jaxpr"] == "j" * 300  # only what had to be cut
    assert P.encode_fitted(P.Event(id=1, kind=P.EV_PROGRESS, data={"label": "x"})) == \
        P.encode(P.Event(id=1, kind=P.EV_PROGRESS, data={"label": "x"}))


def test_long_lists_are_cut_when_strings_are_not_enough():
    event = P.Event(id=2, kind=P.EV_PLOT, data={"name": "loss", "x": list(range(5000)), "y": [0.5] * 5000})
    back = P.decode_event(P.encode_fitted(event, limit=4000))
    assert back.data["x"][:3] == [0, 1, 2] and len(back.data["x"]) < 5000
    with pytest.raises(P.ProtocolError, match="cannot be cut"):
        P.encode_fitted(P.Event(id=2, kind=P.EV_PLOT, data={f"k{i}": i for i in range(1000)}), limit=500)


def test_stream_lines_keep_a_partial_line_per_stream():
    lines = P.StreamLines()
    assert lines.feed("stdout", "progress") == []
    assert lines.feed("stderr", "warning\nhalf") == [("stderr", "warning")]
    assert lines.feed("stdout", " done\n") == [("stdout", "progress done")]
    assert lines.partial() == [("stderr", "half")]
    assert lines.text() == "warning\nprogress done\nhalf"


def test_every_event_kind_the_kernel_sends_is_a_protocol_constant():
    """The kernel and demo.py send only kinds the protocol lists (the `plot` event was once
    sent without being listed)."""
    import re
    from pathlib import Path

    root = Path(P.__file__).parent
    sent = set()
    for path in [root / "demo.py", *sorted((root / "kernel").glob("*.py"))]:
        text = path.read_text()
        sent |= set(re.findall(r"emit\((EV_\w+)", text)) | set(re.findall(r"emit\(P\.(EV_\w+)", text))
        assert not re.search(r"emit\(\s*[\"']", text), f"{path.name} emits a string literal kind"
    assert sent and all(getattr(P, name) in P.EVENT_KINDS for name in sent)


@pytest.mark.parametrize("kind, data, fragment", [
    (P.EV_STREAM, {"name": "stdout"}, "lacks 'text'"),
    (P.EV_PROGRESS, {"label": "x", "done": "1", "total": 2}, "'done' is str"),
    ("banner", {}, "unknown event kind"),
])
def test_validate_event_names_what_is_wrong(kind, data, fragment):
    with pytest.raises(P.ProtocolError, match=fragment):
        P.validate_event(P.Event(id=1, kind=kind, data=data))


def test_validate_event_checks_a_run_result_shape():
    good = {"demo": "d", "ok": True, "device": "", "platform": "", "stdout": "", "error": None,
            "values": [], "timings": [], "inspections": [], "corrections": [], "plots": [],
            "compiles": [], "inputs": {}, "elapsed_s": 0.0}
    P.validate_event(P.Event(1, P.EV_RESULT, good), P.OP_EXEC)
    with pytest.raises(P.ProtocolError, match="lacks 'values'"):
        P.validate_event(P.Event(1, P.EV_RESULT, {k: v for k, v in good.items() if k != "values"}), P.OP_EXEC)
    with pytest.raises(P.ProtocolError, match="unknown error kind"):
        P.validate_event(P.Event(1, P.EV_RESULT, {**good, "error": {"kind": "oops"}}), P.OP_EXEC)


def test_version_mismatch_is_its_own_error():
    line = json.dumps({"v": 2, "id": 0, "kind": "ready", "data": {}}).encode()
    with pytest.raises(P.VersionMismatch) as info:
        P.decode_event(line)
    assert info.value.theirs == 2


def test_the_kernel_has_one_handler_per_op():
    from jaxtui.kernel.handlers import HANDLERS, INBAND_HANDLERS

    assert set(HANDLERS) | set(INBAND_HANDLERS) == set(P.OPS)
    assert not set(HANDLERS) & set(INBAND_HANDLERS) and set(INBAND_HANDLERS) == set(P.INBAND_OPS)
