"""The spec as schemathesis sees it: ``spec/*.yaml`` prepared for one target.

Preparation, each step deliberate:

- ``servers`` points at the target (its base URL for ``openai.yaml``, its origin for
  ``catalog.yaml``).
- Every ``text/event-stream`` response loses its ``schema`` in schemathesis' copy, and the
  component it names is remembered in :attr:`Document.stream_components`. The official spec
  gives the *chunk* schema there (``CreateChatCompletionStreamResponse``), which OpenAPI 3.1
  cannot say is per-event; schemathesis 4 then validates each event envelope against the chunk
  schema and fails every correct stream. The ``stream_chunk_conformance`` check in
  :mod:`conformance.fuzz.oracles` decodes the stream with :mod:`conformance.sse` and validates
  every chunk against the remembered component instead.
- A stateful link ``listModels -> retrieveModel`` (``model`` = ``$response.body#/data/0/id``)
  is added when the spec declares none: the OpenAI API reference says every listed id is
  retrievable ("List models" / "Retrieve model").
- Operations whose capability the target offers no model for are left out (a gateway without
  image models is not fuzzed on ``/images/generations``).
- The profile's documented deviations (:class:`Deviations`) are written into the copy: with a
  default model, ``model`` is no longer required for chat completions and Responses (where a
  text model serves); with images only as ``b64_json``,
  ``response_format`` is not generated. Nothing else is relaxed.

Must not: send requests, or change the files in ``spec/`` (it works on a copy).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from conformance.registry import Capability
from conformance.schemas import spec_dir

__all__ = [
    "CAPABILITY_BY_PATH",
    "Deviations",
    "Document",
    "load_document",
    "prepare_document",
]

# Which capability an operation needs, by path (OpenAI API reference, one page per endpoint).
CAPABILITY_BY_PATH: Mapping[str, Capability] = {
    "/chat/completions": "chat",
    "/completions": "chat",
    "/responses": "responses",
    "/embeddings": "embedding",
    "/images/generations": "image",
    "/images/edits": "image",
    "/images/variations": "image",
    "/audio/speech": "speech",
    "/audio/transcriptions": "transcription",
    "/audio/translations": "transcription",
    "/videos": "video",
    "/videos/generations": "video",
    "/videos/{video_id}": "video",
    "/videos/{video_id}/content": "video",
}

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SSE = "text/event-stream"
_FORM = "multipart/form-data"


def load_document(name: str) -> dict[str, Any]:
    """Parse ``spec/<name>``; raise ``FileNotFoundError`` naming the file when absent."""
    path = spec_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"spec document {name!r} not found at {path}")
    # libyaml when PyYAML has it; the pure-Python loader reads the same data (tests/spec).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    if not isinstance(loaded, dict):
        raise ValueError(f"spec document {name!r} is not a mapping: {type(loaded).__name__}")
    return loaded


@dataclass(frozen=True, slots=True)
class Document:
    """A prepared copy of one spec document and what was taken out of it.

    ``stream_components`` maps ``(METHOD, path)`` to the component each event of its
    ``text/event-stream`` response must match; ``form_components`` maps it to the component of
    its ``multipart/form-data`` request body; ``operation_ids`` lists the operations kept.
    """

    name: str
    raw: dict[str, Any]
    stream_components: Mapping[tuple[str, str], str]
    operation_ids: tuple[str, ...]
    skipped: Mapping[str, str]
    form_components: Mapping[tuple[str, str], str] = field(default_factory=dict)


def _component_of(schema: object) -> str | None:
    if isinstance(schema, Mapping):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return ref.rsplit("/", 1)[1]
    return None


def _operations(raw: Mapping[str, Any]) -> Iterable[tuple[str, str, dict[str, Any]]]:
    paths = raw.get("paths") or {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield path, method, operation


def _add_models_link(raw: dict[str, Any]) -> None:
    """``listModels`` -> ``retrieveModel`` unless the spec already links them."""
    by_id = {op.get("operationId"): op for _, _, op in _operations(raw)}
    listing, retrieve = by_id.get("listModels"), by_id.get("retrieveModel")
    if listing is None or retrieve is None:
        return
    ok = (listing.get("responses") or {}).get("200")
    if not isinstance(ok, dict) or "$ref" in ok or ok.get("links"):
        return
    ok["links"] = {
        "RetrieveListedModel": {
            "operationId": "retrieveModel",
            "parameters": {"model": "$response.body#/data/0/id"},
            "description": "Every id GET /models lists can be retrieved (API reference, Models).",
        }
    }


def _request_components(raw: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """``(path, component schema)`` for each component an operation's request body names."""
    schemas = (raw.get("components") or {}).get("schemas") or {}
    for path, _, operation in _operations(raw):
        content = (operation.get("requestBody") or {}).get("content") or {}
        for media in content.values():
            name = _component_of(media.get("schema") if isinstance(media, dict) else None)
            if name is not None and isinstance(schemas.get(name), dict):
                yield path, schemas[name]


