"""A fake OpenAI-compatible gateway for the breadth checks, written from OpenAI's API reference.

Serves embeddings, images, speech, transcriptions, videos, responses, realtime, a small chat
endpoint (for the profile checks and the SDK oracle), ``/v1/models`` and a public catalog,
like a monday-style gateway: aliases, a default model, a credits header, rate-limit headers and
a budget-exhausted key. Independent of ``reference_server`` (never import it).

One live server serves every variant: the first path segment names it, so the base URL of a
variant is ``{origin}/{variant}/v1``. A variant is ``ok`` or ``+``-joined knob names: broken
knobs (``BREAKS``) each bend one rule; quirks (``QUIRKS``) exercise a legal freedom.
"""

from __future__ import annotations

import functools
import gzip
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

__all__ = [
    "API_KEY",
    "CHAT_CATEGORIES",
    "EXHAUSTED_KEY",
    "MODELS",
    "QUIRKS",
    "BreadthKnobs",
    "create_breadth_app",
    "error",
    "respond",
    "serves",
]

API_KEY = "sk-fake-breadth"
EXHAUSTED_KEY = "sk-fake-exhausted"
CREATED = 1_750_000_000
# id -> (category, supports), in the catalog page's vocabulary: an audio model is
# speech-to-text exactly when tagged `audio_transcription`.
CATALOG: dict[str, tuple[str, tuple[str, ...]]] = {
    "monday-fast": ("text", ("chat", "streaming", "tool_use")),
    "monday-standard": ("text", ("chat", "streaming", "tool_use", "vision")),
    "monday-powerful": ("reasoning", ("chat", "streaming", "tool_use", "reasoning")),
    "fake-chat": ("text", ("chat", "responses", "streaming", "tool_use")),
    "fake-embed": ("embedding", ("embeddings",)),
    "fake-image": ("image", ()),
    "fake-tts": ("audio", ()),
    "fake-whisper": ("audio", ("audio_transcription",)),
    # the spec documents json as its only response_format
    "gpt-4o-mini-transcribe": ("audio", ("audio_transcription",)),
    "fake-video": ("video", ()),
    "fake-realtime": ("realtime", ()),
}
CHAT_CATEGORIES = frozenset({"text", "code", "reasoning", "multimodal", "vision"})
MODELS: dict[str, str] = {
    "chat": "fake-chat",
    "responses": "fake-chat",
    "embedding": "fake-embed",
    "image": "fake-image",
    "speech": "fake-tts",
    "transcription": "fake-whisper",
    "video": "fake-video",
    "realtime": "fake-realtime",
}
DEFAULT_MODEL = "monday-standard"
QUIRKS = frozenset(
    {
        "vendor_fields",  # extra vendor fields on every JSON object
        "gzip",  # gzip-encoded JSON when the client accepts it
        "unusual_ids",  # ids with unusual prefixes and characters
        "conn_close",  # Connection: close on every answer
        "sse_no_space",  # `data:{...}` without the space
        "sse_comments",  # `: keep-alive` comment lines between events
        "sse_crlf",  # CRLF line endings
        "split_writes",  # every SSE write split into 5-byte pieces
        "octet_stream",  # speech and video bodies as application/octet-stream
        "resolved_model",  # answers carry the resolved model, not the alias asked for
        "handshake_401",  # realtime bad key: refused at the handshake, not by an error event
        "extra_events",  # realtime and responses streams carry extra (legal) event types
        "cr_vtt_hours",  # vtt cue times with hours, srt with CRLF
        "url_images",  # images by url when no response_format is given
        "catalog_quirks",  # the catalog's legal freedoms (slugs, extra tags, an unserved model)
    }
)


@dataclass(frozen=True, slots=True)
class BreadthKnobs:
    """The variant's broken knobs and legal quirks (both by name)."""

    breaks: frozenset[str] = frozenset()
    quirks: frozenset[str] = frozenset()

    def broken(self, name: str) -> bool:
        return name in self.breaks

    def quirk(self, name: str) -> bool:
        return name in self.quirks


@functools.cache
def knobs_for(variant: str) -> BreadthKnobs:
    names = frozenset() if variant == "ok" else frozenset(variant.split("+"))
    return BreadthKnobs(breaks=names - QUIRKS, quirks=names & QUIRKS)


def serves(model: object, endpoint: str) -> bool:
    """Whether the fake serves ``model`` at ``endpoint`` (``chat``, ``speech``,
    ``transcriptions``): chat families at chat; audio models by direction."""
    category, supports = CATALOG.get(model, ("", ())) if isinstance(model, str) else ("", ())
    if endpoint == "chat":
        return category in CHAT_CATEGORIES
    heard = "audio_transcription" in supports
    return category == "audio" and heard == (endpoint == "transcriptions")


