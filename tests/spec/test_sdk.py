"""spec/openai.yaml's response schemas are never stricter than the official SDK's types.

The rules are in tests/spec/sdk.py's docstring. The SDK (`openai`) is a dependency, so this
runs wherever the suite does, CI included.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import BaseModel

from tests.spec.crosscheck import Document
from tests.spec.sdk import (
    NO_SDK_TYPE,
    SDK_TYPES,
    compare_with_sdk,
    load_sdk_type,
    response_components,
)


def test_sdk_every_response_schema_has_its_sdk_type(ours: Document) -> None:
    unmapped = [name for name in response_components(ours) if name not in SDK_TYPES | NO_SDK_TYPE]
    assert unmapped == [], f"map these response components to an openai.types model: {unmapped}"
    assert all(name in ours.components for name in SDK_TYPES)


@pytest.mark.parametrize("component", sorted(SDK_TYPES), ids=sorted(SDK_TYPES))
def test_sdk_spec_is_not_stricter_than_the_sdk(ours: Document, component: str) -> None:
    found = compare_with_sdk(ours, component, load_sdk_type(SDK_TYPES[component]))
    assert found == [], "\n".join(f"{s.kind} {s.key}: {s.detail}" for s in found)


def _with(document: Document, name: str, edit: Any) -> Document:
    root = copy.deepcopy(dict(document.root))
    edit(root["components"]["schemas"][name])
    return Document.openapi(root)


def test_sdk_flags_a_required_property_the_sdk_lets_be_absent(ours: Document) -> None:
    broken = _with(
        ours,
        "CreateChatCompletionResponse",
        lambda schema: schema["required"].append("system_fingerprint"),
    )
    found = compare_with_sdk(
        broken,
        "CreateChatCompletionResponse",
        load_sdk_type(SDK_TYPES["CreateChatCompletionResponse"]),
    )
    assert [(s.kind, s.key) for s in found] == [
        ("required", "CreateChatCompletionResponse.system_fingerprint")
    ]


def test_sdk_flags_inside_union_members_by_their_type(ours: Document) -> None:
    # Requiring `logprobs` again on output text shows in the Responses output union's message
    # member and in every stream event that carries one.
    broken = _with(ours, "OutputTextContent", lambda schema: schema["required"].append("logprobs"))
    found = compare_with_sdk(broken, "Response", load_sdk_type(SDK_TYPES["Response"]))
    assert ("required", "Response.output[]<message>.content[]<output_text>.logprobs") in {
        (s.kind, s.key) for s in found
    }
    events = compare_with_sdk(
        broken, "ResponseStreamEvent", load_sdk_type(SDK_TYPES["ResponseStreamEvent"])
    )
    assert any(s.key.startswith("ResponseStreamEvent<response.completed>.") for s in events)


class _Nullable(BaseModel):
    value: str | None


class _Optional(BaseModel):
    value: str | None = None


class _Plain(BaseModel):
    value: str


@pytest.mark.parametrize(
    ("model", "schema", "expected"),
    [
        (_Nullable, {"type": "string"}, [("nullable", "Thing.value")]),
        (_Nullable, {"type": ["string", "null"]}, []),
        (_Optional, {"type": "string"}, [("required", "Thing.value")]),
        (_Optional, {"type": ["string", "null"]}, []),
        (_Plain, {"type": "string"}, []),
    ],
    ids=["sdk-nullable", "both-nullable", "sdk-optional", "required-nullable", "plain"],
)
def test_sdk_rules_on_a_required_property(
    model: type[BaseModel], schema: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    thing = {"type": "object", "required": ["value"], "properties": {"value": schema}}
    document = Document.openapi({"components": {"schemas": {"Thing": thing}}})
    assert [(s.kind, s.key) for s in compare_with_sdk(document, "Thing", model)] == expected
