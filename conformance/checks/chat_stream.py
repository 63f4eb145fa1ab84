"""Chat completion streams: chunk semantics, usage chunk, real streaming and in-stream errors.

Most checks judge the shared usage stream (one request); the no-usage and timing rules share a
second stream. Tool-call deltas are ``chat_stream_tools.py``'s; a stream compared with another
answer (the non-streamed one, or choice 0 of ``n: 2``) is ``chat_stream_answers.py``'s;
framing (bytes, ``[DONE]``) is ``sse.py``'s.

Must not: judge bytes-level framing, or non-stream answers on their own (``chat.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.checks.chat import (
    CHAT,
    created_problem,
    plain_stream,
    usage_stream,
)
from conformance.registry import CheckFailed, CheckSkipped, check
from conformance.streams import (
    ChatStream,
    finish_problems,
    parse_chat_stream,
    role_problems,
    usage_problems,
)

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__ = ["CHUNK_SOURCE", "fail_with", "judged_stream"]

CHUNK_SOURCE = "OpenAI OpenAPI spec: CreateChatCompletionStreamResponse"


async def judged_stream(
    ctx: CheckContext, exchange: Exchange, *, complete: bool = False
) -> ChatStream:
    """The parsed stream, or a skip naming the check that judges why there is none."""
    if exchange.status != 200:
        raise CheckSkipped(
            f"the streamed request did not succeed (status {exchange.status}); "
            "see chat.stream.accepted"
        )
    stream = parse_chat_stream(exchange)
    if not stream.chunks:
        raise CheckSkipped(
            "the stream carried no JSON chunks; see sse.framing.content_type and "
            "sse.framing.json_payloads"
        )
    if complete and stream.failed:
        raise CheckSkipped("the stream ended with an in-stream error; see chat.stream.error_object")
    return stream


def fail_with(problems: list[str], exchange: Exchange) -> None:
    if problems:
        more = f" (and {len(problems) - 4} more)" if len(problems) > 4 else ""
        raise CheckFailed("; ".join(problems[:4]) + more, exchange)


@check(
    "chat.stream.accepted",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="A `stream: true` chat completion request is answered with HTTP 200.",
    source="OpenAI OpenAPI spec, POST /chat/completions responses.200 (text/event-stream)",
    capability="chat",
)
async def check_stream_accepted(ctx: CheckContext) -> None:
    exchange = await usage_stream(ctx)
    if exchange.status != 200:
        raise CheckFailed(
            f"expected 200, got {exchange.status} {exchange.error or exchange.text[:200]!r}",
            exchange,
        )


@check(
    "chat.stream.chunk_object",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="Every chunk has `object: chat.completion.chunk`, a string `id` and `model`, "
    "a `created` and a `choices` list.",
    source=f"{CHUNK_SOURCE} (required id, choices, created, model, object; object enum "
    "chat.completion.chunk)",
    capability="chat",
)
async def check_chunk_object(ctx: CheckContext) -> None:
    exchange = await usage_stream(ctx)
    stream = await judged_stream(ctx, exchange)
    problems: list[str] = []
    for chunk in stream.chunks:
        body = chunk.body
        if body.get("object") != "chat.completion.chunk":
            problems.append(f"chunk {chunk.position}: object is {body.get('object')!r}")
        for name in ("id", "model"):
            if not isinstance(body.get(name), str) or not body[name]:
                problems.append(f"chunk {chunk.position}: {name} is {body.get(name)!r}")
        if not isinstance(body.get("choices"), list):
            problems.append(f"chunk {chunk.position}: choices is {body.get('choices')!r}")
        if "created" not in body:
            problems.append(f"chunk {chunk.position}: created is absent")
    fail_with(problems, exchange)


@check(
    "chat.stream.created_seconds",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="Every chunk's `created` is an integer Unix timestamp in seconds.",
    source=f"{CHUNK_SOURCE}.created ('The Unix timestamp (in seconds) of when the chat completion "
    "was created. Each chunk has the same timestamp.')",
    capability="chat",
)
async def check_stream_created(ctx: CheckContext) -> None:
    exchange = await usage_stream(ctx)
    stream = await judged_stream(ctx, exchange)
    for chunk in stream.chunks:
        problem = created_problem(chunk.body.get("created"))
        if problem:
            raise CheckFailed(f"chunk {chunk.position}: {problem}", exchange)


@check(
    "chat.stream.consistent_id",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="All chunks of one stream (the usage chunk too) share one `id`, `created` and `model`.",
    source=f"{CHUNK_SOURCE}.id ('Each chunk has the same ID') and .created ('Each chunk has the "
    "same timestamp')",
    capability="chat",
)
async def check_consistent_id(ctx: CheckContext) -> None:
    exchange = await usage_stream(ctx)
    stream = await judged_stream(ctx, exchange)
    for name in ("id", "created", "model"):
        values = {repr(c.body.get(name)) for c in stream.chunks}
        if len(values) > 1:
            raise CheckFailed(
                f"chunks carry {len(values)} different {name} values: {sorted(values)[:4]}",
                exchange,
            )


@check(
    "chat.stream.first_role",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="Each choice's first delta carries `role: assistant`; no later delta changes it.",
    source="OpenAI OpenAPI spec: ChatCompletionStreamResponseDelta.role; OpenAI streaming "
    "guide (the first chunk carries the role)",
    capability="chat",
)
async def check_first_role(ctx: CheckContext) -> None:
    exchange = await usage_stream(ctx)
    fail_with(role_problems(await judged_stream(ctx, exchange)), exchange)


def _finish_key_problems(stream: ChatStream) -> list[str]:
    """Every choice of every chunk carries the ``finish_reason`` key (null until it ends)."""
    missing = [
        (chunk.position, choice.get("index"))
        for chunk in stream.chunks
        for choice in chunk.choices
        if "finish_reason" not in choice
    ]
    if not missing:
        return []
    position, index = missing[0]
    return [
        f"{len(missing)} choice delta(s) lack the finish_reason key (first: chunk {position}, "
        f"choice {index!r}); the spec requires it, null until the choice ends"
    ]


def _unfinished(stream: ChatStream) -> list[str]:
    """The headline when the stream ended without any choice finishing."""
    reasons = [c.get("finish_reason") for chunk in stream.chunks for c in chunk.choices]
    if any(r is not None for r in reasons) or not reasons:
        return []
    end = "reached [DONE]" if stream.done_position is not None else "ended"
    return [f"the stream {end} with no finish_reason on any choice: clients never learn why"]


@check(
    "chat.stream.finish_reason",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="Each choice gets exactly one non-null `finish_reason` (from the spec's enum), "
    "and no content after it; every choice delta carries the `finish_reason` key (null until "
    "then). Judged on the usage stream, and above smoke on the plain stream too.",
    source=f"{CHUNK_SOURCE}.choices (required delta, finish_reason, index); .finish_reason (null "
    "until the choice ends; enum stop, length, tool_calls, content_filter, function_call)",
    capability="chat",
)
async def check_finish_reason(ctx: CheckContext) -> None:
    exchanges = [await usage_stream(ctx)]
    if ctx.target.level != "smoke":
        exchanges.append(await plain_stream(ctx))
    judged: list[tuple[Exchange, ChatStream]] = []
    reason = ""
    for exchange in exchanges:
        try:
            judged.append((exchange, await judged_stream(ctx, exchange, complete=True)))
        except CheckSkipped as skip:
            reason = skip.reason
    if not judged:
        raise CheckSkipped(reason)
    for exchange, stream in judged:
        fail_with(
            [*_unfinished(stream), *finish_problems(stream), *_finish_key_problems(stream)],
            exchange,
        )


@check(
    "chat.stream.usage_chunk",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="With `stream_options.include_usage`, exactly one last chunk has `choices: []` "
    "and correct usage; every other chunk's usage is null.",
    source="OpenAI OpenAPI spec: ChatCompletionStreamOptions.include_usage; "
    "CreateChatCompletionStreamResponse.usage",
    capability="chat",
)
async def check_usage_chunk(ctx: CheckContext) -> None:
    exchange = await usage_stream(ctx)
    fail_with(
        usage_problems(await judged_stream(ctx, exchange, complete=True), asked=True), exchange
    )


@check(
    "chat.stream.no_usage_unasked",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="Without `stream_options.include_usage`, no chunk carries usage or empty choices.",
    source="OpenAI OpenAPI spec: ChatCompletionStreamOptions.include_usage ('If set, an "
    "additional chunk will be streamed'); clients index choices[0] on every chunk",
    capability="chat",
)
async def check_no_usage_unasked(ctx: CheckContext) -> None:
    exchange = await plain_stream(ctx)
    fail_with(usage_problems(await judged_stream(ctx, exchange), asked=False), exchange)


@check(
    "chat.stream.incremental",
    area="chat",
    level="standard",
    endpoint=CHAT,
    asserts="The answer really streams: several content events, not all delivered in one "
    "burst at the end.",
    source="OpenAI API reference, Streaming ('stream back partial progress'); "
    "CreateChatCompletionRequest.stream ('partial message deltas will be sent')",
    capability="chat",
)
async def check_incremental(ctx: CheckContext) -> None:
    exchange = await plain_stream(ctx)
    stream = await judged_stream(ctx, exchange, complete=True)
    content = [
        c
        for c in stream.chunks
        if any(isinstance(ch.get("delta"), dict) and ch["delta"].get("content") for ch in c.choices)
    ]
    text = sum(
        len(ch["delta"]["content"])
        for c in content
        for ch in c.choices
        if isinstance(ch.get("delta"), dict) and isinstance(ch["delta"].get("content"), str)
    )
    if len(content) < 2:
        if text > 40:
            raise CheckFailed(
                f"{text} characters of content arrived in {len(content)} event(s)", exchange
            )
        raise CheckSkipped(f"only {len(content)} content event(s): too short to judge")
    first, last = content[0].at, content[-1].at
    # A buffering proxy hands every event over at once after the whole generation: the spread
    # between first and last content is ~0 although the answer took long. Streaming exists to
    # "stream back partial progress" (API reference, Streaming), which buffering defeats.
    if last < 0.2:
        raise CheckSkipped(
            f"the whole answer arrived within {last * 1000:.0f} ms: too fast to tell "
            "streaming from buffering"
        )
    if last - first < 0.005:
        raise CheckFailed(
            f"all {len(content)} content events arrived within {(last - first) * 1000:.1f} ms, "
            f"{last:.2f} s after the request: the stream is buffered",
            exchange,
        )


@check(
    "chat.stream.error_object",
    area="chat",
    level="smoke",
    endpoint=CHAT,
    asserts="The basic stream completes without an in-stream error; any in-stream error is "
    'an OpenAI error object (`{"error": {"message": ..., "type": ...}}`).',
    source="openai-python Stream.__stream__: a chunk with an 'error' key raises APIError with "
    "error.message; OpenAI OpenAPI spec: Error",
    capability="chat",
)
async def check_error_object(ctx: CheckContext) -> None:
    exchange = await usage_stream(ctx)
    if exchange.status != 200:
        raise CheckSkipped("the streamed request did not succeed; see chat.stream.accepted")
    stream = parse_chat_stream(exchange)
    if not stream.errors:
        return
    error = stream.errors[0].get("error")
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        raise CheckFailed(
            f"an in-stream error is not an OpenAI error object: {stream.errors[0]!r:.200}",
            exchange,
        )
    raise CheckFailed(f"the stream ended with an error: {error.get('message')!r:.200}", exchange)


@check(
    "chat.stream.schema",
    area="chat",
    level="deep",
    endpoint=CHAT,
    asserts="Every chunk validates against the spec's CreateChatCompletionStreamResponse.",
    source="OpenAI OpenAPI spec: components.schemas.CreateChatCompletionStreamResponse",
    capability="chat",
)
async def check_chunk_schema(ctx: CheckContext) -> None:
    from conformance.schemas import schema_errors

    exchange = await usage_stream(ctx)
    stream = await judged_stream(ctx, exchange)
    for chunk in stream.chunks:
        errors = schema_errors("CreateChatCompletionStreamResponse", chunk.body)
        if errors:
            raise CheckFailed(f"chunk {chunk.position}: {'; '.join(errors[:4])}", exchange)
