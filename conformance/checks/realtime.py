"""Checks for the Realtime WebSocket API (``/realtime?model=...``).

Sources: OpenAI's Realtime API reference (server events ``RealtimeServerEvent*``: every one
has ``type`` and ``event_id``; ``session.created`` first; ``session.update`` answered by
``session.updated``; ``conversation.item.create`` by ``conversation.item.created`` (GA also
sends ``conversation.item.added``); ``response.create`` by ``response.created``,
``response.output_text.delta``..., ``response.done``; an invalid client event is answered
with an ``error`` event, not a close) and the Realtime WebSocket guide (browsers authenticate
with the subprotocols ``realtime`` and ``openai-insecure-api-key.<key>``, and the server must
echo ``realtime`` or browsers drop the socket).

One scripted session per run (shared) serves most checks; handshake variants open their own.
Whether that session opens is ``realtime.handshake.header_auth``'s verdict: the checks reading
the session skip, naming it, when it did not.

Must not: expect particular text, or keep a socket open past its timeouts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from conformance.realtime import Step, Transcript, realtime_url, record_session
from conformance.registry import CheckFailed, CheckSkipped, check

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.exchange import Exchange

__all__: list[str] = []

_ENDPOINT = "WS /realtime"
_BAD_KEY = "sk-parity-invalid-key-0000"
_SESSION = {"type": "realtime", "output_modalities": ["text"], "instructions": "Answer briefly."}
_ITEM = {
    "type": "message",
    "role": "user",
    "content": [{"type": "input_text", "text": "Say hello."}],
}
_SCRIPT = (
    Step({"type": "session.update", "session": _SESSION}, ("session.updated",)),
    Step(
        {"type": "conversation.item.create", "item": _ITEM},
        ("conversation.item.created", "conversation.item.added"),
    ),
    Step(
        {"type": "response.create", "response": {"output_modalities": ["text"]}},
        ("response.done",),
        timeout=30.0,
    ),
    Step("this frame is not JSON {", ("error",), timeout=5.0),
    Step({"type": "session.update", "session": {"type": "realtime"}}, ("session.updated",)),
)


def _spend(ctx: CheckContext, count: int) -> None:
    """Count WebSocket sessions against the run's request budget (when the client has one)."""
    spend = getattr(ctx.client, "spend", None)
    if callable(spend):
        spend(count)


def _api_key(ctx: CheckContext) -> str:
    if not ctx.target.api_key:
        raise CheckSkipped("the realtime handshake checks need an API key")
    return ctx.target.api_key


async def _session(ctx: CheckContext) -> Exchange:
    url = realtime_url(ctx.target.base_url, ctx.model("realtime"))
    key = _api_key(ctx)

    async def make() -> Exchange:
        _spend(ctx, 1)
        return await record_session(url, headers={"Authorization": f"Bearer {key}"}, steps=_SCRIPT)

    return await ctx.shared("realtime.session", make)


_HEADER_AUTH = "realtime.handshake.header_auth"


def _opened(exchange: Exchange, how: str, *, judged_by: str | None = None) -> Transcript:
    """The session's transcript; a session that did not open fails the check that owns it
    (``judged_by`` None) and skips the others, naming the owner."""

    def stop(problem: str) -> NoReturn:
        if judged_by is None:
            raise CheckFailed(problem, exchange)
        raise CheckSkipped(f"{problem}; see {judged_by}")

    if exchange.status != 101:
        stop(f"the upgrade with {how} was refused: status {exchange.status} ({exchange.error})")
    transcript = Transcript.of(exchange)
    events = transcript.received()
    if not events:
        stop(f"no server event arrived after connecting with {how}")
    first = events[0]
    if not isinstance(first, dict) or first.get("type") != "session.created":
        kind = first.get("type") if isinstance(first, dict) else first
        stop(f"the first server event must be session.created, got {kind!r:.80}")
    return transcript


def _types(events: list[Any]) -> list[Any]:
    return [e.get("type") if isinstance(e, dict) else None for e in events]


@check(
    "realtime.handshake.header_auth",
    area="realtime",
    level="smoke",
    endpoint=_ENDPOINT,
    asserts="an upgrade with `Authorization: Bearer <key>` is accepted and session.created is "
    "the first server event",
    source="OpenAI Realtime API reference: session.created; Realtime WebSocket guide",
    capability="realtime",
)
async def check_realtime_handshake_header_auth(ctx: CheckContext) -> None:
    _opened(await _session(ctx), "an Authorization header")


