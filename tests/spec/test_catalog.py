"""spec/catalog.yaml: the catalog page's contract, and its category -> endpoint table agrees with
openai.yaml."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.spec.conftest import SPEC, load_yaml


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(SPEC / "catalog.yaml")
    return document


@pytest.fixture(scope="module")
def openai() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(SPEC / "openai.yaml")
    return document


def _validator(document: dict[str, Any], component: str) -> Draft202012Validator:
    # OpenAPI 3.1 schema objects are JSON Schema 2020-12; refs resolve inside the document.
    return Draft202012Validator({**document, "$ref": f"#/components/schemas/{component}"})


# The catalog page's "Category -> endpoint" table, relative to the /v1 base URL.
PAGE_TABLE = {
    "text": "/chat/completions",
    "code": "/chat/completions",
    "reasoning": "/chat/completions",
    "multimodal": "/chat/completions",
    "vision": "/chat/completions",
    "embedding": "/embeddings",
    "image": "/images/generations",
    "audio": "/audio/speech",
    "video": "/videos/generations",
}


def test_catalog_category_table_is_the_page_table(catalog: dict[str, Any]) -> None:
    categories = catalog["components"]["schemas"]["Category"]["enum"]
    table = catalog["x-category-endpoints"]
    assert set(table) == set(categories) == set(catalog["x-category-endpoints-openai"])
    assert {c: table[c] for c in PAGE_TABLE} == PAGE_TABLE
    assert set(categories) - set(PAGE_TABLE) == {"realtime"}  # parity's one extension
    assert catalog["x-audio-transcription"] == {
        "description": catalog["x-audio-transcription"]["description"],
        "tag": "audio_transcription",
        "endpoint": "/audio/transcriptions",
    }


def test_catalog_category_endpoints_exist_in_openai_spec(
    catalog: dict[str, Any], openai: dict[str, Any]
) -> None:
    paths = set(openai["paths"]) | {"/realtime"}  # the realtime WebSocket is not an OpenAPI path
    endpoints = {
        *catalog["x-category-endpoints"].values(),
        catalog["x-audio-transcription"]["endpoint"],
    }
    for extra in catalog["x-category-endpoints-openai"].values():
        endpoints.update(extra)
    assert endpoints <= paths, endpoints - paths


def test_catalog_supports_vocabulary_is_the_page_tags(catalog: dict[str, Any]) -> None:
    values = catalog["x-supports-values"]
    assert set(values["documented"]) == {
        "chat",
        "tool_use",
        "streaming",
        "vision",
        "reasoning",
        "embeddings",
        "audio_transcription",
    }
    assert not set(values["documented"]) & set(values["extensions"])
    synonyms = catalog["x-supports-synonyms"]
    assert set(synonyms.values()) <= set(values["documented"])
    assert not set(synonyms) & (set(values["documented"]) | set(values["extensions"]))
    assert synonyms["tools"] == "tool_use"
    assert synonyms["transcription"] == "audio_transcription"


def test_catalog_models_category_is_open_in_v1_models(
    catalog: dict[str, Any], openai: dict[str, Any]
) -> None:
    # /v1/models is judged on any gateway: an extension OpenAI does not define must accept other
    # vocabularies there, while the public catalog closes parity's own category values.
    model_category = openai["components"]["schemas"]["Model"]["properties"]["category"]
    assert model_category == {"type": "string"}
    assert "text" in catalog["components"]["schemas"]["Category"]["enum"]


def test_catalog_operation_needs_no_auth(catalog: dict[str, Any]) -> None:
    assert catalog["paths"]["/api/models"]["get"]["security"] == []


ENTRY = {
    "model_name": "gpt-4.1",
    "slug": "gpt-4-1",
    "category": "text",
    "supports": ["chat", "streaming", "tool_use"],
    "input_per_mtok": 3.0,
    "output_per_mtok": 15,
    "health_status": "healthy",
}


def test_catalog_list_is_a_bare_array(catalog: dict[str, Any]) -> None:
    validator = _validator(catalog, "CatalogList")
    assert list(validator.iter_errors([ENTRY, {**ENTRY, "per_character": 0.000015}])) == []
    assert list(validator.iter_errors({"object": "list", "data": [ENTRY]}))


@pytest.mark.parametrize(
    "broken",
    [
        {**ENTRY, "category": "chatbot"},
        {**ENTRY, "health_status": ""},
        {**ENTRY, "input_per_mtok": "3.0"},
        {**ENTRY, "output_per_mtok": -1},
        {**ENTRY, "supports": "chat"},
        {k: v for k, v in ENTRY.items() if k != "slug"},
        {k: v for k, v in ENTRY.items() if k != "health_status"},
        {**ENTRY, "per_character": "0.000015"},
    ],
    ids=[
        "category",
        "health-status",
        "price-string",
        "price-negative",
        "supports-string",
        "no-slug",
        "no-health-status",
        "unit-price-string",
    ],
)
def test_catalog_broken_entry_is_rejected(catalog: dict[str, Any], broken: dict[str, Any]) -> None:
    assert list(_validator(catalog, "CatalogModel").iter_errors(broken))
