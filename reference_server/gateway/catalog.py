"""The model catalog as clients see it: health, and the two model listings.

- A model's health is its configured ``health_status``, else its deployments' circuits.
- ``GET /v1/models`` lists only models that are serving (health not ``unhealthy``), in OpenAI's
  ListModelsResponse shape, each Model with its ``category``.
- ``GET /api/models`` is the catalog page's contract (``spec/catalog.yaml``): a bare JSON array
  of every model, serving or not, with exactly the page's fields (``model_name`` the API form,
  ``slug`` the dashboard URL form, ``category``, ``supports``, per-token prices,
  ``health_status``) plus the price of a model priced by another unit, named by that unit.

Must not: call providers or controls (``aliases`` resolves a request's model).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reference_server.config import ModelEntry, Settings
from reference_server.gateway.circuit import CircuitBreakers, health_of

__all__ = [
    "health",
    "model_object",
    "models_list",
    "public_catalog",
    "slug_of",
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
_NOT_IN_SLUG = re.compile(r"[^a-z0-9]+")


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


def slug_of(name: str) -> str:
    """The dashboard URL form of a model name: lowercase, runs of other characters as one ``-``
    (``gpt-4.1`` -> ``gpt-4-1``). Only ``model_name`` is ever an API model id."""
    return _NOT_IN_SLUG.sub("-", name.lower()).strip("-") or "model"


def _listed_image_price(sizes: Mapping[str, float] | None) -> float | None:
    """The catalog lists one price per image: what a request naming no size pays (``auto``'s,
    else the highest listed, as metering charges an unlisted size)."""
    if not sizes:
        return None
    return sizes.get("auto", max(sizes.values()))


def public_catalog(settings: Settings, breakers: CircuitBreakers) -> list[dict[str, Any]]:
    catalog = []
    for entry in settings.models:
        item: dict[str, Any] = {
            "model_name": entry.name,
            "slug": slug_of(entry.name),
            "category": entry.category,
            "supports": list(entry.supports),
            "input_per_mtok": entry.input_per_mtok,
            "output_per_mtok": entry.output_per_mtok,
            "health_status": health(entry, breakers),
        }
        prices = entry.prices
        for unit, price in (
            ("per_character", prices.per_character),
            ("per_second", prices.per_second),
            ("per_image", _listed_image_price(prices.per_image)),
        ):
            if price is not None:
                item[unit] = price
        catalog.append(item)
    return catalog
