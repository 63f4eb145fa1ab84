"""What an answer means: the class of an HTTP error answer, and for each streaming protocol the
harness reads, what one event is (its kind, its usage, whether it ends the stream).

- Chat Completions (OpenAI API reference, "The chat completion chunk object"): ``role`` (a delta
  with only the role), ``content``, ``reasoning`` (``reasoning_content``/``reasoning`` deltas
  some providers send), ``tool`` (``tool_calls`` deltas), ``usage`` (``choices: []`` with usage,
  from ``stream_options.include_usage``), ``error`` (an in-stream error object). The stream ends
  with ``data: [DONE]``, which the reader handles before JSON.
- Responses (OpenAI API reference, "Streaming events" of ``POST /v1/responses``):
  ``response.output_text.delta`` is ``content``; reasoning and function-call argument deltas are
  ``reasoning`` and ``tool``; ``response.completed`` and ``response.incomplete`` carry the usage and
  end the stream; ``response.failed`` and ``error`` are errors and end it.
- Realtime (OpenAI Realtime API, server events): ``session.created`` is ``session``;
  ``response.output_text.delta`` (and the beta name ``response.text.delta``, and audio transcript
  deltas) are ``content``; ``response.done`` carries the usage and ends the response; ``error``
  is an error.

Usage is normalized to the chat names (``prompt_tokens``, ``completion_tokens``); Responses and
Realtime report ``input_tokens``/``output_tokens``.

An error answer is classed by status and OpenAI error code (OpenAI API reference, "Error
codes"): 429 ``insufficient_quota`` (a spent quota or budget, final) apart from other 429s (rate
limits, to be retried), then 4xx and 5xx. The detail names status and code, never the body.

Must not: perform I/O, import gevent or locust, or keep state (the readers own the timing).
"""

from __future__ import annotations

import json
from typing import Any, Literal, cast

from load.metrics import ErrorClass, Usage

__all__ = [
    "EventKind",
    "classify_chunk",
    "classify_realtime",
    "classify_response_event",
    "error_class",
    "normalize_usage",
]

EventKind = Literal["role", "content", "reasoning", "tool", "usage", "error", "session", "other"]


def normalize_usage(raw: Any) -> Usage | None:
    """A usage object under the chat names (Responses and Realtime say input/output_tokens)."""
    if not isinstance(raw, dict):
        return None
    if "prompt_tokens" in raw or "completion_tokens" in raw:
        return cast("Usage", raw)
    usage: dict[str, Any] = {}
    if isinstance(raw.get("input_tokens"), int):
        usage["prompt_tokens"] = raw["input_tokens"]
    if isinstance(raw.get("output_tokens"), int):
        usage["completion_tokens"] = raw["output_tokens"]
    if isinstance(raw.get("total_tokens"), int):
        usage["total_tokens"] = raw["total_tokens"]
    if isinstance(raw.get("credits_used"), int | float):
        usage["credits_used"] = raw["credits_used"]
    return cast("Usage", usage) if usage else None


def classify_chunk(payload: Any) -> tuple[EventKind, Usage | None]:
    """The kind of one decoded ``chat.completion.chunk`` and its usage, if it carries one."""
    if not isinstance(payload, dict):
        return "other", None
    if payload.get("error") is not None:
        return "error", None
    raw_usage = payload.get("usage")
    usage = cast("Usage | None", raw_usage if isinstance(raw_usage, dict) else None)
    choices = payload.get("choices")
    if not choices:
        return ("usage" if usage else "other"), usage
    delta = choices[0].get("delta") if isinstance(choices[0], dict) else None
    if not isinstance(delta, dict):
        return "other", usage
    if delta.get("tool_calls"):
        return "tool", usage
    if delta.get("content"):
        return "content", usage
    if delta.get("reasoning_content") or delta.get("reasoning"):
        return "reasoning", usage
    if delta.get("role"):
        return "role", usage
    return "other", usage


_RESPONSE_KINDS: dict[str, EventKind] = {
    "response.output_text.delta": "content",
    "response.refusal.delta": "content",
    "response.reasoning_text.delta": "reasoning",
    "response.reasoning_summary_text.delta": "reasoning",
    "response.function_call_arguments.delta": "tool",
    "response.failed": "error",
    "error": "error",
}
_RESPONSE_ENDS = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "error"}
)


def classify_response_event(payload: Any) -> tuple[EventKind, Usage | None, bool]:
    """(kind, usage, ends the stream) of one decoded Responses streaming event."""
    if not isinstance(payload, dict):
        return "other", None, False
    name = payload.get("type")
    if not isinstance(name, str):
        return "other", None, False
    kind = _RESPONSE_KINDS.get(name, "other")
    usage = None
    if name in ("response.completed", "response.incomplete"):
        response = payload.get("response")
        usage = normalize_usage(response.get("usage")) if isinstance(response, dict) else None
        kind = "usage" if usage else "other"
    return kind, usage, name in _RESPONSE_ENDS


_REALTIME_KINDS: dict[str, EventKind] = {
    "session.created": "session",
    "response.output_text.delta": "content",
    "response.text.delta": "content",
    "response.output_audio_transcript.delta": "content",
    "response.audio_transcript.delta": "content",
    "error": "error",
}


def classify_realtime(payload: Any) -> tuple[EventKind, Usage | None, bool]:
    """(kind, usage, ends the response) of one decoded Realtime server event."""
    if not isinstance(payload, dict):
        return "other", None, False
    name = payload.get("type")
    if name == "response.done":
        response = payload.get("response")
        usage = normalize_usage(response.get("usage")) if isinstance(response, dict) else None
        failed = isinstance(response, dict) and response.get("status") == "failed"
        return ("error" if failed else "usage" if usage else "other"), usage, True
    if not isinstance(name, str):
        return "other", None, False
    kind = _REALTIME_KINDS.get(name, "other")
    return kind, None, kind == "error"


def error_class(status: int, body: bytes) -> tuple[ErrorClass, str]:
    """The class of an HTTP error answer and a short detail (status and code, never the body)."""
    code = kind = None
    try:
        error = json.loads(body).get("error")
        if isinstance(error, dict):
            code, kind = error.get("code"), error.get("type")
            well_formed = isinstance(error.get("message"), str)
        else:
            well_formed = False
    except (ValueError, AttributeError):
        well_formed = False
    detail = f"{status} {code or kind or 'no error object'}"
    if status == 429:
        # OpenAI: an exhausted quota is 429 insufficient_quota; a rate limit is rate_limit_exceeded.
        if code == "insufficient_quota" and kind == "insufficient_quota" and well_formed:
            return "insufficient_quota", detail
        return "rate_limited", detail
    return ("http_5xx" if status >= 500 else "http_4xx"), detail
