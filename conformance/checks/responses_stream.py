"""Checks for the Responses API's event stream: ``POST /responses`` with ``stream: true``.

Sources: OpenAI's API reference for streaming responses (``ResponseStreamEvent``: every event
has ``type`` and ``sequence_number``; the lifecycle response.created -> response.in_progress ->
response.output_item.added -> response.content_part.added -> response.output_text.delta* ->
response.output_text.done -> response.content_part.done -> response.output_item.done ->
response.completed). OpenAI frames each event as ``event: <type>`` plus ``data:``; it sends no
``[DONE]``. The official SDK stops reading at a ``[DONE]`` (openai-python ``Stream.__stream__``),
so one after the terminal event is a warning, and one before other events fails: the SDK never
sees them.

Must not: expect particular text (any correct model says something else), or judge the
response object's own shape (``responses.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.checks.responses import (
    ENDPOINT,
    create_response,
    judge_response,
    judge_usage,
    message_text,
)
from conformance.checks.verdicts import require_ok
from conformance.registry import CheckFailed, CheckWarning, check
from conformance.sse import decode_stream

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

TERMINAL = ("response.completed", "response.incomplete", "response.failed")


@dataclass(frozen=True, slots=True)
class _Event:
    name: str  # the SSE `event:` field ("message" when absent)
    payload: dict[str, Any]


async def _events(ctx: CheckContext) -> tuple[Exchange, list[_Event], bool]:
    """The stream's JSON events and whether a ``[DONE]`` sentinel was seen."""
    exchange = await create_response(ctx, stream=True)
    require_ok(exchange, "streamed response")
    if exchange.content_type != "text/event-stream":
        raise CheckFailed(
            f"stream: true must answer text/event-stream, got {exchange.content_type!r}", exchange
        )
    events: list[_Event] = []
    done = False
    for timed in decode_stream(exchange).events:
        data = timed.event.data
        if data.strip() == "[DONE]":
            done = True
            continue
        try:
            payload = json.loads(data)
        except ValueError:
            raise CheckFailed(f"an event's data is not JSON: {data[:120]!r}", exchange) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise CheckFailed(f"an event lacks a string `type`: {data[:120]!r}", exchange)
        events.append(_Event(timed.event.event, payload))
    if not events:
        raise CheckFailed("the stream holds no events", exchange)
    return exchange, events, done


@check(
    "responses.stream.event_names",
    area="responses",
    level="standard",
    endpoint=ENDPOINT,
    asserts="every streamed event carries an `event:` line equal to its payload's `type`",
    source="OpenAI API reference: streaming responses (event: <type> framing)",
    capability="responses",
)
async def check_responses_stream_event_names(ctx: CheckContext) -> None:
    exchange, events, _ = await _events(ctx)
    for position, event in enumerate(events):
        if event.name != event.payload["type"]:
            raise CheckFailed(
                f"event {position}: `event: {event.name}` does not match type "
                f"{event.payload['type']!r}",
                exchange,
            )


@check(
    "responses.stream.sequence_numbers",
    area="responses",
    level="standard",
    endpoint=ENDPOINT,
    asserts="every event has an integer sequence_number, starting at 0 and strictly increasing",
    source="OpenAI API reference: ResponseStreamEvent (sequence_number required on every event)",
    capability="responses",
)
async def check_responses_stream_sequence_numbers(ctx: CheckContext) -> None:
    exchange, events, _ = await _events(ctx)
    previous = -1
    for position, event in enumerate(events):
        number = event.payload.get("sequence_number")
        if not isinstance(number, int) or isinstance(number, bool):
            raise CheckFailed(
                f"event {position} ({event.payload['type']}) lacks an integer sequence_number, "
                f"got {number!r}",
                exchange,
            )
        if position == 0 and number != 0:
            raise CheckFailed(f"the first sequence_number must be 0, got {number}", exchange)
        if number <= previous:
            raise CheckFailed(
                f"sequence_number {number} at event {position} does not increase (after "
                f"{previous})",
                exchange,
            )
        previous = number


