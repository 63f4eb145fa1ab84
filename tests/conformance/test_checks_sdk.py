"""Official SDK oracle checks: the breadth fake passes them; each broken variant trips exactly its check id; legal
variants trip none (catalogue in tests/conformance/fakes/breadth_variants.py)."""

from __future__ import annotations

import pytest

from tests.conformance.fakes.breadth import API_KEY
from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    broken_params,
    failed,
    legal_params,
    run_variant,
)

AREAS = ("sdk",)


def test_sdk_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}


@pytest.mark.parametrize(("variant", "check_id", "areas"), broken_params("sdk"))
def test_sdk_broken_variant_trips_exactly_its_check(
    breadth_origin: str,  # noqa: F811
    variant: str,
    check_id: str,
    areas: tuple[str, ...],
) -> None:
    results = run_variant(breadth_origin, variant, areas)
    assert set(failed(results)) == {check_id}, failed(results)


@pytest.mark.parametrize("variant", legal_params("sdk"))
def test_sdk_legal_variant_trips_nothing(breadth_origin: str, variant: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, variant, AREAS)
    assert {i: r.message for i, r in results.items() if r.outcome != "passed"} == {}


def test_sdk_failure_message_summarises_the_traceback(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "sdk_responses", AREAS)
    message = results["sdk.responses.create"].message
    assert "openai.InternalServerError" in message
    assert "HTTP 500" in message
    assert " in " in message
    assert ".py:" in message
    assert API_KEY not in message


def test_sdk_checks_skip_capabilities_the_target_lacks(breadth_origin: str) -> None:  # noqa: F811
    from conformance.runner import run_check_ids

    result = run_check_ids(
        f"{breadth_origin}/ok/v1",
        API_KEY,
        ["sdk.speech.create"],
        models={"chat": "fake-chat"},
        discover=False,
    )
    assert result.results[0].outcome == "skipped"
