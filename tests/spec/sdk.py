"""Walks parity's response schemas beside the official SDK's types and names where ours is stricter.

Owns the rule by which a response schema in ``spec/openai.yaml`` is "stricter than the SDK":
the official ``openai`` package (openai-python, its pydantic models in ``openai.types``) is what
OpenAI's clients parse answers with, so an answer the SDK accepts must not fail parity's schema.
Must not: edit the spec, or decide which differences are acceptable (none are: fix the spec).

The rules, at every depth where both sides describe the same property:
- ``required``: a property our schema requires, and does not let be ``null``, must be required
  in the SDK model (a field with a default, ``Optional[...] = None``, may be absent from
  OpenAI's answer). The SDK's generator gives a required-but-nullable property the same
  ``Optional[...] = None`` as an optional one, so where our schema allows ``null`` a default in
  the SDK says nothing about absence and is not judged.
- ``nullable``: where the SDK field is required and accepts ``None`` (``Optional[...]`` with no
  default), our schema must allow ``null`` too: the SDK declares it so because OpenAI sends it.
  An optional SDK field (``Optional[...] = None``) is the same annotation whether the property
  is nullable or only optional in OpenAI's spec, so it decides nothing about ``null`` here; the
  cross-check against the official spec judges those types.
Our schema is normalised with :mod:`tests.spec.crosscheck` (``$ref``, ``allOf``, unions,
``nullable``); the SDK annotation is unwrapped from ``Optional``, ``Union``, ``Annotated``,
``List`` and ``Dict``. Unions of SDK models (``ResponseStreamEvent``) are matched branch by
branch on their ``type`` literal. Properties only one side has are the cross-check's business.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from tests.spec.crosscheck import Document, _shape

__all__ = ["SDK_TYPES", "Strictness", "compare_with_sdk", "response_components"]

# Our response component -> the SDK type that parses it (openai-python, `openai.types`).
SDK_TYPES: dict[str, str] = {
    "Model": "openai.types.Model",
    "CreateChatCompletionResponse": "openai.types.chat.ChatCompletion",
    "CreateChatCompletionStreamResponse": "openai.types.chat.ChatCompletionChunk",
    "CreateEmbeddingResponse": "openai.types.CreateEmbeddingResponse",
    "ImagesResponse": "openai.types.ImagesResponse",
    "CreateTranscriptionResponseJson": "openai.types.audio.Transcription",
    "CreateTranscriptionResponseVerboseJson": "openai.types.audio.TranscriptionVerbose",
    "VideoResource": "openai.types.Video",
    "Response": "openai.types.responses.Response",
    "ResponseStreamEvent": "openai.types.responses.ResponseStreamEvent",
    "Error": "openai.types.shared.ErrorObject",
}
# Response components the SDK has no model for, and why.
NO_SDK_TYPE: dict[str, str] = {
    "ListModelsResponse": "the SDK pages lists (SyncPage[Model]); Model is compared",
    "ErrorResponse": "the SDK reads `error` from the body itself (APIStatusError); Error is compared",
}


@dataclass(frozen=True, slots=True)
class Strictness:
    """One place our schema is stricter than the SDK: ``key`` is ``Component.prop[].leaf``."""

    key: str
    kind: Literal["required", "nullable"]
    detail: str


def response_components(document: Document) -> list[str]:
    """Every component a response of ``document`` names (its body or stream event schema)."""
    root = document.root
    found: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                found[ref.rsplit("/", 1)[1]] = None
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for item in (root.get("paths") or {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for declared in (operation.get("responses") or {}).values():
                response = declared
                if isinstance(declared, dict) and "$ref" in declared:
                    response = document.resolve(declared["$ref"])
                for media in ((response or {}).get("content") or {}).values():
                    walk(media.get("schema"))
                    walk(media.get("itemSchema"))
    return list(found)


def load_sdk_type(dotted: str) -> Any:
    import importlib

    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _unwrap(annotation: Any) -> tuple[list[Any], bool]:
    """The concrete types behind an annotation, and whether it admits ``None``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        concrete: list[Any] = []
        nullable = False
        for arg in typing.get_args(annotation):
            inner, none = _unwrap(arg)
            concrete += inner
            nullable = nullable or none
        return concrete, nullable
    if annotation is type(None) or annotation is None:
        return [], True
    return [annotation], False