@check(
    "responses.stream.event_order",
    area="responses",
    level="smoke",
    endpoint=ENDPOINT,
    asserts="created first, then in_progress, each output item added before its content part, "
    "deltas between content_part.added and output_text.done, parts and items closed, and a "
    "terminal response.completed last",
    source="OpenAI API reference: streaming responses (event lifecycle)",
    capability="responses",
)
async def check_responses_stream_event_order(ctx: CheckContext) -> None:
    exchange, events, _ = await _events(ctx)
    types = [e.payload["type"] for e in events]
    if types[0] != "response.created":
        raise CheckFailed(f"the first event must be response.created, got {types[0]!r}", exchange)
    if types[-1] not in TERMINAL:
        raise CheckFailed(
            f"the last event must be one of {list(TERMINAL)}, got {types[-1]!r}", exchange
        )
    terminal = [t for t in types if t in TERMINAL]
    if len(terminal) != 1:
        raise CheckFailed(f"exactly one terminal event expected, got {terminal}", exchange)
    if "response.in_progress" in types and types.index("response.in_progress") != 1:
        raise CheckFailed("response.in_progress must follow response.created directly", exchange)
    items: dict[str, str] = {}  # item id -> "open" | "closed"
    parts: dict[tuple[str, int], str] = {}  # (item id, content index) -> state
    for position, event in enumerate(events):
        kind, payload = event.payload["type"], event.payload
        where = f"event {position} ({kind})"
        if kind in ("response.output_item.added", "response.output_item.done"):
            item = payload.get("item")
            item_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item_id, str):
                raise CheckFailed(f"{where}: `item.id` must be a string", exchange)
            expected = None if kind.endswith("added") else "open"
            if items.get(item_id) != expected:
                raise CheckFailed(
                    f"{where}: item {item_id!r} is {items.get(item_id) or 'not added'}", exchange
                )
            if kind.endswith("done") and any(
                state != "closed" for (owner, _), state in parts.items() if owner == item_id
            ):
                raise CheckFailed(f"{where}: a content part of {item_id!r} is still open", exchange)
            items[item_id] = "open" if kind.endswith("added") else "closed"
            continue
        if kind.startswith(("response.content_part.", "response.output_text.")):
            key = (payload.get("item_id"), payload.get("content_index"))
            if not isinstance(key[1], int) or isinstance(key[1], bool):
                raise CheckFailed(
                    f"{where}: `content_index` must be an integer, got {key[1]!r}", exchange
                )
            if items.get(str(key[0])) != "open":
                raise CheckFailed(f"{where}: item {key[0]!r} is not open", exchange)
            state = parts.get((str(key[0]), key[1]))
            wanted = {
                "response.content_part.added": None,
                "response.output_text.delta": "open",
                "response.output_text.done": "open",
                "response.content_part.done": "text_done",
            }.get(kind, "open")
            if state != wanted:
                raise CheckFailed(
                    f"{where}: content part {key!r} is {state or 'not added'} here", exchange
                )
            parts[(str(key[0]), key[1])] = {
                "response.content_part.added": "open",
                "response.output_text.done": "text_done",
                "response.content_part.done": "closed",
            }.get(kind, state or "open")
    if not parts:
        raise CheckFailed("the stream holds no content_part.added / output_text events", exchange)
    unclosed = [i for i, state in items.items() if state != "closed"]
    if unclosed:
        raise CheckFailed(f"output items never closed with output_item.done: {unclosed}", exchange)