@check(
    "realtime.handshake.subprotocol_auth",
    area="realtime",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="an upgrade authenticated only by the subprotocols `realtime` and "
    "`openai-insecure-api-key.<key>` is accepted, echoes `realtime`, and sends session.created",
    source="OpenAI Realtime WebSocket guide (browser authentication by subprotocol)",
    capability="realtime",
)
async def check_realtime_handshake_subprotocol_auth(ctx: CheckContext) -> None:
    url = realtime_url(ctx.target.base_url, ctx.model("realtime"))
    key = _api_key(ctx)
    _spend(ctx, 1)
    exchange = await record_session(
        url, subprotocols=("realtime", f"openai-insecure-api-key.{key}"), first_timeout=10.0
    )
    _opened(exchange, "the openai-insecure-api-key subprotocol")
    chosen = exchange.headers.get("sec-websocket-protocol")
    if chosen != "realtime":
        raise CheckFailed(
            f"the server selected subprotocol {chosen!r}; it must echo 'realtime' "
            "(browsers close the socket otherwise)",
            exchange,
        )


@check(
    "realtime.handshake.bad_key_refused",
    area="realtime",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="an upgrade with a missing or invalid key is refused (401/403 handshake, or an "
    "`error` event instead of session.created)",
    source="OpenAI Realtime API reference: error event; API authentication",
    capability="realtime",
)
async def check_realtime_handshake_bad_key_refused(ctx: CheckContext) -> None:
    url = realtime_url(ctx.target.base_url, ctx.model("realtime"))
    for how, headers in (
        ("an invalid key", {"Authorization": f"Bearer {_BAD_KEY}"}),
        ("no key", {}),
    ):
        _spend(ctx, 1)
        exchange = await record_session(url, headers=headers, first_timeout=5.0)
        if exchange.status in (401, 403):
            continue
        if exchange.status != 101:
            raise CheckFailed(
                f"an upgrade with {how} must be refused with 401/403 or an error event, got "
                f"status {exchange.status} ({exchange.error})",
                exchange,
            )
        kinds = _types(Transcript.of(exchange).received())
        if "session.created" in kinds or (kinds and kinds[0] != "error"):
            raise CheckFailed(f"an upgrade with {how} was served: events {kinds[:4]}", exchange)


@check(
    "realtime.events.envelope",
    area="realtime",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="every server event is a JSON object with string `type` and `event_id`",
    source="OpenAI Realtime API reference: RealtimeServerEvent (type and event_id on every event)",
    capability="realtime",
)
async def check_realtime_events_envelope(ctx: CheckContext) -> None:
    exchange = await _session(ctx)
    transcript = _opened(exchange, "an Authorization header", judged_by=_HEADER_AUTH)
    for position, event in enumerate(transcript.received()):
        if not isinstance(event, dict):
            raise CheckFailed(
                f"server frame {position} is not a JSON object: {event!r:.80}", exchange
            )
        for field in ("type", "event_id"):
            if not isinstance(event.get(field), str) or not event[field]:
                raise CheckFailed(
                    f"server event {position} ({event.get('type')!r}) lacks a string `{field}`",
                    exchange,
                )


@check(
    "realtime.session.updated",
    area="realtime",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="session.update is answered with session.updated carrying the session",
    source="OpenAI Realtime API reference: session.update, session.updated",
    capability="realtime",
)
async def check_realtime_session_updated(ctx: CheckContext) -> None:
    exchange = await _session(ctx)
    answers = _opened(exchange, "an Authorization header", judged_by=_HEADER_AUTH).after(
        "session.update"
    )
    updated = [e for e in answers if isinstance(e, dict) and e.get("type") == "session.updated"]
    if not updated:
        raise CheckFailed(f"session.update got no session.updated: {_types(answers)[:6]}", exchange)
    if not isinstance(updated[0].get("session"), dict):
        raise CheckFailed("session.updated must carry the `session` object", exchange)


