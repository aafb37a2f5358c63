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
