"""Responses API checks: the breadth fake passes them; each broken variant trips exactly its check id; legal
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

AREAS = ("responses",)


def test_responses_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}


@pytest.mark.parametrize(("variant", "check_id", "areas"), broken_params("responses"))
def test_responses_broken_variant_trips_exactly_its_check(
    breadth_origin: str,  # noqa: F811
    variant: str,
    check_id: str,
    areas: tuple[str, ...],
) -> None:
    results = run_variant(breadth_origin, variant, areas)
    assert set(failed(results)) == {check_id}, failed(results)


@pytest.mark.parametrize("variant", legal_params("responses"))
def test_responses_legal_variant_trips_nothing(breadth_origin: str, variant: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, variant, AREAS)
    assert {i: r.message for i, r in results.items() if r.outcome != "passed"} == {}


def test_responses_done_sentinel_is_only_a_warning(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "done_sentinel", (*AREAS, "sdk"))
    assert results["responses.stream.no_done_sentinel"].outcome == "warning"
    assert failed(results) == {}
