"""The knobs of the fake OpenAI server and the app around the chat handler.

:func:`create_app` builds a Starlette app that is correct per OpenAI's API reference when
every knob has its default: bearer auth, ``GET /v1/models`` and ``/v1/models/{id}``, the error
object on every failure, ``x-request-id`` on every answer. Each knob bends one rule (broken
variants) or exercises one legal freedom (legal variants).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import ssl
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = [
    "API_KEY",
    "MODELS",
    "Knobs",
    "Switch",
    "cached_tls",
    "create_app",
    "error",
    "json_response",
]

API_KEY = "sk-fake-good"
MODELS = ("fake-chat", "org/fake-chat-2:beta")


@dataclass(frozen=True, slots=True)
class Knobs:
    """Defaults describe a correct server; see ``variants.py`` for what each knob breaks."""

    # wire and SSE framing (legal freedoms unless noted)
    sse_space: bool = True
    line_end: str = "\n"
    comments: bool = False
    event_ids: bool = False
    byte_writes: bool = False
    itl: float = 0.0
    gzip: bool = False
    connection_close: bool = False
    vendor_fields: bool = False
    model_category: str = "text"  # a gateway's own vocabulary in /v1/models is legal
    id_prefix: str = "chatcmpl-"
    tool_id_prefix: str = "call_"
    omit_usage_nulls: bool = False
    role_with_content: bool = False
    # SSE framing, broken
    buffered: float | None = None
    stream_content_type: str = "text/event-stream"
    non_json_event: bool = False
    no_done: bool = False
    after_done: bool = False
    ping_event: bool = False
    invalid_utf8: bool = False
    # stream semantics, broken
    stream_usage_status: int = 200
    chunk_object: str = "chat.completion.chunk"
    chunk_created_ms: bool = False
    chunk_id_per_chunk: bool = False
    first_role: bool = True
    finish_twice: bool = False
    usage_merged: bool = False
    usage_unasked: bool = False
    stream_error: bool = False
    tool_delta_repeat_id: bool = False
    tool_delta_repeat_type: bool = False  # unusual, tolerated by openai-python: a warning
    stream_tool_finish: str = "tool_calls"
    stream_prompt_skew: int = 0
    stream_role_first_choice_only: bool = False
    sse_on_accept: bool = False  # streams whenever the Accept header asks for SSE
    chunk_fingerprint_int: bool = False
    # non-stream, broken
    fail_basic: bool = False
    completion_content_type: str = "application/json"
    completion_object: str = "chat.completion"
    completion_created_ms: bool = False
    usage_total_off: int = 0
    flat_usage: bool = False  # usage 10/5/15 whatever was sent and written
    completion_fingerprint_int: bool = False
    ignore_max_tokens: bool = False
    ignore_max_completion_tokens: bool = False
    ignore_n: bool = False
    ignore_stop: bool = False
    reject_developer: bool = False
    reject_parts: bool = False
    reject_unknown_422: bool = False
    required_no_call: bool = False
    args_object: bool = False
    bad_arguments: str = ""  # "plain" or "strict": those functions' calls get cut-off JSON
    refuse_strict: bool = False  # a function with strict: true is answered with a 400
    tools_finish_stop: bool = False
    ignore_named: bool = False
    call_under_none: bool = False
    parallel_dup_ids: bool = False
    reject_tool_messages: bool = False
    json_fences: bool = False
    schema_missing_field: bool = False
    positive_logprob: bool = False
    # errors, broken
    auth_missing_ok: bool = False
    auth_invalid_ok: bool = False
    malformed_status: int = 400
    missing_status: int = 400
    wrong_type_status: int = 400
    range_check: bool = True
    unchecked_ranges: frozenset[str] = frozenset()  # parameters whose bounds go unchecked
    default_model: str | None = None  # serves requests without `model` (OpenAI requires it)
    unknown_model_status: int = 404
    stream_unknown_as_sse: bool = False
    oversize_html_500: bool = False
    oversize_early_close: bool = False
    error_detail_shape: bool = False
    auth_error_platform: bool = False  # 401s in a platform's own JSON shape
    request_id: bool = True
    max_body: int = 1_000_000
    # models, broken
    models_no_owned_by: bool = False
    models_created_ms: bool = False
    models_no_created: bool = False
    retrieve_404: bool = False
    unknown_retrieve_200: bool = False
    # free-form bends for tests of a check's other failure paths: each gets the JSON payload
    # about to be sent and returns the one to send instead
    mutate_completion: Callable[[dict[str, Any]], Any] | None = None
    mutate_models: Callable[[dict[str, Any]], Any] | None = None
    mutate_model: Callable[[dict[str, Any]], Any] | None = None
    # gets every JSON chunk of a stream (in order) and returns the chunks to send instead
    mutate_chunks: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    refuse_params: frozenset[str] = frozenset()  # request keys answered with a 400
    fixed_text: str | None = None  # every answer says this, whatever was asked


def _headers(knobs: Knobs) -> dict[str, str]:
    headers: dict[str, str] = {}
    if knobs.request_id:
        headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
    if knobs.connection_close:
        headers["connection"] = "close"
    return headers


def json_response(
    knobs: Knobs,
    request: Request,
    payload: Any,
    status: int = 200,
    media_type: str = "application/json",
) -> Response:
    body = json.dumps(payload).encode()
    headers = _headers(knobs)
    if knobs.gzip and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body)
        headers["content-encoding"] = "gzip"
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def error(
    knobs: Knobs,
    request: Request,
    status: int,
    message: str,
    type_: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    *,
    chat: bool = False,
) -> Response:
    """The OpenAI error object (``Error``: message, type, param, code)."""
    if chat and knobs.error_detail_shape:
        return json_response(knobs, request, {"detail": message}, status)
    payload: dict[str, Any] = {
        "error": {"message": message, "type": type_, "param": param, "code": code}
    }
    if knobs.vendor_fields:
        payload["error"]["x_vendor_trace"] = "abc"
        payload["x_vendor"] = {"region": "eu"}
    return json_response(knobs, request, payload, status)


def _model_entry(knobs: Knobs, model_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": model_id,
        "object": "model",
        "created": 1_700_000_000_000 if knobs.models_created_ms else 1_700_000_000,
        "owned_by": "fake",
        "category": knobs.model_category,
    }
    if knobs.models_no_owned_by:
        del entry["owned_by"]
    if knobs.models_no_created:
        del entry["created"]
    if knobs.vendor_fields:
        entry["x_vendor_context_window"] = 8192
    return entry


def _authorised(knobs: Knobs, request: Request) -> bool:
    auth = request.headers.get("authorization")
    if auth is None:
        return knobs.auth_missing_ok
    return auth == f"Bearer {API_KEY}" or knobs.auth_invalid_ok


def create_app(knobs: Knobs | None = None) -> Starlette:
    from tests.conformance.fakes.chat import chat_completion

    knobs = knobs or Knobs()

    async def list_models(request: Request) -> Response:
        if not _authorised(knobs, request):
            return error(knobs, request, 401, "Invalid API key.", code="invalid_api_key")
        payload: dict[str, Any] = {
            "object": "list",
            "data": [_model_entry(knobs, m) for m in MODELS],
        }
        if knobs.vendor_fields:
            payload["x_vendor"] = {"page": 1}
        if knobs.mutate_models is not None:
            return json_response(knobs, request, knobs.mutate_models(payload))
        return json_response(knobs, request, payload)

    async def retrieve_model(request: Request) -> Response:
        if not _authorised(knobs, request):
            return error(knobs, request, 401, "Invalid API key.", code="invalid_api_key")
        model_id = request.path_params["model"]
        if model_id in MODELS and not knobs.retrieve_404:
            entry: Any = _model_entry(knobs, model_id)
            if knobs.mutate_model is not None:
                entry = knobs.mutate_model(entry)
            return json_response(knobs, request, entry)
        if model_id not in MODELS and knobs.unknown_retrieve_200:
            return json_response(knobs, request, _model_entry(knobs, model_id))
        return error(
            knobs, request, 404, f"The model {model_id!r} does not exist", code="model_not_found"
        )

    async def chat(request: Request) -> Response:
        return await chat_completion(knobs, request)

    return Starlette(
        routes=[
            Route("/v1/models", list_models),
            Route("/v1/models/{model:path}", retrieve_model),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )


class Switch:
    """An ASGI app that forwards to the current variant, so one live server serves them all."""

    def __init__(self) -> None:
        self.app = create_app()

    def use(self, knobs: Knobs | None = None) -> None:
        self.app = create_app(knobs)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@contextlib.contextmanager
def cached_tls() -> Iterator[None]:
    """Build httpx's default TLS context once (it loads the CA bundle, ~80 ms, per client).

    The catalogue runs a fresh client per variant against plain-HTTP loopback servers; only
    the time changes, never a verdict.
    """
    import httpx._transports.default as transports

    made: dict[tuple[object, ...], ssl.SSLContext] = {}
    original = transports.create_ssl_context

    def create(
        verify: object = True, cert: object = None, trust_env: bool = True
    ) -> ssl.SSLContext:
        key = (verify, cert, trust_env)
        if key not in made:
            made[key] = original(verify=verify, cert=cert, trust_env=trust_env)  # type: ignore[arg-type]
        return made[key]

    transports.create_ssl_context = create  # type: ignore[assignment]
    try:
        yield
    finally:
        transports.create_ssl_context = original
