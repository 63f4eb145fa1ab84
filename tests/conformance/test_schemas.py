from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import schemas
from conformance.schemas import component_names, schema_errors, spec_dir

_OPENAPI = """
openapi: 3.1.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Thing:
      type: object
      required: [id, parts]
      properties:
        id: {type: string}
        created: {type: integer}
        parts:
          type: array
          items: {$ref: '#/components/schemas/Part'}
    Part:
      type: object
      required: [kind]
      properties:
        kind: {type: string, enum: [a, b]}
        note:
          anyOf:
            - {type: string}
            - {type: "null"}
"""


@pytest.fixture
def tmp_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "doc.yaml").write_text(_OPENAPI)
    (tmp_path / "events.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$defs": {
                    "Ping": {
                        "type": "object",
                        "required": ["type"],
                        "properties": {"type": {"const": "ping"}},
                    }
                },
                "$ref": "#/$defs/Ping",
            }
        )
    )
    monkeypatch.setattr(schemas, "spec_dir", lambda: tmp_path)
    for cached in (schemas._document, schemas._registry, schemas.validator_for):
        cached.cache_clear()
    yield tmp_path
    for cached in (schemas._document, schemas._registry, schemas.validator_for):
        cached.cache_clear()


def test_schemas_valid_instance_has_no_errors(tmp_spec: Path) -> None:
    thing = {"id": "x", "parts": [{"kind": "a", "note": None}, {"kind": "b", "note": "n"}]}
    assert schema_errors("Thing", thing, "doc.yaml") == []


def test_schemas_errors_name_the_path_through_refs(tmp_spec: Path) -> None:
    errors = schema_errors("Thing", {"id": 1, "parts": [{"kind": "c"}, {}]}, "doc.yaml")
    assert "$.id: 1 is not of type 'string'" in errors
    assert any(e.startswith("$.parts[0].kind: 'c' is not one of") for e in errors)
    assert "$.parts[1]: 'kind' is a required property" in errors


def test_schemas_anyof_errors_show_the_closest_branch(tmp_spec: Path) -> None:
    errors = schema_errors("Thing", {"id": "x", "parts": [{"kind": "a", "note": 3}]}, "doc.yaml")
    assert len(errors) == 1
    assert errors[0].startswith("$.parts[0].note: 3 is not")


def test_schemas_json_schema_documents(tmp_spec: Path) -> None:
    assert component_names("events.json") == ["Ping"]
    assert schema_errors("Ping", {"type": "ping"}, "events.json") == []
    assert schema_errors("", {"type": "pong"}, "events.json") == ["$.type: 'ping' was expected"]


def test_schemas_unknown_component_suggests_names(tmp_spec: Path) -> None:
    with pytest.raises(KeyError, match=r"'Thng'.*did you mean 'Thing'"):
        schema_errors("Thng", {}, "doc.yaml")
    with pytest.raises(FileNotFoundError, match=r"'nope.yaml'.*doc.yaml"):
        schema_errors("Thing", {}, "nope.yaml")


def test_schemas_real_spec_error_response() -> None:
    assert (spec_dir() / "openai.yaml").is_file()
    good = {"error": {"message": "m", "type": "invalid_request_error", "param": None, "code": None}}
    assert schema_errors("ErrorResponse", good) == []
    bad = {"error": {"message": 1, "type": "t", "param": None, "code": None}}
    assert schema_errors("ErrorResponse", bad) == ["$.error.message: 1 is not of type 'string'"]
