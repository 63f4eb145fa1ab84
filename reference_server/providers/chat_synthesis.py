"""Synthetic chat completions: the plan of what a deterministic model answers, as bodies and chunks.

Follows OpenAI's chat completions reference (spec components ``CreateChatCompletionResponse``
and ``CreateChatCompletionStreamResponse``): ``tool_choice`` none/auto/required/named (auto
calls the tools unless the last message is a tool result, so a follow-up turn gets text);
parallel calls (one per declared function, at most three) unless ``parallel_tool_calls`` is
false; ``json_object`` and ``json_schema`` content that validates against the given schema;
``stop``; ``max_tokens``/``max_completion_tokens`` -> ``finish_reason: "length"``; logprobs;
``n``. In streams the first delta of each choice carries the role, a tool call's ``id``,
``type`` and ``function.name`` come only on its first delta (``arguments: ""``), the following
deltas carry ``index`` and argument fragments; a named ``tool_choice`` finishes with ``stop``,
auto/required with ``tool_calls``.

Must not: sleep or do I/O (``synthetic.py`` adds latency and faults).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from reference_server.providers.schema_values import value_for_schema
from reference_server.providers.text import TokenLogprob, logprobs_for, seed_of, synthetic_tokens
from reference_server.tokens import count_tokens, message_tokens, prompt_extras, split_tokens

__all__ = [
    "ChatPlan",
    "ChoicePlan",
    "ToolCallPlan",
    "completion_body",
    "plan_chat",
    "stream_chunks",
]

_MAX_PARALLEL = 3
_ARGUMENT_FRAGMENT = 12  # characters of arguments per streamed delta


class ToolCallPlan(NamedTuple):
    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChoicePlan:  # a dataclass: a NamedTuple field may not be called `index`
    index: int
    tokens: tuple[str, ...]
    tool_calls: tuple[ToolCallPlan, ...]
    finish_reason: str
    logprobs: tuple[TokenLogprob, ...] | None
    completion_tokens: int


class ChatPlan(NamedTuple):
    id: str
    created: int
    model: str
    choices: tuple[ChoicePlan, ...]
    prompt_tokens: int
    completion_tokens: int
    include_usage: bool


def _functions(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tools = body.get("tools") or []
    return [
        t["function"]
        for t in tools
        if isinstance(t, Mapping)
        and t.get("type") == "function"
        and isinstance(t.get("function"), Mapping)
    ]


def _tool_targets(
    body: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> tuple[list[Mapping[str, Any]], bool]:
    """(functions to call, named?) for this turn."""
    if not body.get("tools"):
        return [], False
    functions = _functions(body)
    choice = body.get("tool_choice")
    if not functions or choice == "none":
        return [], False
    if isinstance(choice, Mapping):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        return [f for f in functions if f.get("name") == name][:1], True
    if choice != "required" and messages and messages[-1].get("role") == "tool":
        return [], False  # auto after a tool result: answer in text
    limit = _MAX_PARALLEL if body.get("parallel_tool_calls", True) is not False else 1
    return functions[:limit], False


def _content_tokens(body: Mapping[str, Any], seed: int, length: int) -> list[str]:
    fmt = body.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    stop = body.get("stop")
    if kind not in ("json_schema", "json_object") and not stop:
        return synthetic_tokens(seed, length)  # the common case: no re-tokenising
    if kind == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {}  # type: ignore[union-attr]
        text = json.dumps(value_for_schema(schema, seed))
    elif kind == "json_object":
        text = json.dumps({"answer": "".join(synthetic_tokens(seed, length))})
    else:
        text = "".join(synthetic_tokens(seed, length))
    return split_tokens(_cut_at_stop(text, stop))


def _cut_at_stop(text: str, stop: Any) -> str:
    """``text`` up to the first stop sequence (OpenAI: the stop sequence is not returned)."""
    if not stop:
        return text
    stops = [stop] if isinstance(stop, str) else [s for s in stop if isinstance(s, str) and s]
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return text[:cut] if cut >= 0 else text


def plan_chat(
    body: Mapping[str, Any],
    model: str,
    *,
    created: int,
    request_id: str,
    output_tokens: int,
    prompt_tokens: int | None = None,
) -> ChatPlan:
    """``prompt_tokens``: the caller's count of this body's prompt (counted here if None)."""
    messages: Sequence[Mapping[str, Any]] = body.get("messages") or ()
    base_seed = seed_of(model, messages, body.get("tools"), body.get("response_format"))
    if prompt_tokens is None:
        prompt_tokens = message_tokens(messages, prompt_extras(body))
    limit = body.get("max_completion_tokens")
    if limit is None:
        limit = body.get("max_tokens")
    targets, named = _tool_targets(body, messages)
    want_logprobs = bool(body.get("logprobs"))
    top = int(body.get("top_logprobs") or 0)
    choices: list[ChoicePlan] = []
    for index in range(int(body.get("n") or 1)):
        seed = base_seed + index
        if targets:
            calls = tuple(
                ToolCallPlan(
                    id=f"call_{seed_of(seed, i, f.get('name')):08x}{index:02d}{i:02d}parity",
                    name=str(f.get("name")),
                    arguments=json.dumps(
                        value_for_schema(f.get("parameters") or {"type": "object"}, seed + i)
                    ),
                )
                for i, f in enumerate(targets)
            )
            used = sum(count_tokens(c.name) + count_tokens(c.arguments) for c in calls)
            choices.append(
                ChoicePlan(index, (), calls, "stop" if named else "tool_calls", None, used)
            )
            continue
        tokens = _content_tokens(body, seed, output_tokens)
        finish = "stop"
        if limit is not None and len(tokens) > int(limit):
            tokens = tokens[: int(limit)]
            finish = "length"
        lp = tuple(logprobs_for(tokens, seed, top)) if want_logprobs else None
        choices.append(ChoicePlan(index, tuple(tokens), (), finish, lp, len(tokens)))
    options = body.get("stream_options")
    include_usage = isinstance(options, Mapping) and bool(options.get("include_usage"))
    return ChatPlan(
        id=f"chatcmpl-{request_id or format(base_seed, 'x')}",
        created=created,
        model=model,
        choices=tuple(choices),
        prompt_tokens=prompt_tokens,
        completion_tokens=sum(c.completion_tokens for c in choices),
        include_usage=include_usage,
    )


def usage_of(plan: ChatPlan) -> dict[str, Any]:
    return {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": plan.completion_tokens,
        "total_tokens": plan.prompt_tokens + plan.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion_body(plan: ChatPlan) -> dict[str, Any]:
    choices = []
    for c in plan.choices:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if c.tool_calls else "".join(c.tokens),
            "refusal": None,
            "annotations": [],
        }
        if c.tool_calls:
            message["tool_calls"] = [
                {
                    "id": t.id,
                    "type": "function",
                    "function": {"name": t.name, "arguments": t.arguments},
                }
                for t in c.tool_calls
            ]
        logprobs = (
            {"content": list(c.logprobs), "refusal": None} if c.logprobs is not None else None
        )
        choices.append(
            {
                "index": c.index,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": c.finish_reason,
            }
        )
    return {
        "id": plan.id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": choices,
        "usage": usage_of(plan),
        "service_tier": "default",
        "system_fingerprint": "fp_parity",
    }


def _choice_deltas(c: ChoicePlan, tokens_per_chunk: int) -> Iterator[dict[str, Any]]:
    """Per-choice stream items: ``{"index", "delta", "logprobs", "finish_reason"}``."""
    head: dict[str, Any] = {
        "role": "assistant",
        "content": None if c.tool_calls else "",
        "refusal": None,
    }
    yield {"index": c.index, "delta": head, "logprobs": None, "finish_reason": None}
    for i in range(0, len(c.tokens), tokens_per_chunk):
        piece = c.tokens[i : i + tokens_per_chunk]
        logprobs = (
            {"content": list(c.logprobs[i : i + tokens_per_chunk]), "refusal": None}
            if c.logprobs is not None
            else None
        )
        yield {
            "index": c.index,
            "delta": {"content": "".join(piece)},
            "logprobs": logprobs,
            "finish_reason": None,
        }
    for n, call in enumerate(c.tool_calls):
        first = {
            "index": n,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        yield {
            "index": c.index,
            "delta": {"tool_calls": [first]},
            "logprobs": None,
            "finish_reason": None,
        }
        step = _ARGUMENT_FRAGMENT * tokens_per_chunk
        for i in range(0, len(call.arguments), step):
            fragment = {"index": n, "function": {"arguments": call.arguments[i : i + step]}}
            yield {
                "index": c.index,
                "delta": {"tool_calls": [fragment]},
                "logprobs": None,
                "finish_reason": None,
            }
    yield {"index": c.index, "delta": {}, "logprobs": None, "finish_reason": c.finish_reason}


def stream_chunks(plan: ChatPlan, tokens_per_chunk: int) -> Iterator[dict[str, Any]]:
    """Chunks in order (choices interleaved round-robin), then always the usage chunk."""
    iterators = [_choice_deltas(c, tokens_per_chunk) for c in plan.choices]
    base = {
        "id": plan.id,
        "object": "chat.completion.chunk",
        "created": plan.created,
        "model": plan.model,
        "service_tier": "default",
        "system_fingerprint": "fp_parity",
    }
    live = list(iterators)
    while live:
        for it in list(live):
            item = next(it, None)
            if item is None:
                live.remove(it)
                continue
            chunk = {**base, "choices": [item]}
            if plan.include_usage:
                chunk["usage"] = None
            yield chunk
    yield {**base, "choices": [], "usage": usage_of(plan)}
