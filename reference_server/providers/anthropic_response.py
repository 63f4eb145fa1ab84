"""An Anthropic Message as OpenAI's chat completion or Response: content, tool calls, the finish
reason and usage.

Anthropic API reference, "Messages" (the ``Message`` object) on one side; OpenAI's
``CreateChatCompletionResponse`` and ``Response`` on the other:

* ``text`` blocks join into the message's ``content`` (null when there is none); ``tool_use``
  blocks become ``tool_calls`` (``id`` kept, ``input`` as the JSON ``arguments`` string), except
  the JSON-mode tool's (``anthropic_request.JSON_TOOL``), whose input *is* the content; other
  blocks (``thinking``, server tools) are not part of an OpenAI answer and are left out.
* ``finish_reason`` from ``stop_reason``: ``end_turn`` and ``stop_sequence`` -> ``stop``,
  ``max_tokens`` and ``model_context_window_exceeded`` -> ``length``, ``tool_use`` ->
  ``tool_calls`` (``stop`` when only the JSON-mode tool was called), ``refusal`` ->
  ``content_filter``, ``pause_turn`` and anything newer -> ``stop`` (OpenAI's closed list has
  nothing closer).
* usage: Anthropic counts cache reads and writes apart from ``input_tokens`` ("Prompt
  caching"), OpenAI counts every prompt token in ``prompt_tokens``, so ``prompt_tokens`` =
  ``input_tokens`` + ``cache_creation_input_tokens`` + ``cache_read_input_tokens``, with
  ``prompt_tokens_details.cached_tokens`` = the cache reads and ``cache_write_tokens`` = the
  writes; ``completion_tokens`` = ``output_tokens``. The Responses API's ``input_tokens`` and
  ``input_tokens_details`` the same way.

Must not: do I/O, or read a stream (``anthropic_stream``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from reference_server.errors import ProviderError
from reference_server.providers.responses_synthesis import response_base

__all__ = [
    "ToolCall",
    "Turn",
    "Usage",
    "chat_completion",
    "chat_usage",
    "finish_reason",
    "finished_response",
    "read_message",
    "response_object",
    "response_output",
    "response_usage",
    "usage_of",
]

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


class Usage(NamedTuple):
    input: int  # tokens read neither from nor into the cache
    cache_creation: int
    cache_read: int
    output: int

    @property
    def prompt(self) -> int:
        return self.input + self.cache_creation + self.cache_read


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_of(raw: Any, before: Usage | None = None) -> Usage:
    """``raw`` (a Message's ``usage``, or a stream event's) over what was known ``before``:
    a field the event leaves out keeps its earlier value."""
    base = before or Usage(0, 0, 0, 0)
    if not isinstance(raw, Mapping):
        return base

    def pick(name: str, old: int) -> int:
        return _int(raw[name]) if raw.get(name) is not None else old

    return Usage(
        pick("input_tokens", base.input),
        pick("cache_creation_input_tokens", base.cache_creation),
        pick("cache_read_input_tokens", base.cache_read),
        pick("output_tokens", base.output),
    )


def chat_usage(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt,
        "completion_tokens": usage.output,
        "total_tokens": usage.prompt + usage.output,
        "prompt_tokens_details": {
            "cached_tokens": usage.cache_read,
            "cache_write_tokens": usage.cache_creation,
            "audio_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def response_usage(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt,
        "input_tokens_details": {
            "cached_tokens": usage.cache_read,
            "cache_write_tokens": usage.cache_creation,
        },
        "output_tokens": usage.output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.prompt + usage.output,
    }


def finish_reason(stop_reason: Any, tool_calls: int) -> str:
    """OpenAI's ``finish_reason`` for Anthropic's ``stop_reason``, given how many calls reach
    the client as tool calls (none: the JSON-mode tool's answer is content)."""
    found = _FINISH.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"
    return "stop" if found == "tool_calls" and not tool_calls else found


class ToolCall(NamedTuple):
    id: str
    name: str
    arguments: str


class Turn(NamedTuple):
    """One Message, in the terms both OpenAI answers are written from."""

    id: str
    text: str  # the content: text blocks, or the JSON-mode tool's input
    tool_calls: tuple[ToolCall, ...]
    stop_reason: str | None
    usage: Usage


def read_message(message: Any, json_tool: str | None) -> Turn:
    if not isinstance(message, Mapping) or not isinstance(message.get("content"), list):
        raise ProviderError("protocol", "the Anthropic upstream answered something not a Message")
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in message["content"]:
        if not isinstance(block, Mapping):
            continue
        if block.get("type") == "text":
            texts.append(str(block.get("text") or ""))
        elif block.get("type") == "tool_use":
            arguments = json.dumps(block.get("input") if block.get("input") is not None else {})
            if json_tool is not None and block.get("name") == json_tool:
                texts.append(arguments)
            else:
                calls.append(ToolCall(str(block.get("id")), str(block.get("name")), arguments))
    stop = message.get("stop_reason")
    return Turn(
        str(message.get("id") or ""),
        "".join(texts),
        tuple(calls),
        stop if isinstance(stop, str) else None,
        usage_of(message.get("usage")),
    )


def chat_completion(turn: Turn, *, completion_id: str, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": turn.text or (None if turn.tool_calls else ""),
        "refusal": None,
        "annotations": [],
    }
    if turn.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in turn.tool_calls
        ]
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": finish_reason(turn.stop_reason, len(turn.tool_calls)),
    }
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "usage": chat_usage(turn.usage),
        "service_tier": "default",
    }


def response_output(rid: str, turn: Turn) -> list[dict[str, Any]]:
    """The ``output`` items of a whole Response: the message (if any text), then the calls."""
    output: list[dict[str, Any]] = []
    if turn.text or not turn.tool_calls:
        part = {"type": "output_text", "text": turn.text, "annotations": [], "logprobs": []}
        output.append(
            {
                "id": f"msg_{rid}",
                "type": "message",
                "status": "incomplete"
                if turn.stop_reason in ("max_tokens", "model_context_window_exceeded")
                else "completed",
                "role": "assistant",
                "content": [part],
            }
        )
    for index, call in enumerate(turn.tool_calls):
        output.append(
            {
                "id": f"fc_{rid}{index:02d}",
                "type": "function_call",
                "status": "completed",
                "arguments": call.arguments,
                "call_id": call.id,
                "name": call.name,
            }
        )
    return output


def finished_response(
    response: dict[str, Any], stop_reason: str | None, output: list[dict[str, Any]], usage: Usage
) -> dict[str, Any]:
    """``response`` (from ``response_base``) completed, or incomplete as ``stop_reason`` says."""
    reason = {
        "max_tokens": "max_output_tokens",
        "model_context_window_exceeded": "max_output_tokens",
        "refusal": "content_filter",
    }.get(stop_reason or "")
    response.update(
        status="incomplete" if reason else "completed",
        completed_at=None if reason else int(time.time()),
        incomplete_details={"reason": reason} if reason else None,
        output=output,
        usage=response_usage(usage),
    )
    return response


def response_object(turn: Turn, body: Mapping[str, Any], *, rid: str, model: str) -> dict[str, Any]:
    response = response_base(body, model, rid, int(time.time()))
    return finished_response(response, turn.stop_reason, response_output(rid, turn), turn.usage)
