"""``parity upstream --dialect anthropic`` driven by the official ``anthropic`` SDK, live."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import jsonschema
import pytest

from reference_server.upstream.command import UpstreamSettings, create_upstream_app
from tests.drills.conftest import CONTROL_KEY
from tests.live import serve

KEY = "sk-parity-anthropic-test"
CONTROL = {"authorization": f"Bearer {CONTROL_KEY}"}
MODEL = "claude-sonnet-4-5"
HI = [{"role": "user", "content": "hi there"}]
WEATHER = {
    "name": "get_weather",
    "description": "The forecast for a city.",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "units": {"type": "string", "enum": ["metric", "imperial"]},
            "hourly": {"type": "boolean"},
            "stops": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        },
        "required": ["city", "days", "units", "hourly", "stops"],
        "additionalProperties": False,
    },
}


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    settings = UpstreamSettings(
        name="claude", api_key=KEY, control_key=CONTROL_KEY, dialect="anthropic"
    )
    with serve(create_upstream_app(settings).app) as url:
        yield url


@pytest.fixture
def control(origin: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=origin, headers=CONTROL, timeout=10) as client:
        client.delete("/_parity/faults")
        client.delete("/_parity/ledger")
        yield client


@pytest.fixture
def client(origin: str) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=origin, api_key=KEY, max_retries=0, timeout=10) as sdk:
        yield sdk


def ledger(control: httpx.Client) -> list[dict[str, Any]]:
    """The ledger once nothing is in flight (a dropped connection is recorded as it ends)."""
    deadline = time.monotonic() + 5
    while True:
        payload = control.get("/_parity/ledger").json()
        if payload["in_flight"] == 0 or time.monotonic() > deadline:
            data: list[dict[str, Any]] = payload["data"]
            return data
        time.sleep(0.01)


def text_of(message: Any) -> str:
    return "".join(b.text for b in message.content if b.type == "text")


def test_messages_create_answers_and_the_ledger_records_both_ends(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    system = [{"type": "text", "text": "You answer in one short paragraph."}]
    message = client.messages.create(
        model=MODEL,
        max_tokens=200,
        system=system,
        messages=[
            *HI,
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Tell me more"},
        ],
    )
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.model == MODEL
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    assert text_of(message)
    assert message.usage.output_tokens == 24
    assert message.usage.input_tokens > 0
    assert message.usage.cache_read_input_tokens == 0
    assert message.usage.cache_creation_input_tokens == 0
    [entry] = ledger(control)
    assert entry["dialect"] == "anthropic"
    assert entry["completed"] is True
    assert entry["received"]["system"] == "You answer in one short paragraph."
    assert [m["text"] for m in entry["received"]["messages"]] == [
        "hi there",
        "Hello.",
        "Tell me more",
    ]
    assert entry["received"]["max_tokens"] == 200
    assert entry["served"]["id"] == message.id
    assert entry["served"]["stop_reason"] == "end_turn"
    assert entry["text"] == text_of(message)
    assert entry["prompt_tokens"] == message.usage.input_tokens
    assert entry["completion_tokens"] == message.usage.output_tokens


def test_messages_stream_gives_the_same_answer_and_a_complete_message(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    whole = client.messages.create(model=MODEL, max_tokens=200, system="Be brief.", messages=HI)
    with client.messages.stream(
        model=MODEL, max_tokens=200, system="Be brief.", messages=HI
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) == 24  # one token per delta by default
    assert "".join(pieces) == text_of(final) == text_of(whole)
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == whole.usage.output_tokens
    assert final.usage.input_tokens == whole.usage.input_tokens
    entry = ledger(control)[-1]
    assert entry["stream"] is True
    assert entry["completed"] is True
    assert entry["served"]["message_stop"] is True
    assert entry["text"] == text_of(final)
    assert entry["completion_tokens"] == final.usage.output_tokens


def test_stream_events_come_in_anthropic_order_with_a_ping(origin: str) -> None:
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    body = {"model": MODEL, "max_tokens": 3, "messages": HI, "stream": True}
    with httpx.Client(base_url=origin) as raw:
        response = raw.post("/v1/messages", headers=headers, json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["request-id"].startswith("req_")
    events = [e for e in response.text.split("\n\n") if e]
    names = [e.split("\n")[0].removeprefix("event: ") for e in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 3,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    data = [json.loads(e.split("\n")[1].removeprefix("data: ")) for e in events]
    assert [d["type"] for d in data] == names
    assert data[0]["message"]["stop_reason"] is None
    assert data[-2] == {
        "type": "message_delta",
        "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
        "usage": {"output_tokens": 3},
    }


def test_forced_tool_call_has_input_valid_under_its_schema(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=500,
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
    )
    assert message.stop_reason == "tool_use"
    [call] = message.content
    assert call.type == "tool_use"
    assert call.name == "get_weather"
    assert call.id.startswith("toolu_")
    jsonschema.validate(call.input, WEATHER["input_schema"])
    entry = ledger(control)[-1]
    assert entry["received"]["tools"] == ["get_weather"]
    assert entry["received"]["tool_choice"] == {"type": "tool", "name": "get_weather"}
    [served] = entry["served"]["tool_calls"]
    assert served["id"] == call.id
    assert json.loads(served["input"]) == call.input


def test_streamed_tool_input_pieces_concatenate_to_the_same_json(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    request: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 500,
        "tools": [WEATHER],
        "tool_choice": {"type": "any"},
        "messages": [{"role": "user", "content": "Weather in Oslo?"}],
    }
    whole = client.messages.create(**request)
    pieces: list[str] = []
    with client.messages.stream(**request) as stream:
        for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                pieces.append(event.delta.partial_json)
        final = stream.get_final_message()
    assert len([p for p in pieces if p]) >= 3
    [call] = final.content
    assert call.type == "tool_use"
    assert whole.content[0].type == "tool_use"
    assert json.loads("".join(pieces)) == call.input == whole.content[0].input
    assert final.stop_reason == "tool_use"
    served = ledger(control)[-1]["served"]
    assert served["tool_calls"][0]["input"] == "".join(pieces)


def test_auto_tool_turn_says_a_sentence_first_and_a_tool_result_gets_text(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    ask = [{"role": "user", "content": "Weather in Oslo?"}]
    first = client.messages.create(model=MODEL, max_tokens=500, tools=[WEATHER], messages=ask)
    assert [b.type for b in first.content] == ["text", "tool_use"]
    assert first.stop_reason == "tool_use"
    call = first.content[1]
    assert call.type == "tool_use"
    result = {"type": "tool_result", "tool_use_id": call.id, "content": "Sunny, 21 C"}
    follow = [
        *ask,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [result]},
    ]
    second = client.messages.create(model=MODEL, max_tokens=500, tools=[WEATHER], messages=follow)
    assert second.stop_reason == "end_turn"
    assert [b.type for b in second.content] == ["text"]
    received = ledger(control)[-1]["received"]["messages"]
    assert received[1]["tool_uses"][0]["id"] == call.id
    assert json.loads(received[1]["tool_uses"][0]["input"]) == call.input
    assert received[2]["tool_results"] == [
        {"tool_use_id": call.id, "text": "Sunny, 21 C", "is_error": False}
    ]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_stop_sequences_end_the_text_before_the_sequence(
    client: anthropic.Anthropic, control: httpx.Client, stream: bool
) -> None:
    free = text_of(client.messages.create(model=MODEL, max_tokens=200, messages=HI))
    words = free.split(" ")
    stop = " " + words[len(words) // 2]
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 200, "messages": HI}
    kwargs["stop_sequences"] = ["never-in-the-text", stop]
    if stream:
        with client.messages.stream(**kwargs) as live:
            message = live.get_final_message()
    else:
        message = client.messages.create(**kwargs)
    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == stop
    assert text_of(message) == free[: free.index(stop)]
    served = ledger(control)[-1]["served"]
    assert served["stop_reason"] == "stop_sequence"
    assert served["stop_sequence"] == stop


def test_max_tokens_cuts_the_answer(client: anthropic.Anthropic) -> None:
    message = client.messages.create(model=MODEL, max_tokens=3, messages=HI)
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 3


def test_missing_max_tokens_is_a_bad_request(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        # The SDK requires the argument; `omit` leaves it out of the body (timeout given, since
        # the SDK derives its default from max_tokens).
        client.messages.create(model=MODEL, max_tokens=anthropic.omit, messages=HI, timeout=10)
    assert info.value.status_code == 400
    assert info.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
        "request_id": info.value.request_id,
    }


def test_a_wrong_key_is_an_authentication_error(origin: str) -> None:
    with (
        anthropic.Anthropic(base_url=origin, api_key="sk-wrong", max_retries=0) as sdk,
        pytest.raises(anthropic.AuthenticationError) as info,
    ):
        sdk.messages.create(model=MODEL, max_tokens=10, messages=HI)
    assert info.value.status_code == 401
    assert "sk-wrong" not in str(info.value)
    bearer = {"authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=origin) as raw:
        assert raw.get("/v1/models", headers=bearer).status_code == 200


def test_a_529_fault_is_an_overloaded_error(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    control.post("/_parity/faults", json={"kind": "status", "status": 529, "count": 1})
    with pytest.raises(anthropic.OverloadedError) as info:
        client.messages.create(model=MODEL, max_tokens=10, messages=HI)
    assert isinstance(info.value, anthropic.InternalServerError)
    assert info.value.status_code == 529
    assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    control.post("/_parity/faults", json={"kind": "status", "status": 429, "count": 1})
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.create(model=MODEL, max_tokens=10, messages=HI)
    assert limited.value.response.headers["retry-after"] == "1"
    entries = ledger(control)
    assert [(e["fault"], e["status"], e["completed"]) for e in entries] == [
        ("status", 529, False),
        ("status", 429, False),
    ]


def test_a_disconnect_mid_stream_makes_the_sdk_raise(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    plan = {"kind": "disconnect", "after_chunks": 6, "count": 1}
    control.post("/_parity/faults", json=plan)
    seen: list[str] = []
    with (
        pytest.raises(anthropic.APIConnectionError),
        client.messages.stream(model=MODEL, max_tokens=200, messages=HI) as stream,
    ):
        seen.extend(stream.text_stream)
    whole = client.messages.create(model=MODEL, max_tokens=200, messages=HI)
    cut, done = ledger(control)
    assert cut["fault"] == "disconnect"
    assert cut["completed"] is False
    assert cut["served"]["message_stop"] is False
    assert cut["served"]["stop_reason"] is None
    assert cut["served"]["events"] == 6  # start, block start, ping, three deltas
    assert cut["completion_tokens"] == 3 == len(seen)
    assert cut["text"] == "".join(seen) == text_of(whole)[: len(cut["text"])]
    assert cut["prompt_tokens"] == done["prompt_tokens"] == whole.usage.input_tokens


def test_a_malformed_event_makes_the_sdk_raise(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    control.post("/_parity/faults", json={"kind": "malformed_chunk", "after_chunks": 4, "count": 1})
    with (
        pytest.raises(ValueError, match="Expecting value"),
        client.messages.stream(model=MODEL, max_tokens=200, messages=HI) as stream,
    ):
        stream.get_final_message()
    assert ledger(control)[0]["fault"] == "malformed_chunk"


def test_reset_and_stall_faults_are_connection_errors(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    control.post("/_parity/faults", json={"kind": "reset", "count": 1})
    control.post("/_parity/faults", json={"kind": "stall", "delay_ms": 100, "count": 1})
    for _ in range(2):
        with pytest.raises(anthropic.APIConnectionError):
            client.messages.create(model=MODEL, max_tokens=10, messages=HI)
    assert [(e["fault"], e["status"]) for e in ledger(control)] == [("reset", 0), ("stall", 0)]


def test_prompt_caching_writes_then_reads_the_marked_prefix(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    manual = "Section. " * 700  # 1400 tokens: above the minimum cacheable length
    system = [{"type": "text", "text": manual, "cache_control": {"type": "ephemeral"}}]
    question = [{"role": "user", "content": "What does section two say?"}]
    first = client.messages.create(model=MODEL, max_tokens=50, system=system, messages=question)
    second = client.messages.create(model=MODEL, max_tokens=50, system=system, messages=question)
    assert first.usage.cache_creation_input_tokens == 1400
    assert first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.cache_read_input_tokens == 1400
    assert first.usage.input_tokens == second.usage.input_tokens > 0
    entries = ledger(control)
    total = first.usage.input_tokens + 1400
    assert [e["prompt_tokens"] for e in entries] == [total, total]


def test_models_list_pages_and_retrieves_in_anthropic_shape(
    client: anthropic.Anthropic, origin: str
) -> None:
    everything = list(client.models.list(limit=5))  # the SDK follows has_more / last_id
    ids = [m.id for m in everything]
    assert len(ids) == len(set(ids)) > 5
    assert MODEL in ids
    assert all(m.type == "model" and m.display_name for m in everything)
    dated = client.models.retrieve("claude-sonnet-4-5-20250929")
    assert dated.id == MODEL
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("gpt-4o")
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    page = httpx.get(f"{origin}/v1/models?limit=2", headers=headers).json()
    assert set(page) == {"data", "has_more", "first_id", "last_id"}
    assert page["has_more"] is True
    assert [page["first_id"], page["last_id"]] == [m["id"] for m in page["data"]] == ids[:2]
    assert set(page["data"][0]) >= {"type", "id", "display_name", "created_at"}


def test_images_are_accepted_counted_and_recorded(
    client: anthropic.Anthropic, control: httpx.Client
) -> None:
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    blocks = [
        {"type": "text", "text": "What is in these?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
    ]
    plain = client.messages.create(
        model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "What is in these?"}]
    )
    seen = client.messages.create(
        model=MODEL, max_tokens=20, messages=[{"role": "user", "content": blocks}]
    )
    assert seen.usage.input_tokens == plain.usage.input_tokens + 2 * 85
    received = ledger(control)[-1]["received"]["messages"][0]
    assert received["images"] == 2
    assert received["text"] == "What is in these?"


def test_time_to_first_token_is_paced_after_message_start() -> None:
    settings = UpstreamSettings(
        api_key=KEY, control_key=CONTROL_KEY, dialect="anthropic", ttft_ms=150, itl_ms=20
    )
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    body = {"model": MODEL, "max_tokens": 3, "messages": HI, "stream": True}
    deltas: list[float] = []
    with (
        serve(create_upstream_app(settings).app) as url,
        httpx.Client(base_url=url, timeout=10) as raw,
    ):
        sent = time.monotonic()
        with raw.stream("POST", "/v1/messages", headers=headers, json=body) as response:
            for line in response.iter_lines():
                if line == "event: content_block_delta":
                    deltas.append(time.monotonic() - sent)
    # Lower bounds only (a loaded machine may deliver later, never earlier): delta k is due
    # ttft + (k - 1) * itl after message_start, which leaves after the request was sent.
    assert len(deltas) == 3
    assert deltas[0] >= 0.15
    assert deltas[2] >= 0.19


def test_the_command_serves_the_dialect_at_its_origin() -> None:
    argv = [sys.executable, "-m", "reference_server", "upstream", "--port", "0"]
    argv += ["--dialect", "anthropic", "--control-key", "sk-parity-control-cli"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        origin = process.stdout.readline().split(": ", 1)[1].strip()
        assert origin.startswith("http://127.0.0.1:")
        assert not origin.endswith("/v1")  # the SDK's base URL: it adds /v1/messages itself
        deadline = time.monotonic() + 10
        while True:
            try:
                with anthropic.Anthropic(
                    base_url=origin, api_key="sk-parity-demo", max_retries=0
                ) as sdk:
                    message = sdk.messages.create(model=MODEL, max_tokens=5, messages=HI)
                break
            except anthropic.APIConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert message.usage.output_tokens == 5
    finally:
        process.terminate()
        process.wait(timeout=10)
    refused = subprocess.run(
        [sys.executable, "-m", "reference_server", "upstream", "--dialect", "klingon"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 2
    assert "'klingon'" in refused.stderr
    with pytest.raises(ValueError, match="'klingon'"):
        UpstreamSettings(control_key="k", dialect="klingon")  # type: ignore[arg-type]
