"""Generate a JSON value that validates against a JSON Schema (for structured outputs and tools).

Covers what OpenAI's structured outputs accept (``json_schema`` response format and function
``parameters``; OpenAI guide "Structured Outputs", supported schemas): objects, arrays,
strings (enum, const, lengths, common formats), numbers and integers with bounds, booleans,
null, ``anyOf``/``oneOf``/``allOf``, local ``$ref`` into ``$defs``/``definitions``.

Must not: do I/O; recursion is bounded (recursive schemas end at the first nullable branch or
an empty value).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

__all__ = ["value_for_schema"]

_MAX_DEPTH = 8
_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "12:00:00",
    "email": "someone@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "duration": "P1D",
}
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


def value_for_schema(schema: Mapping[str, Any], seed: int = 0) -> Any:
    """A deterministic value valid under ``schema`` (the root holds any ``$defs``)."""
    return _Generator(schema, random.Random(seed)).value(schema, 0)


class _Generator:
    def __init__(self, root: Mapping[str, Any], rng: random.Random) -> None:
        self.root = root
        self.rng = rng

    def resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#"):
            return {}
        node: Any = self.root
        for raw in ref.lstrip("#").strip("/").split("/"):
            if not raw:
                continue
            part = raw.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                return {}
            node = node[part]
        return node if isinstance(node, Mapping) else {}

    def value(self, schema: Any, depth: int) -> Any:
        if not isinstance(schema, Mapping):
            return None if schema is False else {}
        if "$ref" in schema:
            target = self.resolve(str(schema["$ref"]))
            merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            return self.value(merged, depth + 1) if depth < _MAX_DEPTH * 2 else None
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                if depth >= _MAX_DEPTH:
                    for branch in branches:
                        if isinstance(branch, Mapping) and branch.get("type") == "null":
                            return None
                return self.value(branches[0], depth + 1)
        if isinstance(schema.get("allOf"), list):
            merged_all: dict[str, Any] = {}
            for branch in schema["allOf"]:
                part = self.resolve(branch["$ref"]) if "$ref" in branch else branch
                for key, val in part.items():
                    if key in ("properties",) and key in merged_all:
                        merged_all[key] = {**merged_all[key], **val}
                    elif key == "required" and key in merged_all:
                        merged_all[key] = [*merged_all[key], *val]
                    else:
                        merged_all[key] = val
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.value({**merged_all, **rest}, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            if not kinds or depth >= _MAX_DEPTH:
                return None
            kind = kinds[0]
        if kind is None:
            if "properties" in schema:
                kind = "object"
            elif "items" in schema:
                kind = "array"
            else:
                return self.word()
        return self.typed(str(kind), schema, depth)

    def word(self) -> str:
        return _WORDS[self.rng.randrange(len(_WORDS))]

    def typed(self, kind: str, schema: Mapping[str, Any], depth: int) -> Any:
        if kind == "object":
            props = schema.get("properties") or {}
            required = set(schema.get("required") or ())
            out: dict[str, Any] = {}
            for name, sub in props.items():
                if depth < _MAX_DEPTH or name in required:
                    out[name] = self.value(sub, depth + 1)
            minimum = int(schema.get("minProperties", 0))
            extra = schema.get("additionalProperties", True)
            index = 0
            while len(out) < minimum and extra is not False:
                out[f"key{index}"] = self.value(
                    extra if isinstance(extra, Mapping) else {}, depth + 1
                )
                index += 1
            return out
        if kind == "array":
            low = int(schema.get("minItems", 1 if depth < _MAX_DEPTH else 0))
            high = schema.get("maxItems")
            count = max(low, 1) if depth < _MAX_DEPTH else low
            if high is not None:
                count = min(count, int(high))
            prefix = schema.get("prefixItems") or []
            items: list[Any] = [self.value(p, depth + 1) for p in prefix[:count]]
            while len(items) < count:
                items.append(self.value(schema.get("items", {}), depth + 1))
            if schema.get("uniqueItems") and len(items) > 1:
                return items[:1]
            return items
        if kind == "string":
            fmt = schema.get("format")
            if isinstance(fmt, str) and fmt in _FORMATS:
                return _FORMATS[fmt]
            text = self.word()
            low = int(schema.get("minLength", 0))
            high = schema.get("maxLength")
            while len(text) < low:
                text += "x"
            if high is not None:
                text = text[: int(high)]
            return text
        if kind in ("integer", "number"):
            return self.number(kind, schema)
        if kind == "boolean":
            return bool(self.rng.randrange(2))
        if kind == "null":
            return None
        return self.word()

    def number(self, kind: str, schema: Mapping[str, Any]) -> float | int:
        low = schema.get("minimum")
        high = schema.get("maximum")
        if "exclusiveMinimum" in schema and isinstance(schema["exclusiveMinimum"], int | float):
            low = schema["exclusiveMinimum"] + (1 if kind == "integer" else 1e-6)
        if "exclusiveMaximum" in schema and isinstance(schema["exclusiveMaximum"], int | float):
            high = schema["exclusiveMaximum"] - (1 if kind == "integer" else 1e-6)
        value: float = 1 + self.rng.randrange(9)
        if low is not None and value < low:
            value = low
        if high is not None and value > high:
            value = high
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and step > 0:
            value = math.ceil(value / step) * step
            if high is not None and value > high:
                value -= step
        if kind == "integer":
            return math.ceil(value) if low is not None and math.ceil(value) >= low else int(value)
        return float(value)
