"""What the target offers: one model per request kind, read from its catalog before a run.

First ``GET {origin}/api/models`` (the gateway catalog, ``spec/catalog.yaml``: a JSON array whose
entries' ``category`` and ``supports[]`` name their endpoints, ``model_name`` the value to send;
an audio model tagged ``audio_transcription`` is speech-to-text, any other text-to-speech);
without it ``GET {base}/v1/models`` (OpenAI
API reference, "List models"), whose entries may carry the same ``category``, else are told
apart by OpenAI's model naming (``text-embedding-*``, ``gpt-image-*``/``dall-e-*``, ``tts-*``,
``whisper-*``/``*-transcribe``, ``*realtime*``). ``mixed`` weights its requests over what this
finds; a target that answers neither leaves ``mixed`` to chat and embeddings.

Must not: send anything but these two GETs; print or keep the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from load.admin import origin_of
from load.scenarios import RequestKind, Scenario, mixed_weights

__all__ = ["DEFAULT_MODELS", "Selection", "offered_kinds", "select_models"]

# OpenAI's model names, used for a kind when neither a flag nor the catalog names one.
DEFAULT_MODELS: dict[str, str] = {
    "chat": "monday-standard",
    "embeddings": "text-embedding-3-small",
    "images": "gpt-image-1",
    "speech": "tts-1",
    "transcriptions": "whisper-1",
    "realtime": "gpt-realtime",
}
_CHAT_KINDS = frozenset({"chat", "chat-stream", "responses-stream"})

_TEXT = frozenset({"text", "code", "reasoning", "multimodal", "vision"})
_HEALTHY = frozenset({"healthy", "degraded", None})


def _kinds_of(category: str | None, supports: set[str], name: str) -> list[str]:
    if category in _TEXT:
        kinds = ["chat", "chat-stream"] if "streaming" in supports or not supports else ["chat"]
        if "responses" in supports:
            kinds.append("responses-stream")
        return kinds
    if category == "embedding":
        return ["embeddings"]
    if category == "image":
        return ["images"]
    if category == "realtime":
        return ["realtime"]
    if category == "audio":
        # The catalog page: "a model carrying audio_transcription is speech-to-text; otherwise
        # it's text-to-speech" (spec/catalog.yaml, x-audio-supports-endpoints).
        return ["transcriptions"] if "audio_transcription" in supports else ["speech"]
    if category is None:
        return _kinds_by_name(name)
    return []


def _kinds_by_name(name: str) -> list[str]:
    lowered = name.lower()
    if lowered.startswith("text-embedding"):
        return ["embeddings"]
    if lowered.startswith(("gpt-image", "dall-e")):
        return ["images"]
    if "realtime" in lowered:
        return ["realtime"]
    if lowered.startswith("tts") or lowered.endswith("-tts"):
        return ["speech"]
    if lowered.startswith("whisper") or lowered.endswith("-transcribe"):
        return ["transcriptions"]
    if lowered.startswith(("gpt-", "o1", "o3", "o4", "chatgpt")):
        return ["chat", "chat-stream", "responses-stream"]
    return []


def _first_per_kind(rows: Iterable[tuple[str, list[str], bool]]) -> dict[str, str]:
    """kind -> model; the catalog's default model first for the kinds it serves."""
    offered: dict[str, str] = {}
    for name, kinds, _ in sorted(rows, key=lambda row: not row[2]):
        for kind in kinds:
            offered.setdefault(kind, name)
    return offered


def _from_catalog(data: Any) -> dict[str, str] | None:
    # The page documents a bare array; an OpenAI-style list object is read too.
    entries = data.get("data") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        return None
    rows = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("health_status") not in _HEALTHY:
            continue
        name = entry.get("model_name")  # the API form (``slug`` is the dashboard's)
        supports = {str(s) for s in entry.get("supports") or []}
        if isinstance(name, str):
            rows.append(
                (name, _kinds_of(entry.get("category"), supports, name), bool(entry.get("default")))
            )
    return _first_per_kind(rows)


def _from_models(data: Any) -> dict[str, str] | None:
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    rows = [
        (str(entry["id"]), _kinds_of(entry.get("category"), set(), str(entry["id"])), False)
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("id"), str)
    ]
    return _first_per_kind(rows)


def offered_kinds(base_url: str, api_key: str, *, timeout: float = 10.0) -> dict[str, str] | None:
    """kind -> a model that serves it, or None when the target lists no catalog at all."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(timeout=timeout) as client:
        for url, read in (
            (f"{origin_of(base_url)}/api/models", _from_catalog),
            (f"{base_url}/models", _from_models),
        ):
            try:
                response = client.get(url, headers=headers)
                found = read(response.json()) if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                found = None
            if found:
                return found
    return None


@dataclass(frozen=True, slots=True)
class Selection:
    """The models and the mix a run sends."""

    models: tuple[str, ...]  # chat, chat-stream and responses-stream
    kind_models: dict[str, str]  # every other kind in the mix
    mix: tuple[tuple[RequestKind, float], ...]


def select_models(
    scenario: Scenario,
    base_url: str,
    api_key: str,
    *,
    chat_models: list[str] | None,
    kind_flags: Mapping[str, str | None],
) -> Selection:
    """Flags first, then the target's catalog (read only when a model or the mix needs it),
    then OpenAI's model names."""
    mix = scenario.mix
    kinds = {k for k, _ in mix}
    needs_catalog = scenario.name == "mixed" or any(
        k not in _CHAT_KINDS and not kind_flags.get(k) for k in kinds
    )
    offered = offered_kinds(base_url, api_key) if needs_catalog else None
    if scenario.name == "mixed":
        mix = mixed_weights(offered)
        kinds = {k for k, _ in mix}
    found = offered or {}
    # mixed without --model: the catalog's chat model (the default model first).
    catalog_chat = found.get("chat-stream") if scenario.name == "mixed" else None
    chat = chat_models or [catalog_chat or DEFAULT_MODELS["chat"]]
    kind_models: dict[str, str] = {
        k: kind_flags.get(k) or found.get(k) or DEFAULT_MODELS[k]
        for k in sorted(kinds - _CHAT_KINDS)
    }
    return Selection(tuple(chat), kind_models, mix)
