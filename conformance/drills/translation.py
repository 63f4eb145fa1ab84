"""Translation drills, part one: the prompt and the tool calls, judged from both ends.

A gateway that speaks OpenAI's API to its clients and another API to its upstream (Anthropic's
Messages API, for ``parity upstream --dialect anthropic``) translates every request and every
answer. The upstream's truth ledger records, in its own dialect, what it received and what it
served, so each drill sends a chat completion through the gateway and compares what the client
sent and saw with that record:

* ``drills.translation.system_prompt``: the system and developer messages arrived as the
  upstream's system prompt, in order, and the conversation arrived turn by turn;
* ``drills.translation.tool_call``: every tool call the upstream emitted reached the client as
  an OpenAI tool call (same name, ``arguments`` a JSON string equal to the emitted input; in a
  stream, deltas that carry ``index``, ``id`` and name first and argument pieces that
  concatenate to that JSON), and sent back with tool results it reached the upstream as its own
  tool uses answered by results that pair with them.

The drills judge only what the ledger says was served, never the model's words; with an
OpenAI-dialect primary (nothing translated) they are skipped.

Must not: leave a fault plan behind, or judge from the model's text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from conformance.context import CheckContext
from conformance.drills import DRILLS
from conformance.drills.environment import DrillEnv, current
from conformance.drills.translation_verdicts import (
    ClientCall,
    judge_prompt,
    judge_round_trip,
    judge_tool_calls,
)
from conformance.drills.verdicts import Served
from conformance.exchange import Exchange
from conformance.registry import CheckFailed, CheckSkipped, check
from conformance.streams import (
    accumulate_content,
    accumulate_tool_calls,
    finish_problems,
    parse_chat_stream,
    role_problems,
    tool_call_delta_problems,
)

__all__ = ["SOURCE", "ClientView", "client_view", "exchange_with_truth", "fail_on"]

SOURCE = (
    "OpenAI API reference, 'Chat completions' (messages, tools, tool_calls, finish_reason, "
    "usage) and 'Streaming'; Anthropic API reference, 'Messages' and 'Streaming Messages'; "
    "spec/PROVENANCE.md, 'Gateway drills' 7"
)
_ENDPOINT = "POST /v1/chat/completions"
CONVERSATION: list[dict[str, Any]] = [
    {
        "role": "system",
        "content": "parity drill system prompt: you keep the Skerry lighthouse log.",
    },
    {"role": "developer", "content": "parity drill developer note: answer in one short paragraph."},
    {"role": "user", "content": "parity drill question one: what does the lamp show tonight?"},
    {"role": "assistant", "content": "parity drill earlier answer: a steady white light."},
    {
        "role": "user",
        "content": [{"type": "text", "text": "parity drill question two: and the sea?"}],
    },
]
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_forecast",
            "description": "The weather forecast for a town.",
            "parameters": {
                "type": "object",
                "properties": {
                    "town": {"type": "string"},
                    "days": {"type": "integer", "minimum": 1, "maximum": 7},
                },
                "required": ["town", "days"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_tide",
            "description": "High and low tide times for a harbour.",
            "parameters": {
                "type": "object",
                "properties": {"harbour": {"type": "string"}},
                "required": ["harbour"],
            },
        },
    },
]
TOOL_PROMPT = "parity drill: plan a harbour walk; check the forecast and the tide first."


class ClientView(NamedTuple):
    """What the client saw of one chat completion, streamed or not."""

    text: str
    calls: list[ClientCall]
    raw_calls: list[dict[str, Any]]  # the non-stream message's tool_calls, as sent back
    finish: Any
    usage: Any
    problems: list[str]  # a stream's broken frame: role first, one finish last, an end
    tool_problems: list[str]  # a stream's tool-call deltas as OpenAI streams them


def client_view(exchange: Exchange, *, stream: bool, tools: Sequence[str] = ()) -> ClientView:
    if not stream:
        try:
            payload = exchange.json()
            choice = payload["choices"][0]
            message = choice["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise CheckFailed("the 200 answer is not a chat completion", exchange) from None
        raw = message.get("tool_calls") or []
        calls: list[ClientCall] = [
            (
                c.get("id"),
                (c.get("function") or {}).get("name"),
                (c.get("function") or {}).get("arguments"),
            )
            for c in raw
            if isinstance(c, Mapping)
        ]
        text = message.get("content") if isinstance(message.get("content"), str) else ""
        return ClientView(
            text, calls, list(raw), choice.get("finish_reason"), payload.get("usage"), [], []
        )
    parsed = parse_chat_stream(exchange)
    problems = role_problems(parsed) + finish_problems(parsed)
    tool_problems = tool_call_delta_problems(parsed, set(tools)) if tools else []
    if parsed.errors:
        problems.append(f"the stream carried an error event: {str(parsed.errors[0])[:120]}")
    if parsed.done_position is None:
        problems.append("the stream did not end with data: [DONE]")
    finish = None
    usage = None
    for chunk in parsed.chunks:
        for choice in chunk.choices:
            if choice.get("finish_reason") is not None:
                finish = choice["finish_reason"]
        if chunk.body.get("usage") is not None:
            usage = chunk.body["usage"]
    streamed = [(c.id, c.name, c.arguments) for c in accumulate_tool_calls(parsed) if c.choice == 0]
    text = accumulate_content(parsed).get(0, "")
    return ClientView(text, streamed, [], finish, usage, problems, tool_problems)


async def exchange_with_truth(
    ctx: CheckContext, env: DrillEnv, body: Mapping[str, Any]
) -> tuple[Exchange, Served]:
    """Send ``body`` through the gateway; its answer and the primary's ledger entry for it."""
    marks = await env.reset()
    exchange = await ctx.client.request(
        "POST", "/chat/completions", json={"model": env.profile.model, **body}, timeout=30
    )
    entries = await env.primary.since(marks[env.primary.name])
    if not entries:
        raise CheckFailed(
            f"the primary upstream {env.primary.name!r} never saw the request: the gateway does "
            "not route this model to it first, as the profile says",
            exchange,
        )
    entry = entries[-1]
    if entry.dialect == "openai":
        raise CheckSkipped(
            f"the primary upstream {env.primary.name!r} speaks OpenAI's API: the gateway "
            "translates nothing (start it with `parity upstream --dialect anthropic`)"
        )
    if exchange.status != 200:
        raise CheckFailed(f"status {exchange.status!r}, expected an answer", exchange)
    if not entry.completed or entry.received is None or entry.answered is None:
        raise CheckFailed(
            f"the primary upstream did not complete its answer (status {entry.status}, "
            f"fault {entry.fault!r})",
            exchange,
        )
    return exchange, entry


