"""The model catalog as clients see it: health, and the two model listings.

- A model's health is its configured ``health_status``, else its deployments' circuits.
- ``GET /v1/models`` lists only models that are serving (health not ``unhealthy``);
  ``GET /api/models`` lists the whole catalog with prices, tags and health.

Must not: call providers or controls (``aliases`` resolves a request's model).
"""

from __future__ import annotations

from typing import Any

from reference_server.config import ModelEntry, Settings
from reference_server.gateway.circuit import CircuitBreakers, health_of

__all__ = [
    "health",
    "model_object",
    "models_list",
    "public_catalog",
]

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
