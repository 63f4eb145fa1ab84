"""``create_app(settings)``: the routes, the lifespan, and the pieces wired together.

It builds the providers and the controls the config names, the :class:`Gateway` that runs the
request flow over them, mounts the admin API when the controls keep keys, and wraps the app in
the ASGI :class:`~reference_server.edge.Edge` (request ids, body limit, error objects).

Must not: hold request logic (``endpoints/``, ``gateway/``) or render errors (``edge``).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import AsyncIterator, Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Route, WebSocketRoute

from reference_server.config import (
    AnthropicProviderSettings,
    OpenAIProviderSettings,
    Settings,
    load_settings,
)
from reference_server.controls.base import Controls
from reference_server.edge import Edge, http_exception
from reference_server.endpoints import chat, media, models, realtime
from reference_server.endpoints.admin import admin_mount
from reference_server.gateway.circuit import CircuitBreakers
from reference_server.gateway.flow import Gateway
from reference_server.providers.base import Provider
from reference_server.providers.synthetic import SyntheticProvider
from reference_server.validation.schemas import load_request_schemas

__all__ = ["build_providers", "create_app", "default_controls", "factory"]

# Young-generation GC threshold of a server process (CPython's default: 700); see create_app.
_GC_YOUNG = 10_000


def default_controls(settings: Settings) -> Controls:
    """The config's ``controls`` section: MeteredControls (keys, limits, budgets, ledger), or
    StaticControls (hashed keys only, nothing metered) with ``controls: {enabled: false}``."""
    from reference_server.controls.config import build_controls
    from reference_server.gateway.pricing import require_prices

    if settings.controls.get("enabled", True) is not False:
        require_prices(settings)  # no model is free by accident
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
        elif isinstance(spec, AnthropicProviderSettings):
            from reference_server.providers.anthropic import AnthropicProvider

            providers[name] = AnthropicProvider(spec)
        else:
            providers[name] = SyntheticProvider(spec)
    return providers


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
        # OpenAI's path is POST /v1/videos; /v1/videos/generations is parity's alias of it
        # (spec/PROVENANCE.md, "Deliberate differences", item 1: the video job path).
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
            await chosen_controls.aclose()

    app = Starlette(
        routes=[*routes(), *admin_mount(chosen_controls), *(extra_routes or [])],
        exception_handlers={HTTPException: http_exception},
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    app.state.settings = settings
    app.add_middleware(Edge, max_body_bytes=settings.server.max_body_bytes)
    return app


def factory() -> Starlette:
    """uvicorn ``--factory`` entry: reads ``PARITY_CONFIG`` (a file path) if set."""
    return create_app(load_settings(os.environ.get("PARITY_CONFIG") or None), tune_gc=True)
