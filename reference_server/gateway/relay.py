"""Stream relays: provider items -> SSE bytes for the client, with billing at the right moment.

Chat (OpenAI "Streaming" reference): one ``data: {json}`` event per chunk, blank-line separated,
ending ``data: [DONE]``. When the usage chunk arrives the stream is settled first, then the
usage chunk (only if ``stream_options.include_usage`` was asked; it carries
``usage.credits_used``) and ``[DONE]`` leave. Responses streams use ``event: <type>`` +
``data:`` lines and settle before the terminal event.

A failure after the commit point ends the stream with an in-stream error
(chat: ``data: {"error": {...}}``; Responses: an ``error`` event with ``sequence_number``) and no
``[DONE]``; the delivered part is billed once as ``partial``. A client that goes away is billed
for what was delivered (``client_disconnected``), under a cancellation shield.

Must not: choose deployments (``flow``) or read HTTP requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from reference_server import json_codec
from reference_server.controls.base import Ticket
from reference_server.gateway.flow import Gateway, OpenStream
from reference_server.providers.base import ProviderError
from reference_server.tokens import count_tokens

__all__ = ["RelayResponse", "chat_sse", "responses_sse"]

_DONE = b"data: [DONE]\n\n"
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def _data(payload: Any) -> bytes:
    return b"data: " + json_codec.encode(payload) + b"\n\n"


def _error_payload(error: ProviderError) -> dict[str, Any]:
    return {
        "message": f"The upstream failed mid-stream: {error.message}",
        "type": "server_error",
        "param": None,
        "code": "upstream_error",
    }


def _delivered(chunk: dict[str, Any]) -> int:
    tokens = 0
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or {}
        content = delta.get("content")
        if content:
            tokens += count_tokens(content)
        for call in delta.get("tool_calls") or ():
            function = call.get("function") or {}
            tokens += count_tokens(function.get("name") or "") + count_tokens(
                function.get("arguments") or ""
            )
    return tokens


async def chat_sse(
    gateway: Gateway,
    ticket: Ticket,
    stream: OpenStream,
    *,
    model: str | None,
    include_usage: bool,
    prompt_tokens: int,
) -> AsyncIterator[bytes]:
    """``model``: the name to put on every chunk (None keeps the upstream's)."""
    stream.started = True
    delivered = 0
    settled = False
    try:
        item: dict[str, Any] | None = stream.first
        while item is not None:
            if "error" in item and "choices" not in item:
                raise ProviderError(
                    "status", str((item["error"] or {}).get("message", "upstream error"))
                )
            if model is not None:
                item["model"] = model
            if not item.get("choices") and isinstance(item.get("usage"), dict):
                usage = item["usage"]
                settlement = await gateway.settle_stream(
                    ticket,
                    stream,
                    prompt_tokens=int(usage.get("prompt_tokens") or prompt_tokens),
                    completion_tokens=int(usage.get("completion_tokens") or delivered),
                    outcome="ok",
                )
                settled = True
                if include_usage:
                    usage["credits_used"] = settlement.credits
                    yield _data(item)
                yield _DONE
                return
            delivered += _delivered(item)
            yield _data(item)
            item = await anext(stream.rest, None)
        # The upstream ended without a usage chunk: bill what was delivered, end cleanly.
        settlement = await gateway.settle_stream(
            ticket, stream, prompt_tokens=prompt_tokens, completion_tokens=delivered, outcome="ok"
        )
        settled = True
        yield _DONE
    except Exception as exc:  # noqa: BLE001 - after the commit point every failure is in-stream
        error = (
            exc if isinstance(exc, ProviderError) else ProviderError("protocol", type(exc).__name__)
        )
        with anyio.CancelScope(shield=True):
            await gateway.settle_stream(
                ticket,
                stream,
                prompt_tokens=prompt_tokens,
                completion_tokens=delivered,
                outcome="partial",
            )
        settled = True
        yield _data({"error": _error_payload(error)})
    finally:
        await _release(gateway, ticket, stream, prompt_tokens, delivered, settled=settled)


async def _release(
    gateway: Gateway,
    ticket: Ticket,
    stream: OpenStream,
    prompt_tokens: int,
    delivered: int,
    *,
    settled: bool,
) -> None:
    """Bill a stream the client left before it was settled, and close the upstream; shielded,
    because this runs while the client's cancellation unwinds the generator."""
    with anyio.CancelScope(shield=True):
        if not settled:
            await gateway.settle_stream(
                ticket,
                stream,
                prompt_tokens=prompt_tokens,
                completion_tokens=delivered,
                outcome="client_disconnected",
            )
        close = getattr(stream.rest, "aclose", None)
        if close is not None:
            await close()


def _event(payload: dict[str, Any]) -> bytes:
    return b"event: " + str(payload.get("type")).encode() + b"\n" + _data(payload)


async def responses_sse(
    gateway: Gateway,
    ticket: Ticket,
    stream: OpenStream,
    *,
    model: str | None,
    prompt_tokens: int,
) -> AsyncIterator[bytes]:
    stream.started = True
    delivered = 0
    settled = False
    sequence = -1
    try:
        item: dict[str, Any] | None = stream.first
        while item is not None:
            sequence = int(item.get("sequence_number", sequence + 1))
            response = item.get("response")
            if model is not None and isinstance(response, dict):
                response["model"] = model
            if item.get("type") in _TERMINAL:
                usage = (response or {}).get("usage") or {}
                await gateway.settle_stream(
                    ticket,
                    stream,
                    prompt_tokens=int(usage.get("input_tokens") or prompt_tokens),
                    completion_tokens=int(usage.get("output_tokens") or delivered),
                    outcome="ok" if item["type"] != "response.failed" else "partial",
                )
                settled = True
                yield _event(item)
                return
            if item.get("type") == "error":
                raise ProviderError("status", str(item.get("message", "upstream error")))
            delta = item.get("delta")
            if isinstance(delta, str):
                delivered += count_tokens(delta)
            yield _event(item)
            item = await anext(stream.rest, None)
        raise ProviderError("protocol", "the upstream stream ended without a terminal event")
    except Exception as exc:  # noqa: BLE001 - after the commit point every failure is in-stream
        error = (
            exc if isinstance(exc, ProviderError) else ProviderError("protocol", type(exc).__name__)
        )
        with anyio.CancelScope(shield=True):
            await gateway.settle_stream(
                ticket,
                stream,
                prompt_tokens=prompt_tokens,
                completion_tokens=delivered,
                outcome="partial",
            )
        settled = True
        payload = _error_payload(error)
        yield _event(
            {
                "type": "error",
                "code": payload["code"],
                "message": payload["message"],
                "param": None,
                "sequence_number": sequence + 1,
            }
        )
    finally:
        await _release(gateway, ticket, stream, prompt_tokens, delivered, settled=settled)


class RelayResponse(StreamingResponse):
    """An SSE response that is always settled, even if its relay never starts.

    A client that leaves between the commit point and the first body byte would otherwise
    leave the relay generator unstarted (its ``finally`` never runs) and the reservation held.
    """

    def __init__(
        self,
        events: Callable[[], AsyncIterator[bytes]],
        *,
        gateway: Gateway,
        ticket: Ticket,
        stream: OpenStream,
        prompt_tokens: int,
        headers: dict[str, str],
    ) -> None:
        super().__init__(events(), headers=headers, media_type="text/event-stream")
        self._gateway = gateway
        self._ticket = ticket
        self._stream = stream
        self._prompt_tokens = prompt_tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if not self._stream.started:
                with anyio.CancelScope(shield=True):
                    await self._gateway.settle_stream(
                        self._ticket,
                        self._stream,
                        prompt_tokens=self._prompt_tokens,
                        completion_tokens=0,
                        outcome="client_disconnected",
                    )
                    close = getattr(self._stream.rest, "aclose", None)
                    if close is not None:
                        await close()
