"""The Anthropic-dialect upstream app: Anthropic's Messages API over HTTP, as its SDK expects it.

Routes (Anthropic API reference): ``POST /v1/messages`` (JSON, or server-sent events with
``stream: true``), ``POST /v1/messages/count_tokens``, ``GET /v1/models`` and
``GET /v1/models/{id}``. Every call needs the key, in ``x-api-key`` (as the SDK sends it) or as
``Authorization: Bearer``, else 401 ``authentication_error``; and an ``anthropic-version``
header ("Versions": a date, ``2023-06-01`` or later, or the older ``2023-01-01``; the SDK sends
the version it was built for), else 400. Every answer carries
a ``request-id`` header; every error is Anthropic's error object (``anthropic_errors.py``),
unknown paths included. Latency: with ``stream: true`` the first content delta comes
``ttft_ms`` after ``message_start`` and the next ones every ``itl_ms``; a non-stream answer
takes the same total time.

Must not: apply fault plans or keep the truth ledger (the fault injector around it does).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from reference_server.upstream.anthropic_cache import PromptCache
from reference_server.upstream.anthropic_errors import AnthropicError, error_object, invalid
from reference_server.upstream.anthropic_models import find_model, model_info, models_page
from reference_server.upstream.anthropic_requests import parse_messages_request
from reference_server.upstream.anthropic_stream import encode_event, stream_events
from reference_server.upstream.anthropic_synthesis import MessagePlan, message_body, plan_message
from reference_server.upstream.anthropic_tokens import input_tokens, prompt_units

__all__ = ["AnthropicAppSettings", "create_anthropic_app"]

_VERSION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_FIRST_VERSION = "2023-01-01"
_MAX_BODY = 32 * 1024 * 1024  # "Errors": 32 MB for the Messages API, else 413
_ALPHABET = string.ascii_letters + string.digits
_MAX_CALLS = 3


@dataclass(frozen=True, slots=True)
class AnthropicAppSettings:
    api_key_sha256: str
    ttft_ms: float = 0.0
    itl_ms: float = 0.0
    output_tokens: int = 24
    tokens_per_chunk: int = 1


def _ident(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def _request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if not isinstance(rid, str):
        rid = _ident("req_01")
        request.state.request_id = rid
    return rid


def _error(request: Request, status: int, message: str) -> JSONResponse:
    rid = _request_id(request)
    return JSONResponse(
        error_object(status, message, rid), status_code=status, headers={"request-id": rid}
    )


def create_anthropic_app(
    settings: AnthropicAppSettings, *, cache: PromptCache | None = None
) -> Starlette:
    prompt_cache = cache if cache is not None else PromptCache()

    def admit(request: Request) -> str:
        """The request id, once the key and the version header are right."""
        rid = _request_id(request)
        secret = request.headers.get("x-api-key")
        if secret is None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            secret = token.strip() if scheme.lower() == "bearer" else None
        if not secret:
            raise AnthropicError(401, "x-api-key header is required")
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if not hmac.compare_digest(digest, settings.api_key_sha256):
            raise AnthropicError(401, "invalid x-api-key")
        version = request.headers.get("anthropic-version")
        if version is None:
            raise invalid("anthropic-version: header is required")
        if not _VERSION.match(version) or version < _FIRST_VERSION:
            raise invalid(
                f"anthropic-version: {version!r} is not a valid version; expected a date "
                f"YYYY-MM-DD from {_FIRST_VERSION} on, such as '2023-06-01'"
            )
        return rid

    async def read_json(request: Request) -> Any:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > _MAX_BODY:
            raise AnthropicError(413, f"Request exceeds the maximum size of {_MAX_BODY} bytes")
        raw = await request.body()
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise invalid(f"The request body is not valid JSON: {exc}") from None

    async def pace(chunks: int) -> None:
        total = settings.ttft_ms + settings.itl_ms * max(chunks - 1, 0)
        if total > 0:
            await anyio.sleep(total / 1000)

    async def events(plan: MessagePlan) -> AsyncIterator[bytes]:
        # Content is due on a schedule (message_start + ttft, then every itl), not after a
        # sleep per event, so slow writes do not push every later delta late.
        started = anyio.current_time()
        due: float | None = None
        for event in stream_events(plan, settings.tokens_per_chunk):
            if event.content:
                due = (
                    started + settings.ttft_ms / 1000
                    if due is None
                    else due + settings.itl_ms / 1000
                )
                wait = due - anyio.current_time()
                if wait > 0:
                    await anyio.sleep(wait)
            yield encode_event(event)

    async def messages(request: Request) -> Response:
        rid = admit(request)
        checked = parse_messages_request(await read_json(request))
        usage = prompt_cache.admit(checked.model, prompt_units(checked.body))
        plan = plan_message(
            checked,
            message_id=_ident("msg_01"),
            tool_ids=[_ident("toolu_01") for _ in range(_MAX_CALLS)],
            output_tokens=settings.output_tokens,
            cache=usage,
        )
        headers = {"request-id": rid}
        if checked.stream:
            headers["cache-control"] = "no-cache"
            return StreamingResponse(events(plan), media_type="text/event-stream", headers=headers)
        per = settings.tokens_per_chunk
        await pace(sum(1 for e in stream_events(plan, per) if e.content))
        return JSONResponse(message_body(plan), headers=headers)

    async def count_tokens(request: Request) -> Response:
        rid = admit(request)
        body = await read_json(request)
        if isinstance(body, dict):
            for name in ("max_tokens", "stream", "stop_sequences"):
                if name in body:
                    raise invalid(f"{name}: Extra inputs are not permitted")
            body = {**body, "max_tokens": 1}
        checked = parse_messages_request(body)
        total = input_tokens(checked.body)
        return JSONResponse({"input_tokens": total}, headers={"request-id": rid})

    async def list_models(request: Request) -> Response:
        rid = admit(request)
        return JSONResponse(models_page(request.query_params), headers={"request-id": rid})

    async def get_model(request: Request) -> Response:
        rid = admit(request)
        name = request.path_params["model_id"]
        found = find_model(name)
        if found is None:
            raise AnthropicError(404, f"model: {name}")
        return JSONResponse(model_info(found), headers={"request-id": rid})

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AnthropicError)
        return _error(request, exc.status, exc.message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return _error(request, 404, f"Not found: {request.method} {request.url.path}")
        if exc.status_code == 405:
            return _error(request, 405, f"Method {request.method} is not allowed here")
        return _error(request, exc.status_code, str(exc.detail))

    async def crashed(request: Request, exc: Exception) -> Response:
        # An answer in Anthropic's shape, never a traceback; the server still logs the error.
        return _error(request, 500, "Internal server error")

    return Starlette(
        routes=[
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/v1/models/{model_id:path}", get_model, methods=["GET"]),
        ],
        exception_handlers={
            AnthropicError: refused,
            HTTPException: http_error,
            Exception: crashed,
        },
    )
