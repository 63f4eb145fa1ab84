"""Server-sent events: a relayed stream framed for the client, and the response that carries it.

Chat (OpenAI "Streaming" reference): one ``data: {json}`` event per chunk, blank-line separated,
ending ``data: [DONE]``. The usage chunk leaves only if ``stream_options.include_usage`` was
asked, and then carries ``usage.credits_used`` (headers left before the stream was settled).
Responses (API reference, "Streaming responses"): ``event: <type>`` + ``data:`` lines, ending
with the terminal event. A failure after the commit point ends the stream with an in-stream
error (chat: ``data: {"error": {...}}``; Responses: an ``error`` event with the next
``sequence_number``) and no ``[DONE]``.

Must not: bill or choose deployments (``gateway/relay.py`` settles, ``gateway/flow.py``
routes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from reference_server import json_codec
from reference_server.errors import render_error
from reference_server.gateway.relay import Relay

__all__ = ["RelayResponse", "chat_events", "responses_events", "sse_headers"]

_DONE = b"data: [DONE]\n\n"


def sse_headers(*parts: Mapping[str, str]) -> dict[str, str]:
    # An event stream must reach the client as it is written: no caching, and no buffering by
    # a proxy on the way (X-Accel-Buffering is nginx's switch for it).
    merged: dict[str, str] = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    for part in parts:
        merged.update(part)
    return merged


def _data(payload: Any) -> bytes:
    return b"data: " + json_codec.encode(payload) + b"\n\n"


def _event(payload: dict[str, Any]) -> bytes:
    return b"event: " + str(payload.get("type")).encode() + b"\n" + _data(payload)


async def chat_events(
    relay: Relay, *, model: str | None, include_usage: bool
) -> AsyncIterator[bytes]:
    """``model``: the name to put on every chunk (None keeps the upstream's)."""
    try:
        while (item := await relay.next()) is not None:
            if model is not None:
                item["model"] = model
            if relay.settlement is not None:  # the usage chunk, settled
                if include_usage:
                    item["usage"]["credits_used"] = relay.settlement.credits
                    yield _data(item)
                break
            yield _data(item)
        yield _DONE
    except Exception as exc:  # noqa: BLE001 - after the commit point every failure is in-stream
        yield _data(render_error(exc, request_id=relay.request_id).body)
    finally:
        await relay.close()


async def responses_events(relay: Relay, *, model: str | None) -> AsyncIterator[bytes]:
    sequence = -1
    try:
        while (item := await relay.next()) is not None:
            sequence = int(item.get("sequence_number", sequence + 1))
            response = item.get("response")
            if model is not None and isinstance(response, dict):
                response["model"] = model
            yield _event(item)
            if relay.settlement is not None:  # the terminal event, settled
                return
    except Exception as exc:  # noqa: BLE001 - after the commit point every failure is in-stream
        error = render_error(exc, request_id=relay.request_id).body["error"]
        yield _event(
            {
                "type": "error",
                "code": error["code"],
                "message": error["message"],
                "param": error["param"],
                "sequence_number": sequence + 1,
            }
        )
    finally:
        await relay.close()


class RelayResponse(StreamingResponse):
    """An SSE response whose stream is always settled, even if its events never start.

    A client that leaves between the commit point and the first body byte would otherwise leave
    the event generator unstarted (its ``finally`` never runs) and the reservation held.
    """

    def __init__(self, relay: Relay, events: AsyncIterator[bytes]) -> None:
        super().__init__(events, headers=sse_headers(relay.headers), media_type="text/event-stream")
        self._relay = relay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._relay.close()
