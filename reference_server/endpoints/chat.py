"""``POST /v1/chat/completions`` (JSON and SSE) and ``POST /v1/responses`` (JSON and SSE).

Must not: hold routing or billing rules (``gateway/``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from starlette.requests import Request
from starlette.responses import Response

from reference_server.config import ModelEntry
from reference_server.controls.base import Ticket
from reference_server.endpoints.http import (
    gateway_of,
    json_response,
    read_json,
    request_id,
    sse_headers,
)
from reference_server.errors import GatewayError
from reference_server.gateway.aliases import ABSENT, resolve
from reference_server.gateway.flow import Gateway, OpenStream
from reference_server.gateway.relay import RelayResponse, chat_sse, responses_sse
from reference_server.providers.base import Call
from reference_server.tokens import chat_prompt_tokens, responses_prompt_tokens
from reference_server.validation.chat import validate_chat, validate_responses

__all__ = ["chat_completions", "responses_create", "responses_retrieve"]


async def chat_completions(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await gateway.authenticate(request.headers.get("authorization"))
    body = await read_json(request)
    validate_chat(body)
    entry = resolve(gateway.settings, body.get("model", ABSENT), "chat")
    asked = body.get("model") or entry.name
    streaming = bool(body.get("stream"))
    prompt_tokens = chat_prompt_tokens(body)
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    rid = request_id(request)
    ticket = await gateway.admit(
        principal,
        request_id=rid,
        endpoint="chat",
        asked=asked,
        entry=entry,
        input_tokens=prompt_tokens,
        max_output_tokens=limit,
        streaming=streaming,
    )
    call = Call("chat", entry.name, body, None, rid, prompt_tokens)
    rename = asked if gateway.settings.server.response_model == "asked" else None
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def frames(stream: OpenStream) -> AsyncIterator[bytes]:
        return chat_sse(
            gateway,
            ticket,
            stream,
            model=rename,
            include_usage=include_usage,
            prompt_tokens=prompt_tokens,
        )

    return await _answer(
        gateway,
        ticket,
        entry,
        call,
        rename=rename,
        prompt_tokens=prompt_tokens,
        frames=frames if streaming else None,
    )


async def responses_create(request: Request) -> Response:
    gateway = gateway_of(request)
    principal = await gateway.authenticate(request.headers.get("authorization"))
    body = await read_json(request)
    validate_responses(body)
    entry = resolve(gateway.settings, body.get("model", ABSENT), "responses")
    asked = body.get("model") or entry.name
    streaming = bool(body.get("stream"))
    prompt_tokens = responses_prompt_tokens(body)
    rid = request_id(request)
    ticket = await gateway.admit(
        principal,
        request_id=rid,
        endpoint="responses",
        asked=asked,
        entry=entry,
        input_tokens=prompt_tokens,
        max_output_tokens=body.get("max_output_tokens"),
        streaming=streaming,
    )
    call = Call("responses", entry.name, body, None, rid)
    rename = asked if gateway.settings.server.response_model == "asked" else None

    def frames(stream: OpenStream) -> AsyncIterator[bytes]:
        return responses_sse(gateway, ticket, stream, model=rename, prompt_tokens=prompt_tokens)

    return await _answer(
        gateway,
        ticket,
        entry,
        call,
        rename=rename,
        prompt_tokens=prompt_tokens,
        frames=frames if streaming else None,
    )


async def _answer(
    gateway: Gateway,
    ticket: Ticket,
    entry: ModelEntry,
    call: Call,
    *,
    rename: str | None,
    prompt_tokens: int,
    frames: Callable[[OpenStream], AsyncIterator[bytes]] | None,
) -> Response:
    """Relay a stream through ``frames`` when the client asked for one, else answer once; both
    report ``rename`` (when set) as the model."""
    if frames is not None:
        stream = await gateway.open_stream(ticket, entry, call)
        headers = sse_headers(ticket.headers, {"x-parity-deployment": stream.deployment.name})
        return RelayResponse(
            lambda: frames(stream),
            gateway=gateway,
            ticket=ticket,
            stream=stream,
            prompt_tokens=prompt_tokens,
            headers=headers,
        )
    answer = await gateway.complete(ticket, entry, call)
    payload = dict(answer.reply.body or {})
    if rename is not None:
        payload["model"] = rename
    return json_response(payload, headers=answer.headers)


async def responses_retrieve(request: Request) -> Response:
    gateway = gateway_of(request)
    await gateway.authenticate(request.headers.get("authorization"))
    ident = request.path_params["response_id"]
    # Stateless gateway: responses are never stored (``store`` is reported as false).
    raise GatewayError(
        404,
        f"No response found with id {ident!r}: this gateway does not store responses.",
        param="response_id",
        code="not_found",
    )