def fail_on(problems: Sequence[str], exchange: Exchange, what: str) -> None:
    if problems:
        raise CheckFailed(f"{what}: " + "; ".join(problems), exchange)


@check(
    "drills.translation.system_prompt",
    area="drills",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="system and developer messages arrive as the upstream's system prompt, in order, "
    "and every user and assistant turn arrives with its role and words (streamed and not)",
    source=SOURCE,
    into=DRILLS,
)
async def check_system_prompt(ctx: CheckContext) -> None:
    env = current()
    await env.warm(ctx)
    try:
        for stream in (False, True):
            body: dict[str, Any] = {"messages": CONVERSATION, "stream": stream}
            exchange, entry = await exchange_with_truth(ctx, env, body)
            assert entry.received is not None
            what = "streamed request" if stream else "request"
            fail_on(judge_prompt(CONVERSATION, entry.received), exchange, what)
    finally:
        await env.reset()


def _emitted(entry: Served) -> list[Mapping[str, Any]]:
    calls = (entry.answered or {}).get("tool_calls")
    return [c for c in calls if isinstance(c, Mapping)] if isinstance(calls, list) else []


@check(
    "drills.translation.tool_call",
    area="drills",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="each tool call the upstream emits reaches the client as a valid OpenAI tool call "
    "(streamed arguments concatenate to the same JSON), and the calls and their results sent "
    "back reach the upstream as tool uses paired with tool results",
    source=SOURCE,
    into=DRILLS,
)
async def check_tool_call(ctx: CheckContext) -> None:
    env = current()
    await env.warm(ctx)
    names = [t["function"]["name"] for t in TOOLS]
    asked: dict[str, Any] = {
        "messages": [{"role": "user", "content": TOOL_PROMPT}],
        "tools": TOOLS,
        "tool_choice": "required",
    }
    try:
        exchange, entry = await exchange_with_truth(ctx, env, asked)
        first = client_view(exchange, stream=False)
        emitted = _emitted(entry)
        if not emitted:
            raise CheckSkipped("the upstream called no tool, though the request required one")
        fail_on(judge_tool_calls(first.calls, emitted), exchange, "answer")
        streamed_body = {**asked, "stream": True, "stream_options": {"include_usage": True}}
        exchange, entry = await exchange_with_truth(ctx, env, streamed_body)
        seen = client_view(exchange, stream=True, tools=names)
        problems = seen.tool_problems + judge_tool_calls(seen.calls, _emitted(entry))
        fail_on(problems, exchange, "streamed answer")
        results = [f"parity drill tool result {n}: calm, 12 C" for n in range(len(first.raw_calls))]
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": TOOL_PROMPT},
            {"role": "assistant", "content": first.text or None, "tool_calls": first.raw_calls},
        ]
        messages += [
            {"role": "tool", "tool_call_id": call.get("id"), "content": text}
            for call, text in zip(first.raw_calls, results, strict=True)
        ]
        exchange, back = await exchange_with_truth(ctx, env, {"messages": messages, "tools": TOOLS})
        assert back.received is not None
        fail_on(
            judge_round_trip(first.raw_calls, results, emitted, back.received),
            exchange,
            "tool results sent back",
        )
    finally:
        await env.reset()
