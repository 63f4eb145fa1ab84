"""The controllable upstream: fault plans, the truth ledger and the control API on the wire."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from reference_server.upstream.faults import FaultBook, FaultPlanError, parse_plan
from reference_server.upstream.truth import TruthEntry, TruthLedger
from tests.drills.conftest import CONTROL_KEY, Upstreams

CHAT = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "hi there"}]}
AUTH = {"authorization": "Bearer sk-parity-demo"}
CONTROL = {"authorization": f"Bearer {CONTROL_KEY}"}


def test_plans_are_spent_in_order_and_scoped_by_model() -> None:
    book = FaultBook()
    book.add({"kind": "status", "status": 503, "count": 2, "model": "a"})
    book.add({"kind": "reset"})
    assert book.take("b") is not None
    assert book.take("b").kind == "reset"
    assert book.take("a").status == 503  # type: ignore[union-attr]
    assert book.take("a").status == 503  # type: ignore[union-attr]
    assert book.take("a").kind == "reset"  # type: ignore[union-attr]  # the counted plan is spent
    book.clear()
    assert book.take("a") is None


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ({"kind": "explode"}, "'explode'"),
        ({"kind": "status", "status": 404}, "404"),
        ({"kind": "stall", "delay_ms": 10_000_000}, "10000000"),
        ({"kind": "reset", "count": 0}, "count: 0"),
        ({"kind": "reset", "colour": "red"}, "'colour'"),
        (["reset"], "['reset']"),
    ],
    ids=["kind", "status", "delay", "count", "unknown_field", "not_object"],
)
def test_invalid_plans_name_the_bad_value(raw: object, shown: str) -> None:
    with pytest.raises(FaultPlanError) as info:
        parse_plan(raw, "p")
    assert shown in str(info.value)


def test_ledger_is_bounded_and_read_since_a_mark() -> None:
    ledger = TruthLedger(capacity=2)
    for _ in range(3):
        seq = ledger.next_seq()
        ledger.record(
            TruthEntry(seq, "p", None, "/v1/x", "m", False, 200, None, 1, 2, True, "", 0, 0, 0)
        )
    assert [e.seq for e in ledger.entries()] == [2, 3]
    assert [e.seq for e in ledger.entries(since=2)] == [3]


def _ledger(client: httpx.Client) -> list[dict[str, object]]:
    """The ledger once nothing is in flight (a dropped connection is recorded as its handler
    ends, which may trail the client's error)."""
    deadline = time.monotonic() + 5
    while True:
        payload = client.get("/_parity/ledger", headers=CONTROL).json()
        if payload["in_flight"] == 0 or time.monotonic() > deadline:
            data = payload["data"]
            assert isinstance(data, list)
            return data
        time.sleep(0.01)


def test_control_api_requires_its_key(upstreams: Upstreams) -> None:
    with httpx.Client(base_url=upstreams.primary) as client:
        assert client.get("/_parity/ledger").status_code == 401
        wrong = client.get("/_parity/ledger", headers=AUTH)
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "invalid_api_key"
        bad = client.post("/_parity/faults", headers=CONTROL, json={"kind": "nope"})
        assert bad.status_code == 400
        assert "'nope'" in bad.json()["error"]["message"]


def test_faults_apply_on_the_wire_and_the_ledger_tells_the_truth(upstreams: Upstreams) -> None:
    with httpx.Client(base_url=upstreams.primary, timeout=10) as client:
        client.delete("/_parity/faults", headers=CONTROL)
        client.delete("/_parity/ledger", headers=CONTROL)
        client.post("/_parity/faults", headers=CONTROL, json={"kind": "status", "status": 429})
        limited = client.post("/v1/chat/completions", headers=AUTH, json=CHAT)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        client.delete("/_parity/faults", headers=CONTROL)
        client.post("/_parity/faults", headers=CONTROL, json={"kind": "reset", "count": 1})
        with pytest.raises(httpx.TransportError):
            client.post("/v1/chat/completions", headers=AUTH, json=CHAT)
        client.post(
            "/_parity/faults",
            headers=CONTROL,
            json={"kind": "disconnect", "after_chunks": 3, "count": 1},
        )
        body = {**CHAT, "stream": True}
        with (
            client.stream("POST", "/v1/chat/completions", headers=AUTH, json=body) as r,
            pytest.raises(httpx.RemoteProtocolError),
        ):
            r.read()
        whole = client.post("/v1/chat/completions", headers=AUTH, json=CHAT).json()
        entries = _ledger(client)
    assert [e["fault"] for e in entries] == ["status", "reset", "disconnect", None]
    assert [e["status"] for e in entries] == [429, 0, 200, 200]
    cut, done = entries[2], entries[3]
    assert cut["completed"] is False
    assert cut["completion_tokens"] == 2
    assert done["completed"] is True
    assert done["completion_tokens"] == whole["usage"]["completion_tokens"]
    assert done["prompt_tokens"] == whole["usage"]["prompt_tokens"] == cut["prompt_tokens"]
    assert done["text"] == whole["choices"][0]["message"]["content"]
    assert str(cut["text"])
    assert str(done["text"]).startswith(str(cut["text"]))


def test_slow_first_byte_stall_and_malformed_chunk(upstreams: Upstreams) -> None:
    with httpx.Client(base_url=upstreams.primary, timeout=10) as client:
        client.delete("/_parity/faults", headers=CONTROL)
        plan = {"kind": "slow_first_byte", "delay_ms": 150, "count": 1}
        client.post("/_parity/faults", headers=CONTROL, json=plan)
        started = time.monotonic()
        slow = client.post("/v1/chat/completions", headers=AUTH, json=CHAT)
        assert slow.status_code == 200
        assert time.monotonic() - started >= 0.15
        plan = {"kind": "stall", "delay_ms": 150, "count": 1}
        client.post("/_parity/faults", headers=CONTROL, json=plan)
        with pytest.raises(httpx.TransportError):
            client.post("/v1/chat/completions", headers=AUTH, json=CHAT)
        plan = {"kind": "malformed_chunk", "after_chunks": 2, "count": 1}
        client.post("/_parity/faults", headers=CONTROL, json=plan)
        received: list[bytes] = []
        body = {**CHAT, "stream": True}
        with (
            client.stream("POST", "/v1/chat/completions", headers=AUTH, json=body) as r,
            pytest.raises(httpx.RemoteProtocolError),
        ):
            received.extend(r.iter_bytes())
    events = [e for e in b"".join(received).split(b"\n\n") if e]
    assert len(events) == 3
    with pytest.raises(ValueError, match="Expecting value"):
        json.loads(events[2].removeprefix(b"data: "))
