"""spec/catalog.yaml: the public catalog and the category -> endpoint table agree with openai.yaml."""

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


def test_catalog_category_table_covers_every_category(catalog: dict[str, Any]) -> None:
    categories = catalog["components"]["schemas"]["Category"]["enum"]
    assert set(catalog["x-category-endpoints"]) == set(categories)
    assert {
        "text",
        "code",
        "reasoning",
        "multimodal",
        "vision",
        "embedding",
        "image",
        "audio",
        "video",
    } <= set(categories)


def test_catalog_category_endpoints_exist_in_openai_spec(
    catalog: dict[str, Any], openai: dict[str, Any]
) -> None:
    paths = set(openai["paths"]) | {"/realtime"}  # the realtime WebSocket is not an OpenAPI path
    for category, endpoints in catalog["x-category-endpoints"].items():
        assert endpoints, category
        assert set(endpoints) <= paths, (category, set(endpoints) - paths)
    for endpoint in catalog["x-audio-supports-endpoints"].values():
        assert endpoint in catalog["x-category-endpoints"]["audio"]


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
    "model_name": "Monday Standard",
    "slug": "monday-standard",
    "category": "text",
    "supports": ["chat", "streaming", "tool_use"],
    "input_per_mtok": 3.0,
    "output_per_mtok": 15,
    "health_status": "healthy",
}


def test_catalog_entry_validates(catalog: dict[str, Any]) -> None:
    errors = list(
        _validator(catalog, "CatalogList").iter_errors({"object": "list", "data": [ENTRY]})
    )
    assert errors == []


@pytest.mark.parametrize(
    "broken",
    [
        {**ENTRY, "category": "chatbot"},
        {**ENTRY, "health_status": "ok"},
        {**ENTRY, "input_per_mtok": "3.0"},
        {**ENTRY, "output_per_mtok": -1},
        {**ENTRY, "supports": "chat"},
        {k: v for k, v in ENTRY.items() if k != "slug"},
    ],
    ids=[
        "category",
        "health-status",
        "price-string",
        "price-negative",
        "supports-string",
        "no-slug",
    ],
)
def test_catalog_broken_entry_is_rejected(catalog: dict[str, Any], broken: dict[str, Any]) -> None:
    assert list(_validator(catalog, "CatalogModel").iter_errors(broken))
