"""Which model serves which capability: read from the target's model listings.

Owns the pure rules that turn ``GET /v1/models`` (each entry's ``category``, a documented
extension) and the public catalog ``GET /api/models`` (``supports[]``, ``category``, prices,
``health_status``) into one model per capability, falling back to what OpenAI's own model ids
say (``text-embedding-*``, ``whisper-*``, ``tts-*``...). Between several candidates it prefers
a healthy model, one that supports tools and streaming (for chat), then the cheapest, then the
listing order.

Must not: perform I/O (the run's session fetches the listings and hands the parsed JSON here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.vocabulary import CAPABILITIES, Capability

__all__ = ["ModelInfo", "capabilities_of", "choose_models", "parse_listings"]

# spec/catalog.yaml, category -> endpoint table: text, code, reasoning, multimodal and vision
# models serve chat completions (and Responses); embedding -> embeddings; image -> images;
# audio -> speech or transcriptions (told apart by supports[]); video -> videos.
_CATEGORY: dict[str, tuple[Capability, ...]] = {
    "text": ("chat", "responses"),
    "code": ("chat", "responses"),
    "reasoning": ("chat", "responses"),
    "multimodal": ("chat", "responses"),
    "vision": ("chat", "responses"),
    "chat": ("chat", "responses"),
    "embedding": ("embedding",),
    "embeddings": ("embedding",),
    "image": ("image",),
    "audio": ("speech", "transcription"),
    "video": ("video",),
    "realtime": ("realtime",),
}
# supports[] entries (and common spellings of them) -> capability.
_SUPPORTS: dict[str, Capability] = {
    "chat": "chat",
    "chat_completions": "chat",
    "embeddings": "embedding",
    "embedding": "embedding",
    "image_generation": "image",
    "images": "image",
    "image": "image",
    "audio_speech": "speech",
    "speech": "speech",
    "text_to_speech": "speech",
    "tts": "speech",
    "audio_transcription": "transcription",
    "transcription": "transcription",
    "transcriptions": "transcription",
    "speech_to_text": "transcription",
    "video_generation": "video",
    "video": "video",
    "videos": "video",
    "responses": "responses",
    "realtime": "realtime",
}
# OpenAI model-id families (https://platform.openai.com/docs/models), most specific first.
_ID_HINTS: tuple[tuple[str, tuple[Capability, ...]], ...] = (
    ("realtime", ("realtime",)),
    ("embedding", ("embedding",)),
    ("embed", ("embedding",)),
    ("whisper", ("transcription",)),
    ("transcribe", ("transcription",)),
    ("tts", ("speech",)),
    ("dall-e", ("image",)),
    ("gpt-image", ("image",)),
    ("image", ("image",)),
    ("sora", ("video",)),
    ("video", ("video",)),
)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the listings say about one model id."""

    id: str
    order: int
    category: str | None = None
    supports: tuple[str, ...] | None = None
    price: float | None = None
    healthy: bool = True


def _entries(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, dict):
        for key in ("data", "models", "items"):
            if isinstance(payload.get(key), list):
                payload = payload[key]
                break
    if not isinstance(payload, list):
        return []
    return [entry for entry in payload if isinstance(entry, dict)]


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def parse_listings(models: Any, catalog: Any = None) -> list[ModelInfo]:
    """Join ``/v1/models`` entries (by ``id``) with catalog entries (by ``model_name``, the API
    form on the catalog page; ``slug`` and other names for catalogs that use them).

    A catalog entry whose model is not in ``/v1/models`` is ignored: only models the API lists
    are used. When ``/v1/models`` lists nothing usable, the catalog alone is used.
    """
    catalog_by_name: dict[str, dict[str, Any]] = {}
    for entry in _entries(catalog):
        for key in ("model_name", "id", "name", "slug"):
            name = entry.get(key)
            if isinstance(name, str) and name not in catalog_by_name:
                catalog_by_name[name] = entry
    listed = [e for e in _entries(models) if isinstance(e.get("id"), str)]
    if not listed:
        listed = [{"id": name} for name in dict.fromkeys(catalog_by_name)]
    infos: list[ModelInfo] = []
    for order, entry in enumerate(listed):
        model_id: str = entry["id"]
        extra = catalog_by_name.get(model_id, {})
        category = entry.get("category", extra.get("category"))
        supports = extra.get("supports", entry.get("supports"))
        prices = [_number(extra.get(k)) for k in ("input_per_mtok", "output_per_mtok")]
        infos.append(
            ModelInfo(
                id=model_id,
                order=order,
                category=category.lower() if isinstance(category, str) else None,
                supports=(
                    tuple(s.lower() for s in supports if isinstance(s, str))
                    if isinstance(supports, list)
                    else None
                ),
                price=(
                    sum(p for p in prices if p is not None)
                    if any(p is not None for p in prices)
                    else None
                ),
                healthy=extra.get("health_status", "healthy") != "unhealthy",
            )
        )
    return infos