@check(
    "responses.stream.text_concat",
    area="responses",
    level="standard",
    endpoint=ENDPOINT,
    asserts="the output_text.delta fragments concatenate to the output_text.done text, which "
    "is the text of the final response",
    source="OpenAI API reference: ResponseTextDeltaEvent, ResponseTextDoneEvent",
    capability="responses",
)
async def check_responses_stream_text_concat(ctx: CheckContext) -> None:
    exchange, events, _ = await _events(ctx)
    deltas: dict[tuple[Any, Any], str] = {}
    done: dict[tuple[Any, Any], Any] = {}
    final: Any = None
    for event in events:
        payload = event.payload
        key = (payload.get("item_id"), payload.get("content_index"))
        if payload["type"] == "response.output_text.delta":
            if not isinstance(payload.get("delta"), str):
                raise CheckFailed(
                    f"a delta must be a string, got {payload.get('delta')!r}", exchange
                )
            deltas[key] = deltas.get(key, "") + payload["delta"]
        elif payload["type"] == "response.output_text.done":
            done[key] = payload.get("text")
        elif payload["type"] in TERMINAL:
            final = payload.get("response")
    if not done:
        raise CheckFailed("the stream holds no response.output_text.done event", exchange)
    for key, text in done.items():
        if deltas.get(key, "") != text:
            raise CheckFailed(
                f"deltas of {key!r} join to {deltas.get(key, '')!r:.80}, output_text.done says "
                f"{text!r:.80}",
                exchange,
            )
    if isinstance(final, dict) and message_text(final) != "".join(map(str, done.values())):
        raise CheckFailed(
            f"the final response's text {message_text(final)!r:.80} differs from the streamed text",
            exchange,
        )


@check(
    "responses.stream.completed_response",
    area="responses",
    level="standard",
    endpoint=ENDPOINT,
    asserts="response.created carries an in-progress response and response.completed the full "
    "response: status completed, output with the message, usage",
    source="OpenAI API reference: ResponseCreatedEvent, ResponseCompletedEvent",
    capability="responses",
)
async def check_responses_stream_completed_response(ctx: CheckContext) -> None:
    exchange, events, _ = await _events(ctx)
    first = events[0].payload.get("response")
    if not isinstance(first, dict) or first.get("object") != "response":
        raise CheckFailed("response.created must carry the response object", exchange)
    final = [e.payload for e in events if e.payload["type"] == "response.completed"]
    if not final:
        raise CheckFailed("the stream holds no response.completed event", exchange)
    response: dict[str, Any] = final[-1].get("response") or {}
    judge_response(final[-1].get("response"), "response.completed.response", exchange)
    judge_usage(response.get("usage"), "response.completed.response", exchange)
    if response.get("id") != first.get("id"):
        raise CheckFailed(
            f"response.completed is for {response.get('id')!r}, response.created for "
            f"{first.get('id')!r}",
            exchange,
        )


@check(
    "responses.stream.no_done_sentinel",
    area="responses",
    level="standard",
    endpoint=ENDPOINT,
    asserts="a Responses stream ends with its terminal event; a chat-style `data: [DONE]` after "
    "it is a warning, and one before other events fails (the official SDK stops reading there)",
    source="OpenAI API reference: streaming responses (no [DONE] sentinel); openai-python "
    "Stream.__stream__ ends the stream at [DONE]",
    capability="responses",
)
async def check_responses_stream_no_done_sentinel(ctx: CheckContext) -> None:
    exchange, _, done = await _events(ctx)
    if not done:
        return
    data = [timed.event.data.strip() for timed in decode_stream(exchange).events]
    unseen = [_event_type(d) for d in data[data.index("[DONE]") + 1 :] if d and d != "[DONE]"]
    if unseen:
        raise CheckFailed(
            f"`data: [DONE]` comes before {len(unseen)} more event(s) ({unseen[:3]}): the "
            "official SDK stops reading at [DONE] and never sees them",
            exchange,
        )
    raise CheckWarning(
        "the Responses stream ends with `data: [DONE]`, which OpenAI does not send", exchange
    )


def _event_type(data: str) -> Any:
    try:
        payload = json.loads(data)
    except ValueError:
        return data[:40]
    return payload.get("type") if isinstance(payload, dict) else payload
