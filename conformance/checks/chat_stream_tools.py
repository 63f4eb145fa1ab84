"""Streamed tool calls: delta structure (index, id/type/name once, string fragments) and the
finish reason, judged on one streamed ``tool_choice: required`` request.

Must not: judge non-streamed tool calls (``chat_tools.py``) or text streams (``chat_stream.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.checks.chat import CHAT
from conformance.checks.chat_stream import fail_with, judged_stream
from conformance.checks.chat_tools import TOOLS, tool_body
from conformance.registry import CheckFailed, CheckSkipped, CheckWarning, check
from conformance.streams import (
    accumulate_tool_calls,
    tool_call_delta_notes,
    tool_call_delta_problems,
)

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_CHUNK = "OpenAI OpenAPI spec: CreateChatCompletionStreamResponse"


async def _tool_stream(ctx: CheckContext) -> Exchange:
    body = tool_body(ctx.model("chat"), "required", stream=True)
    return await ctx.shared(
        "chat.stream.tools", lambda: ctx.client.request("POST", CHAT, json=body)
    )


@check(
    "chat.stream.tool_call_deltas",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="Streamed tool calls: every item has an integer `index`; the id and name come "
    "once, with `type: function`, on a call's first delta (a repeated type is a warning); "
    "arguments are string fragments that concatenate to a JSON object.",
    source="OpenAI OpenAPI spec: ChatCompletionMessageToolCallChunk (index required); "
    "openai-python ChatCompletionStreamState accumulates calls by index and concatenates "
    "repeated string fields except index and type (lib/streaming/_deltas.py)",
    capability="chat",
)
async def check_tool_call_deltas(ctx: CheckContext) -> None:
    exchange = await _tool_stream(ctx)
    if exchange.status != 200:
        raise CheckFailed(
            f"a streamed tool_choice 'required' request got {exchange.status} "
            f"{exchange.text[:200]!r}",
            exchange,
        )
    stream = await judged_stream(ctx, exchange, complete=True)
    names = {t["function"]["name"] for t in TOOLS}
    reasons = [ch.get("finish_reason") for c in stream.chunks for ch in c.choices]
    if not accumulate_tool_calls(stream) and "length" in reasons:
        # A reasoning model thinking first: legal, and nothing to judge.
        raise CheckSkipped(
            "the token cap ended the stream before any tool call (finish_reason 'length'): "
            "nothing to judge"
        )
    fail_with(tool_call_delta_problems(stream, names), exchange)
    notes = tool_call_delta_notes(stream)
    if notes:
        raise CheckWarning(f"{notes[0]} ({len(notes)} such delta(s))", exchange)


@check(
    "chat.stream.tool_finish_reason",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="A streamed answer that calls tools under `tool_choice: required` ends with "
    "finish_reason `tool_calls`.",
    source=f"{_CHUNK}.choices.finish_reason ('tool_calls if the model called a tool')",
    capability="chat",
)
async def check_tool_finish_reason(ctx: CheckContext) -> None:
    exchange = await _tool_stream(ctx)
    if exchange.status != 200:
        raise CheckSkipped("the streamed tool request failed; see chat.stream.tool_call_deltas")
    stream = await judged_stream(ctx, exchange, complete=True)
    if not accumulate_tool_calls(stream):
        raise CheckSkipped("no tool calls streamed; see chat.stream.tool_call_deltas")
    reasons = [
        ch.get("finish_reason")
        for c in stream.chunks
        for ch in c.choices
        if ch.get("finish_reason") is not None
    ]
    if reasons != ["tool_calls"]:
        raise CheckFailed(f"finish reasons are {reasons!r}, expected ['tool_calls']", exchange)