def _hinted(model_id: str) -> set[Capability] | None:
    lowered = model_id.lower()
    for hint, hinted in _ID_HINTS:
        if hint in lowered:
            return set(hinted)
    return None


def _audio(model: ModelInfo, tagged: set[Capability]) -> set[Capability]:
    """The direction of an audio model whose tags did not name it."""
    if tagged & {"speech", "transcription"}:
        return set()
    if model.supports is not None:
        # The catalog page: an audio model carrying audio_transcription is speech-to-text;
        # otherwise it is text-to-speech.
        return {"speech"}
    # /v1/models alone names no direction: the id may (whisper-*, *-transcribe, tts-*).
    hinted = (_hinted(model.id) or set()) & {"speech", "transcription"}
    return hinted or {"speech", "transcription"}


def capabilities_of(model: ModelInfo) -> set[Capability]:
    """Capabilities a model offers: supports[] and category, else its id."""
    caps: set[Capability] = set()
    if model.supports:
        caps.update(_SUPPORTS[s] for s in model.supports if s in _SUPPORTS)
    if model.category == "audio":
        caps.update(_audio(model, caps))
    else:
        caps.update(_CATEGORY.get(model.category or "", ()))
    if caps:
        return caps
    # An id that names no other family (gpt-*, o3, llama-3, an alias like "fast") is taken as
    # a chat model: that is what most OpenAI-compatible targets list.
    return _hinted(model.id) or {"chat", "responses"}


# Chat checks exercise tools, streaming, JSON modes and logprobs: a model that supports more of
# them is preferred (spellings seen in catalogs).
_CHAT_FEATURES = frozenset(
    {
        "tool_use",
        "tools",
        "function_calling",
        "streaming",
        "json_mode",
        "structured_outputs",
        "logprobs",
    }
)


def _rank(capability: Capability, model: ModelInfo) -> tuple[int, int, float, int]:
    features = 0
    if capability == "chat" and model.supports is not None:
        features = -len(_CHAT_FEATURES.intersection(model.supports))
    price = model.price if model.price is not None else float("inf")
    return (0 if model.healthy else 1, features, price, model.order)


def choose_models(
    models: Iterable[ModelInfo], pins: Mapping[Capability, str] | None = None
) -> dict[Capability, str]:
    """One model per offered capability; ``pins`` win, and a pin of ``""`` removes one."""
    by_cap: dict[Capability, list[ModelInfo]] = {}
    for model in models:
        for cap in capabilities_of(model):
            by_cap.setdefault(cap, []).append(model)
    chosen: dict[Capability, str] = {
        cap: min(candidates, key=lambda m, c=cap: _rank(c, m)).id  # type: ignore[misc]
        for cap, candidates in by_cap.items()
    }
    for cap, model_id in (pins or {}).items():
        if cap not in CAPABILITIES:
            raise ValueError(f"unknown capability {cap!r}; choose from {', '.join(CAPABILITIES)}")
        if model_id:
            chosen[cap] = model_id
        else:
            chosen.pop(cap, None)
    return {cap: chosen[cap] for cap in CAPABILITIES if cap in chosen}
