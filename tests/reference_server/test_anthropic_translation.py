"""The anthropic provider's translation, piece by piece (no network): OpenAI requests to
Messages requests, Messages to chat completions and Responses, Anthropic events to chunks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reference_server.errors import ProviderError
from reference_server.providers.anthropic_errors import error_from_body
from reference_server.providers.anthropic_request import default_max_tokens, messages_request
from reference_server.providers.anthropic_response import (
    Usage,
    chat_completion,
    finish_reason,
    read_message,
    response_object,
    usage_of,
)
from reference_server.providers.anthropic_stream import ChatStream, ResponsesStream

PNG = "iVBORw0KGgo="
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The forecast.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def translate(body: dict[str, Any], *, endpoint: str = "chat", **options: Any) -> dict[str, Any]:
    settings = {"max_tokens": None, "prompt_caching": False, "stream": False, **options}
    return messages_request(endpoint, body, "claude-sonnet-4-6", **settings).body


def test_system_and_developer_messages_join_the_system_prompt_in_order() -> None:
    out = translate(
        {
            "messages": [
                {"role": "system", "content": "one"},
                {"role": "user", "content": "hi"},
                {"role": "developer", "content": [{"type": "text", "text": "two"}]},
                {"role": "assistant", "content": "hello"},
                {"role": "user", "content": "again"},
            ]
        }
    )
    assert out["system"] == [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]
    assert [(m["role"], m["content"][0]["text"]) for m in out["messages"]] == [
        ("user", "hi"),
        ("assistant", "hello"),
        ("user", "again"),
    ]


def test_max_tokens_from_the_client_else_the_models_maximum_output() -> None:
    hi = [{"role": "user", "content": "hi"}]
    assert (
        translate({"messages": hi, "max_completion_tokens": 7, "max_tokens": 9})["max_tokens"] == 7
    )
    assert translate({"messages": hi, "max_tokens": 9})["max_tokens"] == 9
    assert translate({"messages": hi})["max_tokens"] == 128_000
    assert translate({"messages": hi}, max_tokens=2048)["max_tokens"] == 2048
    assert default_max_tokens("claude-opus-4-6-20260201", None) == 128_000
    assert default_max_tokens("claude-future-9", None) == 4096


def test_tool_calls_and_tool_messages_become_paired_blocks() -> None:
    call = {
        "id": "toolu_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
    }
    out = translate(
        {
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
                {"role": "user", "content": "thanks"},
            ],
            "tools": [WEATHER],
            "tool_choice": "required",
            "parallel_tool_calls": False,
        }
    )
    assert out["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}
        ],
    }
    assert out["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": [{"type": "text", "text": "sunny"}],
        },
        {"type": "text", "text": "thanks"},
    ]
    assert out["tools"] == [
        {
            "name": "get_weather",
            "input_schema": WEATHER["function"]["parameters"],
            "description": "The forecast.",
        }
    ]
    assert out["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("none", {"type": "none"}),
        ("auto", {"type": "auto"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "tool", "name": "get_weather"},
        ),
        (
            {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [{"type": "function", "function": {"name": "get_weather"}}],
                },
            },
            {"type": "any"},
        ),
    ],
    ids=["none", "auto", "named", "allowed_tools"],
)
def test_tool_choice_mapping(choice: Any, expected: dict[str, Any]) -> None:
    out = translate(
        {"messages": [{"role": "user", "content": "hi"}], "tools": [WEATHER], "tool_choice": choice}
    )
    assert out["tool_choice"] == expected


def test_json_schema_becomes_a_forced_tool_whose_input_is_the_content() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    body = {
        "messages": [{"role": "user", "content": "json"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    }
    translated = messages_request(
        "chat", body, "claude-haiku-4-5", max_tokens=None, prompt_caching=False, stream=False
    )
    assert translated.json_tool == "json_answer"
    assert translated.body["tools"][0]["input_schema"] == schema
    assert translated.body["tool_choice"] == {"type": "tool", "name": "json_answer"}
    message = {
        "id": "msg_1",
        "content": [{"type": "tool_use", "id": "t", "name": "json_answer", "input": {"n": 3}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 5, "output_tokens": 4},
    }
    completion = chat_completion(
        read_message(message, translated.json_tool), completion_id="c", model="m"
    )
    choice = completion["choices"][0]
    assert (json.loads(choice["message"]["content"]), choice["finish_reason"]) == ({"n": 3}, "stop")
    assert "tool_calls" not in choice["message"]


def test_json_object_beside_client_tools_lets_the_model_choose_and_avoids_name_clashes() -> None:
    tool = {
        "type": "function",
        "function": {"name": "json_answer", "parameters": {"type": "object"}},
    }
    body = {
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [tool],
        "response_format": {"type": "json_object"},
    }
    translated = messages_request(
        "chat", body, "m", max_tokens=None, prompt_caching=False, stream=False
    )
    assert translated.json_tool == "json_answer_"
    assert translated.body["tool_choice"] == {"type": "any"}
    forced = {**body, "tool_choice": "required"}
    assert (
        messages_request(
            "chat", forced, "m", max_tokens=None, prompt_caching=False, stream=False
        ).json_tool
        is None
    )


def test_images_stop_sampling_user_and_caching() -> None:
    content = [
        {"type": "text", "text": "what is this?", "cache_control": {"type": "ephemeral"}},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg", "detail": "low"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}},
    ]
    out = translate(
        {
            "messages": [{"role": "user", "content": content}],
            "stop": "END",
            "temperature": 1.7,
            "top_p": 0.5,
            "user": "u-1",
        },
        prompt_caching=True,
        stream=True,
    )
    blocks = out["messages"][0]["content"]
    assert blocks[0] == {
        "type": "text",
        "text": "what is this?",
        "cache_control": {"type": "ephemeral"},
    }
    assert blocks[1]["source"] == {"type": "base64", "media_type": "image/png", "data": PNG}
    assert blocks[2]["source"] == {"type": "url", "url": "https://example.com/a.jpg"}
    assert blocks[3]["type"] == "document"
    assert (out["stop_sequences"], out["temperature"], out["top_p"]) == (["END"], 1.0, 0.5)
    assert out["metadata"] == {"user_id": "u-1"}
    assert (out["cache_control"], out["stream"]) == ({"type": "ephemeral"}, True)


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"stop": ["\n"]}, "stop"),
        ({"tools": [{"type": "custom", "custom": {"name": "x"}}]}, "tools[0].type"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}
                ]
            },
            "messages[0].content[0]",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AA"}}
                        ],
                    }
                ]
            },
            "messages[0].content[0].image_url.url",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}],
                    }
                ]
            },
            "messages[0].content[0].image_url.url",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]}
                ]
            },
            "messages[0].content[0]",
        ),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": "a",
                                "type": "function",
                                "function": {"name": "f", "arguments": "[1]"},
                            }
                        ],
                    }
                ]
            },
            "messages[0].tool_calls[0].function.arguments",
        ),
        ({"messages": [{"role": "function", "name": "f", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "system", "content": "only"}]}, "messages"),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": {"type": "array"}},
                }
            },
            "response_format.json_schema.schema",
        ),
    ],
    ids=[
        "n",
        "logprobs",
        "audio",
        "whitespace_stop",
        "custom_tool",
        "input_audio",
        "bmp",
        "ftp",
        "file_id",
        "arguments_not_object",
        "function_role",
        "system_only",
        "array_schema",
    ],
)
def test_what_anthropic_cannot_do_is_refused_with_a_400_naming_the_parameter(
    changes: dict[str, Any], param: str
) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], **changes}
    with pytest.raises(ProviderError) as caught:
        translate(body)
    assert (caught.value.status, caught.value.param) == (400, param)
    assert caught.value.error_type == "invalid_request_error"


def test_responses_input_is_read_as_the_chat_request_it_amounts_to() -> None:
    body = {
        "instructions": "be brief",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "weather?"},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
                ],
            },
            {"type": "reasoning", "summary": []},
            {
                "type": "function_call",
                "call_id": "toolu_9",
                "name": "get_weather",
                "arguments": "{}",
            },
            {"type": "function_call_output", "call_id": "toolu_9", "output": "rain"},
        ],
        "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}}},
        "max_output_tokens": 50,
    }
    out = translate(body, endpoint="responses")
    assert out["system"] == [{"type": "text", "text": "be brief"}]
    assert out["messages"][0]["content"][1]["type"] == "image"
    assert out["messages"][1]["content"][0] == {
        "type": "tool_use",
        "id": "toolu_9",
        "name": "get_weather",
        "input": {},
    }
    assert out["messages"][2]["content"][0]["tool_use_id"] == "toolu_9"
    assert out["tool_choice"] == {"type": "tool", "name": "get_weather"}
    assert out["max_tokens"] == 50
    with pytest.raises(ProviderError, match="item_reference"):
        translate({"input": [{"type": "item_reference", "id": "x"}]}, endpoint="responses")
    with pytest.raises(ProviderError, match="web_search"):
        translate({"input": "hi", "tools": [{"type": "web_search"}]}, endpoint="responses")


def test_usage_counts_every_input_token_and_reports_cache_reads() -> None:
    usage = usage_of(
        {
            "input_tokens": 3,
            "cache_creation_input_tokens": 20,
            "cache_read_input_tokens": 1000,
            "output_tokens": 9,
        }
    )
    assert usage.prompt == 1023
    message = {
        "id": "msg",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 3,
            "cache_creation_input_tokens": 20,
            "cache_read_input_tokens": 1000,
            "output_tokens": 9,
        },
    }
    body = chat_completion(read_message(message, None), completion_id="c", model="m")
    assert body["usage"]["prompt_tokens"] == 1023
    assert body["usage"]["total_tokens"] == 1032
    assert body["usage"]["prompt_tokens_details"]["cached_tokens"] == 1000
    assert body["usage"]["prompt_tokens_details"]["cache_write_tokens"] == 20
    response = response_object(read_message(message, None), {"input": "x"}, rid="r", model="m")
    assert response["usage"]["input_tokens"] == 1023
    assert response["usage"]["input_tokens_details"] == {
        "cached_tokens": 1000,
        "cache_write_tokens": 20,
    }
    assert usage_of({"output_tokens": 12}, Usage(3, 0, 5, 1)) == Usage(3, 0, 5, 12)


@pytest.mark.parametrize(
    ("stop", "calls", "expected"),
    [
        ("end_turn", 0, "stop"),
        ("stop_sequence", 0, "stop"),
        ("max_tokens", 0, "length"),
        ("model_context_window_exceeded", 0, "length"),
        ("tool_use", 2, "tool_calls"),
        ("tool_use", 0, "stop"),
        ("refusal", 0, "content_filter"),
        ("pause_turn", 0, "stop"),
        (None, 0, "stop"),
    ],
    ids=[
        "end_turn",
        "stop_sequence",
        "max_tokens",
        "context_window",
        "tool_use",
        "json_tool",
        "refusal",
        "pause_turn",
        "none",
    ],
)
def test_finish_reason_from_stop_reason(stop: Any, calls: int, expected: str) -> None:
    assert finish_reason(stop, calls) == expected


def test_a_truncated_response_is_incomplete() -> None:
    message = {
        "id": "m",
        "content": [{"type": "text", "text": "cut"}, {"type": "thinking", "thinking": "x"}],
        "stop_reason": "max_tokens",
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    response = response_object(read_message(message, None), {"input": "x"}, rid="r", model="m")
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["output"][0]["content"][0]["text"] == "cut"
    with pytest.raises(ProviderError, match="not a Message"):
        read_message({"content": "text"}, None)


def _events(*blocks: tuple[str, list[str]], stop: str = "tool_use") -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg",
                "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 1},
            },
        },
        {"type": "ping"},
    ]
    for index, (kind, pieces) in enumerate(blocks):
        if kind == "text":
            start: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in pieces]
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces]
        else:
            start = {"type": "tool_use", "id": f"toolu_{index}", "name": kind, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 7}}
    )
    events.append({"type": "message_stop"})
    return events


def test_chat_stream_role_first_then_content_tool_deltas_finish_and_usage() -> None:
    translator = ChatStream(completion_id="c", model="m", json_tool=None, include_usage=True)
    events = _events(
        ("thinking", ["hmm"]),
        ("text", ["Let me ", "check."]),
        ("get_weather", ["", '{"city"', ': "Oslo"}']),
    )
    chunks = [c for e in events for c in translator.take(e)]
    translator.finish()
    deltas = [c["choices"][0]["delta"] for c in chunks[:-1]]
    assert deltas[0] == {"role": "assistant", "content": "", "refusal": None}
    assert [d.get("content") for d in deltas[1:3]] == ["Let me ", "check."]
    assert deltas[3]["tool_calls"] == [
        {
            "index": 0,
            "id": "toolu_2",
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        }
    ]
    assert (
        "".join(d["tool_calls"][0]["function"]["arguments"] for d in deltas[4:6])
        == '{"city": "Oslo"}'
    )
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 15
    assert chunks[-1]["usage"]["completion_tokens"] == 7
    assert chunks[-1]["usage"]["prompt_tokens_details"]["cached_tokens"] == 5


def test_chat_stream_json_tool_pieces_are_content() -> None:
    translator = ChatStream(
        completion_id="c", model="m", json_tool="json_answer", include_usage=False
    )
    chunks = [c for e in _events(("json_answer", ['{"n"', ": 1}"])) for c in translator.take(e)]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1]) == '{"n": 1}'
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert "usage" not in chunks[0]


def test_stream_failures_are_provider_errors() -> None:
    translator = ChatStream(completion_id="c", model="m", json_tool=None, include_usage=False)
    with pytest.raises(ProviderError, match="began with"):
        translator.take(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}
        )
    translator.take(_events()[0])
    with pytest.raises(ProviderError, match="before message_stop"):
        translator.finish()
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(ProviderError) as caught:
        translator.take(overloaded)
    assert caught.value.status == 503
    assert translator.take({"type": "some_future_event"}) == []


def test_responses_stream_events_in_order_with_the_final_response() -> None:
    translator = ResponsesStream({"input": "x"}, rid="r", model="m", json_tool=None)
    events = _events(("text", ["Hi", " there"]), ("get_weather", ['{"city": ', '"Oslo"}']))
    out = [i for e in events for i in translator.take(e)]
    kinds = [i["type"] for i in out]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds.count("response.output_text.delta") == 2
    assert kinds.count("response.function_call_arguments.delta") == 2
    assert kinds[-1] == "response.completed"
    assert [i["sequence_number"] for i in out] == list(range(len(out)))
    final = out[-1]["response"]
    assert [o["type"] for o in final["output"]] == ["message", "function_call"]
    assert final["output"][1]["arguments"] == '{"city": "Oslo"}'
    assert final["usage"]["input_tokens"] == 15


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (400, "invalid_request_error", (400, "invalid_request_error", None)),
        (413, "request_too_large", (413, "invalid_request_error", "request_too_large")),
        (401, "authentication_error", (502, "server_error", "upstream_error")),
        (404, "not_found_error", (502, "server_error", "upstream_error")),
        (429, "rate_limit_error", (429, "requests", "rate_limit_exceeded")),
        (500, "api_error", (500, "server_error", None)),
        (529, "overloaded_error", (503, "server_error", None)),
        (409, "conflict", (409, "invalid_request_error", None)),
    ],
    ids=["400", "413", "401", "404", "429", "500", "529", "409"],
)
def test_anthropic_error_statuses(status: int, kind: str, expected: tuple[Any, ...]) -> None:
    raw = json.dumps({"type": "error", "error": {"type": kind, "message": "why"}}).encode()
    error = error_from_body(status, raw, "7")
    assert (error.status, error.error_type, error.code) == expected
    assert error.retry_after == ("7" if status == 429 else None)
    assert error_from_body(502, b"<html>").message.endswith("HTTP 502)")


def test_responses_parts_tool_choices_and_formats() -> None:
    body = {
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "read"},
                    {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0="},
                ],
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "refusal", "refusal": "no"}],
            },
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [{"type": "input_text", "text": "rain"}],
            },
            {"type": "function_call", "call_id": "c2", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c2", "output": {"mm": 3}},
        ],
        "tools": [{"type": "function", "name": "get_weather", "description": "d"}],
        "tool_choice": {
            "type": "allowed_tools",
            "mode": "auto",
            "tools": [{"type": "function", "name": "get_weather"}],
        },
        "text": {"format": {"type": "json_object"}},
    }
    out = translate(body, endpoint="responses")
    assert out["messages"][0]["content"][1]["type"] == "document"
    assert out["messages"][1]["content"][0] == {"type": "text", "text": "no"}
    results = [b for m in out["messages"] for b in m["content"] if b["type"] == "tool_result"]
    assert [r["content"][0]["text"] for r in results] == ["rain", '{"mm": 3}']
    assert out["tool_choice"] == {"type": "any"}  # auto among the client's tools and the JSON tool
    assert [t["name"] for t in out["tools"]] == ["get_weather", "json_answer"]
    assert translate({"input": "hi", "text": {"format": {"type": "text"}}}, endpoint="responses")[
        "messages"
    ] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    bad = {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]}
    with pytest.raises(ProviderError, match="file_id"):
        translate(bad, endpoint="responses")


def test_a_responses_stream_cut_at_the_limit_ends_incomplete() -> None:
    translator = ResponsesStream({"input": "x"}, rid="r", model="m", json_tool=None)
    out = [i for e in _events(("text", ["cut"]), stop="max_tokens") for i in translator.take(e)]
    final = out[-1]
    assert final["type"] == "response.incomplete"
    assert final["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["response"]["output"][0]["status"] == "incomplete"
