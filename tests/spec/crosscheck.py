"""Structural comparison of parity's schemas with the matching components of OpenAI's spec.

Owns the rules by which ``spec/openai.yaml`` (and the realtime event schemas) are said to
"agree" with the official document, and the parsing of the documented deviations in
``spec/PROVENANCE.md``. Must not: edit either document, or decide which differences are
acceptable (that is PROVENANCE.md's job: every difference found here must be listed there).

Normalisation applied to both sides before comparing (spec/PROVENANCE.md, "How the comparison normalises"):
``$ref`` is resolved (sibling keys kept), ``allOf`` parts are merged (properties: a later part
wins; required: union), ``nullable: true`` and ``anyOf``/``oneOf`` branches of ``type: 'null'``
become a ``"null"`` member of the type set, ``const`` becomes a one-value enum, and a union of
object branches becomes one object whose properties are the union of the branches' and whose
required list is their intersection.

The rules (a difference of any kind, at any depth, is reported):
- ``type``: the set of JSON types (``"null"`` included) must be equal.
- ``enum``: closed enums must be equal (``null`` is judged by ``type``); an enum is open when any
  non-null branch of a union has no enum, and open equals only open.
- ``property``: every property we declare must exist in the official component (ours are a
  subset; omitting an official optional property is allowed: "smaller but in agreement").
- ``required``: the required lists must be equal. Requiring less would let a response OpenAI
  guarantees slip through; requiring more would fail what OpenAI itself sends.
- ``component``: a component name of ours that the official document does not have.
Properties and array items are compared recursively; the recursion stops (after the type and
enum check) where both sides refer to the same named component(s), because those are compared
under their own names. Where the official side is a wider union of components than ours, the
recursion goes on, so an omitted union member shows up (as an enum difference on its `type`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = [
    "DeviationKind",
    "Difference",
    "Document",
    "compare_component",
    "compare_documents",
    "documented_deviations",
    "documented_official_changes",
]

DeviationKind = Literal["type", "enum", "property", "required", "component"]
KINDS: tuple[DeviationKind, ...] = ("type", "enum", "property", "required", "component")
_MAX_DEPTH = 25  # deeper means a reference cycle: fail loudly rather than compare less
_NULL_ONLY: frozenset[str] = frozenset({"null"})
_UNIONS: frozenset[str] = frozenset({"anyOf", "oneOf", "allOf"})


@dataclass(frozen=True, slots=True)
class Difference:
    """One disagreement: ``key`` is ``Component.prop.sub[].leaf``; ``kind`` says what differs."""

    key: str
    kind: DeviationKind
    detail: str


@dataclass(frozen=True, slots=True)
class Document:
    """A schema document and where its named components live (``components/schemas`` or ``$defs``)."""

    root: Mapping[str, Any]
    components: Mapping[str, Any]

    @classmethod
    def openapi(cls, root: Mapping[str, Any]) -> Document:
        return cls(root, root.get("components", {}).get("schemas", {}))

    @classmethod
    def json_schema(cls, root: Mapping[str, Any]) -> Document:
        return cls(root, root.get("$defs", {}))

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, got {ref!r}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def component_name(self, ref: str) -> str | None:
        for prefix in ("#/components/schemas/", "#/$defs/"):
            if ref.startswith(prefix) and "/" not in ref[len(prefix) :]:
                return ref[len(prefix) :]
        return None


@dataclass(slots=True)
class _Shape:
    types: frozenset[str] | None = None  # None: unconstrained
    enum: frozenset[Any] | None = None  # None: open
    properties: dict[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: Any = None
    is_object: bool = False


def _as_types(value: Any) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


def _hashable(value: Any) -> Any:
    return yaml.safe_dump(value, sort_keys=True) if isinstance(value, dict | list) else value


def _shape(doc: Document, schema: Any, depth: int = 0) -> _Shape:
    if depth > _MAX_DEPTH:
        raise RecursionError(f"schema nesting deeper than {_MAX_DEPTH} at {schema!r:.200}")
    if not isinstance(schema, Mapping):
        return _Shape()
    if "$ref" in schema:
        target = _shape(doc, doc.resolve(schema["$ref"]), depth + 1)
        siblings = {k: v for k, v in schema.items() if k not in ("$ref", "nullable")}
        shape = _merge_all([target, _shape(doc, siblings, depth + 1)]) if siblings else target
        if schema.get("nullable") is True and shape.types is not None:
            shape.types = shape.types | _NULL_ONLY
        return shape
    own = _own_shape(schema)
    parts = [own]
    if "allOf" in schema:
        parts.extend(_shape(doc, part, depth + 1) for part in schema["allOf"])
    for union in ("anyOf", "oneOf"):
        if union in schema:
            parts.append(_union([_shape(doc, b, depth + 1) for b in schema[union]], schema[union]))
    shape = _merge_all(parts)
    if schema.get("nullable") is True and shape.types is not None:
        shape.types = shape.types | _NULL_ONLY
    return shape


def _own_shape(schema: Mapping[str, Any]) -> _Shape:
    shape = _Shape()
    if "type" in schema:
        shape.types = _as_types(schema["type"])
    if "const" in schema:
        shape.enum = frozenset([_hashable(schema["const"])])
    if "enum" in schema:
        shape.enum = frozenset(_hashable(v) for v in schema["enum"] if v is not None)
    shape.properties = dict(schema.get("properties", {}))
    shape.required = frozenset(schema.get("required", ()))
    shape.items = schema.get("items")
    if shape.types is None and "properties" in schema and not _UNIONS & set(schema):
        shape.types = frozenset({"object"})  # official components often omit `type: object`
    shape.is_object = bool(shape.properties) or (
        shape.types is not None and "object" in shape.types
    )
    return shape


def _merge_all(parts: list[_Shape]) -> _Shape:
    """allOf semantics, simplified: types intersect, a later property wins, required unite."""
    merged = _Shape()
    for part in parts:
        if part.types is not None:
            merged.types = part.types if merged.types is None else merged.types & part.types
        if part.enum is not None:
            merged.enum = part.enum if merged.enum is None else merged.enum & part.enum
        merged.properties.update(part.properties)
        merged.required |= part.required
        merged.items = part.items if part.items is not None else merged.items
        merged.is_object = merged.is_object or part.is_object
    return merged


def _union(branches: list[_Shape], raw: list[Any]) -> _Shape:
    """anyOf/oneOf: types unite; enums unite unless a non-null branch is open; objects merge."""
    shape = _Shape()
    if all(b.types is not None for b in branches):
        shape.types = frozenset().union(*(b.types or frozenset() for b in branches))
    valued = [b for b in branches if b.types != _NULL_ONLY]
    if valued and all(b.enum is not None for b in valued):
        shape.enum = frozenset().union(*(b.enum or frozenset() for b in valued))
    objects = [(b, r) for b, r in zip(branches, raw, strict=True) if b.is_object]
    if objects:
        shape.is_object = True
        shape.required = frozenset.intersection(*(b.required for b, _ in objects))
        names = dict.fromkeys(name for b, _ in objects for name in b.properties)
        for name in names:
            alternatives = [b.properties[name] for b, _ in objects if name in b.properties]
            shape.properties[name] = (
                alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}
            )
    arrays = [b.items for b in branches if b.items is not None]
    if arrays:
        shape.items = arrays[0] if len(arrays) == 1 else {"anyOf": arrays}
    return shape


def _refs(doc: Document, schema: Any) -> frozenset[str]:
    """Component names ``schema`` stands for: a ``$ref``, or a union of ``$ref``s (and null)."""
    if not isinstance(schema, Mapping):
        return frozenset()
    if "$ref" in schema:
        name = doc.component_name(schema["$ref"])
        return frozenset() if name is None else frozenset({name})
    for union in ("anyOf", "oneOf"):
        if union in schema and set(schema) <= {union, "description", "discriminator", "default"}:
            named = [_refs(doc, b) for b in schema[union] if b != {"type": "null"}]
            if named and all(named):
                return frozenset().union(*named)
    return frozenset()


def _fmt(values: frozenset[Any] | None) -> str:
    return "open" if values is None else repr(sorted(map(str, values)))


def _compare(
    ours: Document, official: Document, mine: Any, theirs: Any, key: str, depth: int
) -> Iterator[Difference]:
    a, b = _shape(ours, mine), _shape(official, theirs)
    if a.types != b.types:
        yield Difference(key, "type", f"ours {_fmt(a.types)}, official {_fmt(b.types)}")
    if a.enum != b.enum:
        yield Difference(key, "enum", f"ours {_fmt(a.enum)}, official {_fmt(b.enum)}")
    if depth > _MAX_DEPTH:
        raise RecursionError(f"comparison deeper than {_MAX_DEPTH} at {key!r}")
    if depth > 0 and (named := _refs(ours, mine)) and named == _refs(official, theirs):
        return  # the same named component(s) on both sides: compared under their own names
    for name in a.properties:
        if name not in b.properties:
            yield Difference(f"{key}.{name}", "property", "not in the official component")
    for name in sorted(a.required ^ b.required):
        where = "ours only" if name in a.required else "official only"
        yield Difference(f"{key}.{name}", "required", f"required in {where}")
    for name in a.properties:
        if name in b.properties:
            yield from _compare(
                ours, official, a.properties[name], b.properties[name], f"{key}.{name}", depth + 1
            )
    if a.items is not None and b.items is not None:
        yield from _compare(ours, official, a.items, b.items, f"{key}[]", depth + 1)


def compare_component(
    ours: Document, official: Document, name: str, official_name: str | None = None
) -> list[Difference]:
    """Differences between our component ``name`` and the official ``official_name`` (default: same)."""
    theirs = official_name or name
    if theirs not in official.components:
        return [Difference(name, "component", f"no component {theirs!r} in the official spec")]
    return list(
        _compare(ours, official, ours.components[name], official.components[theirs], name, 0)
    )


def compare_documents(
    ours: Document, official: Document, names: Mapping[str, str] | None = None
) -> list[Difference]:
    """Compare every named component of ``ours``; ``names`` maps ours -> official where they differ."""
    names = names or {}
    found: list[Difference] = []
    for name in ours.components:
        found.extend(compare_component(ours, official, name, names.get(name)))
    return found


def documented_deviations(provenance: Path) -> dict[tuple[str, DeviationKind], str]:
    """The machine-readable deviation list in PROVENANCE.md: ``(key, kind) -> reason``.

    Every fenced block opened with ```` ```yaml deviations ```` holds a YAML list of
    ``{key, kind, reason}`` mappings.
    """
    return _listed(provenance, "deviations")


def documented_official_changes(provenance: Path) -> dict[tuple[str, DeviationKind], str]:
    """The ```` ```yaml official-changes ```` list: where the packaged snapshot of the official
    spec and the newest one differ, so a comparison with the snapshot finds (or misses) them."""
    return _listed(provenance, "official-changes")


def _listed(provenance: Path, name: str) -> dict[tuple[str, DeviationKind], str]:
    text = provenance.read_text(encoding="utf-8")
    blocks = re.findall(rf"```ya?ml {re.escape(name)}\n(.*?)```", text, re.DOTALL)
    if not blocks:
        raise ValueError(f"{provenance} has no ```yaml {name}``` block")
    listed: dict[tuple[str, DeviationKind], str] = {}
    for block in blocks:
        for entry in yaml.safe_load(block) or []:
            kind = entry.get("kind")
            if kind not in KINDS:
                raise ValueError(f"deviation {entry!r}: kind must be one of {KINDS}, got {kind!r}")
            if not str(entry.get("reason", "")).strip():
                raise ValueError(f"deviation {entry!r} gives no reason")
            pair = (str(entry["key"]), kind)
            if pair in listed:
                raise ValueError(f"deviation {pair!r} is listed twice")
            listed[pair] = str(entry["reason"])
    return listed
