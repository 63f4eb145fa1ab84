"""Every OpenAPI document in spec/ is valid OpenAPI 3.1 and usable by schemathesis 4."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.spec.conftest import SPEC, load_yaml

# The OpenAPI documents (spec/ also holds data files such as fuzz-verdicts.yaml).
DOCUMENTS = sorted(p for p in SPEC.glob("*.yaml") if "openapi" in load_yaml(p))
IDS = [p.name for p in DOCUMENTS]


def test_spec_documents_exist() -> None:
    assert {"openai.yaml", "catalog.yaml"} <= set(IDS)


@pytest.mark.parametrize("path", DOCUMENTS, ids=IDS)
def test_spec_document_is_valid_openapi_31(path: Path) -> None:
    document = load_yaml(path)
    assert str(document.get("openapi", "")).startswith("3.1"), path.name
    validate(document)


@pytest.mark.parametrize("path", DOCUMENTS, ids=IDS)
def test_spec_document_never_uses_nullable(path: Path) -> None:
    # `nullable` is not an OAS 3.1 keyword (openai/openai-openapi#483): write null as a type.
    found: list[str] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if "nullable" in node:
                found.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(load_yaml(path), "#")
    assert found == []


@pytest.mark.parametrize("path", DOCUMENTS, ids=IDS)
def test_spec_document_loads_in_schemathesis_and_generates_every_operation(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema = schemathesis.openapi.from_path(str(path))
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        assert operations, f"{path.name} declares no operations"
        for operation in operations:
            assert _generated_cases(operation), f"no case generated for {operation.label}"


def _generated_cases(operation: Any) -> list[object]:
    cases: list[object] = []

    @settings(
        max_examples=2,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def generate(case: object) -> None:
        cases.append(case)

    generate()
    return cases


def test_openai_spec_declares_every_issue_path() -> None:
    document = load_yaml(SPEC / "openai.yaml")
    operations = {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }
    assert {
        "GET /models",
        "GET /models/{model}",
        "POST /chat/completions",
        "POST /embeddings",
        "POST /images/generations",
        "POST /audio/speech",
        "POST /audio/transcriptions",
        "POST /videos",
        "POST /videos/generations",
        "GET /videos/{video_id}/content",
        "GET /videos/{video_id}",
        "POST /responses",
    } <= operations
    assert document["servers"][0]["url"].endswith("/v1")


def test_openai_spec_declares_error_object_on_every_failure_status() -> None:
    document = load_yaml(SPEC / "openai.yaml")
    responses = document["components"]["responses"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert {"401", "403", "429", "500", "503"} <= statuses, (method, path, statuses)
            assert "422" not in statuses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413"} <= statuses, (method, path, statuses)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    target = responses[response["$ref"].rsplit("/", 1)[-1]]
                    schema = target["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "Retry-After" in responses["TooManyRequests"]["headers"]


def test_openai_spec_names_the_components_the_suite_validates_against() -> None:
    schemas = load_yaml(SPEC / "openai.yaml")["components"]["schemas"]
    assert {
        "CreateChatCompletionRequest",
        "CreateChatCompletionResponse",
        "CreateChatCompletionStreamResponse",
        "ChatCompletionMessageToolCall",
        "ChatCompletionMessageToolCallChunk",
        "CompletionUsage",
        "Model",
        "ListModelsResponse",
        "CreateEmbeddingRequest",
        "CreateEmbeddingResponse",
        "Embedding",
        "CreateImageRequest",
        "ImagesResponse",
        "Image",
        "CreateSpeechRequest",
        "CreateTranscriptionRequest",
        "CreateTranscriptionResponseJson",
        "CreateTranscriptionResponseVerboseJson",
        "TranscriptionSegment",
        "TranscriptionWord",
        "CreateVideoJsonBody",
        "VideoResource",
        "CreateResponse",
        "Response",
        "ResponseStreamEvent",
        "ResponseCreatedEvent",
        "ResponseInProgressEvent",
        "ResponseOutputItemAddedEvent",
        "ResponseContentPartAddedEvent",
        "ResponseTextDeltaEvent",
        "ResponseTextDoneEvent",
        "ResponseContentPartDoneEvent",
        "ResponseOutputItemDoneEvent",
        "ResponseCompletedEvent",
        "ResponseErrorEvent",
        "Error",
        "ErrorResponse",
    } <= set(schemas)


@pytest.mark.parametrize(
    ("path", "component"),
    [
        ("/chat/completions", "CreateChatCompletionStreamResponse"),
        ("/responses", "ResponseStreamEvent"),
    ],
    ids=["chat", "responses"],
)
def test_openai_spec_streams_name_their_event_component(path: str, component: str) -> None:
    # As in the official spec, text/event-stream carries ONE event's schema, by name, so a
    # decoder can validate each event's data against it.
    content = load_yaml(SPEC / "openai.yaml")["paths"][path]["post"]["responses"]["200"]["content"]
    assert content["text/event-stream"]["schema"] == {"$ref": f"#/components/schemas/{component}"}


_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _examples() -> list[tuple[str, str, Any]]:
    found: list[tuple[str, str, Any]] = []
    for path in DOCUMENTS:
        document = load_yaml(path)
        for route, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if method not in _METHODS:
                    continue
                body = operation.get("requestBody", {}).get("content", {})
                for media in body.values():
                    for name, example in media.get("examples", {}).items():
                        found.append((path.name, f"{method.upper()} {route} {name}", example))
    return found


EXAMPLES = _examples()


@pytest.mark.parametrize(("document", "where", "example"), EXAMPLES, ids=[e[1] for e in EXAMPLES])
def test_spec_request_example_matches_its_schema(document: str, where: str, example: Any) -> None:
    root = load_yaml(SPEC / document)
    method, route, name = where.split(" ")
    media = root["paths"][route][method.lower()]["requestBody"]["content"]
    (schema,) = [m["schema"] for m in media.values() if name in m.get("examples", {})]
    errors = [
        e.message for e in Draft202012Validator({**root, **schema}).iter_errors(example["value"])
    ]
    assert errors == [], (where, errors)
