"""Synthetic Responses API answers: the ``Response`` object and its full stream event sequence.

Follows the official spec (``Response``, ``ResponseStreamEvent`` and its members): a stream is
``response.created`` -> ``response.in_progress`` -> per output item ``output_item.added`` ->
(message: ``content_part.added`` -> ``output_text.delta``... -> ``output_text.done`` ->
``content_part.done``; function call: ``function_call_arguments.delta``... -> ``.done``) ->
``output_item.done`` -> ``response.completed`` (or ``response.incomplete`` when
``max_output_tokens`` cut the text), every event with a ``sequence_number`` counting from 0.

Must not: sleep or do I/O.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from reference_server.providers.chat_synthesis import plan_chat
from reference_server.tokens import input_messages

__all__ = ["response_base", "response_events", "response_object"]


def _chat_body(body: Mapping[str, Any]) -> dict[str, Any]:
    tools = []
    for tool in body.get("tools") or []:
        if isinstance(tool, Mapping) and tool.get("type") == "function":
            tools.append(
                {
                    "type": "function",
                    "function": {"name": tool.get("name"), "parameters": tool.get("parameters")},
                }
            )
    chat: dict[str, Any] = {"messages": input_messages(body), "tools": tools}
    choice = body.get("tool_choice")
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        chat["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    elif isinstance(choice, str):
        chat["tool_choice"] = choice
    if body.get("parallel_tool_calls") is False:
        chat["parallel_tool_calls"] = False
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), Mapping) else None
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        chat["response_format"] = {
            "type": "json_schema",
            "json_schema": {"schema": fmt.get("schema") or {}},
        }
    elif isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        chat["response_format"] = {"type": "json_object"}
    if body.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    return chat


def response_base(body: Mapping[str, Any], model: str, rid: str, created: int) -> dict[str, Any]:
    """A ``Response`` in progress for request ``body``, echoing its settings, with no output."""
    return {
        "id": f"resp_{rid}",
        "object": "response",
        "created_at": created,
        "status": "in_progress",
        "background": False,
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": model,
        "output": [],
        # The request's field is nullable (null: the default, true); the Response's is a plain
        # boolean (spec Response.parallel_tool_calls), so null is never echoed.
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": False,  # stateless: nothing is stored, and we say so
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": list(body.get("tools") or []),
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": dict(body.get("metadata") or {}),
    }


def response_events(
    body: Mapping[str, Any], model: str, rid: str, *, output_tokens: int, tokens_per_chunk: int = 1
) -> Iterator[dict[str, Any]]:
    """The whole event sequence; the last event's ``response`` is the final object."""
    created = int(time.time())
    plan = plan_chat(
        _chat_body(body), model, created=created, request_id=rid, output_tokens=output_tokens
    )
    choice = plan.choices[0]
    response = response_base(body, model, rid, created)
    seq = 0

    def event(kind: str, **fields: Any) -> dict[str, Any]:
        nonlocal seq
        out = {"type": kind, "sequence_number": seq, **fields}
        seq += 1
        return out

    yield event("response.created", response=dict(response))
    yield event("response.in_progress", response=dict(response))
    output: list[dict[str, Any]] = []
    if choice.tool_calls:
        for index, call in enumerate(choice.tool_calls):
            item_id = f"fc_{rid}{index:02d}"
            item = {
                "id": item_id,
                "type": "function_call",
                "status": "in_progress",
                "arguments": "",
                "call_id": call.id,
                "name": call.name,
            }
            yield event("response.output_item.added", output_index=index, item=dict(item))
            step = 12 * tokens_per_chunk
            for i in range(0, len(call.arguments), step):
                yield event(
                    "response.function_call_arguments.delta",
                    item_id=item_id,
                    output_index=index,
                    delta=call.arguments[i : i + step],
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=item_id,
                output_index=index,
                name=call.name,
                arguments=call.arguments,
            )
            item.update(status="completed", arguments=call.arguments)
            output.append(item)
            yield event("response.output_item.done", output_index=index, item=dict(item))
    else:
        item_id = f"msg_{rid}"
        message: dict[str, Any] = {
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        yield event("response.output_item.added", output_index=0, item=dict(message))
        part: dict[str, Any] = {
            "type": "output_text",
            "text": "",
            "annotations": [],
            "logprobs": [],
        }
        where = {"item_id": item_id, "output_index": 0, "content_index": 0}
        yield event("response.content_part.added", **where, part=dict(part))
        for i in range(0, len(choice.tokens), tokens_per_chunk):
            yield event(
                "response.output_text.delta",
                **where,
                delta="".join(choice.tokens[i : i + tokens_per_chunk]),
                logprobs=[],
            )
        text = "".join(choice.tokens)
        yield event("response.output_text.done", **where, text=text, logprobs=[])
        part["text"] = text
        yield event("response.content_part.done", **where, part=dict(part))
        message.update(
            status="completed" if choice.finish_reason != "length" else "incomplete", content=[part]
        )
        output.append(message)
        yield event("response.output_item.done", output_index=0, item=dict(message))
    incomplete = choice.finish_reason == "length"
    response.update(
        status="incomplete" if incomplete else "completed",
        completed_at=None if incomplete else int(time.time()),
        incomplete_details={"reason": "max_output_tokens"} if incomplete else None,
        output=output,
        usage={
            "input_tokens": plan.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": plan.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": plan.prompt_tokens + plan.completion_tokens,
        },
    )
    yield event("response.incomplete" if incomplete else "response.completed", response=response)


def response_object(
    body: Mapping[str, Any], model: str, rid: str, *, output_tokens: int
) -> dict[str, Any]:
    *_, last = response_events(body, model, rid, output_tokens=output_tokens)
    return dict(last["response"])
