"""The ``anthropic`` provider live: the reference gateway in front of ``parity upstream
--dialect anthropic`` (and an OpenAI-dialect fallback), driven by the official openai SDK and
judged against the upstream's truth ledger."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from reference_server.app import create_app
from reference_server.config import AnthropicProviderSettings, settings_from_mapping
from reference_server.errors import ProviderError
from reference_server.providers.anthropic import AnthropicProvider
from reference_server.providers.base import Call
from reference_server.upstream.command import UpstreamSettings, create_upstream_app
from tests.live import serve

CONTROL_KEY = "sk-parity-control-provider"
CONTROL = {"authorization": f"Bearer {CONTROL_KEY}"}
ADMIN = {"authorization": "Bearer sk-parity-admin-provider"}
SYSTEM = "parity test system prompt: answer as a ferry captain."
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"],
        },
    },
}


class Ends:
    def __init__(self, claude: str, fallback: str, gateway: str) -> None:
        self.claude = httpx.Client(base_url=claude, headers=CONTROL, timeout=10)
        self.fallback = httpx.Client(base_url=fallback, headers=CONTROL, timeout=10)
        self.gateway = gateway
        self.sdk = openai.OpenAI(base_url=f"{gateway}/v1", api_key="sk-parity-demo", max_retries=0)

    def reset(self) -> None:
        for control in (self.claude, self.fallback):
            control.delete("/_parity/faults")
            control.delete("/_parity/ledger")

    def ledger(self, control: httpx.Client) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 5
        while True:
            payload = control.get("/_parity/ledger").json()
            if payload["in_flight"] == 0 or time.monotonic() > deadline:
                entries: list[dict[str, Any]] = payload["data"]
                return entries
            time.sleep(0.01)

    def spend(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.gateway}/admin/spend?key_id=demo", headers=ADMIN, timeout=10)
        payload: dict[str, Any] = answer.json()
        return payload


def _config(claude: str, fallback: str, store: Path) -> dict[str, Any]:
    return {
        "server": {"circuit_failure_threshold": 50},
        "providers": {
            "claude": {
                "type": "anthropic",
                "base_url": claude,
                "api_key": "sk-parity-demo",
                "timeout_s": 5,
            },
            "fallback": {
                "type": "openai",
                "base_url": f"{fallback}/v1",
                "api_key": "sk-parity-demo",
            },
        },
        "models": [
            {
                "name": "monday-standard",
                "category": "text",
                "alias": True,
                "supports": ["chat", "streaming", "tools", "responses"],
                "input_per_mtok": 3.0,
                "output_per_mtok": 15.0,
                "deployments": [
                    {
                        "name": "claude/claude-sonnet-4-6",
                        "provider": "claude",
                        "model": "claude-sonnet-4-6",
                    },
                    {
                        "name": "fallback/claude-haiku-4-5",
                        "provider": "fallback",
                        "model": "claude-haiku-4-5",
                    },
                ],
            },
            {
                "name": "text-embedding-3-small",
                "category": "embedding",
                "input_per_mtok": 0.02,
                "deployments": [
                    {
                        "name": "claude/embeddings",
                        "provider": "claude",
                        "model": "claude-sonnet-4-6",
                    }
                ],
            },
        ],
        "controls": {
            "store": {"backend": "sqlite", "path": str(store)},
            "admin_key": "sk-parity-admin-provider",
            "credits_header": "x-monday-credits-used",
        },
    }


@pytest.fixture(scope="module")
def ends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ends]:
    claude = create_upstream_app(
        UpstreamSettings(name="claude", control_key=CONTROL_KEY, dialect="anthropic")
    )
    fallback = create_upstream_app(UpstreamSettings(name="fallback", control_key=CONTROL_KEY))
    store = tmp_path_factory.mktemp("anthropic") / "controls.db"
    with serve(claude.app) as one, serve(fallback.app) as two:
        settings = settings_from_mapping(_config(one, two, store))
        with serve(create_app(settings)) as gateway:
            yield Ends(one, two, gateway)


@pytest.fixture
def live(ends: Ends) -> Ends:
    ends.reset()
    return ends


def test_chat_reaches_the_messages_api_and_usage_is_what_it_counted(live: Ends) -> None:
    messages: Any = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hi"}]
    answer = live.sdk.chat.completions.with_raw_response.create(
        model="monday-standard", messages=messages
    )
    completion = answer.parse()
    (entry,) = live.ledger(live.claude)
    assert entry["path"] == "/v1/messages"
    assert entry["received"]["system"] == SYSTEM
    assert entry["received"]["max_tokens"] == 128_000  # the model's maximum output, not a cut
    assert completion.model == "monday-standard"
    assert completion.choices[0].message.content == entry["text"]
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == entry["prompt_tokens"]
    assert completion.usage.completion_tokens == entry["completion_tokens"]
    expected = (entry["prompt_tokens"] * 3.0 + entry["completion_tokens"] * 15.0) / 1e6
    assert float(answer.headers["x-monday-credits-used"]) == pytest.approx(expected, abs=1e-6)
    assert entry["request_id"] == answer.headers["x-request-id"]


def test_streamed_tool_calls_concatenate_to_the_input_the_upstream_emitted(live: Ends) -> None:
    stream = live.sdk.chat.completions.create(
        model="monday-standard",
        messages=[{"role": "user", "content": "weather in Oslo?"}],
        tools=[TOOL],  # type: ignore[list-item]
        tool_choice="required",
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    arguments = "".join(
        call.function.arguments or ""
        for c in chunks
        if c.choices
        for call in c.choices[0].delta.tool_calls or ()
        if call.function is not None
    )
    (entry,) = live.ledger(live.claude)
    (emitted,) = entry["served"]["tool_calls"]
    assert json.loads(arguments) == json.loads(emitted["input"])
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == entry["prompt_tokens"]


def test_responses_streamed_and_not(live: Ends) -> None:
    response = live.sdk.responses.create(
        model="monday-standard", input="hello", instructions=SYSTEM
    )
    assert response.status == "completed"
    assert response.output_text == live.ledger(live.claude)[-1]["text"]
    events = list(live.sdk.responses.create(model="monday-standard", input="hello", stream=True))
    assert events[-1].type == "response.completed"
    assert events[-1].response.usage is not None
    assert events[-1].response.usage.input_tokens == live.ledger(live.claude)[-1]["prompt_tokens"]


def test_json_schema_answers_json(live: Ends) -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    completion = live.sdk.chat.completions.create(
        model="monday-standard",
        messages=[{"role": "user", "content": "a number as json"}],
        response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)
    assert completion.choices[0].finish_reason == "stop"
    assert live.ledger(live.claude)[0]["received"]["tool_choice"] == {
        "type": "tool",
        "name": "json_answer",
    }


@pytest.mark.parametrize("status", [529, 429, 500], ids=["overloaded", "rate_limited", "api_error"])
def test_an_upstream_failure_before_the_first_byte_falls_back(live: Ends, status: int) -> None:
    live.claude.post("/_parity/faults", json={"kind": "status", "status": status, "count": 1})
    answer = live.sdk.chat.completions.with_raw_response.create(
        model="monday-standard", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.headers["x-parity-deployment"] == "fallback/claude-haiku-4-5"
    assert [e["status"] for e in live.ledger(live.claude)] == [status]
    assert [e["status"] for e in live.ledger(live.fallback)] == [200]


def test_a_request_anthropic_cannot_serve_is_a_clear_400_without_fallback(live: Ends) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        live.sdk.chat.completions.create(
            model="monday-standard", messages=[{"role": "user", "content": "hi"}], n=2
        )
    assert caught.value.body["param"] == "n"  # type: ignore[index]
    assert "one choice per request" in caught.value.body["message"]  # type: ignore[index]
    assert live.ledger(live.claude) == live.ledger(live.fallback) == []
    with pytest.raises(openai.BadRequestError, match="embeddings"):
        live.sdk.embeddings.create(model="text-embedding-3-small", input="x")


def test_a_cut_stream_ends_with_an_error_and_is_billed_with_the_upstreams_prompt(
    live: Ends,
) -> None:
    before = live.spend()
    live.claude.post("/_parity/faults", json={"kind": "disconnect", "after_chunks": 6, "count": 1})
    body = {
        "model": "monday-standard",
        "stream": True,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hi"}],
    }
    raw = httpx.post(
        f"{live.gateway}/v1/chat/completions",
        json=body,
        headers={"authorization": "Bearer sk-parity-demo"},
        timeout=10,
    ).text
    assert '"error"' in raw
    assert "[DONE]" not in raw
    (entry,) = live.ledger(live.claude)
    assert entry["fault"] == "disconnect"
    deadline = time.monotonic() + 5
    while (after := live.spend())["total_requests"] == before["total_requests"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    prompt, completion = (
        sum(g[name] for g in after["data"]) - sum(g[name] for g in before["data"])
        for name in ("prompt_tokens", "completion_tokens")
    )
    # Anthropic counts the system prompt without a message's overhead: its count, not the
    # gateway's estimate, is what a cut stream is billed with.
    assert (prompt, completion) == (entry["prompt_tokens"], entry["completion_tokens"])


def _provider(handler: Any) -> AnthropicProvider:
    provider = AnthropicProvider(AnthropicProviderSettings(name="claude", api_key="sk-x"))
    provider._client = httpx.AsyncClient(
        base_url="http://claude.test", transport=httpx.MockTransport(handler)
    )
    return provider


CALL = Call(
    "chat", "claude-haiku-4-5", {"messages": [{"role": "user", "content": "hi"}]}, None, "r1"
)


def _sse(*events: dict[str, Any], tail: bytes = b"") -> bytes:
    return b"".join(f"event: x\ndata: {json.dumps(e)}\n\n".encode() for e in events) + tail


START = {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 4}}}


@pytest.mark.parametrize(
    ("answer", "kind", "status"),
    [
        (httpx.ConnectError("refused"), "connect", 502),
        (httpx.ReadTimeout("slow"), "timeout", 504),
        (httpx.Response(200, content=b"not json"), "protocol", 502),
        (
            httpx.Response(
                529,
                json={"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
            ),
            "status",
            503,
        ),
    ],
    ids=["connect", "timeout", "invalid_json", "overloaded"],
)
async def test_whole_answer_failures(answer: Any, kind: str, status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    provider = _provider(handler)
    with pytest.raises(ProviderError) as caught:
        await provider.complete(CALL)
    assert (caught.value.kind, caught.value.status) == (kind, status)
    await provider.aclose()


@pytest.mark.parametrize(
    ("body", "kind", "items"),
    [
        (
            _sse({"type": "error", "error": {"type": "overloaded_error", "message": "x"}}),
            "status",
            0,
        ),
        (_sse(START, tail=b'data: {"type": "content_block_delta", "index":\n\n'), "protocol", 1),
        (_sse(START, tail=b'data: {"type": "ping"}'), "protocol", 1),
        (
            _sse(START, {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
            "protocol",
            1,
        ),
    ],
    ids=["error_before_start", "malformed_event", "cut_inside_event", "no_message_stop"],
)
async def test_stream_failures_before_and_after_the_first_item(
    body: bytes, kind: str, items: int
) -> None:
    provider = _provider(
        lambda request: httpx.Response(
            200, content=body, headers={"content-type": "text/event-stream"}
        )
    )
    stream = provider.stream(CALL)
    seen: list[dict[str, Any]] = []

    async def drain() -> None:
        async for item in stream:
            seen.append(item)

    with pytest.raises(ProviderError) as caught:
        await drain()
    assert (caught.value.kind, len(seen)) == (kind, items)
    assert getattr(stream, "prompt_tokens", None) == (4 if items else None)
    await provider.aclose()


def test_every_deployment_overloaded_is_a_503_with_retry_after(live: Ends) -> None:
    live.claude.post("/_parity/faults", json={"kind": "status", "status": 529, "count": 1})
    live.fallback.post("/_parity/faults", json={"kind": "status", "status": 503, "count": 1})
    answer = httpx.post(
        f"{live.gateway}/v1/chat/completions",
        json={"model": "monday-standard", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": "Bearer sk-parity-demo"},
        timeout=10,
    )
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["error"]["code"] == "upstream_overloaded"
