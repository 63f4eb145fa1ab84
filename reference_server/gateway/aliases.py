"""Alias resolution: the model a request names (or the default) -> its ordered deployments.

``resolve`` answers the :class:`~reference_server.config.ModelEntry` that serves a request:
404 ``model_not_found`` for an unknown name, 400 when the model's category does not serve the
endpoint, 503 when the catalog marks it unhealthy. An alias (``monday-*``) and a direct
vendor model ID resolve alike; their deployments are tried in order (``fallback``).

Must not: do I/O, call providers or controls, or read circuit state (``catalog`` reports health).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reference_server.config import ModelEntry, Settings
from reference_server.errors import GatewayError, invalid_request, model_not_found

__all__ = ["ABSENT", "CATEGORY_ENDPOINTS", "endpoints_of", "resolve"]

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
# The catalog page: "a model carrying audio_transcription is speech-to-text; otherwise it's
# text-to-speech" (spec/catalog.yaml, x-audio-transcription).
_TRANSCRIPTION_TAG = "audio_transcription"

_ABSENT: Any = object()
ABSENT = _ABSENT  # the request did not send the key (distinct from an explicit null)


def endpoints_of(entry: ModelEntry) -> tuple[str, ...]:
    """The endpoints ``entry`` serves: by its category, and an audio model by its tags."""
    return tuple(
        endpoint
        for endpoint, categories in CATEGORY_ENDPOINTS.items()
        if entry.category in categories and _audio_direction_serves(entry, endpoint)
    )


def resolve(settings: Settings, model: Any, endpoint: str) -> ModelEntry:
    """``model``: the request's value, or ``aliases.ABSENT`` when the key was not sent."""
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
    if entry.category in categories and not _audio_direction_serves(entry, endpoint):
        if endpoint == "speech":
            direction = (
                f"speech-to-text (tagged {_TRANSCRIPTION_TAG!r}): call /v1/audio/transcriptions"
            )
        else:
            direction = f"text-to-speech (not tagged {_TRANSCRIPTION_TAG!r}): call /v1/audio/speech"
        raise invalid_request(
            f"The model {model!r} is {direction}.", "model", "model_not_supported"
        )
    if entry.category not in categories:
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


def _audio_direction_serves(entry: ModelEntry, endpoint: str) -> bool:
    """An audio model serves one direction: transcriptions when tagged, else speech."""
    if endpoint not in ("speech", "transcriptions"):
        return True
    return (_TRANSCRIPTION_TAG in entry.supports) == (endpoint == "transcriptions")
