"""Generated cases that test the generator, not the target: never sent, or never judged.

- **A path parameter that changes the route.** An empty value, ``.`` or ``..``, or one holding
  ``/``, ``?`` or ``#`` does not address the resource it names (RFC 3986, sections 3.3 and
  5.2.4): ``GET /v1/models/`` with an empty ``model`` is the model list, and judging its answer
  against the model schema fails a correct target. Such cases are not sent where schemathesis
  applies its ``filter_case`` hook, and never judged where it does not (the examples phase):
  :func:`route_changer` names the parameter.
- **A typed value in a multipart form field.** A form field is text (RFC 7578, section 4.2); a
  number, ``null`` or boolean generated for it reaches the server as its text (``123``,
  ``null``, ``true``), exactly what a legal value could be. What the server received is judged,
  not what was generated (:func:`form_reads_legal`): a negative case whose fields all read as
  legal values is not a violation on the wire, and a positive case with a field whose text no
  legal value has was not a valid request on the wire. Neither is judged by the
  data-acceptance checks (a 5xx still is).

Must not: send requests, or decide anything about a case that has no form body or path
parameters.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

__all__ = ["form_reads_legal", "route_changer"]

_DOT_SEGMENTS = frozenset({"", ".", ".."})
_ROUTE_CHARACTERS = ("/", "?", "#")
_INTEGER = re.compile(r"-?\d+")


def route_changer(path_parameters: Mapping[str, Any] | None) -> str | None:
    """The name of a path parameter whose value changes the route (None: there is none)."""
    for name, value in (path_parameters or {}).items():
        text = unquote(value) if isinstance(value, str) else json.dumps(value)
        if text in _DOT_SEGMENTS or any(c in text for c in _ROUTE_CHARACTERS):
            return str(name)
    return None


def _wire_text(value: Any) -> str | None:
    """A form field's text as the transport sends it (None: a file part, not text)."""
    from schemathesis.transport.serialization import Binary

    if isinstance(value, Binary | bytes | bytearray):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return json.dumps(value)  # schemathesis sends their JSON spelling (`true`, `null`)
    return str(value)


def _resolve(schema: Any, components: Mapping[str, Any]) -> Any:
    for _ in range(20):
        ref = schema.get("$ref") if isinstance(schema, Mapping) else None
        if not isinstance(ref, str):
            return schema
        schema = components.get(ref.rsplit("/", 1)[-1], {})
    return schema


def _types(schema: Any, components: Mapping[str, Any]) -> list[str]:
    schema = _resolve(schema, components)
    if not isinstance(schema, Mapping):
        return []
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(t) for t in declared]
    found: list[str] = []
    for union in ("anyOf", "oneOf"):
        for branch in schema.get(union) or []:
            found += _types(branch, components)
    if "enum" in schema and not found:
        found.append("string")
    return found


def _read(text: str, schema: Any, components: Mapping[str, Any]) -> Any:
    """The legal value ``text`` reads as under ``schema``, else the text itself."""
    for kind in _types(schema, components):
        if kind == "string":
            return text
        if kind == "integer" and _INTEGER.fullmatch(text.strip()):
            return int(text)
        if kind == "number":
            try:
                number = float(text)
            except ValueError:
                continue
            if math.isfinite(number):
                return number
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
        if kind == "null" and text in ("", "null"):
            return None
        if kind in ("object", "array"):
            try:
                return json.loads(text)
            except ValueError:
                continue
    return text


def _field(value: Any, schema: Any, components: Mapping[str, Any]) -> Any:
    resolved = _resolve(schema, components)
    values = value if isinstance(value, list) else [value]
    if "array" in _types(resolved, components):
        # Repeated fields form an array; a single field is an array of one (RFC 7578, 4.3).
        items = resolved.get("items") if isinstance(resolved, Mapping) else None
        return [_field(item, items, components) for item in values]
    # A list for a scalar field goes out as the same field repeated, each value text of its
    # own: it reads legal when every one of them does (the first that does not stands for all).
    read = [_scalar(item, schema, components) for item in values]
    return next(
        (r for r in read if not _reads_as(r, resolved, components)), read[0] if read else ""
    )


def _scalar(value: Any, schema: Any, components: Mapping[str, Any]) -> Any:
    text = _wire_text(value)
    return value if text is None else _read(text, schema, components)


def _reads_as(value: Any, schema: Any, components: Mapping[str, Any]) -> bool:
    """Whether ``value`` (already read) has one of the field's declared types."""
    kinds = _types(schema, components) or ["string"]
    checks = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
    }
    return any(checks.get(kind, True) for kind in kinds)


def form_reads_legal(
    body: Mapping[str, Any], component: str, document: Mapping[str, Any], name: str
) -> bool:
    """Whether a form ``body`` as the server reads it validates against spec ``component``.

    ``document`` is the parsed spec (for field schemas), ``name`` its file name in ``spec/``.
    """
    from conformance.schemas import schema_errors

    components = (document.get("components") or {}).get("schemas") or {}
    schema = _resolve(components.get(component, {}), components)
    properties = (schema.get("properties") or {}) if isinstance(schema, Mapping) else {}
    received = {
        field: _field(value, properties.get(field, {"type": "string"}), components)
        for field, value in body.items()
    }
    try:
        return not schema_errors(component, _jsonable(received), name)
    except KeyError:
        return False


def _jsonable(value: Any) -> Any:
    """File parts validate as strings (``format: binary``)."""
    from schemathesis.transport.serialization import Binary

    if isinstance(value, Binary | bytes | bytearray):
        return "<file>"
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
