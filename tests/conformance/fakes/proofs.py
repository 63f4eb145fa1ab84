"""Every check's proof: a broken server it must fail on, and a legal one it must pass on.

A :class:`Proof` names one server variant (from the catalogue of its fake), the check ids run
against it, and the outcome some of them must get there; every other check run must not fail
(and, on a legal variant, must not warn either). ``tests/conformance/test_every_check_proven.py``
runs every proof and fails when a registered check has no broken proof or no legal proof.

Fakes:

- ``core``: ``base.py``/``chat.py`` knobs; ``variants.BROKEN`` (key: the check id it trips)
  and ``variants.LEGAL``.
- ``breadth``: the gateway fake of ``breadth*.py``; ``breadth_variants.BROKEN`` and ``LEGAL``.
- ``catalog``: the breadth fake serving a catalog variant (``CATALOG_BROKEN``, ``CATALOG_LEGAL``).
- ``promises``: ``promises_fake.py``, a gateway with a key API for the promise checks
  (``promises_fake.BROKEN`` and ``LEGAL``); the breadth fake's profile runs leave those checks to
  it (``PROMISE_IDS``), as it holds no key API.
- ``properties``: ``tests/properties/apps.py`` (a broken variant per property), and its legal
  app with legal freedoms (``asgi_edits.freedoms``).
- ``fuzz``: ``tests/fuzz/apps.py``; its legal app with one crafted defect
  (``asgi_edits.defect``) or with legal freedoms.

Two fuzz checks are proven only by the fuzz layer's own engine-level tests, because their
defects need more generated cases than a proof run sends (``ENGINE_PROVEN``), and one fuzz
check only ever warns by design (``WARN_ONLY``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from conformance.registry import Outcome
from conformance.runner import load_checks
from tests.conformance.fakes import breadth_variants, promises_fake, variants
from tests.conformance.fakes.asgi_edits import Defect

__all__ = [
    "BREADTH_AREAS",
    "ENGINE_PROVEN",
    "FUZZ_DEFECTS",
    "PROPERTY_BREAKS",
    "WARN_ONLY",
    "Fake",
    "Proof",
    "proofs",
]

Fake = Literal["core", "breadth", "catalog", "promises", "properties", "fuzz"]

# properties: the variant of tests/properties/apps.py that breaks each property.
PROPERTY_BREAKS: dict[str, str] = {
    "properties.usage.arithmetic": "usage_off",
    "properties.chat.choices": "duplicate_index",
    "properties.chat.max_tokens": "ignores_max_tokens",
    "properties.chat.stream_tool_arguments": "broken_tool_args",
    "properties.embeddings.count_and_order": "reversed_embeddings",
    "properties.embeddings.base64_matches_float": "base64_mismatch",
    "properties.embeddings.deterministic": "random_embeddings",
    "properties.embeddings.dimensions": "ignores_dimensions",
    "properties.chat.stream_agreement": "stream_single_choice",
    "properties.errors.invalid_rejected": "accepts_invalid",
}
# fuzz: the check id each crafted defect (on the legal app of tests/fuzz/apps.py) must fail,
# or a variant of that module by name.
FUZZ_DEFECTS: dict[str, Defect | str] = {
    "fuzz.content_type.documented": "models_text_plain",
    "fuzz.status.documented": "models_status_203",
    "fuzz.errors.error_object": "error_detail",
    "fuzz.schema.response_conforms": "models_created_string",
    "fuzz.validation.accepts_valid": "chat_refuses_all",
    "fuzz.run.completed": "retrieve_drops",
    "fuzz.stream.chunk_schema": "bad_seventh_chunk",
}
# Proven by tests of the fuzz layer itself: a 500 on the fourth `stop` sequence and accepted
# out-of-range numbers are found by the coverage phase after hundreds of cases, a listed model
# that cannot be retrieved by the stateful phase, which comes last.
ENGINE_PROVEN: dict[str, str] = {
    "fuzz.stateful.listed_model_retrievable": (
        "tests/fuzz/test_fuzz_catalogue.py::"
        "test_fuzz_stateful_phase_catches_a_listed_model_that_cannot_be_retrieved"
    ),
    "fuzz.server.no_server_error": (
        "tests/fuzz/test_fuzz_catalogue.py::test_fuzz_catches_server_error_on_documented_maximum"
    ),
    "fuzz.validation.rejects_invalid": (
        "tests/fuzz/test_fuzz_catalogue.py::test_fuzz_catches_accepted_out_of_range_values"
    ),
}
# Checks that only ever warn, with why: their broken proof must produce the warning.
WARN_ONLY: dict[str, str] = {
    "fuzz.validation.accepts_valid": "the spec cannot state OpenAI's cross-field rules, so "
    "OpenAI itself refuses some schema-valid requests (conformance/fuzz/checks.py)",
}
# Core checks a legal variant may leave unjudged: the timing check needs a paced stream.
_CORE_MAY_SKIP = frozenset({"chat.stream.incremental"})
# The 54 MB body is sent on one legal variant only.
_OVERSIZED_ON = "vendor_fields"
# The areas of the breadth fake (the catalog is served apart).
BREADTH_AREAS: tuple[str, ...] = (
    "embeddings",
    "images",
    "profile",
    "realtime",
    "responses",
    "sdk",
    "speech",
    "transcriptions",
    "videos",
)


@dataclass(frozen=True, slots=True)
class Proof:
    """One server variant, the checks run against it and what some of them must get there."""

    name: str
    fake: Fake
    variant: str
    run: tuple[str, ...]
    must: Mapping[str, Outcome]
    legal: bool
    areas: tuple[str, ...] = field(default=())  # breadth: the areas whose profile applies

    def __post_init__(self) -> None:
        stray = set(self.must) - set(self.run)
        if stray:
            raise ValueError(f"proof {self.name!r}: {sorted(stray)} must hold but are not run")


def _ids(*areas: str) -> tuple[str, ...]:
    return tuple(spec.id for spec in load_checks() if spec.area in areas)


def _breadth_ids(*areas: str) -> tuple[str, ...]:
    """The checks of ``areas`` the breadth fake proves (the promise checks need a key API)."""
    return tuple(i for i in _ids(*areas) if i not in promises_fake.PROMISE_IDS)


def _broken(
    name: str,
    fake: Fake,
    variant: str,
    check_id: str,
    run: tuple[str, ...],
    areas: tuple[str, ...] = (),
) -> Proof:
    outcome: Outcome = "warning" if check_id in WARN_ONLY else "failed"
    return Proof(name, fake, variant, run, {check_id: outcome}, legal=False, areas=areas)


def _legal(
    name: str,
    fake: Fake,
    variant: str,
    run: tuple[str, ...],
    may_skip: frozenset[str] = frozenset(),
    areas: tuple[str, ...] = (),
) -> Proof:
    must: dict[str, Outcome] = {i: "passed" for i in run if i not in may_skip}
    return Proof(name, fake, variant, run, must, legal=True, areas=areas)


def _core() -> list[Proof]:
    found = [
        _broken(f"core-{cid}", "core", cid, cid, tuple(variants.judged_ids(cid)))
        for cid in variants.BROKEN
    ]
    for name in variants.LEGAL:
        run = [i for i in variants.judged_ids() if i not in variants.EXPENSIVE]
        if name == _OVERSIZED_ON:
            run.extend(sorted(variants.EXPENSIVE))
        may_skip = frozenset() if name == "paced_stream" else _CORE_MAY_SKIP
        found.append(_legal(f"core-legal-{name}", "core", name, tuple(run), may_skip))
    return found


def _breadth() -> list[Proof]:
    found = [
        _broken(f"breadth-{name}", "breadth", name, cid, _breadth_ids(*areas), areas)
        for name, (cid, areas) in breadth_variants.BROKEN.items()
        if cid not in promises_fake.PROMISE_IDS
    ]
    for name, changed in breadth_variants.LEGAL.items():
        areas = BREADTH_AREAS if "*" in changed else changed
        # The profile area is judged under the gateway profile, the others strictly.
        for group in ([a for a in areas if a != "profile"], [a for a in areas if a == "profile"]):
            if group:
                label = "profile" if group == ["profile"] else "openai"
                proof_name = f"breadth-legal-{name}-{label}"
                run = _breadth_ids(*group)
                found.append(_legal(proof_name, "breadth", name, run, areas=tuple(group)))
    for name, cid in breadth_variants.CATALOG_BROKEN.items():
        found.append(_broken(f"catalog-{name}", "catalog", name, cid, _ids("catalog")))
    for name in breadth_variants.CATALOG_LEGAL:
        found.append(_legal(f"catalog-legal-{name}", "catalog", name, _ids("catalog")))
    return found


def _promises() -> list[Proof]:
    run = promises_fake.PROMISE_IDS
    found = [
        _broken(f"promises-{name}", "promises", name, cid, run)
        for name, cid in promises_fake.BROKEN.items()
    ]
    found.extend(
        _legal(f"promises-legal-{name}", "promises", variant, run)
        for name, variant in promises_fake.LEGAL.items()
    )
    return found


def _engines() -> list[Proof]:
    found = [
        _broken(f"properties-{variant}", "properties", variant, cid, (cid,))
        for cid, variant in PROPERTY_BREAKS.items()
    ]
    found.append(_legal("properties-legal-freedoms", "properties", "freedoms", _ids("properties")))
    # One fuzz run feeds every fuzz check, and one defect may break several kinds (an error
    # body that is not the error object also breaks the response schema): each defect is
    # judged by its own check only.
    found.extend(
        _broken(f"fuzz-{variant}", "fuzz", variant, cid, (cid,))
        for cid, variant in FUZZ_DEFECTS.items()
    )
    found.append(_legal("fuzz-legal-freedoms", "fuzz", "freedoms", _ids("fuzz")))
    return found


@functools.cache
def proofs() -> tuple[Proof, ...]:
    """Every proof, in a stable order (names are unique)."""
    found = [*_core(), *_breadth(), *_promises(), *_engines()]
    names = [p.name for p in found]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"proof names must be unique: {sorted(duplicated)}")
    return tuple(found)