def _models(concrete: list[Any]) -> list[type[BaseModel]]:
    return [t for t in concrete if isinstance(t, type) and issubclass(t, BaseModel)]


def _items(concrete: list[Any]) -> list[Any]:
    """The item annotations of list types among ``concrete``."""
    return [
        typing.get_args(t)[0]
        for t in concrete
        if typing.get_origin(t) in (list, typing.List) and typing.get_args(t)  # noqa: UP006
    ]


def _type_literal(model: type[BaseModel]) -> set[str]:
    field = model.model_fields.get("type")
    if field is None:
        return set()
    concrete, _ = _unwrap(field.annotation)
    values: set[str] = set()
    for t in concrete:
        if typing.get_origin(t) is Literal:
            values |= {str(v) for v in typing.get_args(t)}
    return values


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {(info.alias or name): info for name, info in model.model_fields.items()}


def _compare(
    ours: Document, schema: Any, models: list[type[BaseModel]], key: str, depth: int
) -> Iterator[Strictness]:
    if depth > 20 or not models:
        return
    shape = _shape(ours, schema)
    branches = _branches(ours, schema)
    if len(models) > 1 and branches:
        # A union on both sides: match our branches to SDK models by their `type` literal.
        for branch in branches:
            wanted = _shape(ours, branch).properties.get("type")
            literal = _shape(ours, wanted).enum if wanted is not None else None
            matched = [m for m in models if literal and _type_literal(m) & set(map(str, literal))]
            name = next(iter(sorted(map(str, literal or []))), "?")
            yield from _compare(ours, branch, matched, f"{key}<{name}>", depth + 1)
        return
    ours_type = shape.properties.get("type")
    literal = _shape(ours, ours_type).enum if ours_type is not None else None
    if len(models) > 1 and literal:
        # One object of ours against an SDK union: compare with the members it describes.
        models = [m for m in models if _type_literal(m) & set(map(str, literal))] or models
    for name, prop in shape.properties.items():
        infos = [_fields(m).get(name) for m in models]
        infos_present = [i for i in infos if i is not None]
        if not infos_present:
            continue
        sdk_required = all(i.is_required() for i in infos_present) and len(infos_present) == len(
            models
        )
        concrete: list[Any] = []
        nullable = False
        for info in infos_present:
            inner, none = _unwrap(info.annotation)
            concrete += inner
            # `Optional[...]` without a default is the SDK saying null; with one, it may only
            # be saying "absent" (see the module docstring).
            nullable = nullable or (none and info.is_required())
        types_ = _shape(ours, prop).types
        ours_nullable = types_ is None or "null" in types_
        if name in shape.required and not sdk_required and not ours_nullable:
            yield Strictness(f"{key}.{name}", "required", "required in spec, optional in the SDK")
        if nullable and types_ is not None and "null" not in types_:
            yield Strictness(
                f"{key}.{name}", "nullable", f"spec types {sorted(types_)}, the SDK accepts None"
            )
        sub = _shape(ours, prop)
        if sub.items is not None:
            items = _items(concrete)
            item_models: list[type[BaseModel]] = []
            for item in items:
                inner, _ = _unwrap(item)
                item_models += _models(inner)
            yield from _compare(ours, sub.items, item_models, f"{key}.{name}[]", depth + 1)
        yield from _compare(ours, prop, _models(concrete), f"{key}.{name}", depth + 1)


def _branches(ours: Document, schema: Any) -> list[Any]:
    """Our union branches (``oneOf``/``anyOf`` of objects), following one ``$ref``."""
    node = schema
    for _ in range(5):
        if isinstance(node, dict) and "$ref" in node:
            node = ours.resolve(node["$ref"])
    if not isinstance(node, dict):
        return []
    for union in ("oneOf", "anyOf"):
        branches = [b for b in node.get(union) or [] if b != {"type": "null"}]
        if len(branches) > 1:
            return branches
    return []


def compare_with_sdk(ours: Document, component: str, sdk_type: Any) -> list[Strictness]:
    """Where our ``component`` is stricter than the SDK type that parses it."""
    concrete, _ = _unwrap(sdk_type)
    schema = {"$ref": f"#/components/schemas/{component}"}
    return list(_compare(ours, schema, _models(concrete), component, 0))