def new_id(knobs: BreadthKnobs, prefix: str) -> str:
    if knobs.quirk("unusual_ids"):
        return f"{prefix.upper()}-{uuid.uuid4().hex[:10]}:x.1"
    return f"{prefix}_{uuid.uuid4().hex}"


def _vendor(payload: Any) -> Any:
    if isinstance(payload, dict):
        out = {k: _vendor(v) for k, v in payload.items()}
        out["x_vendor_note"] = "legal extra field"
        return out
    if isinstance(payload, list):
        return [_vendor(v) for v in payload]
    return payload


def base_headers(knobs: BreadthKnobs) -> dict[str, str]:
    headers = {"x-request-id": f"req_{uuid.uuid4().hex}"}
    if knobs.quirk("conn_close"):
        headers["connection"] = "close"
    return headers


def respond(
    knobs: BreadthKnobs,
    request: Request,
    payload: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON answer with the variant's quirks (vendor fields, gzip, Connection: close)."""
    if knobs.quirk("vendor_fields"):
        payload = _vendor(payload)
    body = json.dumps(payload).encode()
    all_headers = base_headers(knobs) | (headers or {})
    if knobs.quirk("gzip") and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body)
        all_headers["content-encoding"] = "gzip"
    return Response(body, status, all_headers, media_type="application/json")


def error(
    knobs: BreadthKnobs,
    request: Request,
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    type_: str = "invalid_request_error",
) -> Response:
    """OpenAI's error object (ErrorResponse); ``embeddings_error_detail`` answers errors of
    the embeddings endpoint in a framework's ``{"detail": ...}`` shape instead."""
    payload: dict[str, Any] = {
        "error": {"message": message, "type": type_, "param": param, "code": code}
    }
    if knobs.broken("embeddings_error_detail") and request.url.path.endswith("/embeddings"):
        payload = {"detail": message}
    return respond(knobs, request, payload, status)


def metering_headers(prompt: int, completion: int) -> dict[str, str]:
    """A monday-style credits header and OpenAI's x-ratelimit-* set."""
    credits = (prompt * 0.5 + completion * 1.5) / 1000
    return {
        "x-monday-credits-used": f"{credits:.6f}",
        "x-ratelimit-limit-requests": "1000",
        "x-ratelimit-remaining-requests": "999",
        "x-ratelimit-reset-requests": "60ms",
    }


Handler = Callable[[BreadthKnobs, Request], Awaitable[Response]]


