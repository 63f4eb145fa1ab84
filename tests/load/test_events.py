"""What one streamed event means, for chat chunks, Responses events and Realtime server events."""

from __future__ import annotations

from typing import Any

import pytest

from load.events import (
    classify_chunk,
    classify_realtime,
    classify_response_event,
    error_class,
    normalize_usage,
)


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ({"choices": [{"delta": {"role": "assistant", "content": ""}}]}, "role"),
        ({"choices": [{"delta": {"content": "hi"}}]}, "content"),
        ({"choices": [{"delta": {"reasoning_content": "hm"}}]}, "reasoning"),
        ({"choices": [{"delta": {"tool_calls": [{"index": 0}]}}]}, "tool"),
        ({"choices": [], "usage": {"completion_tokens": 3}}, "usage"),
        ({"error": {"message": "x"}}, "error"),
        ([1, 2], "other"),
    ],
    ids=["role", "content", "reasoning", "tool", "usage", "error", "not-an-object"],
)
def test_events_chat_chunk_kinds(payload: Any, kind: str) -> None:
    assert classify_chunk(payload)[0] == kind


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"type": "response.created", "response": {}}, ("other", None, False)),
        ({"type": "response.output_text.delta", "delta": "a"}, ("content", None, False)),
        ({"type": "response.function_call_arguments.delta"}, ("tool", None, False)),
        (
            {
                "type": "response.completed",
                "response": {"usage": {"input_tokens": 2, "output_tokens": 5}},
            },
            ("usage", {"prompt_tokens": 2, "completion_tokens": 5}, True),
        ),
        ({"type": "response.incomplete", "response": {"usage": None}}, ("other", None, True)),
        ({"type": "response.failed", "response": {}}, ("error", None, True)),
        ({"type": "error", "message": "x"}, ("error", None, True)),
    ],
    ids=["created", "text-delta", "tool-delta", "completed", "incomplete", "failed", "error"],
)
def test_events_responses_kinds_usage_and_end(payload: Any, expected: tuple[Any, ...]) -> None:
    assert classify_response_event(payload) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"type": "session.created", "session": {}}, ("session", None, False)),
        ({"type": "response.output_text.delta", "delta": "a"}, ("content", None, False)),
        ({"type": "response.text.delta", "delta": "a"}, ("content", None, False)),
        ({"type": "conversation.item.created"}, ("other", None, False)),
        (
            {
                "type": "response.done",
                "response": {"status": "completed", "usage": {"output_tokens": 4}},
            },
            ("usage", {"completion_tokens": 4}, True),
        ),
        ({"type": "response.done", "response": {"status": "failed"}}, ("error", None, True)),
        ({"type": "error", "error": {}}, ("error", None, True)),
    ],
    ids=["session", "ga-delta", "beta-delta", "item", "done", "done-failed", "error"],
)
def test_events_realtime_kinds(payload: Any, expected: tuple[Any, ...]) -> None:
    assert classify_realtime(payload) == expected


def test_events_usage_keeps_chat_names_and_credits() -> None:
    chat = {"prompt_tokens": 1, "completion_tokens": 2, "credits_used": 0.5}
    assert normalize_usage(chat) == chat
    assert normalize_usage({"input_tokens": 1, "credits_used": 0.25}) == {
        "prompt_tokens": 1,
        "credits_used": 0.25,
    }
    assert normalize_usage({"type": "duration", "seconds": 1}) is None


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            429,
            b'{"error":{"message":"m","type":"insufficient_quota","code":"insufficient_quota"}}',
            "insufficient_quota",
        ),
        (
            429,
            b'{"error":{"message":"m","type":"requests","code":"rate_limit_exceeded"}}',
            "rate_limited",
        ),
        # a quota code without a message is not OpenAI's error object: a rate limit, retried
        (
            429,
            b'{"error":{"type":"insufficient_quota","code":"insufficient_quota"}}',
            "rate_limited",
        ),
        (400, b"not json", "http_4xx"),
        (503, b"", "http_5xx"),
    ],
    ids=["quota", "rate-limit", "quota-malformed", "4xx", "5xx"],
)
def test_events_error_answers_are_classed(status: int, body: bytes, expected: str) -> None:
    kind, detail = error_class(status, body)
    assert kind == expected
    assert detail.split()[0] == str(status)  # status and code only, never the message