@check(
    "realtime.conversation.item_created",
    area="realtime",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="conversation.item.create is answered with conversation.item.created (or the GA "
    "conversation.item.added) carrying the item",
    source="OpenAI Realtime API reference: conversation.item.create, conversation.item.created",
    capability="realtime",
)
async def check_realtime_conversation_item_created(ctx: CheckContext) -> None:
    exchange = await _session(ctx)
    answers = _opened(exchange, "an Authorization header", judged_by=_HEADER_AUTH).after(
        "conversation.item.create"
    )
    for event in answers:
        if not isinstance(event, dict):
            continue
        if event.get("type") in ("conversation.item.created", "conversation.item.added"):
            if not isinstance(event.get("item"), dict):
                raise CheckFailed(f"{event['type']} must carry the `item` object", exchange)
            return
        if event.get("type") == "response.created":
            break
    raise CheckFailed(
        f"conversation.item.create got no conversation.item.created: {_types(answers)[:6]}",
        exchange,
    )


@check(
    "realtime.response.text_deltas",
    area="realtime",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="response.create yields response.created, response.output_text.delta events and a "
    "final response.done whose text matches the deltas",
    source="OpenAI Realtime API reference: response.create, response.output_text.delta, "
    "response.done (GA event names)",
    capability="realtime",
)
async def check_realtime_response_text_deltas(ctx: CheckContext) -> None:
    exchange = await _session(ctx)
    answers = _opened(exchange, "an Authorization header", judged_by=_HEADER_AUTH).after(
        "response.create"
    )
    kinds = _types(answers)
    if "response.text.delta" in kinds:
        raise CheckFailed(
            "beta event name response.text.delta sent (GA: response.output_text.delta)", exchange
        )
    if "response.done" not in kinds:
        errors = [
            str((e.get("error") or {}).get("message"))
            for e in answers
            if isinstance(e, dict) and e.get("type") == "error"
        ]
        detail = f"; error events: {errors[:2]}" if errors else ""
        raise CheckFailed(
            f"response.create got no response.done (events: {kinds[-6:]}){detail}", exchange
        )
    answers = [e for e in answers[: kinds.index("response.done") + 1] if isinstance(e, dict)]
    kinds = _types(answers)
    if "response.created" not in kinds:
        raise CheckFailed(f"no response.created before response.done: {kinds[:8]}", exchange)
    deltas = [e for e in answers if e.get("type") == "response.output_text.delta"]
    if not deltas:
        raise CheckFailed(f"no response.output_text.delta events: {kinds[:8]}", exchange)
    first_delta = kinds.index("response.output_text.delta")
    if kinds.index("response.created") > first_delta:
        raise CheckFailed("a text delta arrived before response.created", exchange)
    joined = "".join(str(e.get("delta", "")) for e in deltas)
    done = [e for e in answers if e.get("type") == "response.output_text.done"]
    if done and done[-1].get("text") != joined:
        raise CheckFailed(
            f"deltas join to {joined!r:.60}; response.output_text.done says "
            f"{done[-1].get('text')!r:.60}",
            exchange,
        )
    response = answers[-1].get("response")
    if not isinstance(response, dict) or response.get("status") not in (
        "completed",
        "incomplete",
    ):
        status = response.get("status") if isinstance(response, dict) else None
        raise CheckFailed(
            f"response.done must carry a finished response, got status {status!r}", exchange
        )


@check(
    "realtime.errors.invalid_frame",
    area="realtime",
    level="standard",
    endpoint=_ENDPOINT,
    asserts="a frame that is not a valid event is answered with an `error` event and the "
    "socket stays open (a later session.update is still answered)",
    source="OpenAI Realtime API reference: error event (errors do not close the session)",
    capability="realtime",
)
async def check_realtime_errors_invalid_frame(ctx: CheckContext) -> None:
    exchange = await _session(ctx)
    transcript = _opened(exchange, "an Authorization header", judged_by=_HEADER_AUTH)
    answers = transcript.after("this frame is not JSON {")
    kinds = _types(answers)
    if "error" not in kinds:
        closed = [p for d, p in transcript.frames if d == "closed"]
        detail = f"; the socket closed with {closed[0]}" if closed else ""
        raise CheckFailed(f"an invalid frame got no `error` event: {kinds[:6]}{detail}", exchange)
    error = answers[kinds.index("error")].get("error")
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        raise CheckFailed("the `error` event must carry error.message", exchange)
    if "session.updated" not in kinds[kinds.index("error") :]:
        raise CheckFailed(
            "after the error, a session.update went unanswered: the socket did not stay usable",
            exchange,
        )
