from __future__ import annotations

import pytest

from conformance.profiles import Profile
from tests.conformance.fakes.base import API_KEY, Knobs
from tests.conformance.fakes.variants import variant_ids

PREFIXES = "errors."
VARIANTS = variant_ids(PREFIXES)


@pytest.mark.parametrize("check_id", VARIANTS, ids=VARIANTS)
def test_errors_check_trips_alone_on_its_broken_variant(failed_on_variant, check_id: str) -> None:
    failed = failed_on_variant(check_id)
    assert set(failed) == {check_id}, failed


def test_errors_oversized_fails_when_the_413_comes_before_the_body_is_read(fake, run_ids) -> None:
    switch, origin = fake
    switch.use(Knobs(oversize_early_close=True))
    results = run_ids(origin, ["errors.request.oversized"], api_key=API_KEY, level="deep")
    result = results["errors.request.oversized"]
    assert result.outcome == "failed", result
    assert "connection was dropped" in result.message


@pytest.mark.parametrize(
    ("profile", "outcome"),
    [(None, "failed"), (Profile(name="platform", auth_error_shape="platform errors[]"), "passed")],
    ids=["openai-profile", "platform-profile"],
)
def test_errors_envelope_accepts_a_documented_auth_shape_only_with_its_profile(
    fake, run_ids, profile: Profile | None, outcome: str
) -> None:
    switch, origin = fake
    switch.use(Knobs(auth_error_platform=True))
    ids = ["errors.envelope.shape", "errors.auth.missing_key", "errors.auth.invalid_key"]
    results = run_ids(origin, ids, api_key=API_KEY, level="deep", profile=profile)
    assert results["errors.envelope.shape"].outcome == outcome, results
    assert results["errors.auth.missing_key"].outcome == "passed"
    assert results["errors.auth.invalid_key"].outcome == "passed"


def test_errors_auth_checks_skip_when_the_run_has_no_key(fake, run_ids) -> None:
    switch, origin = fake
    switch.use(Knobs(auth_missing_ok=True))
    ids = ["errors.auth.missing_key", "errors.auth.invalid_key"]
    results = run_ids(origin, ids, api_key=None, level="deep", models={"chat": "fake-chat"})
    assert {r.outcome for r in results.values()} == {"skipped"}, results
