"""``create_app(settings)``: routes, lifespan state, the ASGI edge (request ids, body limit, errors).

The edge middleware is a plain ASGI callable (no ``BaseHTTPMiddleware``): it stamps every
response with ``x-request-id``, refuses bodies over ``server.max_body_bytes`` with 413 (by
Content-Length, and while the body streams in), and turns any failure into OpenAI's error
object: :class:`GatewayError` and :class:`ControlsError` with their status and headers,
anything else as a 500 without a traceback.

Must not: hold request logic (``endpoints/``, ``gateway.py``).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import time
from collections.abc import AsyncIterator, Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_server.circuit import CircuitBreakers
from reference_server.config import OpenAIProviderSettings, Settings, load_settings
from reference_server.controls import Controls, ControlsError
from reference_server.endpoints import chat, media, models, realtime
from reference_server.endpoints.http import REQUEST_ID_KEY, json_response
from reference_server.errors import GatewayError, error_body
from reference_server.gateway import Gateway
from reference_server.providers.base import Provider
from reference_server.providers.synthetic import SyntheticProvider
from reference_server.request_schemas import load_request_schemas

__all__ = ["build_providers", "create_app", "default_controls", "factory"]

# Young-generation GC threshold of a server process (CPython's default: 700); see create_app.
_GC_YOUNG = 10_000


def default_controls(settings: Settings) -> Controls:
    """The config's ``controls`` section: MeteredControls (keys, limits, budgets, ledger), or
    StaticControls (hashed keys only, nothing metered) with ``controls: {enabled: false}``."""
    from reference_server.controls_config import build_controls

    return build_controls(
        settings.controls,
        keys=[(k.id, k.owner, k.secret_sha256, k.scopes) for k in settings.keys],
        price=settings.price,
        is_alias=settings.is_alias,
    )


def build_providers(settings: Settings) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for name, spec in settings.providers.items():
        if isinstance(spec, OpenAIProviderSettings):
            from reference_server.providers.passthrough import OpenAIProvider

            providers[name] = OpenAIProvider(spec)
        else:
            providers[name] = SyntheticProvider(spec)
    return providers


# Request ids must be unique (the ledger's primary key), not secret (they name no capability).
# They lead with the time in milliseconds, as UUIDv7 does, so that ledger rows are inserted
# at the right edge of the primary-key B-tree: random keys dirtied one index page per row,
# which made SQLite write ~1.4 pages per settled request (load/bench_server.py, strace). The
# rest is a per-process counter from a random start (os.urandom, drawn again in every forked
# child): never repeated in a process, and two workers collide only if their 56-bit
# sequences meet in the same millisecond. No system call per request.
_ID_SEQUENCE_BITS = 56
_ID_SEQUENCE_MASK = (1 << _ID_SEQUENCE_BITS) - 1
_MS_MASK = (1 << 40) - 1  # ordering, not uniqueness: wrapping after 34 years is harmless


class _RequestIds:
    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self.start = int.from_bytes(os.urandom(7))
        self.counter = itertools.count()

    def next(self) -> str:
        sequence = (self.start + next(self.counter)) & _ID_SEQUENCE_MASK
        return f"{time.time_ns() // 1_000_000 & _MS_MASK:010x}{sequence:014x}"


_REQUEST_IDS = _RequestIds()
os.register_at_fork(after_in_child=_REQUEST_IDS.restart)


def _new_request_id() -> str:
    """24 hex digits (40 bits of milliseconds, 56 of sequence): ``x-request-id`` is ``req_`` + this."""
    return _REQUEST_IDS.next()


_HTTP_ERRORS = {
    404: ("not_found", "Unknown request URL: {method} {path}. Please check the URL for typos."),
    405: ("method_not_allowed", "Method {method} is not allowed for {path}."),
}


def _error_response(
    status: int,
    message: str,
    *,
    type: str,
    code: str | None,
    param: str | None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return json_response(error_body(message, type, param, code), status, headers)


class Edge:
    """Request ids, the body size limit, and errors as OpenAI error objects."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _new_request_id()
        scope[REQUEST_ID_KEY] = rid
        header = (b"x-request-id", b"req_" + rid.encode())
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                if declared is not None and declared > limit:
                    await self._too_large(scope, receive, send, header, declared)
                    return
        started = False
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge(seen, complete=not message.get("more_body", False))
            return message

        async def stamped_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        # With a Content-Length within the limit the server delivers no more than that many
        # bytes, so only bodies without one (chunked) need counting as they stream in.
        try:
            await self.app(
                scope, receive if declared is not None else limited_receive, stamped_send
            )
        except _BodyTooLarge as exc:
            if not started:
                await self._too_large(
                    scope, receive, send, header, exc.size, drain=not exc.complete
                )
        except Exception as exc:
            if started:
                raise
            response = _render(exc)
            await response(scope, receive, stamped_send)

    async def _too_large(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        header: tuple[bytes, bytes],
        size: int,
        *,
        drain: bool = True,
    ) -> None:
        response = _error_response(
            413,
            f"Request body too large: {size} bytes exceeds the limit of {self.max_body_bytes} bytes.",
            type="invalid_request_error",
            code="request_too_large",
            param=None,
            headers={"connection": "close"},
        )
        response.raw_headers.append(header)
        # Read (and drop) the rest of the body first: a client that sends its whole body before
        # reading would otherwise see a reset connection instead of the 413. Bounded.
        drained, cap = 0, max(_DRAIN_CAP, 4 * self.max_body_bytes)
        while drain and drained <= cap:
            message = await receive()
            if message["type"] != "http.request":
                break
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await response(scope, receive, send)