# A default model is a text model (catalog.yaml: text -> chat completions and Responses): the
# gateway can only fill in `model` where that model serves.
_DEFAULT_MODEL_CAPABILITIES = frozenset({"chat", "responses"})


def _apply_profile(raw: dict[str, Any], deviations: Deviations) -> None:
    """Write the target's documented deviations (its profile) into the copy of the spec."""
    for path, schema in _request_components(raw):
        required = schema.get("required")
        # Profile.default_model: the gateway serves its default model when `model` is omitted.
        if (
            deviations.default_model
            and CAPABILITY_BY_PATH.get(path) in _DEFAULT_MODEL_CAPABILITIES
            and isinstance(required, list)
            and "model" in required
        ):
            schema["required"] = [name for name in required if name != "model"]
    schemas = (raw.get("components") or {}).get("schemas") or {}
    image = schemas.get("CreateImageRequest")
    # Profile.images_b64_only: a `url` request is refused or answered with b64_json, so
    # `response_format` is no promise either way: leave it out of generated requests.
    if deviations.images_b64_only and isinstance(image, dict):
        (image.get("properties") or {}).pop("response_format", None)


@dataclass(frozen=True, slots=True)
class Deviations:
    """The profile's documented deviations that change what a valid request is."""

    default_model: bool = False
    images_b64_only: bool = False


def prepare_document(
    name: str,
    raw: Mapping[str, Any],
    *,
    server_url: str,
    offered: Iterable[Capability],
    only: Iterable[str] = (),
    deviations: Deviations | None = None,
) -> Document:
    """Prepare ``raw`` (a parsed spec document) for a run against ``server_url``."""
    prepared = copy.deepcopy(dict(raw))
    _apply_profile(prepared, deviations or Deviations())
    prepared["servers"] = [{"url": server_url.rstrip("/")}]
    offered_set = set(offered)
    only_set = set(only)
    streams: dict[tuple[str, str], str] = {}
    forms: dict[tuple[str, str], str] = {}
    kept: list[str] = []
    skipped: dict[str, str] = {}
    for path, method, operation in list(_operations(prepared)):
        operation_id = str(operation.get("operationId") or f"{method.upper()} {path}")
        capability = CAPABILITY_BY_PATH.get(path)
        reason = None
        if only_set and operation_id not in only_set:
            reason = "not selected"
        elif capability is not None and capability not in offered_set:
            reason = f"the target offers no {capability} model"
        if reason is not None:
            skipped[operation_id] = reason
            del prepared["paths"][path][method]
            continue
        kept.append(operation_id)
        request_content = (operation.get("requestBody") or {}).get("content") or {}
        form = request_content.get(_FORM) if isinstance(request_content, dict) else None
        form_component = _component_of(form.get("schema")) if isinstance(form, dict) else None
        if form_component is not None:
            forms[(method.upper(), path)] = form_component
        for response in (operation.get("responses") or {}).values():
            content = response.get("content") if isinstance(response, dict) else None
            media = content.get(_SSE) if isinstance(content, dict) else None
            if not isinstance(media, dict):
                continue
            component = _component_of(media.get("itemSchema")) or _component_of(media.get("schema"))
            if component is not None:
                streams[(method.upper(), path)] = component
            media.pop("schema", None)
            media.pop("itemSchema", None)
    prepared["paths"] = {
        path: item
        for path, item in prepared["paths"].items()
        if any(method in item for method in _METHODS)
    }
    _add_models_link(prepared)
    return Document(
        name=name,
        raw=prepared,
        stream_components=streams,
        operation_ids=tuple(kept),
        skipped=skipped,
        form_components=forms,
    )
