"""Validation of response bodies against the schemas in ``spec/``.

Owns: locating ``spec/`` (the checkout's ``spec/`` next to the package, or the copy a wheel
carries as ``conformance/_spec``), loading each document once, resolving ``$ref`` with
``referencing`` (JSON Schema 2020-12, the dialect of OpenAPI 3.1 schema objects), and turning
validation errors into short readable lines (``$.choices[0].finish_reason: 'foo' is not one of
[...]``).

A component is named as in the document: ``components/schemas/<Name>`` for an OpenAPI document
(``openai.yaml``, ``catalog.yaml``), ``$defs/<Name>`` (or the root, name ``""``) for a plain
JSON Schema file (``realtime/server-events.json``).

Must not: change the schemas (normalisation belongs in ``spec/`` and its PROVENANCE), or read
the spec at import time.
"""

from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["component_names", "schema_errors", "spec_dir", "validator_for"]

_MAX_ERRORS = 20
_URI = "urn:parity:spec:"


def spec_dir() -> Path:
    """The ``spec/`` directory: the checkout's, else the wheel's ``conformance/_spec``."""
    package = Path(__file__).resolve().parent
    for candidate in (package.parent / "spec", package / "_spec"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"no spec directory found (looked in {package.parent / 'spec'} and {package / '_spec'})"
    )


@functools.cache
def _document(document: str) -> Any:
    path = spec_dir() / document
    if not path.is_file():
        available = sorted(
            str(p.relative_to(spec_dir())) for p in spec_dir().rglob("*") if p.is_file()
        )
        raise FileNotFoundError(
            f"spec document {document!r} not found; available: {', '.join(available)}"
        )
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


@functools.cache
def _registry(document: str) -> Registry[Any]:
    resource: Resource[Any] = DRAFT202012.create_resource(_document(document))
    registry: Registry[Any] = Registry().with_resource(f"{_URI}{document}", resource)
    return registry


def _pointer(document: str, component: str) -> str:
    doc = _document(document)
    if isinstance(doc, dict) and "openapi" in doc:
        schemas = doc.get("components", {}).get("schemas", {})
        if component in schemas:
            return f"#/components/schemas/{component}"
        names = list(schemas)
    else:
        if component == "":
            return "#"
        defs = doc.get("$defs", {}) if isinstance(doc, dict) else {}
        if component in defs:
            return f"#/$defs/{component}"
        names = list(defs)
    close = difflib.get_close_matches(component, names, n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise KeyError(f"no component {component!r} in spec/{document}{hint}")


def component_names(document: str = "openai.yaml") -> list[str]:
    """Every component schema name the document defines."""
    doc = _document(document)
    if isinstance(doc, dict) and "openapi" in doc:
        return sorted(doc.get("components", {}).get("schemas", {}))
    return sorted(doc.get("$defs", {})) if isinstance(doc, dict) else []


@functools.cache
def validator_for(component: str, document: str = "openai.yaml") -> Draft202012Validator:
    """A validator for one component (cached); raises ``KeyError`` naming close matches."""
    schema = {"$ref": f"{_URI}{document}{_pointer(document, component)}"}
    return Draft202012Validator(schema, registry=_registry(document))


def _path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _describe(error: Any) -> str:
    # anyOf/oneOf errors say only "is not valid under any of the given schemas"; the closest
    # branch's own error is what a reader needs.
    if error.context:
        deepest = max(error.context, key=lambda e: (len(e.absolute_path), -len(e.message)))
        if len(deepest.absolute_path) > len(error.absolute_path):
            return _describe(deepest)
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return f"{_path(error.absolute_path)}: {message}"


def schema_errors(component: str, instance: Any, document: str = "openai.yaml") -> list[str]:
    """Where ``instance`` breaks spec component ``component`` (empty list: it conforms)."""
    errors = sorted(
        validator_for(component, document).iter_errors(instance),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    lines = list(dict.fromkeys(_describe(e) for e in errors))
    if len(lines) > _MAX_ERRORS:
        lines = [*lines[:_MAX_ERRORS], f"... and {len(lines) - _MAX_ERRORS} more"]
    return lines
