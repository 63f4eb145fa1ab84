"""The model catalog as clients see it: alias resolution, health, and the two model listings.

- ``resolve``: the model asked for (or the default when omitted) -> its :class:`ModelEntry`
  (ordered deployments); 404 ``model_not_found`` for an unknown name, 400 when the model's
  category does not serve the endpoint.
- ``GET /v1/models`` lists only models that are serving (health not ``unhealthy``);
  ``GET /api/models`` lists the whole catalog with prices, tags and health.

Must not: call providers or controls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reference_server.circuit import CircuitBreakers, health_of
from reference_server.config import ModelEntry, Settings
from reference_server.errors import GatewayError, invalid_request, model_not_found

__all__ = [
    "ABSENT",
    "CATEGORY_ENDPOINTS",
    "health",
    "model_object",
    "models_list",
    "public_catalog",
    "resolve",
]

_CHAT = ("text", "code", "reasoning", "multimodal", "vision")
# Which categories an endpoint serves (spec/catalog.yaml documents the same table).
CATEGORY_ENDPOINTS: Mapping[str, tuple[str, ...]] = {
    "chat": _CHAT,
    "responses": _CHAT,
    "embeddings": ("embedding",),
    "images": ("image",),
    "speech": ("audio",),
    "transcriptions": ("audio",),
    "videos": ("video",),
    "realtime": ("realtime",),
}
_AUDIO_TAGS = {
    "speech": ("speech", "audio_speech"),
    "transcriptions": ("transcription", "audio_transcription"),
}
_ALL_AUDIO_TAGS = frozenset(t for values in _AUDIO_TAGS.values() for t in values)
_OWNER_BY_PREFIX = (
    ("claude", "anthropic"),
    ("monday", "monday"),
    ("gpt", "openai"),
    ("text-embedding", "openai"),
    ("dall-e", "openai"),
    ("tts", "openai"),
    ("whisper", "openai"),
    ("sora", "openai"),
)
_CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z: a stable creation time for catalog entries


def health(entry: ModelEntry, breakers: CircuitBreakers) -> str:
    if entry.health_status is not None:
        return entry.health_status
    return health_of(breakers.state(d.name) for d in entry.deployments)


_ABSENT: Any = object()
ABSENT = _ABSENT  # the request did not send the key (distinct from an explicit null)


def resolve(settings: Settings, model: Any, endpoint: str) -> ModelEntry:
    """``model``: the request's value, or ``catalog.ABSENT`` when the key was not sent."""
    if model is _ABSENT and endpoint in ("chat", "responses"):
        model = settings.default_model  # monday: monday-standard serves when `model` is omitted
    if model is _ABSENT or model is None:
        raise invalid_request(
            "Missing required parameter: 'model'.", "model", "missing_required_parameter"
        )
    if not isinstance(model, str):
        raise invalid_request(
            f"Invalid type for 'model': expected a string, but got {model!r:.60}.",
            "model",
            "invalid_type",
        )
    entry = settings.model(model)
    if entry is None:
        raise model_not_found(model)
    categories = CATEGORY_ENDPOINTS[endpoint]
    tags = _AUDIO_TAGS.get(endpoint)
    # An audio model serves speech / transcriptions by its supports[] tags; with neither tag
    # it serves both (spec/catalog.yaml, x-audio-supports-endpoints).
    audio_tags = _ALL_AUDIO_TAGS.intersection(entry.supports) if tags is not None else None
    if entry.category not in categories or (audio_tags and not audio_tags.intersection(tags or ())):
        raise invalid_request(
            f"The model {model!r} (category {entry.category!r}) does not serve the {endpoint} endpoint; "
            f"use a model of category {', '.join(repr(c) for c in categories)}.",
            "model",
            "model_not_supported",
        )
    if entry.health_status == "unhealthy":
        raise GatewayError(
            503,
            f"The model {model!r} is currently unavailable.",
            type="server_error",
            code="model_unavailable",
            headers={"retry-after": "10"},
        )
    return entry


def _owner(name: str) -> str:
    for prefix, owner in _OWNER_BY_PREFIX:
        if name.startswith(prefix):
            return owner
    return "parity"


def model_object(entry: ModelEntry) -> dict[str, Any]:
    return {
        "id": entry.name,
        "object": "model",
        "created": _CREATED,
        "owned_by": _owner(entry.name),
        "category": entry.category,
    }


def models_list(settings: Settings, breakers: CircuitBreakers) -> dict[str, Any]:
    data = [model_object(e) for e in settings.models if health(e, breakers) != "unhealthy"]
    return {"object": "list", "data": data}


def public_catalog(settings: Settings, breakers: CircuitBreakers) -> dict[str, Any]:
    data = []
    for entry in settings.models:
        data.append(
            {
                "model_name": entry.name,
                "slug": entry.name,
                "category": entry.category,
                "supports": list(entry.supports),
                "input_per_mtok": entry.input_per_mtok,
                "output_per_mtok": entry.output_per_mtok,
                "health_status": health(entry, breakers),
                "alias": entry.alias,
                "default": entry.name == settings.default_model,
            }
        )
    return {"object": "list", "data": data}
