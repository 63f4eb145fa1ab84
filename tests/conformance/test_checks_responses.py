"""Responses API checks: the breadth fake passes them, and the special verdict paths
(each broken and legal variant is run by test_every_check_proven.py)."""

from __future__ import annotations

from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    failed,
    run_variant,
)

AREAS = ("responses",)


def test_responses_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}


def test_responses_done_sentinel_is_only_a_warning(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "done_sentinel", (*AREAS, "sdk"))
    assert results["responses.stream.no_done_sentinel"].outcome == "warning"
    assert failed(results) == {}
