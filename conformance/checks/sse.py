"""SSE framing of chat completion streams, judged on the raw bytes with our WHATWG decoder.

All checks here judge one shared streamed request (``stream_options.include_usage``), so they
cost one request together. Framing is judged on bytes, not through any SDK, so a quirk one
client tolerates is still reported with the exact offset that trips another.

Must not: judge chunk semantics (ids, roles, finish reasons: ``chat_stream.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.checks.chat import CHAT, usage_stream
from conformance.registry import CheckFailed, CheckSkipped, check
from conformance.streams import ChatStream, parse_chat_stream

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_WHATWG = "WHATWG HTML Living Standard, 9.2.6 Interpreting an event stream"
_SDK = "openai-python Stream.__stream__ / SSEDecoder"


async def _stream(ctx: CheckContext) -> tuple[Exchange, ChatStream]:
    exchange = await usage_stream(ctx)
    if exchange.status != 200:
        raise CheckSkipped(
            f"the streamed request did not succeed (status {exchange.status}); "
            "see chat.stream.accepted"
        )
    return exchange, parse_chat_stream(exchange)


@check(
    "sse.framing.content_type",
    area="sse",
    level="smoke",
    endpoint=CHAT,
    asserts="A `stream: true` chat completion is answered as `text/event-stream`.",
    source="OpenAI OpenAPI spec, POST /chat/completions responses.200.content "
    "text/event-stream; OpenAI API reference, Streaming ('server-sent events')",
    capability="chat",
)
async def check_content_type(ctx: CheckContext) -> None:
    exchange, _ = await _stream(ctx)
    if exchange.content_type != "text/event-stream":
        raise CheckFailed(
            f"content-type is {exchange.headers.get('content-type')!r}, expected text/event-stream",
            exchange,
        )


@check(
    "sse.framing.json_payloads",
    area="sse",
    level="smoke",
    endpoint=CHAT,
    asserts="Every event's data (other than `[DONE]`) is exactly one JSON object.",
    source=f"{_SDK}: every event except [DONE] is passed to json.loads; {_WHATWG} "
    "(data lines of one event are joined with LF)",
    capability="chat",
)
async def check_json_payloads(ctx: CheckContext) -> None:
    exchange, stream = await _stream(ctx)
    if stream.non_json:
        raise CheckFailed(
            f"{len(stream.non_json)} event(s) are not one JSON object, first: "
            f"{stream.non_json[0][:160]!r}",
            exchange,
        )
    if not stream.events:
        raise CheckFailed("the stream carried no events at all", exchange)


@check(
    "sse.framing.done_sentinel",
    area="sse",
    level="smoke",
    endpoint=CHAT,
    asserts="A chat completion stream ends with a complete `data: [DONE]` event.",
    source="OpenAI OpenAPI spec, CreateChatCompletionRequest.stream ('terminated by a "
    "data: [DONE] message'); openai-python Stream.__stream__ stops at [DONE]",
    capability="chat",
)
async def check_done_sentinel(ctx: CheckContext) -> None:
    exchange, stream = await _stream(ctx)
    if stream.failed:
        raise CheckSkipped("the stream ended with an in-stream error; see chat.stream.error_object")
    if stream.done_position is None:
        unterminated = [i for i in stream.issues if i.kind == "unterminated_event"]
        hint = (
            f" (an unterminated event at byte {unterminated[0].offset} was discarded)"
            if unterminated
            else ""
        )
        raise CheckFailed(f"no complete 'data: [DONE]' event{hint}", exchange)


@check(
    "sse.framing.nothing_after_done",
    area="sse",
    level="smoke",
    endpoint=CHAT,
    asserts="No event follows `data: [DONE]`.",
    source="OpenAI OpenAPI spec, CreateChatCompletionRequest.stream ('terminated by a "
    "data: [DONE] message'); openai-python stops reading at [DONE], so later events are lost",
    capability="chat",
)
async def check_nothing_after_done(ctx: CheckContext) -> None:
    exchange, stream = await _stream(ctx)
    if stream.done_position is None:
        raise CheckSkipped("the stream has no [DONE]; see sse.framing.done_sentinel")
    after = stream.after_done
    if after:
        raise CheckFailed(
            f"{len(after)} event(s) after [DONE], first: {after[0].event.data[:160]!r}", exchange
        )


@check(
    "sse.framing.no_empty_events",
    area="sse",
    level="smoke",
    endpoint=CHAT,
    asserts="No event reaches the official SDK with empty data (`event: ping`, bare `data:`, "
    "`retry:`-only frames, or comment keep-alives after an `id:`).",
    source=f"{_SDK}: every dispatched event but [DONE] is passed to json.loads, so one with "
    "empty data raises JSONDecodeError; openai/openai-python#2722",
    capability="chat",
)
async def check_no_empty_events(ctx: CheckContext) -> None:
    exchange, stream = await _stream(ctx)
    empty = [i for i in stream.issues if i.kind == "empty_data"]
    if empty:
        raise CheckFailed(
            f"{len(empty)} empty event(s); first at byte {empty[0].offset}: {empty[0].detail}",
            exchange,
        )


@check(
    "sse.framing.utf8",
    area="sse",
    level="smoke",
    endpoint=CHAT,
    asserts="The event stream is valid UTF-8.",
    source=f"{_WHATWG} ('Event streams are always decoded as UTF-8'); openai-python decodes "
    "each line with bytes.decode('utf-8') and raises on invalid bytes",
    capability="chat",
)
async def check_utf8(ctx: CheckContext) -> None:
    exchange, stream = await _stream(ctx)
    bad = [i for i in stream.issues if i.kind == "invalid_utf8"]
    if bad:
        raise CheckFailed(
            f"{len(bad)} line(s) are not UTF-8; first at byte {bad[0].offset}: {bad[0].detail}",
            exchange,
        )
