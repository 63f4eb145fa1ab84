"""Each property passes on the legal server and fails on the variant that breaks it."""

from __future__ import annotations

import asyncio

import pytest

import conformance.properties.chat
import conformance.properties.embeddings
import conformance.properties.errors  # noqa: F401 - registers the checks
from conformance.profiles import OPENAI
from conformance.registry import registry
from conformance.runner import RunResult, run_checks
from conformance.target import Target
from tests.live import serve
from tests.properties.apps import CHAT, EMBED, KEY, Variant, build_app

PROPERTY_IDS = sorted(spec.id for spec in registry if spec.area == "properties")


def _run(variant: Variant, ids: list[str], seed: int | None = 5) -> RunResult:
    with serve(build_app(variant)) as origin:
        target = Target(
            base_url=f"{origin}/v1",
            api_key=KEY,
            level="deep",
            profile=OPENAI,
            models={"chat": CHAT, "embedding": EMBED},
            seed=seed,
        )
        specs = [registry.get(check_id) for check_id in ids]
        return asyncio.run(run_checks(target, specs, discover=False, check_timeout=60))


def test_properties_registered_at_deep_level() -> None:
    assert len(PROPERTY_IDS) == 10
    assert all(registry.get(i).level == "deep" for i in PROPERTY_IDS)


def test_properties_all_pass_on_the_legal_server() -> None:
    run = _run("legal", PROPERTY_IDS)
    outcomes = {r.id: (r.outcome, r.message) for r in run.results}
    assert {o for o, _ in outcomes.values()} == {"passed"}, outcomes
    assert run.requests > len(PROPERTY_IDS)


@pytest.mark.parametrize(
    ("variant", "check_id", "words"),
    [
        ("usage_off", "properties.usage.arithmetic", "total_tokens"),
        ("duplicate_index", "properties.chat.choices", "indices"),
        ("ignores_max_tokens", "properties.chat.max_tokens", "exceeds"),
        ("broken_tool_args", "properties.chat.stream_tool_arguments", "invalid JSON"),
        ("reversed_embeddings", "properties.embeddings.count_and_order", "cosine"),
        ("base64_mismatch", "properties.embeddings.base64_matches_float", "base64 vs float"),
        ("random_embeddings", "properties.embeddings.deterministic", "same input twice"),
        ("ignores_dimensions", "properties.embeddings.dimensions", "answered lengths"),
        ("stream_single_choice", "properties.chat.stream_agreement", "indices"),
        ("accepts_invalid", "properties.errors.invalid_rejected", "not 4xx"),
    ],
    ids=lambda value: str(value).rsplit(".", 1)[-1] if "." in str(value) else str(value),
)
def test_property_fails_on_the_variant_that_breaks_it(
    variant: Variant, check_id: str, words: str
) -> None:
    (result,) = _run(variant, [check_id]).results
    assert result.outcome == "failed", result.message
    assert words in result.message
    assert "--seed 5" in result.message
    assert "example:" in result.message
    assert result.evidence is not None


@pytest.mark.parametrize("variant", ["accepts_invalid", "legal"], ids=["broken", "legal"])
def test_properties_same_options_give_the_same_outcomes_and_examples(variant: Variant) -> None:
    first = {r.id: (r.outcome, r.message) for r in _run(variant, PROPERTY_IDS, seed=None).results}
    second = {r.id: (r.outcome, r.message) for r in _run(variant, PROPERTY_IDS, seed=None).results}
    assert first == second
    if variant == "legal":
        assert {outcome for outcome, _ in first.values()} == {"passed"}, first
    else:
        outcome, message = first["properties.errors.invalid_rejected"]
        assert outcome == "failed"
        assert "--seed 0" in message  # the fixed default, and how to replay it