def guarded(handler: Handler, *, public: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Auth (bearer key; the exhausted key gets 429 insufficient_quota), then the handler."""

    async def endpoint(request: Request) -> Response:
        knobs = knobs_for(request.path_params["variant"])
        if not public:
            auth = request.headers.get("authorization", "")
            if auth == f"Bearer {EXHAUSTED_KEY}" and request.method == "POST":
                if not knobs.broken("exhausted_not_429"):
                    return error(
                        knobs,
                        request,
                        429,
                        "You exceeded your current quota.",
                        type_="insufficient_quota",
                        code="insufficient_quota",
                    )
            elif auth != f"Bearer {API_KEY}":
                return error(knobs, request, 401, "Invalid API key.", code="invalid_api_key")
        return await handler(knobs, request)

    return endpoint


async def list_models(knobs: BreadthKnobs, request: Request) -> Response:
    data = [
        {"id": m, "object": "model", "created": CREATED, "owned_by": "fake", "category": c}
        for m, (c, _) in CATALOG.items()
        if not (knobs.broken("alias_unlisted") and m == "monday-powerful")
        and not (knobs.broken("sdk_models") and "x-stainless-lang" in request.headers)
    ]
    if knobs.broken("catalog_v1_no_category"):
        data = [{k: v for k, v in m.items() if k != "category"} for m in data]
    return respond(knobs, request, {"object": "list", "data": data})


async def retrieve_model(knobs: BreadthKnobs, request: Request) -> Response:
    model = request.path_params["model"]
    if model not in CATALOG:
        return error(knobs, request, 404, f"The model {model!r} does not exist.", param="model")
    category = CATALOG[model][0]
    payload = {"id": model, "object": "model", "created": CREATED, "owned_by": "fake"}
    return respond(knobs, request, payload | {"category": category})


def _catalog_entry(knobs: BreadthKnobs, model: str, listed: str, tags: tuple[str, ...]) -> Any:
    """One model object exactly as the catalog page documents it."""
    supports = list(tags)
    if knobs.broken("catalog_tools_tag") and model == "fake-chat":
        supports = [("tools" if s == "tool_use" else s) for s in supports]
    if knobs.broken("catalog_whisper_untagged") and model == "fake-whisper":
        supports = []
    if knobs.broken("catalog_transcription_tag") and model == "fake-whisper":
        supports = ["transcription"]
    if knobs.broken("catalog_reasoning_untagged") and model == "monday-powerful":
        supports.remove("reasoning")
    mismatch = knobs.broken("catalog_category_mismatch") and model == "fake-embed"
    entry: dict[str, Any] = {
        "model_name": model,
        "slug": model,
        "category": "text" if mismatch else listed,
        "supports": supports,
        "input_per_mtok": 1.0,
        "output_per_mtok": 2.0,
        "health_status": "healthy",
    }
    if knobs.broken("catalog_slug_swapped"):  # the display name where the API form belongs
        entry["model_name"] = model.replace("-", " ").title()
    if knobs.broken("catalog_schema"):
        entry["input_per_mtok"] = "one dollar"
    if knobs.quirk("catalog_quirks"):
        # Legal: slugs unlike the ids, tags of the gateway's own, a health word the page does
        # not define, a price by the character.
        entry["slug"] = f"{model.replace('-', '_')}-v1"
        entry["supports"] = [*supports, "json_mode", "x_vendor_badge"]
        if model == "fake-embed":
            entry["health_status"] = "operational"
        if model == "fake-tts":
            entry |= {"input_per_mtok": 0, "output_per_mtok": 0, "per_character": 0.000015}
    return entry


def catalog_payload(knobs: BreadthKnobs) -> Any:
    """``GET /api/models``: a bare JSON array of every model (the catalog page)."""
    data = [_catalog_entry(knobs, m, c, tags) for m, (c, tags) in CATALOG.items()]
    if knobs.broken("catalog_route"):
        ghost = _catalog_entry(knobs, "ghost-embed", "embedding", ("embeddings",))
        data.insert(0, ghost)
    if knobs.quirk("catalog_quirks"):
        # Legal: the page's catalog lists every model "whether or not it's currently serving".
        retired = _catalog_entry(knobs, "fake-retired", "text", ("chat",))
        data.append(retired | {"health_status": "unhealthy"})
    if knobs.broken("catalog_object_list"):  # OpenAI's list shape instead of the page's array
        return {"object": "list", "data": data}
    return data


def create_breadth_app(catalog_variant: str = "ok") -> Starlette:
    """The fake: every variant under ``/{variant}/v1``; the catalog (``/api/models``) is that of
    ``catalog_variant`` (a catalog-breaking variant needs its own server)."""
    from tests.conformance.fakes.breadth_text import chat, embeddings, responses
    from tests.conformance.fakes.media_fake import (
        download_image,
        images,
        speech,
        transcriptions,
        video_content,
        video_create,
        video_retrieve,
    )
    from tests.conformance.fakes.realtime_fake import realtime

    catalog_knobs = knobs_for(catalog_variant)

    async def listing(knobs: BreadthKnobs, request: Request) -> Response:
        # A catalog variant may also bend /v1/models (the `category` it carries).
        merged = BreadthKnobs(knobs.breaks | catalog_knobs.breaks, knobs.quirks)
        return await list_models(merged, request)

    async def catalog(request: Request) -> Response:
        knobs = catalog_knobs
        if knobs.broken("catalog_absent"):
            return Response("Not Found", 404, media_type="text/plain")
        if knobs.broken("catalog_private") and "authorization" not in request.headers:
            return error(knobs, request, 401, "Authentication required.")
        return respond(knobs, request, catalog_payload(knobs))

    prefix = "/{variant}/v1"
    routes = [
        Route("/api/models", catalog),
        Route(f"{prefix}/models", guarded(listing)),
        Route(f"{prefix}/models/{{model:path}}", guarded(retrieve_model)),
        Route(f"{prefix}/chat/completions", guarded(chat), methods=["POST"]),
        Route(f"{prefix}/embeddings", guarded(embeddings), methods=["POST"]),
        Route(f"{prefix}/responses", guarded(responses), methods=["POST"]),
        Route(f"{prefix}/images/generations", guarded(images), methods=["POST"]),
        Route("/{variant}/files/{name}", guarded(download_image, public=True)),
        Route(f"{prefix}/audio/speech", guarded(speech), methods=["POST"]),
        Route(f"{prefix}/audio/transcriptions", guarded(transcriptions), methods=["POST"]),
        Route(f"{prefix}/videos", guarded(video_create), methods=["POST"]),
        Route(f"{prefix}/videos/generations", guarded(video_create), methods=["POST"]),
        Route(f"{prefix}/videos/{{video_id}}", guarded(video_retrieve)),
        Route(f"{prefix}/videos/{{video_id}}/content", guarded(video_content)),
        WebSocketRoute(f"{prefix}/realtime", realtime),
    ]
    return Starlette(routes=routes)
