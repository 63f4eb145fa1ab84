"""A planned message as Anthropic's stream of server-sent events, and their wire encoding.

Anthropic API reference, "Streaming Messages": ``message_start`` (the message with empty
``content``, ``stop_reason: null`` and the input usage), then per content block
``content_block_start``, its ``content_block_delta`` events (``text_delta``; ``input_json_delta``
whose ``partial_json`` pieces concatenate to the tool input, the first one empty) and
``content_block_stop``; then ``message_delta`` (``stop_reason``, ``stop_sequence`` and the
cumulative ``usage.output_tokens``) and ``message_stop``. A ``ping`` follows the first block's
start, as in the reference's example. Each event is ``event: NAME`` plus one ``data:`` line.

Must not: sleep or do I/O (the app paces the events).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

from reference_server.upstream.anthropic_synthesis import MessagePlan, usage_object

__all__ = ["StreamEvent", "encode_event", "stream_events"]

_JSON_PIECE = 12  # characters of tool input per input_json_delta, per token of a chunk
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class StreamEvent(NamedTuple):
    name: str
    data: dict[str, Any]
    content: bool  # carries generated output (paced by time to first token / between chunks)


def encode_event(event: StreamEvent) -> bytes:
    return f"event: {event.name}\ndata: {_dumps(event.data)}\n\n".encode()


def stream_events(plan: MessagePlan, tokens_per_chunk: int) -> Iterator[StreamEvent]:
    start_usage = usage_object(plan, 1)  # as the API does: one output token at the start
    del start_usage["service_tier"]
    message: dict[str, Any] = {
        "id": plan.id,
        "type": "message",
        "role": "assistant",
        "model": plan.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    yield StreamEvent("message_start", {"type": "message_start", "message": message}, False)
    for index, block in enumerate(plan.blocks):
        if block.type == "text":
            opening: dict[str, Any] = {"type": "text", "text": ""}
        else:
            opening = {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
        yield StreamEvent(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
            False,
        )
        if index == 0:
            yield StreamEvent("ping", {"type": "ping"}, False)
        for delta in _deltas(block.text, block.input_json, block.type, tokens_per_chunk):
            yield StreamEvent(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
                True,
            )
        yield StreamEvent(
            "content_block_stop", {"type": "content_block_stop", "index": index}, False
        )
    yield StreamEvent(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": plan.stop_reason, "stop_sequence": plan.stop_sequence},
            "usage": {"output_tokens": plan.output_tokens},
        },
        False,
    )
    yield StreamEvent("message_stop", {"type": "message_stop"}, False)


def _deltas(
    tokens: tuple[str, ...], input_json: str, kind: str, per: int
) -> Iterator[dict[str, Any]]:
    if kind == "text":
        for i in range(0, len(tokens), per):
            yield {"type": "text_delta", "text": "".join(tokens[i : i + per])}
        return
    yield {"type": "input_json_delta", "partial_json": ""}
    step = _JSON_PIECE * per
    for i in range(0, len(input_json), step):
        yield {"type": "input_json_delta", "partial_json": input_json[i : i + step]}
