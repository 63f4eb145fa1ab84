"""The ``anthropic`` provider: chat completions and responses served by Anthropic's Messages API.

Each call is translated to ``POST {base_url}/v1/messages`` (``anthropic_request``; Responses
requests through ``anthropic_inputs``), sent with the provider's key in ``x-api-key`` and the
``anthropic-version`` header (Anthropic API reference, "Authentication" and "Versions"), and
its answer translated back: a Message by ``anthropic_response``, a stream's events one by one by
``anthropic_stream`` as they arrive (no buffering). One pooled ``httpx.AsyncClient`` per
provider, created on first use inside the serving event loop and closed by the app's lifespan.

Failures are :class:`ProviderError` as for every provider, so fallback and metering work as
they do for the others: connect errors and timeouts by kind; error statuses, and ``error``
events, as ``anthropic_errors`` maps them (a 429, a 529 or another 5xx before the first item
moves on to the next deployment); a stream that breaks off or sends what is not JSON is a
broken protocol. Other endpoints (embeddings, images, audio, videos) are refused: Anthropic
serves none of them.

Must not: log request bodies or keys.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Mapping
from typing import Any

import httpx

from reference_server.config import AnthropicProviderSettings
from reference_server.providers.anthropic_errors import error_from_body
from reference_server.providers.anthropic_request import MessagesRequest, messages_request
from reference_server.providers.anthropic_response import (
    chat_completion,
    read_message,
    response_object,
)
from reference_server.providers.anthropic_stream import ChatStream, ResponsesStream
from reference_server.providers.base import Call, ProviderError, Reply
from reference_server.providers.upstream_client import PooledUpstream

__all__ = ["AnthropicProvider"]

_PATH = "/v1/messages"


class AnthropicProvider(PooledUpstream):
    settings: AnthropicProviderSettings

    def __init__(self, settings: AnthropicProviderSettings) -> None:
        self.name = settings.name
        self.settings = settings

    def auth_headers(self) -> dict[str, str]:
        headers = {"anthropic-version": self.settings.anthropic_version}
        if self.settings.api_key:
            headers["x-api-key"] = self.settings.api_key
        return headers

    def _translate(self, call: Call, *, stream: bool) -> MessagesRequest:
        if call.endpoint not in ("chat", "responses"):
            raise ProviderError(
                "status",
                f"{call.model!r} is served by Anthropic's Messages API, which has no "
                f"{call.endpoint} endpoint; use a model made for it",
                status=400,
                error_type="invalid_request_error",
                code="model_not_supported",
                param="model",
            )
        return messages_request(
            call.endpoint,
            call.body,
            call.model,
            max_tokens=self.settings.max_tokens,
            prompt_caching=self.settings.prompt_caching,
            stream=stream,
        )

    def _request(self, call: Call, body: Mapping[str, Any]) -> httpx.Request:
        headers = {"x-request-id": f"req_{call.request_id}"} if call.request_id else {}
        return self.client.build_request("POST", _PATH, json=body, headers=headers)

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        try:
            response = await self.client.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            raise ProviderError(
                "timeout", f"{type(exc).__name__} calling {self.name}", status=504
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError("connect", f"{type(exc).__name__} calling {self.name}") from None
        if response.status_code >= 400:
            raw = await response.aread()
            await response.aclose()
            raise error_from_body(response.status_code, raw, response.headers.get("retry-after"))
        return response

    async def complete(self, call: Call) -> Reply:
        translated = self._translate(call, stream=False)
        response = await self._send(self._request(call, translated.body), stream=False)
        try:
            message = json.loads(response.content)
        except ValueError:
            raise ProviderError("protocol", f"{self.name} answered invalid JSON") from None
        turn = read_message(message, translated.json_tool)
        if call.endpoint == "responses":
            body = response_object(turn, call.body, rid=call.request_id, model=call.model)
        else:
            completion_id = f"chatcmpl-{call.request_id or turn.id}"
            body = chat_completion(turn, completion_id=completion_id, model=call.model)
        return Reply(
            "application/json",
            body=body,
            prompt_tokens=turn.usage.prompt,
            completion_tokens=turn.usage.output,
        )

    def stream(self, call: Call) -> AsyncIterator[dict[str, Any]]:
        stream = _MessagesStream()
        stream.items = self._items(call, stream)
        return stream

    async def _items(
        self, call: Call, stream: _MessagesStream
    ) -> AsyncGenerator[dict[str, Any], None]:
        translated = self._translate(call, stream=True)
        translator: ChatStream | ResponsesStream
        if call.endpoint == "responses":
            translator = ResponsesStream(
                call.body, rid=call.request_id, model=call.model, json_tool=translated.json_tool
            )
        else:
            options = call.body.get("stream_options")
            translator = ChatStream(
                completion_id=f"chatcmpl-{call.request_id}",
                model=call.model,
                json_tool=translated.json_tool,
                include_usage=bool(isinstance(options, Mapping) and options.get("include_usage")),
            )
        stream.translator = translator
        response = await self._send(self._request(call, translated.body), stream=True)
        try:
            async for event in _events(response, self.name):
                for item in translator.take(event):
                    yield item
            translator.finish()
        except httpx.TimeoutException as exc:
            raise ProviderError(
                "timeout", f"{type(exc).__name__} reading {self.name}", status=504
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError("connect", f"{type(exc).__name__} reading {self.name}") from None
        finally:
            await response.aclose()


class _MessagesStream:
    """The items of one translated stream, with the upstream's own count of the prompt once its
    ``message_start`` told it (``prompt_tokens``, as ``providers/base.py`` describes): a stream
    cut short is billed with what Anthropic counted, cache reads and writes included."""

    items: AsyncGenerator[dict[str, Any], None]
    translator: ChatStream | ResponsesStream | None = None

    @property
    def prompt_tokens(self) -> int | None:
        translator = self.translator
        return translator.usage.prompt if translator is not None and translator.started else None

    def __aiter__(self) -> _MessagesStream:
        return self

    def __anext__(self) -> Awaitable[dict[str, Any]]:
        return self.items.__anext__()

    async def aclose(self) -> None:
        await self.items.aclose()


async def _events(response: httpx.Response, name: str) -> AsyncIterator[dict[str, Any]]:
    """The JSON events of a server-sent event stream (WHATWG rules: ``data:`` lines joined,
    dispatched at a blank line; ``event:``, ``id:`` and comments need no reading, since every
    Anthropic event's data names its own ``type``)."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
            continue
        if line or not data:
            continue
        payload, data = "\n".join(data), []
        try:
            event = json.loads(payload)
        except ValueError:
            raise ProviderError("protocol", f"{name} sent a malformed stream event") from None
        if isinstance(event, dict):
            yield event
    if data:  # a last event without its blank line: the stream was cut
        raise ProviderError("protocol", f"{name} ended the stream inside an event")
