"""Image checks: the breadth fake passes them, and the special verdict paths
(each broken and legal variant is run by test_every_check_proven.py)."""

from __future__ import annotations

import pytest

from tests.conformance.fakes.breadth_run import (
    PROFILE,
    breadth_origin,  # noqa: F401 - session fixture
    failed,
    run_variant,
)

AREAS = ("images",)


def test_images_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}


def test_images_url_refusal_is_a_warning_when_strict(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "url_refused", AREAS)
    assert results["images.url.fetchable"].outcome == "warning"
    assert failed(results) == {}


@pytest.mark.parametrize("variant", ["url_refused", "url_as_b64"], ids=["refused", "b64"])
def test_images_b64_only_profile_allows_url_refusal(breadth_origin: str, variant: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, variant, AREAS, profile=PROFILE)
    assert results["images.url.fetchable"].outcome == "passed"
