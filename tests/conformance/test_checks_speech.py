"""Speech checks: the breadth fake passes them, and the special verdict paths
(each broken and legal variant is run by test_every_check_proven.py)."""

from __future__ import annotations

import pytest

from conformance.profiles import OPENAI, Profile
from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    failed,
    run_variant,
)

AREAS = ("speech",)


def test_speech_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}


@pytest.mark.parametrize(
    ("profile", "outcome", "fragment"),
    [
        (OPENAI, "failed", "OpenAI documents it, so its clients break"),
        (
            Profile(name="no-opus", unsupported=("speech.format.opus",)),
            "skipped",
            "profile 'no-opus' declares it unsupported (unsupported: [speech.format.opus])",
        ),
    ],
    ids=["openai", "declared-unsupported"],
)
def test_speech_clean_refusal_of_a_documented_format_fails_unless_declared(
    breadth_origin: str,  # noqa: F811
    profile: Profile,
    outcome: str,
    fragment: str,
) -> None:
    results = run_variant(breadth_origin, "opus_refused", AREAS, profile=profile)
    assert results["speech.format.opus"].outcome == outcome
    assert fragment in results["speech.format.opus"].message
    assert set(failed(results)) <= {"speech.format.opus"}
