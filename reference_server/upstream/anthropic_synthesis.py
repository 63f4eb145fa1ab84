"""What the synthetic Claude answers to a checked Messages request: the plan and its JSON body.

Deterministic like the OpenAI-dialect synthetic provider (the same words, seeded by the model,
system prompt, messages and tools). Follows Anthropic API reference, "Messages" and the "Tool
use" guide:

* ``tool_choice`` ``tool`` calls the named tool and ``any`` the declared tools (at most three,
  one with ``disable_parallel_tool_use``), with no text; ``auto`` answers a turn that carries
  tool results in text, and otherwise says a short sentence and then calls the tools; ``none``
  (or no custom tools) answers in text. Every call's ``input`` is generated from the tool's
  ``input_schema``, so it validates against it; ``stop_reason`` is then ``tool_use``.
* Text stops at the first of ``stop_sequences`` it contains (``stop_reason: "stop_sequence"``
  and the sequence in ``stop_sequence``; the sequence itself is not returned), else at
  ``max_tokens`` (``"max_tokens"``), else ends the turn (``"end_turn"``).
* Output tokens are the text's tokens plus each call's name and input JSON tokens (the rule the
  OpenAI-dialect upstream counts tool calls by). Deliberate simplification: a tool call that
  does not fit in what ``max_tokens`` leaves is dropped whole, with ``stop_reason:
  "max_tokens"``, rather than sent with truncated input.

Must not: sleep, do I/O, or hold the prompt cache (the app passes the cache's usage in).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from reference_server.providers.schema_values import value_for_schema
from reference_server.providers.text import seed_of, synthetic_tokens
from reference_server.tokens import count_tokens, split_tokens
from reference_server.upstream.anthropic_cache import CacheUsage
from reference_server.upstream.anthropic_requests import MessagesRequest, Tool

__all__ = ["Block", "MessagePlan", "message_body", "plan_message", "usage_object"]

_MAX_PARALLEL = 3
_PREAMBLE = 8  # tokens of text before the tool calls of an `auto` turn


@dataclass(frozen=True, slots=True)
class Block:
    type: Literal["text", "tool_use"]
    text: tuple[str, ...] = ()  # a text block's tokens
    id: str = ""  # a tool use's
    name: str = ""
    input_json: str = ""


@dataclass(frozen=True, slots=True)
class MessagePlan:
    id: str
    model: str
    blocks: tuple[Block, ...]
    stop_reason: str
    stop_sequence: str | None
    cache: CacheUsage
    output_tokens: int


def _calls(request: MessagesRequest) -> tuple[list[Tool], bool]:
    """(tools to call, say a sentence first?) for this turn."""
    choice = request.tool_choice
    if not request.tools or choice.type == "none":
        return [], False
    if choice.type == "tool":
        return [t for t in request.tools if t.name == choice.name], False
    limit = _MAX_PARALLEL if choice.parallel else 1
    if choice.type == "any":
        return list(request.tools[:limit]), False
    if request.answers_tool_results:
        return [], False  # auto after tool results: answer in text
    return list(request.tools[:limit]), True


def _cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, str | None]:
    found = [(text.find(s), s) for s in stops if text.find(s) >= 0]
    if not found:
        return text, None
    index, stop = min(found)
    return text[:index], stop


def _input_json(tool: Tool, seed: int) -> str:
    value = value_for_schema(tool.input_schema, seed)
    return json.dumps(value if isinstance(value, dict) else {})


def plan_message(
    request: MessagesRequest,
    *,
    message_id: str,
    tool_ids: list[str],
    output_tokens: int,
    cache: CacheUsage,
) -> MessagePlan:
    """``tool_ids``: fresh ids, consumed in order by the tool calls (at most three)."""
    body = request.body
    tools = [t.name for t in request.tools]
    seed = seed_of(request.model, body.get("system"), body.get("messages"), tools)
    calls, preamble = _calls(request)
    budget = request.max_tokens
    blocks: list[Block] = []
    stop_reason, stop_sequence = "end_turn", None
    if preamble or not calls:
        length = min(_PREAMBLE, output_tokens) if calls else output_tokens
        text = "".join(synthetic_tokens(seed, length))
        if request.stop_sequences:
            text, stop_sequence = _cut_at_stop(text, request.stop_sequences)
        tokens = split_tokens(text)
        if len(tokens) > budget:
            tokens, stop_sequence, stop_reason = tokens[:budget], None, "max_tokens"
        elif stop_sequence is not None:
            stop_reason = "stop_sequence"
        if tokens:
            blocks.append(Block("text", text=tuple(tokens)))
        budget -= len(tokens)
    if stop_reason == "end_turn":
        for index, tool in enumerate(calls):
            arguments = _input_json(tool, seed + index)
            cost = count_tokens(tool.name) + count_tokens(arguments)
            if cost > budget:
                stop_reason = "max_tokens"
                break
            budget -= cost
            blocks.append(
                Block("tool_use", id=tool_ids[index], name=tool.name, input_json=arguments)
            )
            stop_reason = "tool_use"
    return MessagePlan(
        id=message_id,
        model=request.model,
        blocks=tuple(blocks),
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        cache=cache,
        output_tokens=request.max_tokens - budget,
    )


def usage_object(plan: MessagePlan, output_tokens: int) -> dict[str, Any]:
    """``usage`` as a Message carries it (with ``output_tokens`` as given)."""
    cache = plan.cache
    return {
        "input_tokens": cache.input_tokens,
        "cache_creation_input_tokens": cache.cache_creation_input_tokens,
        "cache_read_input_tokens": cache.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": cache.ephemeral_5m_input_tokens,
            "ephemeral_1h_input_tokens": cache.ephemeral_1h_input_tokens,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _block_object(block: Block) -> dict[str, Any]:
    if block.type == "text":
        return {"type": "text", "text": "".join(block.text)}
    return {
        "type": "tool_use",
        "id": block.id,
        "name": block.name,
        "input": json.loads(block.input_json),
    }


def message_body(plan: MessagePlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "type": "message",
        "role": "assistant",
        "model": plan.model,
        "content": [_block_object(b) for b in plan.blocks],
        "stop_reason": plan.stop_reason,
        "stop_sequence": plan.stop_sequence,
        "usage": usage_object(plan, plan.output_tokens),
    }
