"""Fuzz verdict classes: which constraint an accepted invalid request broke, and what that makes it.

A generated request that breaks the spec and is accepted anyway (schemathesis'
``negative_data_rejection``) is a real deviation only where OpenAI itself refuses that kind of
violation. ``spec/fuzz-verdicts.yaml`` records, per constraint kind (type, enum, required,
numeric range, string and array length, unknown top-level argument, JSON syntax), the status
and error code OpenAI answers with and the sources; those findings are ``failed`` and cite the
code. Kinds without such evidence (``pattern``, ``format``, nested ``additionalProperties``,
anything unrecognised) are ``warning`` findings that carry the evidence instead.

:func:`violations_of` reads what schemathesis says it broke (the coverage scenario, or each
mutation's JSON Schema keywords and path); :meth:`Verdicts.judge` turns that into one
:class:`ConstraintKind`: the first ``failed`` kind among the violations, else the first kind.

Must not: send requests, or judge anything but a negative (schema-violating) case.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = [
    "ConstraintKind",
    "Verdict",
    "Verdicts",
    "Violation",
    "load_verdicts",
    "violations_of",
]

Verdict = Literal["failed", "warning"]
Where = Literal["any", "top_level", "nested"]
_VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
_WHERE: tuple[Where, ...] = get_args(Where)
_FILE = "fuzz-verdicts.yaml"
# Schema pointer segments that only select a branch or follow a reference, not a nesting level.
_BRANCHES = frozenset({"allOf", "anyOf", "oneOf", "not", "then", "else", "if"})
_NESTING = frozenset({"properties", "items", "prefixItems", "additionalProperties"})


@dataclass(frozen=True, slots=True)
class ConstraintKind:
    """One kind of constraint, how to recognise it, and what OpenAI answers when it is broken."""

    kind: str
    verdict: Verdict
    keywords: frozenset[str] = frozenset()
    scenarios: frozenset[str] = frozenset()
    operators: frozenset[str] = frozenset()
    where: Where = "any"
    status: int | None = None
    codes: tuple[str, ...] = ()
    example: str = ""
    sources: tuple[str, ...] = ()

    def matches(self, violation: Violation) -> bool:
        if self.where == "top_level" and violation.nested:
            return False
        if self.where == "nested" and not violation.nested:
            return False
        if violation.scenario is not None and violation.scenario in self.scenarios:
            return True
        if violation.operator is not None and violation.operator in self.operators:
            return True
        return bool(self.keywords & set(violation.keywords))

    def openai_answer(self) -> str:
        """What OpenAI answers for this kind, for a report line."""
        if self.verdict == "failed":
            codes = " / ".join(f"`{code}`" for code in self.codes) or "no code"
            example = f', e.g. "{self.example}"' if self.example else ""
            return f"OpenAI answers {self.status} invalid_request_error {codes}{example}"
        reason = self.sources[0] if self.sources else "no documented OpenAI refusal"
        return f"no documented OpenAI refusal for this kind ({reason})"


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing a negative case broke, as schemathesis describes it.

    ``keywords`` are the JSON Schema keywords violated, ``scenario`` the coverage scenario name,
    ``operator`` the fuzzing mutation operator, ``nested`` whether it is below the top level of
    the request, ``where`` a readable location (``temperature``, ``tools[0].function.name``).
    """

    keywords: tuple[str, ...] = ()
    scenario: str | None = None
    operator: str | None = None
    nested: bool = False
    where: str = ""


@dataclass(frozen=True, slots=True)
class Verdicts:
    """The mapping of ``spec/fuzz-verdicts.yaml``."""

    kinds: tuple[ConstraintKind, ...]
    unclassified: ConstraintKind

    def kind_of(self, violation: Violation) -> ConstraintKind:
        return next((k for k in self.kinds if k.matches(violation)), self.unclassified)

    def judge(self, violations: Iterable[Violation]) -> tuple[ConstraintKind, Violation | None]:
        """The kind that decides a case: its first ``failed`` kind, else its first kind."""
        found = [(self.kind_of(v), v) for v in violations]
        for kind, violation in found:
            if kind.verdict == "failed":
                return kind, violation
        return found[0] if found else (self.unclassified, None)


