"""The Anthropic dialect's parts: request checks and error shapes, the plan, the stream, the
prompt cache and the ledger's reading of what left (no network)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from reference_server.upstream.anthropic_app import AnthropicAppSettings, create_anthropic_app
from reference_server.upstream.anthropic_cache import MIN_CACHEABLE, CacheUsage, PromptCache
from reference_server.upstream.anthropic_errors import AnthropicError, error_type
from reference_server.upstream.anthropic_ledger import AnthropicDialect
from reference_server.upstream.anthropic_models import MODELS, models_page
from reference_server.upstream.anthropic_requests import parse_messages_request
from reference_server.upstream.anthropic_stream import encode_event, stream_events
from reference_server.upstream.anthropic_synthesis import plan_message
from reference_server.upstream.anthropic_tokens import PromptUnit, prompt_units
from reference_server.upstream.dialect import Delivered

KEY = "sk-parity-unit"
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
HI = [{"role": "user", "content": "hi"}]
TOOL = {
    "name": "lookup",
    "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
}
NO_CACHE = CacheUsage(5, 0, 0, 0, 0)
IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}
BAD_USER_BLOCKS = [
    ("text", "expected a content block object, got 'text'"),
    ({"type": "text"}, "content.0.text: Field required"),
    ({"type": "image"}, "content.0.source: Field required"),
    ({"type": "image", "source": {"type": "base64", "media_type": "image/png"}}, "source.data"),
    ({"type": "image", "source": {"type": "url", "url": ""}}, "source.url"),
    ({"type": "image", "source": {"type": "ftp"}}, "'ftp'"),
    ({"type": "tool_result"}, "tool_use_id: Field required"),
]
BAD_FIELDS = [
    ("system", 42, "system: expected a string or a list of text blocks"),
    ("system", [{"type": "image"}], "system.0: expected a text block"),
    ("system", [{"type": "text"}], "system.0.text"),
    ("metadata", "me", "metadata: expected an object"),
    ("tools", {"name": "t"}, "tools: expected a list"),
    ("tools", ["t"], "tools.0: expected a tool object"),
    ("tool_choice", {"type": "auto", "disable_parallel_tool_use": "yes"}, "'yes'"),
    ("top_k", -1, "top_k: -1 is invalid; expected a number >= 0"),
    ("messages", "hi", "messages: Field required"),
    ("messages", ["hi"], "messages.0: expected a message object"),
    ("messages", [{"role": "user", "content": 3}], "messages.0.content: expected a string"),
    ("model", 7, "model: Field required"),
]


@pytest.fixture(scope="module")
def app() -> Iterator[TestClient]:
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    with TestClient(create_anthropic_app(AnthropicAppSettings(api_key_sha256=digest))) as client:
        yield client


def body(**changes: Any) -> dict[str, Any]:
    return {"model": "claude-haiku-4-5", "max_tokens": 50, "messages": HI, **changes}


def use(tool_id: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": "lookup", "input": {}}


def result(tool_id: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_id, "content": "ok"}


@pytest.mark.parametrize(
    ("sent", "status", "shown"),
    [
        ({"model": "claude-haiku-4-5", "messages": HI}, 400, "max_tokens: Field required"),
        (body(n=2), 400, "n: Extra inputs are not permitted"),
        (body(model="gpt-4o"), 404, "model: gpt-4o"),
        (body(max_tokens=100_000), 400, "100000 > 64000"),
        (body(max_tokens=0), 400, "max_tokens: 0"),
        (body(messages=[]), 400, "at least one message"),
        (body(messages=[{"role": "system", "content": "x"}]), 400, "'system'"),
        (body(messages=[{"role": "user", "content": ""}]), 400, "non-empty content"),
        (
            body(messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]),
            400,
            "text content blocks must be non-empty",
        ),
        (
            body(messages=[{"role": "user", "content": [{"type": "tool_use"}]}]),
            400,
            "'tool_use' is not a valid block in a user message",
        ),
        (
            body(messages=[{"role": "user", "content": [result("toolu_x")]}]),
            400,
            "unexpected `tool_use_id` found in `tool_result` blocks: toolu_x",
        ),
        (
            body(
                messages=[
                    *HI,
                    {"role": "assistant", "content": [use("toolu_a")]},
                    {"role": "user", "content": "and?"},
                ]
            ),
            400,
            "without `tool_result` blocks immediately after: toolu_a",
        ),
        (
            body(
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/bmp",
                                    "data": "x",
                                },
                            }
                        ],
                    }
                ]
            ),
            400,
            "'image/bmp'",
        ),
        (
            body(
                messages=[
                    *HI,
                    {"role": "assistant", "content": [use("toolu_a")]},
                    {
                        "role": "user",
                        "content": [{**result("toolu_a"), "content": [use("toolu_b")]}],
                    },
                ]
            ),
            400,
            "'tool_use' is not a valid block in a tool_result",
        ),
        (body(tools=[{"name": "bad name", "input_schema": {"type": "object"}}]), 400, "'bad name'"),
        (body(tools=[{"name": "t", "input_schema": {"type": "string"}}]), 400, "input_schema"),
        (body(tools=[TOOL, TOOL]), 400, "unique"),
        (body(tools=[TOOL], tool_choice={"type": "tool", "name": "nope"}), 400, "'nope'"),
        (body(tool_choice={"type": "any"}), 400, "needs `tools`"),
        (body(tool_choice={"type": "required"}), 400, "tool_choice"),
        (body(stop_sequences=[" "]), 400, "stop_sequences"),
        (body(temperature=1.5), 400, "temperature: 1.5"),
        (body(stream="yes"), 400, "stream"),
        (
            body(
                system=[
                    {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
                    for _ in range(5)
                ]
            ),
            400,
            "Found 5",
        ),
        ([1, 2], 400, "must be a JSON object"),
        *[
            (body(messages=[{"role": "user", "content": [b]}]), 400, shown)
            for b, shown in BAD_USER_BLOCKS
        ],
        *[(body(**{name: value}), 400, shown) for name, value, shown in BAD_FIELDS],
    ],
    ids=[
        "max_tokens_missing",
        "extra_field",
        "unknown_model",
        "max_tokens_above_model",
        "max_tokens_zero",
        "no_messages",
        "system_role",
        "empty_content",
        "empty_text_block",
        "tool_use_from_user",
        "orphan_tool_result",
        "unanswered_tool_use",
        "image_media_type",
        "tool_use_inside_tool_result",
        "tool_name",
        "tool_schema",
        "duplicate_tool",
        "tool_choice_name",
        "tool_choice_any_without_tools",
        "tool_choice_type",
        "blank_stop",
        "temperature",
        "stream_type",
        "too_many_cache_markers",
        "not_object",
        *[f"user_block_{i}" for i in range(len(BAD_USER_BLOCKS))],
        *[f"{name}_{i}" for i, (name, _, _) in enumerate(BAD_FIELDS)],
    ],
)
def test_bad_requests_get_anthropic_errors_naming_the_value(
    app: TestClient, sent: Any, status: int, shown: str
) -> None:
    response = app.post("/v1/messages", headers=HEADERS, json=sent)
    assert response.status_code == status
    payload = response.json()
    assert payload["type"] == "error"
    assert payload["error"]["type"] == error_type(status)
    assert shown in payload["error"]["message"]
    assert payload["request_id"] == response.headers["request-id"]


@pytest.mark.parametrize(
    ("headers", "status", "shown"),
    [
        ({"anthropic-version": "2023-06-01"}, 401, "x-api-key header is required"),
        ({"x-api-key": "sk-other", "anthropic-version": "2023-06-01"}, 401, "invalid x-api-key"),
        ({"x-api-key": KEY}, 400, "anthropic-version: header is required"),
        ({"x-api-key": KEY, "anthropic-version": "latest"}, 400, "'latest'"),
        ({"authorization": f"Bearer {KEY}", "anthropic-version": "2023-01-01"}, 200, ""),
    ],
    ids=["no_key", "wrong_key", "no_version", "bad_version", "bearer"],
)
def test_key_and_version_headers_are_required(
    app: TestClient, headers: dict[str, str], status: int, shown: str
) -> None:
    response = app.post("/v1/messages", headers=headers, json=body())
    assert response.status_code == status
    if status != 200:
        assert response.json()["error"] == {
            "type": error_type(status),
            "message": response.json()["error"]["message"],
        }
        assert shown in response.json()["error"]["message"]
        assert "sk-other" not in response.text


def test_unknown_paths_methods_and_bodies_answer_in_anthropic_shape(app: TestClient) -> None:
    missing = app.post("/v1/chat/completions", headers=HEADERS, json=body())
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"
    wrong = app.get("/v1/messages", headers=HEADERS)
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "error"
    broken = app.post("/v1/messages", headers=HEADERS, content=b"{nope")
    assert broken.status_code == 400
    assert "not valid JSON" in broken.json()["error"]["message"]


def test_count_tokens_counts_the_prompt_without_answering(app: TestClient) -> None:
    sent = {"model": "claude-haiku-4-5", "messages": HI, "system": "Be brief."}
    counted = app.post("/v1/messages/count_tokens", headers=HEADERS, json=sent)
    answered = app.post("/v1/messages", headers=HEADERS, json={**sent, "max_tokens": 5})
    assert counted.json() == {"input_tokens": answered.json()["usage"]["input_tokens"]}
    refused = app.post("/v1/messages/count_tokens", headers=HEADERS, json={**sent, "max_tokens": 5})
    assert refused.status_code == 400


def plan_for(sent: dict[str, Any], output_tokens: int = 24) -> Any:
    request = parse_messages_request(sent)
    ids = ["toolu_1", "toolu_2", "toolu_3"]
    return plan_message(
        request, message_id="msg_1", tool_ids=ids, output_tokens=output_tokens, cache=NO_CACHE
    )


def tools(count: int) -> list[dict[str, Any]]:
    return [{**TOOL, "name": f"t{i}"} for i in range(count)]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, ["text", "t0", "t1", "t2"]),
        ({"type": "auto", "disable_parallel_tool_use": True}, ["text", "t0"]),
        ({"type": "any"}, ["t0", "t1", "t2"]),
        ({"type": "any", "disable_parallel_tool_use": True}, ["t0"]),
        ({"type": "tool", "name": "t3"}, ["t3"]),
        ({"type": "none"}, ["text"]),
    ],
    ids=["auto", "auto_single", "any", "any_single", "tool", "none"],
)
def test_tool_choice_decides_the_blocks(choice: dict[str, Any], expected: list[str]) -> None:
    plan = plan_for(body(max_tokens=500, tools=tools(4), tool_choice=choice))
    assert [b.name or b.type for b in plan.blocks] == expected
    assert plan.stop_reason == ("end_turn" if expected == ["text"] else "tool_use")


def test_a_tool_call_that_does_not_fit_max_tokens_is_dropped() -> None:
    plan = plan_for(body(max_tokens=2, tools=[TOOL], tool_choice={"type": "any"}))
    assert plan.blocks == ()
    assert plan.stop_reason == "max_tokens"
    assert plan.output_tokens == 0


def test_the_stream_carries_the_plan_and_its_usage() -> None:
    plan = plan_for(body(max_tokens=500, tools=[TOOL]), output_tokens=5)
    events = list(stream_events(plan, tokens_per_chunk=2))
    text = "".join(
        e.data["delta"]["text"]
        for e in events
        if e.data["type"] == "content_block_delta" and e.data["index"] == 0
    )
    pieces = [
        e.data["delta"]["partial_json"]
        for e in events
        if e.data.get("index") == 1 and e.data["type"] == "content_block_delta"
    ]
    assert text == "".join(plan.blocks[0].text)
    assert pieces[0] == ""
    assert "".join(pieces) == plan.blocks[1].input_json
    assert events[-2].data["usage"] == {"output_tokens": plan.output_tokens}
    assert encode_event(events[-1]) == b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


def units(*spec: tuple[int, str | None]) -> list[PromptUnit]:
    return [PromptUnit(tokens, f"u{i}", ttl) for i, (tokens, ttl) in enumerate(spec)]


def test_the_cache_writes_reads_refreshes_and_expires() -> None:
    now = [0.0]
    cache = PromptCache(clock=lambda: now[0])
    prompt = units((MIN_CACHEABLE, "5m"), (10, None))
    assert cache.admit("m", prompt) == CacheUsage(10, MIN_CACHEABLE, 0, MIN_CACHEABLE, 0)
    now[0] = 299.0
    assert cache.admit("m", prompt) == CacheUsage(10, 0, MIN_CACHEABLE, 0, 0)
    assert cache.admit("other-model", prompt).cache_read_input_tokens == 0
    now[0] = 299.0 + 301.0  # the read at 299 s refreshed it; 5 minutes later it is gone
    assert cache.admit("m", prompt).cache_creation_input_tokens == MIN_CACHEABLE


def test_the_cache_reads_the_longest_prefix_and_writes_the_rest_by_ttl() -> None:
    cache = PromptCache(clock=lambda: 0.0)
    short = units((MIN_CACHEABLE, "1h"), (5, None))
    cache.admit("m", short)
    longer = units((MIN_CACHEABLE, "1h"), (600, "5m"), (5, None))
    assert cache.admit("m", longer) == CacheUsage(5, 600, MIN_CACHEABLE, 600, 0)
    tiny = units((MIN_CACHEABLE - 1, "5m"))
    assert cache.admit("m", tiny) == CacheUsage(MIN_CACHEABLE - 1, 0, 0, 0, 0)


def test_top_level_cache_control_marks_the_last_block() -> None:
    marked = prompt_units(body(cache_control={"type": "ephemeral", "ttl": "1h"}))
    assert [u.ttl for u in marked] == [None, "1h", None]  # message overhead, its text, priming


def test_the_ledger_reading_of_a_cut_stream_counts_what_left() -> None:
    sent = body(max_tokens=500, tools=[TOOL], tool_choice={"type": "any"})
    plan = plan_for(sent)
    events = [encode_event(e).removesuffix(b"\n\n") for e in stream_events(plan, 1)]
    dialect = AnthropicDialect()
    whole = dialect.account(sent, Delivered(200, True, True, b"", tuple(events)))
    assert whole.completion_tokens == plan.output_tokens
    assert json.loads(whole.served["tool_calls"][0]["input"]) == json.loads(
        plan.blocks[0].input_json
    )  # type: ignore[index]
    cut = dialect.account(sent, Delivered(200, True, False, b"", tuple(events[:5])))
    assert cut.served is not None
    assert cut.served["message_stop"] is False
    # message_start, the tool's block start, ping, the empty first piece, one 12-character piece
    piece = plan.blocks[0].input_json[:12]
    assert cut.served["tool_calls"] == [{"id": "toolu_1", "name": "lookup", "input": piece}]
    assert 0 < cut.completion_tokens < plan.output_tokens
    assert cut.prompt_tokens == whole.prompt_tokens == NO_CACHE.input_tokens
    refused = dialect.account(
        sent,
        Delivered(
            400,
            False,
            False,
            b'{"type":"error","error":{"type":"invalid_request_error","message":"x"}}',
            (),
        ),
    )
    assert refused.served == {"error": {"type": "invalid_request_error", "message": "x"}}
    assert (refused.prompt_tokens, refused.completion_tokens) == (0, 0)
    assert json.loads(dialect.error_body(529))["error"]["type"] == "overloaded_error"


def test_models_pages_both_ways_and_refuses_bad_limits() -> None:
    ids = [m.id for m in MODELS]
    after = models_page({"limit": "3", "after_id": ids[2]})
    assert [m["id"] for m in after["data"]] == ids[3:6]
    before = models_page({"limit": "2", "before_id": ids[5]})
    assert [m["id"] for m in before["data"]] == ids[3:5]
    assert before["has_more"] is True
    last = models_page({"limit": "1000"})
    assert last["has_more"] is False
    with pytest.raises(AnthropicError, match="'0'"):
        models_page({"limit": "0"})


@pytest.mark.parametrize(
    "assistant",
    [
        [{"type": "thinking", "thinking": "Let me look.", "signature": "sig"}, use("toolu_a")],
        [{"type": "redacted_thinking", "data": "opaque"}, use("toolu_a")],
    ],
    ids=["thinking", "redacted_thinking"],
)
def test_legal_but_unusual_requests_are_answered(
    app: TestClient, assistant: list[dict[str, Any]]
) -> None:
    """Documents, thinking blocks, a tool result made of blocks, a server tool, a dated model
    id, a prefilled assistant turn: all legal, all answered."""
    document = {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}}
    answer = {
        **result("toolu_a"),
        "content": [{"type": "text", "text": "found"}, IMAGE],
        "is_error": False,
    }
    sent = body(
        model="claude-haiku-4-5-20251001",
        system=[{"type": "text", "text": "Use the tools."}],
        tools=[TOOL, {"type": "web_search_20250305", "name": "web_search"}],
        metadata={"user_id": "u1"},
        temperature=0.5,
        top_k=5,
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "Read it"}, document]},
            {"role": "assistant", "content": assistant},
            {"role": "user", "content": [answer]},
            {"role": "assistant", "content": ""},
        ],
    )
    response = app.post("/v1/messages", headers=HEADERS, json=sent)
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "claude-haiku-4-5-20251001"
    counted = app.post(
        "/v1/messages/count_tokens",
        headers=HEADERS,
        json={k: v for k, v in sent.items() if k != "max_tokens"},
    )
    # the document, and the image inside the tool result, count as media
    assert counted.json()["input_tokens"] >= 2 * 85
    received = (
        AnthropicDialect().account(sent, Delivered(200, False, True, response.content, ())).received
    )
    assert received is not None
    assert received["messages"][2]["tool_results"] == [
        {"tool_use_id": "toolu_a", "text": "found", "is_error": False}
    ]
    assert received["tools"] == ["lookup", "web_search"]
