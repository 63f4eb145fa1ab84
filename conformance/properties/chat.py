"""Chat properties (area ``properties``, level ``deep``): what holds for ANY correct target on
every generated chat request. Never exact text: structure, counts, finish reasons, JSON.

Must not: assert anything a correct model may legally do differently (a model may stop early;
the finish reasons of two samples may differ: that is a warning, not a failure).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from conformance.properties.answers import json_of
from conformance.properties.harness import hold
from conformance.properties.strategies import chat_requests, embedding_inputs, tool_schemas
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, check
from conformance.streams import (
    FINISH_REASONS,
    accumulate_tool_calls,
    parse_chat_stream,
    usage_arithmetic,
)

if TYPE_CHECKING:
    from conformance.context import CheckContext

__all__: list[str] = []

_CHAT = "/chat/completions"
_CHOICE = "OpenAI API reference, Chat Completions, The chat completion object (choices[].index, "
_REFERENCE = "OpenAI API reference"


def _choices(body: dict[str, Any], exchange: Any) -> list[dict[str, Any]]:
    choices = body.get("choices")
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        raise CheckFailed(f"choices is {str(choices)[:100]!r}, not a list of objects", exchange)
    return choices


@check(
    "properties.usage.arithmetic",
    area="properties",
    level="deep",
    endpoint="POST /v1/chat/completions, POST /v1/embeddings",
    asserts="On every generated chat and embeddings request, usage.total_tokens = "
    "prompt_tokens + completion_tokens (embeddings: = prompt_tokens).",
    source=f"{_REFERENCE}, The chat completion object (usage); The embedding object (usage); "
    "spec components CompletionUsage, CreateEmbeddingResponse.usage",
)
async def check_usage_arithmetic(ctx: CheckContext) -> None:
    models = ctx.target.models
    options: list[st.SearchStrategy[tuple[str, dict[str, Any]]]] = []
    if models.get("chat"):
        options.append(chat_requests(models["chat"], stream=False).map(lambda b: (_CHAT, b)))
    if models.get("embedding"):
        options.append(
            embedding_inputs().map(
                lambda i: ("/embeddings", {"model": models["embedding"], "input": i})
            )
        )
    if not options:
        raise CheckSkipped("the target offers neither a chat nor an embedding model")

    async def prop(request: tuple[str, dict[str, Any]]) -> None:
        path, body = request
        exchange = await ctx.client.request("POST", path, json=body)
        answer = json_of(exchange, f"POST {path}")
        usage = answer.get("usage")
        if path == _CHAT:
            problems = usage_arithmetic(usage)
        elif not isinstance(usage, dict) or usage.get("total_tokens") != usage.get("prompt_tokens"):
            problems = [f"embeddings usage {usage!r}: total_tokens != prompt_tokens"]
        else:
            problems = []
        if problems:
            raise CheckFailed(f"POST {path}: {'; '.join(problems)}", evidence=exchange)

    await hold(ctx, st.one_of(options), prop)


@check(
    "properties.chat.choices",
    area="properties",
    level="deep",
    endpoint="POST /v1/chat/completions",
    asserts="A request with n answers n choices with distinct indices 0..n-1, each with a "
    "finish_reason from the allowed set.",
    source=f"{_CHOICE}finish_reason); CreateChatCompletionRequest.n",
    capability="chat",
)
async def check_chat_choices(ctx: CheckContext) -> None:
    async def prop(body: dict[str, Any]) -> None:
        exchange = await ctx.client.request("POST", _CHAT, json=body)
        choices = _choices(json_of(exchange, "chat completion"), exchange)
        n = body.get("n", 1)
        indices = sorted(c["index"] for c in choices if isinstance(c.get("index"), int))
        if indices != list(range(n)) or len(choices) != n:
            raise CheckFailed(
                f"n={n} answered {len(choices)} choices with indices "
                f"{[c.get('index') for c in choices]}, expected {list(range(n))}",
                evidence=exchange,
            )
        reasons = [c.get("finish_reason") for c in choices]
        if any(reason not in FINISH_REASONS for reason in reasons):
            raise CheckFailed(
                f"finish_reason values {reasons} are not all in {sorted(FINISH_REASONS)}",
                evidence=exchange,
            )

    await hold(ctx, chat_requests(ctx.model("chat"), stream=False), prop)


@check(
    "properties.chat.max_tokens",
    area="properties",
    level="deep",
    endpoint="POST /v1/chat/completions",
    asserts="With max_tokens (or max_completion_tokens) set, usage.completion_tokens never "
    "exceeds it, and finish_reason 'length' means the limit was reached.",
    source=f"{_REFERENCE}, Chat Completions: max_completion_tokens ('an upper bound for the "
    "number of tokens that can be generated'); finish_reason 'length' ('the maximum number of "
    "tokens specified in the request was reached')",
    capability="chat",
)
async def check_chat_max_tokens(ctx: CheckContext) -> None:
    async def prop(body: dict[str, Any]) -> None:
        limit = body.get("max_tokens", body.get("max_completion_tokens"))
        exchange = await ctx.client.request("POST", _CHAT, json=body)
        answer = json_of(exchange, "chat completion")
        (choice,) = _choices(answer, exchange)[:1] or [{}]
        usage = answer.get("usage")
        used = usage.get("completion_tokens") if isinstance(usage, dict) else None
        if not isinstance(used, int) or not isinstance(limit, int):
            raise CheckFailed(f"usage.completion_tokens is {used!r}", evidence=exchange)
        if used > limit:
            raise CheckFailed(
                f"completion_tokens {used} exceeds the requested limit {limit}", evidence=exchange
            )
        if choice.get("finish_reason") == "length" and used != limit:
            raise CheckFailed(
                f"finish_reason 'length' with completion_tokens {used}, below the limit {limit}",
                evidence=exchange,
            )

    await hold(ctx, chat_requests(ctx.model("chat"), stream=False, max_choices=1), prop)


@check(
    "properties.chat.stream_tool_arguments",
    area="properties",
    level="deep",
    endpoint="POST /v1/chat/completions (stream)",
    asserts="For generated tool schemas, the streamed argument fragments of a forced tool call "
    "concatenate to a valid JSON object.",
    source=f"{_REFERENCE}, Function calling guide (streaming: 'arguments' arrives in fragments "
    "to concatenate); openai-python ChatCompletionStreamState; tool_choice names a function: "
    "'forces the model to call that tool'",
    capability="chat",
)
async def check_stream_tool_arguments(ctx: CheckContext) -> None:
    model = ctx.model("chat")

    async def prop(tool: dict[str, Any]) -> None:
        name = tool["function"]["name"]
        body = {
            "model": model,
            "messages": [{"role": "user", "content": f"Call {name} with example arguments."}],
            "tools": [tool],
            "tool_choice": {"type": "function", "function": {"name": name}},
            "max_tokens": 128,
            "stream": True,
        }
        exchange = await ctx.client.request("POST", _CHAT, json=body)
        json_of_stream(exchange)
        stream = parse_chat_stream(exchange)
        finishes = {c.get("finish_reason") for chunk in stream.chunks for c in chunk.choices} - {
            None
        }
        if "length" in finishes:
            return  # cut by max_tokens: the fragments may legally stop mid-JSON
        calls = accumulate_tool_calls(stream)
        if not calls:
            raise CheckFailed(
                f"no tool call streamed although tool_choice names {name!r}", exchange
            )
        for call in calls:
            try:
                arguments = json.loads(call.arguments)
            except ValueError:
                raise CheckFailed(
                    f"tool call {call.index} arguments concatenate to invalid JSON: "
                    f"{call.arguments[:200]!r}",
                    evidence=exchange,
                ) from None
            if not isinstance(arguments, dict):
                raise CheckFailed(f"tool call arguments {arguments!r} are not an object", exchange)

    await hold(ctx, tool_schemas(), prop)


def json_of_stream(exchange: Any) -> None:
    """A streamed answer: 200 with an event stream, else the outcome ``json_of`` gives."""
    if exchange.status == 200 and exchange.content_type == "text/event-stream":
        return
    json_of(exchange, "streamed chat completion")
    raise CheckFailed(
        f"stream: true answered {exchange.content_type!r}, not text/event-stream", exchange
    )


@check(
    "properties.chat.stream_agreement",
    area="properties",
    level="deep",
    endpoint="POST /v1/chat/completions",
    asserts="The same request streamed and not streamed answers the same choice indices, with "
    "finish reasons from the allowed set in both.",
    source=f"{_REFERENCE}, Chat Completions: the chat completion chunk object mirrors the chat "
    "completion object (choices[].index, finish_reason)",
    capability="chat",
)
async def check_stream_agreement(ctx: CheckContext) -> None:
    async def prop(body: dict[str, Any]) -> None:
        plain = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        whole = await ctx.client.request("POST", _CHAT, json=plain)
        choices = _choices(json_of(whole, "chat completion"), whole)
        streamed = await ctx.client.request("POST", _CHAT, json={**plain, "stream": True})
        json_of_stream(streamed)
        stream = parse_chat_stream(streamed)
        finishes: dict[int, str] = {}
        for chunk in stream.chunks:
            for c in chunk.choices:
                if isinstance(c.get("index"), int) and c.get("finish_reason") is not None:
                    finishes[c["index"]] = c["finish_reason"]
        indices = {c.get("index") for chunk in stream.chunks for c in chunk.choices}
        expected = {c.get("index") for c in choices}
        if indices != expected:
            raise CheckFailed(
                f"streamed choice indices {sorted(map(str, indices))} differ from the "
                f"non-streamed {sorted(map(str, expected))}",
                evidence=streamed,
            )
        if set(finishes) != expected or not set(finishes.values()) <= FINISH_REASONS:
            raise CheckFailed(
                f"streamed finish reasons {finishes} do not give each of {sorted(map(str, expected))} one "
                f"of {sorted(FINISH_REASONS)}",
                evidence=streamed,
            )
        whole_reasons = {c.get("finish_reason") for c in choices}
        if whole_reasons != set(finishes.values()):
            raise CheckWarning(
                f"finish reasons differ: streamed {sorted(set(finishes.values()))}, not streamed "
                f"{sorted(map(str, whole_reasons))} (two samples may legally differ)",
                evidence=streamed,
            )

    await hold(ctx, chat_requests(ctx.model("chat"), stream=False), prop)