def _strings(entry: Mapping[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = entry.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {name!r} must be a list of strings, got {value!r}")
    return tuple(value)


def _kind(entry: object, where: str) -> ConstraintKind:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("kind"), str):
        raise ValueError(f"{where}: each entry needs a string `kind`, got {entry!r}")
    name = f"{where} kind {entry['kind']!r}"
    verdict = entry.get("verdict")
    if verdict not in _VERDICTS:
        raise ValueError(f"{name}: verdict must be one of {_VERDICTS}, got {verdict!r}")
    scope = entry.get("where", "any")
    if scope not in _WHERE:
        raise ValueError(f"{name}: where must be one of {_WHERE}, got {scope!r}")
    sources = _strings(entry, "sources", name)
    if not sources:
        raise ValueError(f"{name}: give at least one source for the verdict")
    status = entry.get("status")
    if verdict == "failed" and not (isinstance(status, int) and 400 <= status < 500):
        raise ValueError(
            f"{name}: a failed kind needs the 4xx status OpenAI answers, got {status!r}"
        )
    return ConstraintKind(
        kind=str(entry["kind"]),
        verdict=verdict,
        keywords=frozenset(_strings(entry, "keywords", name)),
        scenarios=frozenset(_strings(entry, "scenarios", name)),
        operators=frozenset(_strings(entry, "operators", name)),
        where=scope,
        status=status if isinstance(status, int) else None,
        codes=_strings(entry, "codes", name),
        example=str(entry.get("example", "")),
        sources=sources,
    )


def parse_verdicts(raw: object, where: str = _FILE) -> Verdicts:
    """Validate the parsed ``fuzz-verdicts.yaml``; errors name the entry and the bad value."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("kinds"), list):
        raise ValueError(f"{where}: expected a mapping with a `kinds` list, got {raw!r:.200}")
    kinds = tuple(_kind(entry, where) for entry in raw["kinds"])
    names = [k.kind for k in kinds]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{where}: kinds listed twice: {duplicates}")
    unclassified = _kind(raw.get("unclassified"), f"{where} unclassified")
    if unclassified.verdict != "warning":
        raise ValueError(f"{where}: an unclassified violation has no evidence; make it a warning")
    return Verdicts(kinds=kinds, unclassified=unclassified)


@functools.cache
def load_verdicts() -> Verdicts:
    """``spec/fuzz-verdicts.yaml``, parsed and validated once."""
    import yaml

    from conformance.schemas import spec_dir

    path = spec_dir() / _FILE
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    return parse_verdicts(raw, str(path))


def _pointer_nested(pointer: str) -> bool:
    """Whether a schema pointer (``/properties/tools/items/...``) reaches below the top level."""
    parts = [p for p in pointer.split("/") if p]
    depth = 0
    skip = False
    for index, part in enumerate(parts):
        if skip:
            skip = False
            continue
        if part == "$ref" or part in _BRANCHES:
            skip = part != "not"  # `$ref/<name>`, `oneOf/<index>`: the next segment is no level
            continue
        if part in _NESTING and index < len(parts) - 1:
            depth += 1
    return depth > 0


def _readable(pointer: str) -> str:
    """A schema pointer as the request field it constrains (``messages[].content``)."""
    parts = [p for p in pointer.split("/") if p]
    text = ""
    index = 0
    while index < len(parts):
        part = parts[index]
        if (part == "$ref" or part in _BRANCHES) and part != "not":
            index += 2
            continue
        if part == "properties" and index + 1 < len(parts):
            name = parts[index + 1]
            text = f"{text}.{name}" if text else name
            index += 2
            continue
        if part == "items":
            text += "[]"
        index += 1
    return text or "the body"


def _dotted(path: Iterable[object]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def violations_of(case: Any) -> tuple[Violation, ...]:
    """What a schemathesis negative case broke, from its metadata (empty when it says nothing)."""
    meta = getattr(case, "meta", None)
    data = getattr(getattr(meta, "phase", None), "data", None)
    if data is None:
        return ()
    found: list[Violation] = []
    for mutation in getattr(data, "mutations", ()) or ():
        path = tuple(getattr(mutation, "path", ()) or ())
        pointer = str(getattr(mutation, "schema_pointer", "") or "")
        found.append(
            Violation(
                keywords=tuple(getattr(mutation, "keywords", ()) or ()),
                operator=str(getattr(mutation.operator, "value", mutation.operator)),
                nested=bool(path) if path else _pointer_nested(pointer),
                where=_dotted(path) or _readable(pointer),
            )
        )
    scenario = getattr(data, "scenario", None)
    if scenario is not None and not found:
        pointer = str(getattr(data, "location", "") or "")
        location = getattr(getattr(data, "parameter_location", None), "value", None)
        body = location in (None, "body")
        found.append(
            Violation(
                scenario=str(getattr(scenario, "value", scenario)),
                nested=_pointer_nested(pointer) if body else True,
                where=_readable(pointer)
                if body
                else f"{location} {getattr(data, 'parameter', '')}".strip(),
            )
        )
    return tuple(found)
