from __future__ import annotations

import pytest

from conformance.profiles import Profile
from tests.conformance.fakes.base import API_KEY, Knobs
from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    run_variant,
)


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


@pytest.mark.parametrize(
    ("knobs", "fragments"),
    [
        (
            Knobs(unchecked_ranges=frozenset({"top_p"})),
            ("2 of 15 out-of-range values", "top_p=-0.5 (minimum 0): 200", "top_p=1.5 (maximum 1)"),
        ),
        (
            Knobs(unchecked_ranges=frozenset({"logit_bias", "max_completion_tokens"})),
            ("logit_bias={'50256': 101}", "max_completion_tokens=0 (minimum 1): 200"),
        ),
    ],
    ids=["top_p-only", "worded-bounds"],
)
def test_errors_out_of_range_names_every_unchecked_bound(
    fake, run_ids, knobs: Knobs, fragments: tuple[str, ...]
) -> None:
    """A target checking temperature but no other bound fails, naming each bound it missed."""
    switch, origin = fake
    switch.use(knobs)
    result = run_ids(origin, ["errors.request.out_of_range"], api_key=API_KEY, level="deep")
    outcome = result["errors.request.out_of_range"]
    assert outcome.outcome == "failed", outcome
    assert all(f in outcome.message for f in fragments), outcome.message
    assert "temperature" not in outcome.message


def test_errors_unknown_model_answered_400_fails(fake, run_ids) -> None:
    switch, origin = fake
    switch.use(Knobs(unknown_model_status=400))
    result = run_ids(origin, ["errors.model.unknown"], api_key=API_KEY, level="deep")
    outcome = result["errors.model.unknown"]
    assert outcome.outcome == "failed", outcome
    assert "expected 404, got 400" in outcome.message
    assert "NotFoundError" in outcome.message


def test_errors_envelope_names_every_bad_error_body(fake, run_ids) -> None:
    switch, origin = fake
    switch.use(Knobs(error_detail_shape=True))
    result = run_ids(origin, ["errors.envelope.shape"], api_key=API_KEY, level="standard")
    outcome = result["errors.envelope.shape"]
    assert outcome.outcome == "failed", outcome
    names = ["missing_key", "invalid_key", "malformed_json", "missing_required", "wrong_type"]
    assert all(f"probe {name} (" in outcome.message for name in names), outcome.message


def test_errors_missing_model_is_the_default_models_business_under_a_gateway_profile(
    fake, run_ids
) -> None:
    switch, origin = fake
    switch.use(Knobs(default_model="fake-chat"))
    profile = Profile(name="gateway", default_model="fake-chat")
    ids = ["errors.request.missing_model"]
    strict = run_ids(origin, ids, api_key=API_KEY, level="deep")[ids[0]]
    gateway = run_ids(origin, ids, api_key=API_KEY, level="deep", profile=profile)[ids[0]]
    assert strict.outcome == "failed", strict
    assert "promises no default model" in strict.message
    assert gateway.outcome == "skipped", gateway
    assert "see profile.default_model.served" in gateway.message


@pytest.mark.parametrize(
    ("variant", "outcome"), [("ok", "passed"), ("embeddings_error_detail", "failed")]
)
def test_errors_envelope_is_probed_on_the_other_endpoints(
    breadth_origin: str,  # noqa: F811
    variant: str,
    outcome: str,
) -> None:
    results = run_variant(breadth_origin, variant, ("profile",), ids=("errors.envelope.shape",))
    result = results["errors.envelope.shape"]
    assert result.outcome == outcome, result
    if outcome == "failed":
        assert "probe embeddings_no_input (400): body has no error object" in result.message
        assert "1 of 11 error answers" in result.message
