"""Official SDK oracle checks: the breadth fake passes them, and the special verdict paths
(each broken and legal variant is run by test_every_check_proven.py)."""

from __future__ import annotations

from tests.conformance.fakes.breadth import API_KEY
from tests.conformance.fakes.breadth_run import (
    breadth_origin,  # noqa: F401 - session fixture
    run_variant,
)

AREAS = ("sdk",)


def test_sdk_checks_pass_on_correct_fake(breadth_origin: str) -> None:  # noqa: F811
    results = run_variant(breadth_origin, "ok", AREAS)
    assert results
    assert {i: r.outcome for i, r in results.items() if r.outcome != "passed"} == {}


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