_DRAIN_CAP = 256 * 1024 * 1024


class _BodyTooLarge(Exception):
    def __init__(self, size: int, *, complete: bool) -> None:
        super().__init__(size)
        self.size = size
        self.complete = complete  # the last body message was already read


def _render(exc: Exception) -> Response:
    if isinstance(exc, GatewayError | ControlsError):
        return _error_response(
            exc.status,
            exc.message,
            type=exc.type,
            code=exc.code,
            param=exc.param,
            headers=exc.headers,
        )
    if isinstance(exc, HTTPException):
        return _error_response(
            exc.status_code,
            str(exc.detail),
            type="invalid_request_error",
            code=None,
            param=None,
            headers=exc.headers,
        )
    return _error_response(
        500,
        "The server had an error while processing your request.",
        type="server_error",
        code=None,
        param=None,
    )


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, template = _HTTP_ERRORS.get(exc.status_code, (None, str(exc.detail)))
    message = template.format(method=request.method, path=request.url.path)
    return _error_response(
        exc.status_code,
        message,
        type="invalid_request_error",
        code=code,
        param=None,
        headers=exc.headers,
    )


def routes() -> list[BaseRoute]:
    return [
        # The hot path first: routes are matched in order.
        Route("/v1/chat/completions", chat.chat_completions, methods=["POST"]),
        Route("/v1/models", models.list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", models.retrieve_model, methods=["GET"]),
        Route("/api/models", models.catalog, methods=["GET"]),
        Route("/v1/responses", chat.responses_create, methods=["POST"]),
        Route("/v1/responses/{response_id}", chat.responses_retrieve, methods=["GET"]),
        Route("/v1/embeddings", media.embeddings, methods=["POST"]),
        Route("/v1/images/generations", media.images_generations, methods=["POST"]),
        Route("/v1/images/files/{name}", media.image_file_get, methods=["GET"]),
        Route("/v1/audio/speech", media.speech, methods=["POST"]),
        Route("/v1/audio/transcriptions", media.transcriptions, methods=["POST"]),
        Route("/v1/videos", media.videos_create, methods=["POST"]),
        # parity's issue 2 names POST /v1/videos/generations; OpenAI's path is POST /v1/videos.
        Route("/v1/videos/generations", media.videos_create, methods=["POST"]),
        Route("/v1/videos/{video_id}", media.video_retrieve, methods=["GET"]),
        Route("/v1/videos/{video_id}/content", media.video_content, methods=["GET"]),
        WebSocketRoute("/v1/realtime", realtime.realtime),
    ]


def create_app(
    settings: Settings | None = None,
    *,
    controls: Controls | None = None,
    providers: Mapping[str, Provider] | None = None,
    extra_routes: list[BaseRoute] | None = None,
    tune_gc: bool = False,
) -> Starlette:
    """The reference gateway for ``settings`` (default: the embedded configuration).

    ``tune_gc``: for a server process that owns its interpreter (``factory``), not for an app
    built inside tests. Requests in flight together keep thousands of objects alive, which with
    CPython's default young-generation threshold (700 allocations) triggers a collection every
    few requests, and the full collections among them walk the whole start-up heap (modules,
    compiled request schemas, the catalog). So after start-up that heap is frozen out of the
    collector's reach (``gc.freeze``) and the young threshold is raised to ``_GC_YOUNG``, above
    what a few dozen concurrent requests hold; reference cycles are still collected, later.
    """
    settings = settings or load_settings()
    chosen_controls = controls if controls is not None else default_controls(settings)
    chosen_providers = dict(providers) if providers is not None else build_providers(settings)
    breakers = CircuitBreakers(
        settings.server.circuit_failure_threshold, settings.server.circuit_cooldown_s
    )
    gateway = Gateway(settings, chosen_controls, chosen_providers, breakers)

    from reference_server.metered import MeteredControls

    admin_routes: list[BaseRoute] = []
    if isinstance(chosen_controls, MeteredControls):
        from starlette.routing import Mount

        from reference_server.admin import admin_router

        admin_routes.append(Mount("/admin", app=admin_router(chosen_controls)))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Compile the request schemas before the first request, not during it (~80 ms once).
        load_request_schemas()
        if tune_gc:
            gc.collect()  # leave no garbage behind in the frozen generation
            gc.freeze()
            gc.set_threshold(_GC_YOUNG, *gc.get_threshold()[1:])
        try:
            yield
        finally:
            for provider in chosen_providers.values():
                await provider.aclose()
            if isinstance(chosen_controls, MeteredControls):
                await chosen_controls.close()

    app = Starlette(
        routes=[*routes(), *admin_routes, *(extra_routes or [])],
        exception_handlers={HTTPException: _http_exception},
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    app.state.settings = settings
    app.add_middleware(Edge, max_body_bytes=settings.server.max_body_bytes)
    return app


def factory() -> Starlette:
    """uvicorn ``--factory`` entry: reads ``PARITY_CONFIG`` (a file path) if set."""
    return create_app(load_settings(os.environ.get("PARITY_CONFIG") or None), tune_gc=True)
