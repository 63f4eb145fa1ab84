"""Speech checks: the breadth fake passes them; each broken variant trips exactly its check id; legal
variants trip none (catalogue in tests/conformance/fakes/breadth_variants.py)."""

from __future__ import annotations

import pytest

from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    broken_params,
    failed,
    legal_params,
    run_variant,
)

AREAS = ("speech",)


def test_speech_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}


@pytest.mark.parametrize(("variant", "check_id", "areas"), broken_params("speech"))
def test_speech_broken_variant_trips_exactly_its_check(
    breadth_origin: str,  # noqa: F811
    variant: str,
    check_id: str,
    areas: tuple[str, ...],
) -> None:
    results = run_variant(breadth_origin, variant, areas)
    assert set(failed(results)) == {check_id}, failed(results)


@pytest.mark.parametrize("variant", legal_params("speech"))
def test_speech_legal_variant_trips_nothing(breadth_origin: str, variant: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, variant, AREAS)
    assert {i: r.message for i, r in results.items() if r.outcome != "passed"} == {}


def test_speech_clean_refusal_of_a_format_is_a_warning(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "opus_refused", AREAS)
    assert results["speech.format.opus"].outcome == "warning"
    assert "not offered" in results["speech.format.opus"].message
    assert failed(results) == {}
