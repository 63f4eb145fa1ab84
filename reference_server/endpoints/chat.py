"""``POST /v1/chat/completions`` (JSON and SSE) and ``POST /v1/responses`` (JSON and SSE).

Each endpoint reads its request into a :class:`~reference_server.gateway.flow.Job`, hands it
to ``Gateway.serve``, and renders what comes back: the JSON answer, or the relayed stream as
server-sent events (``sse``).

Must not: hold routing or billing rules (``gateway/``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reference_server.endpoints.http import gateway_of, json_response, read_json, request_id
from reference_server.endpoints.sse import RelayResponse, chat_events, responses_events
from reference_server.errors import GatewayError
from reference_server.gateway.aliases import ABSENT
from reference_server.gateway.flow import Answer, Gateway, Job
from reference_server.gateway.relay import Relay
from reference_server.tokens import chat_prompt_tokens, responses_prompt_tokens
from reference_server.validation.chat import validate_chat, validate_responses

__all__ = ["chat_completions", "responses_create", "responses_retrieve"]


async def chat_completions(request: Request) -> Response:
    gateway = gateway_of(request)
    include_usage = False

    async def read() -> Job:
        nonlocal include_usage
        body = await read_json(request)
        validate_chat(body)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return Job(
            "chat",
            request_id(request),
            body.get("model", ABSENT),
            body,
            chat_prompt_tokens(body),
            body.get("max_completion_tokens", body.get("max_tokens")),
            bool(body.get("stream")),
        )

    served = await gateway.serve(request.headers.get("authorization"), read)
    model = _reported_model(gateway, served)
    if isinstance(served, Relay):
        return RelayResponse(served, chat_events(served, model=model, include_usage=include_usage))
    return _json(served, model)


async def responses_create(request: Request) -> Response:
    gateway = gateway_of(request)

    async def read() -> Job:
        body = await read_json(request)
        validate_responses(body)
        return Job(
            "responses",
            request_id(request),
            body.get("model", ABSENT),
            body,
            responses_prompt_tokens(body),
            body.get("max_output_tokens"),
            bool(body.get("stream")),
        )

    served = await gateway.serve(request.headers.get("authorization"), read)
    model = _reported_model(gateway, served)
    if isinstance(served, Relay):
        return RelayResponse(served, responses_events(served, model=model))
    return _json(served, model)


def _reported_model(gateway: Gateway, served: Answer | Relay) -> str | None:
    """The model name the answer reports: the one asked for (``server.response_model:
    asked``), or None to keep the upstream's (``resolved``)."""
    return served.model if gateway.settings.server.response_model == "asked" else None


def _json(answer: Answer, model: str | None) -> Response:
    payload = dict(answer.reply.body or {})
    if model is not None:
        payload["model"] = model
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
