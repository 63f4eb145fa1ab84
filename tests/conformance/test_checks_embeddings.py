"""Embeddings checks: the breadth fake passes them, and the special verdict paths
(each broken and legal variant is run by test_every_check_proven.py)."""

from __future__ import annotations

from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    run_variant,
)

AREAS = ("embeddings",)


def test_embeddings_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}
